// aas.cpp: Asset Administration Shell discovery (IDTA-01002 Part 2,
// Discovery Service): which AAS ids are registered for an asset.
//
// An asset is any identifier idra knows (an IEC 61406 identification link,
// the recommended globalAssetId; a GS1 Digital Link; a handle); the AAS ids
// registered for it are its record's AAS_ID values, each decided by readValue
// like any other value.
#include <nlohmann/json.hpp>
#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "handlers.hpp"
#include "idra/text.hpp"

namespace idra::api {
namespace {

using nlohmann::ordered_json;

constexpr std::string_view kAasIdType = "AAS_ID";
constexpr std::size_t kMaxAssetLinks = 32;
constexpr std::uint64_t kDefaultLimit = 100;
constexpr std::uint64_t kMaxLimit = 1000;

// aas_error is the Part 2 Result object, with the "message" every idra error has.
Response aas_error(unsigned status, std::string message) {
  ordered_json body;
  body["message"] = message;
  body["messages"] = ordered_json::array(
      {{{"code", std::to_string(status)}, {"messageType", "Error"}, {"text", message}}});
  return json_response(status, body);
}

// base64url_decode accepts base64url with or without '=' padding.
std::optional<std::string> base64url_decode(std::string_view in) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.empty() || in.size() > 8192) return std::nullopt;
  std::string out(in.size() * 3 / 4 + 3, '\0');
  std::size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), in.data(), in.size(), nullptr, &len,
                        nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

std::string base64url_encode(std::string_view bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::strlen(out.c_str()));
  return out;
}

// asset_value reads one SpecificAssetId / AssetLink object: {"name", "value"}.
Result<std::string> asset_value(const nlohmann::json& j, std::string_view where) {
  if (!j.is_object()) return make_error(std::string(where) + " must be an object with \"name\" and \"value\"");
  auto name = j.find("name");
  auto value = j.find("value");
  if (name == j.end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
    return make_error(std::string(where) + ".name must be a non-empty string");
  }
  if (value == j.end() || !value->is_string() || value->get_ref<const std::string&>().empty()) {
    return make_error(std::string(where) + ".value must be a non-empty string");
  }
  return value->get<std::string>();
}

struct Page {
  std::uint64_t offset = 0;
  std::uint64_t limit = kDefaultLimit;
};

Result<Page> read_page(const Context& ctx) {
  Page page;
  auto limit = parse_u64_param(ctx.target, "limit");
  if (!limit) return limit.error();
  if (*limit) {
    if (**limit == 0 || **limit > kMaxLimit) return make_error("limit must be 1 to " + std::to_string(kMaxLimit));
    page.limit = **limit;
  }
  if (auto cursor = ctx.target.first("cursor")) {
    auto decoded = base64url_decode(*cursor);
    if (!decoded || !text::all_digits(*decoded) || decoded->size() > 12) return make_error("cursor is not one this server gave");
    page.offset = std::stoull(*decoded);
  }
  return page;
}

// aas_ids_of returns the AAS ids the caller may see for one asset id; an
// identifier idra does not know, or one under a prefix not served here, has
// none (discovery answers an empty list, not an error).
std::vector<std::string> aas_ids_of(const Context& ctx, const std::string& asset) {
  std::vector<std::string> out;
  auto id = ids::identify(asset, ctx.config.mapping);
  if (!id || !is_served_here(ctx.store, id->handle)) return out;
  ctx.audit.resource(id->handle);
  auto record = ctx.store.get(id->handle);
  Resource res{id->handle, record ? &*record : nullptr, nullptr, false};
  if (!record || !ctx.access.decide(ctx.principal, Action::resolve, res).allow) return out;
  for (const auto& v : record->values) {
    if (v.type != kAasIdType || v.data.empty()) continue;
    if (!ctx.access.decide(ctx.principal, Action::read_value, Resource{id->handle, &*record, &v, false}).allow) continue;
    ctx.audit.value_index(v.index);
    out.push_back(v.data);
  }
  return out;
}

Response discover(const Context& ctx, const std::vector<std::string>& assets) {
  auto page = read_page(ctx);
  if (!page) return aas_error(400, page.error().message);
  // The shells registered for every one of the asset ids given.
  std::vector<std::string> result;
  for (std::size_t k = 0; k < assets.size(); ++k) {
    auto found = aas_ids_of(ctx, assets[k]);
    if (k == 0) {
      std::set<std::string> seen;
      for (auto& f : found) {
        if (seen.insert(f).second) result.push_back(std::move(f));
      }
    } else {
      std::set<std::string> have(found.begin(), found.end());
      std::erase_if(result, [&](const std::string& s) { return have.count(s) == 0; });
    }
  }
  ordered_json body;
  ordered_json paging = ordered_json::object();
  ordered_json ids = ordered_json::array();
  const auto end = std::min<std::uint64_t>(result.size(), page->offset + page->limit);
  for (std::uint64_t i = page->offset; i < end; ++i) ids.push_back(result[i]);
  if (end < result.size()) paging["cursor"] = base64url_encode(std::to_string(end));
  body["paging_metadata"] = std::move(paging);
  body["result"] = std::move(ids);
  Response r = json_response(200, body);
  r.headers.emplace_back("access-control-allow-origin", "*");
  return r;
}

}  // namespace

Response aas_discovery(const Context& ctx, std::string_view rest) {
  const std::string& method = ctx.request.method;
  if (rest == "shells") {
    if (method != "GET" && method != "HEAD") {
      Response r = aas_error(405, "method not allowed here; allowed: GET, HEAD");
      r.headers.emplace_back("allow", "GET, HEAD");
      return r;
    }
    // assetIds: base64url-encoded SpecificAssetId JSON objects, repeatable.
    std::vector<std::string> assets;
    for (auto encoded : ctx.target.all("assetIds")) {
      if (assets.size() == kMaxAssetLinks) return aas_error(400, "at most 32 assetIds");
      auto decoded = base64url_decode(encoded);
      if (!decoded) return aas_error(400, "assetIds must be base64url-encoded (with or without padding)");
      const auto j = nlohmann::json::parse(*decoded, nullptr, false);
      if (j.is_discarded()) return aas_error(400, "assetIds must encode a JSON SpecificAssetId object");
      auto value = asset_value(j, "assetIds[" + std::to_string(assets.size()) + "]");
      if (!value) return aas_error(400, value.error().message);
      assets.push_back(std::move(*value));
    }
    if (assets.empty()) return aas_error(400, "give at least one assetIds parameter");
    return discover(ctx, assets);
  }
  if (rest == "shellsByAssetLink") {
    if (method != "POST") {
      Response r = aas_error(405, "method not allowed here; allowed: POST");
      r.headers.emplace_back("allow", "POST");
      return r;
    }
    if (!is_json_content_type(ctx.request.header("content-type"))) {
      return aas_error(415, "the body must be JSON (Content-Type: application/json)");
    }
    const auto j = nlohmann::json::parse(ctx.request.body, nullptr, false);
    if (j.is_discarded() || !j.is_array()) return aas_error(400, "the body must be a JSON array of AssetLink objects");
    if (j.empty()) return aas_error(400, "give at least one AssetLink");
    if (j.size() > kMaxAssetLinks) return aas_error(400, "at most 32 AssetLinks");
    std::vector<std::string> assets;
    for (const auto& item : j) {
      auto value = asset_value(item, "[" + std::to_string(assets.size()) + "]");
      if (!value) return aas_error(400, value.error().message);
      assets.push_back(std::move(*value));
    }
    return discover(ctx, assets);
  }
  return aas_error(404, "no such resource: /lookup/" + text::printable(rest, 200));
}

}  // namespace idra::api

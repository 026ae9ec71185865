// handles.cpp: /api/handles and /api/resolve, Handle.Net v9 REST semantics.
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "handlers.hpp"
#include "links.hpp"
#include "hs_data.hpp"
#include "idra/auth.hpp"
#include "idra/text.hpp"
#include "value_json.hpp"

namespace idra::api {
namespace {

constexpr std::string_view kAdminType = "HS_ADMIN";
constexpr std::uint32_t kDefaultAdminIndex = 100;
// creator_permissions is what Handle.Net gives the creator of a handle:
// everything but adding and deleting derived prefixes ("011111110011").
std::uint16_t creator_permissions() {
  std::uint16_t mask = 0;
  for (Perm p : {Perm::add_handle, Perm::delete_handle, Perm::modify_value, Perm::remove_value,
                 Perm::add_value, Perm::read_value, Perm::modify_admin, Perm::remove_admin,
                 Perm::add_admin}) {
    mask = static_cast<std::uint16_t>(mask | permission_bit(p));
  }
  return mask;
}

// type_matches implements Handle type queries: exact (ASCII case-insensitive),
// and "URL." matching "URL" and every period-delimited subtype "URL.*".
bool type_matches(std::string_view value_type, std::string_view query) {
  if (query.size() > 1 && query.back() == '.') {
    const auto base = query.substr(0, query.size() - 1);
    if (text::iequals(value_type, base)) return true;
    return value_type.size() >= query.size() && text::iequals(value_type.substr(0, query.size()), query);
  }
  return text::iequals(value_type, query);
}

struct Resolved {
  ids::Identifier id;
  ids::Handle handle;
};

// resolve_identifier turns the path text into the canonical handle, or the
// Handle error response (102 invalid handle, 301 prefix not homed here).
std::variant<Resolved, Response> resolve_identifier(const Context& ctx, std::string_view text, bool pretty) {
  auto id = ids::identify(text, ctx.config.mapping);
  if (!id) return handle_error(102, text.substr(0, 256), "Invalid handle: " + id.error().message, pretty);
  auto handle = ids::parse_handle(id->handle);
  if (!handle) return handle_error(102, text.substr(0, 256), "Invalid handle: " + handle.error().message, pretty);
  if (!is_served_here(ctx.store, handle->str())) return handle_error(301, handle->str(), "That prefix doesn't live here", pretty);
  return Resolved{std::move(*id), std::move(*handle)};
}

std::string etag_of(std::string_view body) {
  unsigned char digest[16];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(body.data()), body.size(),
                     nullptr, 0);
  char hex[33];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return "\"" + std::string(hex) + "\"";
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  // A list of entity tags, possibly weak (W/"..."); "*" matches any.
  std::size_t pos = 0;
  while (pos < if_none_match.size()) {
    auto comma = if_none_match.find(',', pos);
    std::string_view tag = if_none_match.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag == "*") return true;
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) return true;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return false;
}

// ttl_seconds_left is how long a client may cache |v|.
std::int64_t ttl_seconds_left(const store::HandleValue& v, std::int64_t now) {
  if (v.ttl_type == store::TtlType::absolute) return std::max<std::int64_t>(0, v.ttl - now);
  return std::max<std::int32_t>(0, v.ttl);
}

struct Selection {
  std::vector<std::uint32_t> indexes;
  std::vector<std::string> types;
  bool public_only = true;
  bool pretty = false;
};

// parse_selection reads index=, type=, publicOnly and pretty.
Result<Selection> parse_selection(const Context& ctx) {
  Selection s;
  auto pretty = parse_bool_param(ctx.target, "pretty", false);
  if (!pretty) return pretty.error();
  s.pretty = *pretty;
  auto idx = parse_u32_list(ctx.target, "index");
  if (!idx) return idx.error();
  s.indexes = std::move(*idx);
  for (auto t : ctx.target.all("type")) s.types.emplace_back(t);
  const bool authenticated = ctx.principal.kind != Principal::Kind::anonymous;
  auto po = parse_bool_param(ctx.target, "publicOnly", !authenticated);
  if (!po) return po.error();
  s.public_only = *po;
  return s;
}

// visible_values filters |record| by the selection and by read_value decisions.
std::vector<const store::HandleValue*> visible_values(const Context& ctx, std::string_view handle,
                                                      const store::Record& record, const Selection& sel) {
  std::vector<const store::HandleValue*> selected;
  selected.reserve(record.values.size());
  const bool filtered = !sel.indexes.empty() || !sel.types.empty();
  for (const auto& v : record.values) {
    if (filtered) {
      const bool by_index = std::find(sel.indexes.begin(), sel.indexes.end(), v.index) != sel.indexes.end();
      const bool by_type = std::any_of(sel.types.begin(), sel.types.end(),
                                       [&](const std::string& t) { return type_matches(v.type, t); });
      if (!by_index && !by_type) continue;
    }
    selected.push_back(&v);
  }
  // One read_value decision per value, made together.
  const std::vector<bool> allowed = ctx.access.decide_values(ctx.principal, handle, record, selected, sel.public_only);
  std::vector<const store::HandleValue*> out;
  out.reserve(selected.size());
  for (std::size_t k = 0; k < selected.size(); ++k) {
    if (allowed[k]) out.push_back(selected[k]);
  }
  return out;
}

// Resolution is what a GET finds for one identifier, before it is written
// as JSON: either an error response (invalid handle, prefix not here), a
// missing record, or the record and the indexes of the values the caller
// may see.
struct Resolution {
  std::optional<Response> error;
  std::string handle;
  std::optional<store::Record> record;
  std::vector<std::size_t> visible;  // indexes into record->values
  std::int64_t cache_seconds = -1;   // smallest TTL of the visible values, -1 if none
};

Resolution resolve(const Context& ctx, std::string_view text, const Selection& sel) {
  Resolution out;
  auto resolved = resolve_identifier(ctx, text, false);
  if (auto* err = std::get_if<Response>(&resolved)) {
    out.error = std::move(*err);
    return out;
  }
  out.handle = std::get<Resolved>(resolved).handle.str();
  ctx.audit.resource(out.handle);
  out.record = ctx.store.get(out.handle);
  // Whether the caller may resolve here at all; a denial says nothing of
  // whether the record exists.
  Resource res{out.handle, out.record ? &*out.record : nullptr, nullptr, sel.public_only};
  if (auto d = ctx.access.decide(ctx.principal, Action::resolve, res); !d.allow) {
    out.error = denied(d, "resolving " + out.handle, out.handle, sel.pretty);
    out.record.reset();
    return out;
  }
  if (!out.record) return out;
  const auto visible = visible_values(ctx, out.handle, *out.record, sel);
  for (const auto* v : visible) {
    out.visible.push_back(static_cast<std::size_t>(v - out.record->values.data()));
    ctx.audit.value_index(v->index);
    const auto left = ttl_seconds_left(*v, ctx.request.now_unix);
    out.cache_seconds = out.cache_seconds < 0 ? left : std::min(out.cache_seconds, left);
  }
  return out;
}

// resolution_json is the body of a resolution as a JSON tree (pretty GETs
// and the items of POST /api/resolve). |status| receives the HTTP status.
nlohmann::ordered_json resolution_json(const Resolution& r, unsigned& status) {
  if (r.error) {
    status = r.error->status;
    return nlohmann::ordered_json::parse(r.error->body);
  }
  nlohmann::ordered_json body;
  if (!r.record) {
    status = 404;
    body["responseCode"] = 100;
    body["handle"] = r.handle;
    body["message"] = "Handle Not Found";
    return body;
  }
  status = 200;
  body["responseCode"] = r.visible.empty() ? 200 : 1;
  body["handle"] = r.handle;
  if (r.visible.empty()) body["message"] = "Values Not Found";
  auto arr = nlohmann::ordered_json::array();
  for (auto i : r.visible) arr.push_back(value_to_json(r.record->values[i]));
  body["values"] = std::move(arr);
  return body;
}

// resolution_text writes the same body as resolution_json(...).dump() for a
// found record, without building the tree: the hot path of resolution.
std::string resolution_text(const Resolution& r) {
  std::string out;
  out.reserve(128 + 160 * r.visible.size());
  out += r.visible.empty() ? "{\"responseCode\":200,\"handle\":" : "{\"responseCode\":1,\"handle\":";
  append_json_string(out, r.handle);  // canonical handles are valid UTF-8
  if (r.visible.empty()) out += ",\"message\":\"Values Not Found\"";
  out += ",\"values\":[";
  for (std::size_t k = 0; k < r.visible.size(); ++k) {
    if (k != 0) out.push_back(',');
    append_value_json(out, r.record->values[r.visible[k]]);
  }
  out += "]}";
  return out;
}

bool same_content(const store::HandleValue& a, const store::HandleValue& b) {
  return a.index == b.index && a.type == b.type && a.data == b.data && a.ttl_type == b.ttl_type &&
         a.ttl == b.ttl && a.references == b.references && a.permissions == b.permissions;
}

// check_typed_values refuses values whose type promises a structure their
// data lacks: an HS_ADMIN that names no administrator, an HS_VLIST that is no
// list, an empty HS_SECKEY. Such a value would be stored and silently do
// nothing; Handle's answer is responseCode 202 (invalid value).
Result<void> check_typed_values(const std::vector<store::HandleValue>& values) {
  for (const auto& v : values) {
    const std::string where = "Invalid value at index " + std::to_string(v.index) + ": ";
    if (v.type == kAdminType) {
      auto admin = decode_admin(v.data);
      if (!admin) return make_error(where + "HS_ADMIN data is not an admin reference (" + admin.error().message + ")");
      if (!ids::parse_handle(admin->handle)) return make_error(where + "HS_ADMIN names an invalid handle");
    } else if (v.type == "HS_VLIST") {
      if (auto list = decode_vlist(v.data); !list) {
        return make_error(where + "HS_VLIST data is not a list of references (" + list.error().message + ")");
      }
    } else if (v.type == auth::kSecretKeyType && v.data.empty()) {
      return make_error(where + "HS_SECKEY needs a non-empty secret");
    }
  }
  return {};
}

}  // namespace

Response get_handle(const Context& ctx, std::string_view text) {
  auto sel = parse_selection(ctx);
  if (!sel) return handle_error(4, text.substr(0, 256), sel.error().message);
  if (!sel->public_only && ctx.principal.kind == Principal::Kind::anonymous) {
    return handle_error(402, text.substr(0, 256), "Authentication needed for publicOnly=false", sel->pretty);
  }
  const Resolution res = resolve(ctx, text, *sel);
  unsigned status = 200;
  Response r;
  if (res.record && !sel->pretty) {
    r.status = 200;
    r.body = resolution_text(res);
    r.headers.emplace_back("content-type", "application/json");
  } else {
    r = json_response(0, resolution_json(res, status), sel->pretty);
    r.status = status;
  }
  const std::int64_t cache_seconds = res.cache_seconds;
  if (status == 401) r.headers.emplace_back("www-authenticate", "Basic realm=\"handle\"");
  if (status != 200) {
    r.headers.emplace_back("cache-control", "no-store");
    return r;
  }
  const bool personal = ctx.principal.kind != Principal::Kind::anonymous;
  r.headers.emplace_back("cache-control", (personal ? "private, max-age=" : "max-age=") +
                                              std::to_string(std::max<std::int64_t>(0, cache_seconds)));
  const std::string etag = etag_of(r.body);
  r.headers.emplace_back("etag", etag);
  if (personal) r.headers.emplace_back("vary", "Authorization");
  if (auto inm = ctx.request.header("if-none-match"); inm && etag_matches(*inm, etag)) {
    r.status = 304;
    r.body.clear();
  }
  return r;
}

Response batch_resolve(const Context& ctx) {
  auto sel = parse_selection(ctx);
  if (!sel) return handle_error(4, "", sel.error().message);
  if (!is_json_content_type(ctx.request.header("content-type"))) {
    return handle_error(4, "", "Content-Type must be application/json");
  }
  nlohmann::json in = nlohmann::json::parse(ctx.request.body, nullptr, false);
  if (in.is_discarded() || !in.is_object() || !in.contains("handles") || !in["handles"].is_array()) {
    return handle_error(4, "", "body must be {\"handles\": [\"prefix/suffix\", ...]}");
  }
  const auto& list = in["handles"];
  if (list.size() > ctx.config.limits.max_batch_handles) {
    return handle_error(4, "", "at most " + std::to_string(ctx.config.limits.max_batch_handles) +
                                   " handles per request, got " + std::to_string(list.size()));
  }
  if (!sel->public_only && ctx.principal.kind == Principal::Kind::anonymous) {
    return handle_error(402, "", "Authentication needed for publicOnly=false", sel->pretty);
  }
  nlohmann::ordered_json out;
  out["responseCode"] = 1;
  auto results = nlohmann::ordered_json::array();
  for (const auto& item : list) {
    if (!item.is_string()) {
      nlohmann::ordered_json e;
      e["responseCode"] = 102;
      e["message"] = "Invalid handle: each item must be a string";
      results.push_back(std::move(e));
      continue;
    }
    unsigned status = 0;
    results.push_back(resolution_json(resolve(ctx, item.get<std::string>(), *sel), status));
  }
  out["results"] = std::move(results);
  Response r = json_response(200, out, sel->pretty);
  r.headers.emplace_back("cache-control", "no-store");
  return r;
}

Response put_handle(const Context& ctx, std::string_view text_in) {
  auto pretty = parse_bool_param(ctx.target, "pretty", false);
  if (!pretty) return handle_error(4, text_in.substr(0, 256), pretty.error().message);
  if (!is_json_content_type(ctx.request.header("content-type"))) {
    return handle_error(4, text_in.substr(0, 256), "Content-Type must be application/json", *pretty);
  }
  auto mint = parse_bool_param(ctx.target, "mintNewSuffix", false);
  auto overwrite = parse_bool_param(ctx.target, "overwrite", true);
  auto indexes = parse_u32_list(ctx.target, "index");
  if (!mint || !overwrite || !indexes) {
    const auto& e = !mint ? mint.error() : !overwrite ? overwrite.error() : indexes.error();
    return handle_error(4, text_in.substr(0, 256), e.message, *pretty);
  }
  std::string text(text_in);
  if (*mint) text += auth::random_hex(16);
  auto resolved = resolve_identifier(ctx, text, *pretty);
  if (auto* err = std::get_if<Response>(&resolved)) return std::move(*err);
  const auto& rs = std::get<Resolved>(resolved);
  const std::string handle = rs.handle.str();
  ctx.audit.resource(handle);

  auto parsed = values_from_body(ctx.request.body, ctx.request.now_unix);
  if (!parsed) return handle_error(4, handle, parsed.error().message, *pretty);
  std::vector<store::HandleValue> values = std::move(*parsed);
  if (values.size() > ctx.config.limits.max_values_per_record) {
    return handle_error(4, handle, "too many values in one record", *pretty);
  }
  if (!indexes->empty()) {
    std::set<std::uint32_t> wanted(indexes->begin(), indexes->end());
    std::set<std::uint32_t> given;
    for (const auto& v : values) given.insert(v.index);
    if (wanted != given) return handle_error(4, handle, "Mismatched indexes", *pretty);
  }
  if (auto invalid = check_typed_values(values); !invalid.ok()) {
    return handle_error(202, handle, invalid.error().message, *pretty);
  }
  for (auto& v : values) {
    v.timestamp = ctx.request.now_unix;
    if (v.type == auth::kSecretKeyType && !auth::is_secret_hash(v.data)) {
      auto hashed = auth::hash_secret(v.data);
      sodium_memzero(v.data.data(), v.data.size());
      if (!hashed) return handle_error(2, handle, hashed.error().message, *pretty);
      v.data = std::move(*hashed);
    }
  }

  bool created = false;
  auto fail = [&](int code, std::string message) -> Result<std::optional<store::Record>> {
    return make_error(std::move(message), code);
  };
  auto result = ctx.store.update(handle, [&](const std::optional<store::Record>& current)
                                             -> Result<std::optional<store::Record>> {
    created = !current.has_value();
    if (current && !*overwrite) {
      if (indexes->empty()) return fail(101, "Handle already exists");
      // overwrite=false with index=: add those values, never replace one.
      for (auto idx : *indexes) {
        for (const auto& v : current->values) {
          if (v.index == idx) return fail(201, "Value already exists at index " + std::to_string(idx));
        }
      }
    }
    store::Record next;
    if (!current) {
      Resource res{handle, nullptr, nullptr, false};
      auto d = ctx.access.decide(ctx.principal, Action::register_handle, res);
      if (!d.allow) return fail(d.response_code, "Not permitted to create " + handle);
      next.values = values;
      const bool has_admin = std::any_of(values.begin(), values.end(),
                                         [](const auto& v) { return v.type == kAdminType; });
      if (!has_admin && ctx.principal.kind == Principal::Kind::handle) {
        // Handle.Net gives a record created without HS_ADMIN one naming its
        // creator, so that somebody can still administer it.
        std::uint32_t idx = kDefaultAdminIndex;
        while (std::any_of(next.values.begin(), next.values.end(), [&](const auto& v) { return v.index == idx; })) ++idx;
        store::HandleValue admin;
        admin.index = idx;
        admin.type = std::string(kAdminType);
        admin.data = encode_admin(AdminRef{ctx.principal.handle, ctx.principal.index, creator_permissions()});
        admin.timestamp = ctx.request.now_unix;
        admin.permissions.public_read = true;
        next.values.push_back(std::move(admin));
      }
    } else {
      // Replace (no index=) or add/replace exactly the given indexes: every
      // value added, changed or removed needs its own permission.
      std::vector<store::HandleValue> merged;
      if (indexes->empty()) {
        for (const auto& old : current->values) {
          auto it = std::find_if(values.begin(), values.end(), [&](const auto& v) { return v.index == old.index; });
          if (it == values.end()) {
            auto d = ctx.access.decide(ctx.principal, Action::remove_value, Resource{handle, &*current, &old, false});
            if (!d.allow) return fail(d.response_code, "Not permitted to remove value " + std::to_string(old.index));
          }
        }
        merged = values;
      } else {
        merged = current->values;
        for (const auto& v : values) {
          auto it = std::find_if(merged.begin(), merged.end(), [&](const auto& m) { return m.index == v.index; });
          if (it == merged.end()) merged.push_back(v); else *it = v;
        }
      }
      for (auto& v : merged) {
        auto old = std::find_if(current->values.begin(), current->values.end(),
                                [&](const auto& o) { return o.index == v.index; });
        if (old == current->values.end()) {
          auto d = ctx.access.decide(ctx.principal, Action::add_value, Resource{handle, &*current, &v, false});
          if (!d.allow) return fail(d.response_code, "Not permitted to add value " + std::to_string(v.index));
        } else if (same_content(*old, v)) {
          v.timestamp = old->timestamp;  // unchanged: keep its history
        } else {
          auto d = ctx.access.decide(ctx.principal, Action::modify_value, Resource{handle, &*current, &*old, false});
          if (!d.allow) return fail(d.response_code, "Not permitted to modify value " + std::to_string(v.index));
          if (old->type != v.type && (old->type == kAdminType || v.type == kAdminType)) {
            auto d2 = ctx.access.decide(ctx.principal, Action::modify_value, Resource{handle, &*current, &v, false});
            if (!d2.allow) return fail(d2.response_code, "Not permitted to modify value " + std::to_string(v.index));
          }
        }
      }
      if (merged.size() > ctx.config.limits.max_values_per_record) return fail(4, "too many values in one record");
      next.values = std::move(merged);
    }
    std::sort(next.values.begin(), next.values.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
    // GS1 links are checked on the record as it will be (one default link).
    if (auto bad = links::check_link_values(next.values); !bad.ok()) return fail(202, bad.error().message);
    return std::optional<store::Record>(std::move(next));
  }, [&](store::WriteView& view) { ctx.audit.append_in(view, created ? 201 : 200, 1); });
  if (!result.ok()) {
    const int code = result.error().code != 0 ? result.error().code : 2;
    return handle_error(code, handle, result.error().message, *pretty);
  }
  nlohmann::ordered_json body;
  body["responseCode"] = 1;
  body["handle"] = handle;
  Response r = json_response(created ? 201 : 200, body, *pretty);
  if (created) r.headers.emplace_back("location", "/api/handles/" + handle);
  return r;
}

Response delete_handle(const Context& ctx, std::string_view text) {
  auto pretty = parse_bool_param(ctx.target, "pretty", false);
  if (!pretty) return handle_error(4, text.substr(0, 256), pretty.error().message);
  auto indexes = parse_u32_list(ctx.target, "index");
  if (!indexes) return handle_error(4, text.substr(0, 256), indexes.error().message, *pretty);
  auto resolved = resolve_identifier(ctx, text, *pretty);
  if (auto* err = std::get_if<Response>(&resolved)) return std::move(*err);
  const std::string handle = std::get<Resolved>(resolved).handle.str();
  ctx.audit.resource(handle);

  auto result = ctx.store.update(handle, [&](const std::optional<store::Record>& current)
                                             -> Result<std::optional<store::Record>> {
    if (!current) return make_error("Handle Not Found", 100);
    if (indexes->empty()) {
      auto d = ctx.access.decide(ctx.principal, Action::delete_handle, Resource{handle, &*current, nullptr, false});
      if (!d.allow) return make_error("Not permitted to delete " + handle, d.response_code);
      return std::optional<store::Record>{};
    }
    store::Record next = *current;
    for (auto idx : *indexes) {
      auto it = std::find_if(next.values.begin(), next.values.end(), [&](const auto& v) { return v.index == idx; });
      if (it == next.values.end()) return make_error("Values Not Found: no value at index " + std::to_string(idx), 200);
      auto d = ctx.access.decide(ctx.principal, Action::remove_value, Resource{handle, &*current, &*it, false});
      if (!d.allow) return make_error("Not permitted to remove value " + std::to_string(idx), d.response_code);
      next.values.erase(it);
    }
    return std::optional<store::Record>(std::move(next));
  }, ctx.audit.store_hook(200));
  if (!result.ok()) {
    return handle_error(result.error().code != 0 ? result.error().code : 2, handle, result.error().message, *pretty);
  }
  nlohmann::ordered_json body;
  body["responseCode"] = 1;
  body["handle"] = handle;
  return json_response(200, body, *pretty);
}

Response list_handles(const Context& ctx) {
  auto pretty = parse_bool_param(ctx.target, "pretty", false);
  if (!pretty) return handle_error(4, "", pretty.error().message);
  const auto prefix_text = ctx.target.first("prefix");
  if (!prefix_text) return handle_error(4, "", "parameter prefix is required: /api/handles?prefix=88.100", *pretty);
  auto prefix = ids::canonical_prefix(*prefix_text);
  if (!prefix) return handle_error(102, "", "Invalid prefix: " + prefix.error().message, *pretty);
  auto page = parse_u64_param(ctx.target, "page");
  auto page_size = parse_u64_param(ctx.target, "pageSize");
  if (!page || !page_size) {
    return handle_error(4, "", (!page ? page.error() : page_size.error()).message, *pretty);
  }
  const std::uint64_t max_size = ctx.config.limits.max_page_size;
  const std::uint64_t size = page_size->value_or(max_size);
  if (size == 0 || size > max_size) {
    return handle_error(4, "", "pageSize must be 1 to " + std::to_string(max_size), *pretty);
  }
  ctx.audit.resource(*prefix);
  auto d = ctx.access.decide(ctx.principal, Action::list_handles, Resource{*prefix, nullptr, nullptr, false});
  if (!d.allow) return handle_error(d.response_code, "", "Not permitted to list handles under " + *prefix, *pretty);
  const auto listing = ctx.store.list(*prefix, page->value_or(0), size);
  nlohmann::ordered_json body;
  body["responseCode"] = 1;
  body["prefix"] = *prefix;
  body["totalCount"] = listing.total_count;
  body["page"] = page->value_or(0);
  body["pageSize"] = size;
  body["handles"] = listing.handles;
  Response r = json_response(200, body, *pretty);
  r.headers.emplace_back("cache-control", "no-store");
  return r;
}

Response put_prefix(const Context& ctx, std::string_view text) {
  auto prefix = ids::canonical_prefix(text);
  if (!prefix) return handle_error(102, "", "Invalid prefix: " + prefix.error().message);
  ctx.audit.resource(*prefix);
  auto d = ctx.access.decide(ctx.principal, Action::home_prefix, Resource{*prefix, nullptr, nullptr, false});
  if (!d.allow) return handle_error(d.response_code, "", "Not permitted to home " + *prefix);
  if (auto r = ctx.store.home_prefix(*prefix, ctx.audit.store_hook(200)); !r) return handle_error(2, "", r.error().message);
  nlohmann::ordered_json body;
  body["responseCode"] = 1;
  body["prefix"] = *prefix;
  return json_response(200, body);
}

Response delete_prefix(const Context& ctx, std::string_view text) {
  auto prefix = ids::canonical_prefix(text);
  if (!prefix) return handle_error(102, "", "Invalid prefix: " + prefix.error().message);
  ctx.audit.resource(*prefix);
  auto d = ctx.access.decide(ctx.principal, Action::unhome_prefix, Resource{*prefix, nullptr, nullptr, false});
  if (!d.allow) return handle_error(d.response_code, "", "Not permitted to unhome " + *prefix);
  auto r = ctx.store.unhome_prefix(*prefix, ctx.audit.store_hook(200));
  if (!r) return handle_error(2, "", r.error().message);
  if (!*r) return handle_error(100, "", "Prefix " + *prefix + " is not homed on this node");
  nlohmann::ordered_json body;
  body["responseCode"] = 1;
  body["prefix"] = *prefix;
  return json_response(200, body);
}

}  // namespace idra::api

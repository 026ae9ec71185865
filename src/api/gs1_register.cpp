// gs1_register.cpp: POST /api/gs1/links, the convenience registration of an
// item's links from a GS1 element string or Digital Link URI.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "handlers.hpp"
#include "idra/text.hpp"
#include "links.hpp"

namespace idra::api {
namespace {

using nlohmann::ordered_json;

constexpr std::size_t kMaxLinksPerItem = 1000;

bool same_value(const store::HandleValue& a, const store::HandleValue& b) {
  return a.type == b.type && a.data == b.data && a.ttl_type == b.ttl_type && a.ttl == b.ttl &&
         a.references == b.references && a.permissions == b.permissions;
}

struct Wanted {
  std::vector<store::HandleValue> values;  // links, then the description; indexes unset
};

Result<Wanted> read_body(const Context& ctx, const nlohmann::json& body) {
  Wanted out;
  auto links = body.find("links");
  if (links == body.end() || !links->is_array()) return make_error("\"links\" must be an array of link objects");
  if (links->size() > kMaxLinksPerItem) {
    return make_error("at most " + std::to_string(kMaxLinksPerItem) + " links per item");
  }
  std::int32_t ttl = 86400;
  if (auto t = body.find("ttl"); t != body.end()) {
    if (!t->is_number_integer() || t->get<std::int64_t>() < 0 || t->get<std::int64_t>() > 0x7fffffff) {
      return make_error("\"ttl\" must be a number of seconds");
    }
    ttl = t->get<std::int32_t>();
  }
  std::size_t n = 0;
  for (auto item : *links) {
    const std::string where = "links[" + std::to_string(n++) + "]: ";
    if (!item.is_object()) return make_error(where + "must be an object");
    store::HandleValue v;
    v.type = std::string(links::kLinkValueType);
    v.ttl = ttl;
    v.timestamp = ctx.request.now_unix;
    // "public" (GS1's linkset member) is the value's public-read permission:
    // false hides the link from callers no policy grants it to.
    if (auto pub = item.find("public"); pub != item.end()) {
      if (!pub->is_boolean()) return make_error(where + "\"public\" must be true or false");
      v.permissions.public_read = pub->get<bool>();
      item.erase("public");
    }
    auto link = links::parse_link(item.dump());
    if (!link) return make_error(where + link.error().message);
    v.data = links::link_data(*link);
    out.values.push_back(std::move(v));
  }
  if (auto d = body.find("itemDescription"); d != body.end()) {
    if (!d->is_string()) return make_error("\"itemDescription\" must be a string");
    store::HandleValue v;
    v.type = std::string(links::kItemDescriptionType);
    v.data = d->get<std::string>();
    v.ttl = ttl;
    v.timestamp = ctx.request.now_unix;
    out.values.push_back(std::move(v));
  }
  for (const auto& key : body.items()) {
    if (key.key() != "identifier" && key.key() != "links" && key.key() != "itemDescription" && key.key() != "ttl") {
      return make_error("unknown member " + text::quoted(key.key()) +
                        " (the body has identifier, links, itemDescription, ttl)");
    }
  }
  if (auto valid = links::check_link_values(out.values); !valid.ok()) return valid.error();
  return out;
}

}  // namespace

Response gs1_links(const Context& ctx) {
  if (ctx.request.method != "POST") {
    Response r = plain_error(405, "method not allowed here; allowed: POST");
    r.headers.emplace_back("allow", "POST");
    return r;
  }
  if (!is_json_content_type(ctx.request.header("content-type"))) {
    return handle_error(4, "", "the body must be JSON (Content-Type: application/json)");
  }
  const auto body = nlohmann::json::parse(ctx.request.body, nullptr, false, true);
  if (body.is_discarded() || !body.is_object()) return handle_error(4, "", "the body is not a JSON object");
  auto id_it = body.find("identifier");
  if (id_it == body.end() || !id_it->is_string()) {
    return handle_error(4, "", "\"identifier\" must be a GS1 element string, Digital Link URI or path, or GTIN");
  }
  auto id = ids::identify(id_it->get<std::string>(), ctx.config.mapping, ids::Scheme::gs1);
  if (!id) return handle_error(4, "", "invalid GS1 identifier: " + id.error().message);
  const std::string handle = id->handle;
  ctx.audit.resource(handle);
  if (!is_served_here(ctx.store, handle)) return handle_error(301, handle, "That prefix doesn't live here");
  auto wanted = read_body(ctx, body);
  if (!wanted) return handle_error(202, handle, wanted.error().message);

  bool created = false;
  std::size_t link_count = 0;
  auto fail = [](int code, std::string message) -> Result<std::optional<store::Record>> {
    return make_error(std::move(message), code);
  };
  auto result = ctx.store.update(handle, [&](const std::optional<store::Record>& current)
                                             -> Result<std::optional<store::Record>> {
    created = !current.has_value();
    store::Record next;
    if (!current) {
      auto d = ctx.access.decide(ctx.principal, Action::register_handle, Resource{handle, nullptr, nullptr, false});
      if (!d.allow) return fail(d.response_code, "Not permitted to create " + handle);
    }
    // The old links and description make way for the new ones, index by
    // index: the n-th new value takes the n-th old index, then fresh ones.
    std::vector<store::HandleValue> old_items;
    std::uint32_t max_index = 0;
    if (current) {
      for (const auto& v : current->values) {
        max_index = std::max(max_index, v.index);
        if (v.type == links::kLinkValueType || v.type == links::kItemDescriptionType) old_items.push_back(v);
        else next.values.push_back(v);
      }
    }
    std::size_t k = 0;
    for (auto v : wanted->values) {
      if (k < old_items.size()) {
        v.index = old_items[k].index;
        if (same_value(old_items[k], v)) {
          v.timestamp = old_items[k].timestamp;
        } else {
          auto d = ctx.access.decide(ctx.principal, Action::modify_value, Resource{handle, &*current, &old_items[k], false});
          if (!d.allow) return fail(d.response_code, "Not permitted to modify value " + std::to_string(v.index));
        }
      } else {
        v.index = ++max_index;
        if (current) {
          auto d = ctx.access.decide(ctx.principal, Action::add_value, Resource{handle, &*current, &v, false});
          if (!d.allow) return fail(d.response_code, "Not permitted to add value " + std::to_string(v.index));
        }
      }
      ++k;
      if (v.type == links::kLinkValueType) ++link_count;
      next.values.push_back(std::move(v));
    }
    for (; k < old_items.size(); ++k) {
      auto d = ctx.access.decide(ctx.principal, Action::remove_value, Resource{handle, &*current, &old_items[k], false});
      if (!d.allow) return fail(d.response_code, "Not permitted to remove value " + std::to_string(old_items[k].index));
    }
    if (next.values.size() > ctx.config.limits.max_values_per_record) return fail(4, "too many values in one record");
    std::sort(next.values.begin(), next.values.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
    return std::optional<store::Record>(std::move(next));
  }, [&](store::WriteView& view) { ctx.audit.append_in(view, created ? 201 : 200, 1); });
  if (!result.ok()) {
    const int code = result.error().code != 0 ? result.error().code : 2;
    return handle_error(code, handle, result.error().message);
  }
  ordered_json out;
  out["responseCode"] = 1;
  out["handle"] = handle;
  out["identifier"] = id->canonical;
  out["links"] = link_count;
  Response r = json_response(created ? 201 : 200, out);
  if (created) r.headers.emplace_back("location", "/api/handles/" + handle);
  return r;
}

}  // namespace idra::api

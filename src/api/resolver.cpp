// resolver.cpp: the web resolver. GS1 Digital Link URIs (GS1-Conformant
// Resolver standard 1.2) and IEC 61406 identification links, answered from
// the records' GS1_LINK values under the same policies and audit as the
// Handle API; /.well-known/gs1resolver; POST /api/gs1/links.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <unordered_map>

#include "handlers.hpp"
#include "idra/gs1.hpp"
#include "idra/text.hpp"
#include "links.hpp"
#include "value_json.hpp"

namespace idra::api {
namespace {

using nlohmann::ordered_json;
namespace gs1 = ids::gs1;

constexpr std::string_view kAllow = "GET, HEAD, OPTIONS";
constexpr std::size_t kMaxLinkHeaderBytes = 8192;
constexpr std::string_view kJsonLdContext = "https://ref.gs1.org/standards/resolver/linkset-context";

// host_of returns the request's Host, lower-cased, when it is a plain
// authority (letters, digits, '.', '-', ':' and an IPv6 literal's brackets).
std::optional<std::string> host_of(const Request& request) {
  auto host = request.header("host");
  if (!host || host->empty() || host->size() > 255) return std::nullopt;
  for (char c : *host) {
    if (!(text::is_alnum(c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']')) return std::nullopt;
  }
  std::string h = text::lower_ascii(*host);
  if (h.size() > 4 && h.ends_with(":443")) h.resize(h.size() - 4);
  return h;
}

std::string resolver_root(const Context& ctx) {
  if (!ctx.config.resolver.root.empty()) return ctx.config.resolver.root;
  auto host = host_of(ctx.request);
  return "https://" + (host ? *host : std::string("localhost"));
}

// The request's raw path and query (percent-encoding kept).
std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

// query_without drops the parameters named |names| from a raw query string.
std::string query_without(std::string_view query, std::initializer_list<std::string_view> names) {
  std::string out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view member = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const std::string_view name = member.substr(0, member.find('='));
    if (member.empty() || std::find(names.begin(), names.end(), name) != names.end()) continue;
    if (!out.empty()) out.push_back('&');
    out += member;
  }
  return out;
}

void add_web_headers(Response& r, bool personal) {
  r.headers.emplace_back("access-control-allow-origin", "*");
  r.headers.emplace_back("access-control-expose-headers", "Link, Location, Vary, Content-Type");
  r.headers.emplace_back("vary", personal ? "Accept, Accept-Language, Authorization" : "Accept, Accept-Language");
}

Response web_error(unsigned status, std::string message, bool personal) {
  Response r = plain_error(status, message);
  add_web_headers(r, personal);
  r.headers.emplace_back("cache-control", "no-store");
  return r;
}

// The links of one record the caller may see, with the record's description.
struct Item {
  std::string handle;
  std::string path;  // canonical Digital Link path or identification link path, for the anchor
  std::optional<store::Record> record;
  std::vector<links::Link> links;
  std::vector<std::uint32_t> link_indexes;  // value index of each link
  std::string description;
  std::int64_t ttl = -1;

  std::vector<const links::Link*> all() const {
    std::vector<const links::Link*> out;
    for (const auto& l : links) out.push_back(&l);
    return out;
  }
};

// load_item reads |handle| and keeps the links the caller may read (and, with
// |description|, the item description: only linksets show it). A denied
// resolution is an error response; a missing record an Item without record.
std::variant<Item, Response> load_item(const Context& ctx, std::string handle, std::string path, bool description) {
  Item item;
  item.handle = std::move(handle);
  item.path = std::move(path);
  item.record = ctx.store.get(item.handle);
  Resource res{item.handle, item.record ? &*item.record : nullptr, nullptr, false};
  if (auto d = ctx.access.decide(ctx.principal, Action::resolve, res); !d.allow) {
    Response r = denied(d, "resolving " + item.handle, item.handle);
    add_web_headers(r, true);
    return r;
  }
  if (!item.record) return item;
  // The link (and description) values, decided together.
  std::vector<const store::HandleValue*> wanted;
  for (const auto& v : item.record->values) {
    if (v.type == links::kLinkValueType || (description && v.type == links::kItemDescriptionType)) wanted.push_back(&v);
  }
  if (wanted.empty()) return item;
  const std::vector<bool> allowed = ctx.access.decide_values(ctx.principal, item.handle, *item.record, wanted, false);
  for (std::size_t k = 0; k < wanted.size(); ++k) {
    if (!allowed[k]) continue;
    const store::HandleValue& v = *wanted[k];
    if (v.type != links::kLinkValueType) {
      item.description = v.data;
      continue;
    }
    auto parsed = links::parse_link(v.data);
    if (!parsed) continue;  // not a valid link (checked on every write path): ignored
    item.links.push_back(std::move(*parsed));
    item.link_indexes.push_back(v.index);
    const std::int64_t left = v.ttl_type == store::TtlType::relative
                                  ? v.ttl
                                  : std::max<std::int64_t>(0, v.ttl - ctx.request.now_unix);
    item.ttl = item.ttl < 0 ? left : std::min(item.ttl, left);
  }
  return item;
}

struct Ask {
  enum class Mode { default_link, link_type, linkset } mode = Mode::default_link;
  std::string link_type;  // expanded, for Mode::link_type
  links::Preferences prefs;
  std::string forward_query;  // the query string passed on to the target
};

Result<Ask> read_ask(const Context& ctx, std::string_view raw_query, bool json_means_linkset) {
  Ask ask;
  if (auto ctx_param = ctx.target.first("context")) ask.prefs.context = std::string(*ctx_param);
  if (auto h = ctx.request.header("accept-language")) ask.prefs.languages = links::parse_weighted(*h);
  if (auto h = ctx.request.header("accept")) ask.prefs.media_types = links::parse_weighted(*h);
  if (auto lt = ctx.target.first("linkType")) {
    if (*lt == "linkset" || *lt == "all") {
      ask.mode = Ask::Mode::linkset;
    } else {
      auto expanded = links::expand_link_type(*lt);
      if (!expanded) return expanded.error();
      ask.mode = Ask::Mode::link_type;
      ask.link_type = std::move(*expanded);
    }
  } else if (links::wants_linkset(ask.prefs.media_types, json_means_linkset)) {
    ask.mode = Ask::Mode::linkset;
  }
  ask.forward_query = query_without(raw_query, {"linkType"});
  return ask;
}

// answer_item answers from the first item of |chain| (most specific first)
// that has what was asked for. |extra_links| go into the Link header.
Response answer(const Context& ctx, const std::vector<Item>& chain, const Ask& ask, const std::string& root,
                const std::vector<std::string>& extra_links) {
  const bool personal = ctx.principal.kind != Principal::Kind::anonymous;
  auto finish = [&](Response r, const Item& item, const std::vector<const links::Link*>& used) {
    ctx.audit.resource(item.handle);
    for (const auto* l : used) ctx.audit.value_index(item.link_indexes[static_cast<std::size_t>(l - item.links.data())]);
    r.headers.reserve(r.headers.size() + 7);
    std::vector<std::string> extra = extra_links;
    extra.push_back(links::link_header_member(links::with_query(root + item.path, "linkType=linkset"), "linkset",
                                              "application/linkset+json"));
    // An item with very many links lists them in its linkset only: clients
    // limit header sizes (8 KiB is common).
    std::string header = links::link_header(item.all(), extra);
    if (header.size() > kMaxLinkHeaderBytes) header = links::link_header({}, extra);
    r.headers.emplace_back("link", std::move(header));
    add_web_headers(r, personal);
    r.headers.emplace_back("cache-control", personal ? std::string("private, no-store")
                                                     : "max-age=" + std::to_string(std::max<std::int64_t>(0, item.ttl)));
    return r;
  };
  auto redirect = [&](const Item& item, const links::Link& link) {
    Response r;
    r.status = 307;
    r.headers.reserve(9);  // these two, and finish's seven: one allocation
    const std::string location = links::with_query(link.href, link.fwqs ? ask.forward_query : "");
    r.headers.emplace_back("location", location);
    r.headers.emplace_back("content-type", "application/json");
    r.body = "{\"message\":";
    append_json_string(r.body, "redirecting to the " + links::compact_link_type(link.link_type) + " link");
    r.body += ",\"location\":";
    append_json_string(r.body, text::check_utf8(location) ? text::printable(location, 4096) : location);
    r.body += "}";
    return finish(std::move(r), item, {&link});
  };

  const bool any_record = std::any_of(chain.begin(), chain.end(), [](const Item& i) { return i.record.has_value(); });
  for (const Item& item : chain) {
    if (item.links.empty()) continue;
    if (ask.mode == Ask::Mode::linkset) {
      Response r;
      r.status = 200;
      r.body = links::linkset_json(root + item.path, item.description, item.all());
      r.headers.emplace_back("content-type", "application/linkset+json");
      r = finish(std::move(r), item, item.all());
      r.headers.emplace_back("link", links::link_header_member(kJsonLdContext, "http://www.w3.org/ns/json-ld#context",
                                                               "application/ld+json"));
      return r;
    }
    if (ask.mode == Ask::Mode::default_link) {
      for (const auto& l : item.links) {
        if (l.is_default) return redirect(item, l);
      }
      continue;
    }
    std::vector<const links::Link*> candidates;
    for (const auto& l : item.links) {
      if (l.link_type == ask.link_type) candidates.push_back(&l);
    }
    if (candidates.empty()) continue;
    const auto chosen = links::negotiate(candidates, ask.prefs);
    if (chosen.size() == 1) return redirect(item, *candidates[chosen.front()]);
    for (auto i : chosen) {
      if (candidates[i]->is_default) return redirect(item, *candidates[i]);
    }
    std::vector<const links::Link*> several;
    for (auto i : chosen) several.push_back(candidates[i]);
    Response r;
    r.status = 300;
    r.headers.emplace_back("content-type", "application/json");
    ordered_json body;
    body["message"] = std::to_string(several.size()) + " links of type " + links::compact_link_type(ask.link_type) +
                      " match this request equally; choose one";
    body["linkset"] = ordered_json::parse(links::linkset_json(root + item.path, item.description, several))["linkset"];
    r.body = body.dump();
    return finish(std::move(r), item, several);
  }
  if (!any_record) return web_error(404, "no record for this identifier", personal);
  switch (ask.mode) {
    case Ask::Mode::linkset:
      return web_error(404, "this identifier has no links you may see", personal);
    case Ask::Mode::default_link:
      return web_error(404, "this identifier has no default link you may see", personal);
    case Ask::Mode::link_type:
      break;
  }
  return web_error(404, "this identifier has no link of type " + links::compact_link_type(ask.link_type) +
                            " (also none for the less specific identifiers)", personal);
}

// gcp_offset is where the GS1 company prefix starts in |key|'s value
// (the dictionary's gcppos1/gcppos2 linters), nullopt when it has none.
std::optional<std::size_t> gcp_offset(const gs1::AiValue& key) {
  const gs1::AiEntry* entry = gs1::dictionary().find(key.ai);
  if (entry == nullptr) return std::nullopt;
  std::size_t offset = 0;
  for (const auto& c : entry->components) {
    for (const auto& l : c.linters) {
      if (l == "gcppos1") return offset;
      if (l == "gcppos2") return offset + 1;
    }
    if (c.min_length != c.max_length) return std::nullopt;
    offset += c.max_length;
  }
  return std::nullopt;
}

const std::string* delegation_for(const ResolverConfig& config, const gs1::AiValue& key) {
  if (config.delegations.empty()) return nullptr;
  const auto offset = gcp_offset(key);
  if (!offset || *offset >= key.value.size()) return nullptr;
  const std::string_view digits = std::string_view(key.value).substr(*offset);
  const std::string* best = nullptr;
  std::size_t best_len = 0;
  for (const auto& [gcp, target] : config.delegations) {
    if (gcp.size() > best_len && digits.starts_with(gcp)) {
      best = &target;
      best_len = gcp.size();
    }
  }
  return best;
}

Response resolve_digital_link(const Context& ctx, const gs1::DigitalLink& dl, std::string_view raw_query,
                              std::optional<std::string> same_as) {
  const bool personal = ctx.principal.kind != Principal::Kind::anonymous;
  auto ask = read_ask(ctx, raw_query, true);
  if (!ask) return web_error(400, ask.error().message, personal);
  const std::string root = resolver_root(ctx);
  std::vector<std::string> extra;
  if (same_as) extra.push_back(links::link_header_member(*same_as, "owl:sameAs"));

  if (const std::string* target = delegation_for(ctx.config.resolver, dl.primary_key)) {
    Response r;
    r.status = 307;
    std::string location = *target + dl.canonical_path();
    if (!raw_query.empty()) location += "?" + std::string(raw_query);
    r.headers.emplace_back("location", location);
    extra.push_back(links::link_header_member(*target, std::string(links::kGs1Vocabulary) + "handledBy"));
    r.headers.emplace_back("link", links::link_header({}, extra));
    r.headers.emplace_back("content-type", "application/json");
    r.body = ordered_json{{"message", "this company prefix is handled by another resolver"}, {"location", location}}.dump();
    add_web_headers(r, personal);
    r.headers.emplace_back("cache-control", "max-age=3600");
    ctx.audit.resource(ctx.config.mapping.prefix + "/gs1" + dl.canonical_path());
    return r;
  }

  // The item and its less specific forms: serial -> lot -> product.
  gs1::DigitalLink level = dl;
  level.attributes.clear();
  level.other_query_params.clear();
  std::vector<Item> chain;
  while (true) {
    const std::string path = level.canonical_path();
    std::string handle = ctx.config.mapping.prefix + "/gs1" + path;
    if (chain.empty() && !is_served_here(ctx.store, handle)) {
      return web_error(404, "identifiers under " + ctx.config.mapping.prefix + "/gs1 are not served by this node",
                       personal);
    }
    auto loaded = load_item(ctx, std::move(handle), path, ask->mode != Ask::Mode::default_link);
    if (auto* r = std::get_if<Response>(&loaded)) return std::move(*r);
    chain.push_back(std::move(std::get<Item>(loaded)));
    if (level.qualifiers.empty()) break;
    level.qualifiers.pop_back();
  }
  if (!chain.front().record) ctx.audit.resource(chain.front().handle);
  return answer(ctx, chain, *ask, root, extra);
}

// The record as Handle JSON (the values the caller may read), for clients of
// an identification link that ask for JSON.
Response record_json(const Context& ctx, const Item& item) {
  ordered_json values = ordered_json::array();
  std::vector<const store::HandleValue*> all;
  for (const auto& v : item.record->values) all.push_back(&v);
  const std::vector<bool> allowed = ctx.access.decide_values(ctx.principal, item.handle, *item.record, all, false);
  for (std::size_t k = 0; k < all.size(); ++k) {
    if (!allowed[k]) continue;
    values.push_back(value_to_json(*all[k]));
    ctx.audit.value_index(all[k]->index);
  }
  ctx.audit.resource(item.handle);
  ordered_json body;
  body["responseCode"] = values.empty() ? 200 : 1;
  body["handle"] = item.handle;
  body["values"] = std::move(values);
  Response r = json_response(200, body);
  const bool personal = ctx.principal.kind != Principal::Kind::anonymous;
  add_web_headers(r, personal);
  r.headers.emplace_back("cache-control", personal ? "private, no-store" : "max-age=60");
  return r;
}

bool serves_identification_links(const Context& ctx, std::string_view host) {
  const auto& hosts = ctx.config.resolver.identification_link_hosts;
  return std::find(hosts.begin(), hosts.end(), host) != hosts.end();
}

}  // namespace

Response resolver_description(const Context& ctx) {
  if (ctx.request.method == "OPTIONS") return web_resolve(ctx);
  if (ctx.request.method != "GET" && ctx.request.method != "HEAD") {
    Response r = plain_error(405, "method not allowed here; allowed: GET, HEAD, OPTIONS");
    r.headers.emplace_back("allow", std::string(kAllow));
    return r;
  }
  ordered_json body;
  body["name"] = ctx.config.resolver.name;
  body["resolverRoot"] = resolver_root(ctx);
  body["supportedPrimaryKeys"] = ordered_json::array({"all"});
  body["supportedLinkType"] = ordered_json::array({{{"namespace", links::kGs1Vocabulary}, {"prefix", "gs1:"}}});
  body["linkTypeDefaultCanBeLinkset"] = false;
  body["jsonLdContextLocation"] = kJsonLdContext;
  Response r = json_response(200, body);
  add_web_headers(r, false);
  r.headers.emplace_back("cache-control", "max-age=3600");
  return r;
}

Response web_resolve(const Context& ctx) {
  const bool personal = ctx.principal.kind != Principal::Kind::anonymous;
  const std::string& method = ctx.request.method;
  if (method == "OPTIONS") {
    // CORS preflight (and a plain OPTIONS): what this resource allows.
    Response r;
    r.status = 204;
    r.headers.emplace_back("allow", std::string(kAllow));
    r.headers.emplace_back("access-control-allow-origin", "*");
    r.headers.emplace_back("access-control-allow-methods", std::string(kAllow));
    r.headers.emplace_back("access-control-allow-headers", "Accept, Accept-Language, Authorization");
    r.headers.emplace_back("access-control-expose-headers", "Link, Location, Vary, Content-Type");
    r.headers.emplace_back("access-control-max-age", "86400");
    return r;
  }
  if (method != "GET" && method != "HEAD") {
    Response r = web_error(405, "method not allowed here; allowed: GET, HEAD, OPTIONS", personal);
    r.headers.emplace_back("allow", std::string(kAllow));
    return r;
  }
  const auto [raw_path, raw_query] = split_target(ctx.request.target);
  // A trailing slash is tolerated on a Digital Link (GS1 resolver standard
  // 1.2, section 2.13); an identification link is matched exactly.
  std::string_view dl_path = raw_path;
  if (dl_path.size() > 1 && dl_path.back() == '/') dl_path.remove_suffix(1);
  const auto host = host_of(ctx.request);
  const std::string authority = host ? *host : std::string("localhost");
  const std::string query_part = raw_query.empty() ? std::string() : "?" + std::string(raw_query);
  const std::string uri = "https://" + authority + std::string(dl_path) + query_part;

  if (gs1::has_digital_link_shape(uri)) {
    auto dl = gs1::parse_digital_link(uri);
    if (!dl) return web_error(400, "invalid GS1 Digital Link: " + dl.error().message, personal);
    return resolve_digital_link(ctx, *dl, raw_query, std::nullopt);
  }

  // An IEC 61406 identification link of a host this node answers for.
  if (host && serves_identification_links(ctx, *host)) {
    auto id = ids::identify("https://" + authority + std::string(raw_path) + query_part, ctx.config.mapping,
                            ids::Scheme::iec61406);
    if (id && is_served_here(ctx.store, id->handle)) {
      auto ask = read_ask(ctx, raw_query, false);
      if (!ask) return web_error(400, ask.error().message, personal);
      auto loaded = load_item(ctx, id->handle, std::string(raw_path) + query_part, ask->mode != Ask::Mode::default_link);
      if (auto* r = std::get_if<Response>(&loaded)) return std::move(*r);
      Item& item = std::get<Item>(loaded);
      if (item.record) {
        const bool json = links::wants_linkset(ask->prefs.media_types, false) == false &&
                          !ask->prefs.media_types.empty() && ask->prefs.media_types.front().value == "application/json";
        if (item.links.empty() || (json && ask->mode == Ask::Mode::default_link)) return record_json(ctx, item);
        // The anchor of an identification link is the link itself.
        const std::string root = "https://" + authority;
        std::vector<Item> chain;
        chain.push_back(std::move(item));
        return answer(ctx, chain, *ask, root, {});
      }
      ctx.audit.resource(id->handle);
    }
  }

  // A compressed GS1 Digital Link URI; the uncompressed one is its owl:sameAs.
  if (gs1::has_compressed_digital_link_shape(uri)) {
    auto dl = gs1::decompress_digital_link(uri);
    if (!dl) return web_error(400, dl.error().message, personal);
    gs1::DigitalLink same = *dl;
    same.stem = resolver_root(ctx);
    return resolve_digital_link(ctx, *dl, raw_query, gs1::digital_link_uri(same));
  }
  return web_error(404, "no such resource: " + text::printable(raw_path, 200), personal);
}

}  // namespace idra::api

// audit.cpp: the audit log's API (see "Audit log" in the README).
//
//   GET /api/audit/checkpoint                  the latest signed checkpoint (text/plain; public)
//   GET /api/audit/key                         the log's verifier key, note vkey form (public)
//   GET /api/audit/entries?principal=&identifier=&action=&decision=&from=&to=&cursor=&limit=
//   GET /api/audit/proof/inclusion?index=&size=
//   GET /api/audit/proof/consistency?from=&to=
//   GET /api/audit/export?from=&to=&limit=      NDJSON, leaf indexes [from, to), paged
//
// The checkpoint and the key are what a verifier needs before it trusts
// anything else, and they reveal nothing but the log's size and root, so
// anyone may fetch them. Everything else is the policy action readAudit on
// AuditLog::"log".
#include <sodium.h>

#include "handlers.hpp"
#include "idra/audit.hpp"

namespace idra::api {
namespace {

using nlohmann::ordered_json;

constexpr std::uint64_t kDefaultExportLimit = 5000;
constexpr std::uint64_t kMaxExportLimit = 10000;

std::string base64(std::string_view bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

ordered_json hashes_json(const audit::Proof& proof) {
  ordered_json list = ordered_json::array();
  for (const auto& h : proof) list.push_back(base64(h));
  return list;
}

// leaf_json is an entry as the API shows it: its index, its exact bytes
// (base64, for hashing) and the record they encode. The leaf is canonical
// JSON itself, so the record is the leaf parsed; a leaf that is not (the
// log is damaged) is shown with "record": null.
ordered_json leaf_json(std::uint64_t index, std::string_view leaf) {
  ordered_json j = {{"index", index}, {"leaf", base64(leaf)}};
  if (audit::decode_leaf(leaf)) {
    j["record"] = ordered_json::parse(leaf, nullptr, false);
  } else {
    j["record"] = nullptr;
  }
  return j;
}

Response text_response(std::string body) {
  Response r;
  r.status = 200;
  r.body = std::move(body);
  r.headers.emplace_back("content-type", "text/plain; charset=utf-8");
  r.headers.emplace_back("cache-control", "no-store");
  return r;
}

// required_u64 reads a required non-negative integer parameter.
Result<std::uint64_t> required_u64(const Target& target, std::string_view name) {
  auto v = parse_u64_param(target, name);
  if (!v) return v.error();
  if (!*v) return make_error("parameter " + std::string(name) + " is required");
  return **v;
}

std::string_view query_of(std::string_view raw_target) {
  const auto q = raw_target.find('?');
  return q == std::string_view::npos ? std::string_view() : raw_target.substr(q + 1);
}

}  // namespace

Response audit_api(const Context& ctx, std::string_view rest, const AuditSinks& sinks) {
  const std::string& method = ctx.request.method;
  if (method != "GET" && method != "HEAD") {
    Response r = plain_error(405, "GET only");
    r.headers.emplace_back("allow", "GET, HEAD");
    return r;
  }
  if (rest == "checkpoint" || rest == "key") {
    if (sinks.checkpoints == nullptr) return plain_error(404, "this node signs no audit checkpoints");
    if (rest == "key") return text_response(audit::format_verifier_key(sinks.checkpoints->verifier()) + "\n");
    auto note = sinks.checkpoints->latest_checkpoint();
    if (!note) return plain_error(404, "no checkpoint yet: the audit log is empty; retry in a second");
    return text_response(std::move(*note));
  }
  const bool known = rest == "entries" || rest == "proof/inclusion" || rest == "proof/consistency" || rest == "export";
  if (!known) return plain_error(404, "no such audit resource: " + std::string(rest.substr(0, 100)));

  auto d = ctx.access.decide(ctx.principal, Action::read_audit, Resource{});
  if (!d.allow) return denied(d, "reading the audit log");

  if (rest == "entries") {
    auto filter = audit::parse_query(query_of(ctx.request.target));
    if (!filter) return plain_error(400, filter.error().message);
    Result<audit::Page> page = make_error("unset");
    ctx.store.view([&](const store::ReadView& v) { page = audit::query(v, *filter); });
    if (!page) return plain_error(400, page.error().message);
    ordered_json entries = ordered_json::array();
    for (const auto& e : page->entries) entries.push_back(leaf_json(e.index, e.leaf));
    ordered_json body = {{"entries", std::move(entries)}};
    body["next_cursor"] = page->next_cursor ? ordered_json(*page->next_cursor) : ordered_json(nullptr);
    Response r = json_response(200, body);
    r.headers.emplace_back("cache-control", "no-store");
    return r;
  }

  if (rest == "proof/inclusion") {
    auto index = required_u64(ctx.target, "index");
    auto size = required_u64(ctx.target, "size");
    if (!index || !size) return plain_error(400, (!index ? index.error() : size.error()).message);
    Result<audit::Proof> proof = make_error("unset");
    std::optional<std::string> leaf;
    ctx.store.view([&](const store::ReadView& v) {
      proof = audit::prove_inclusion(v, *index, *size);
      if (proof) leaf = audit::leaf_at(v, *index);
    });
    if (!proof) return plain_error(400, proof.error().message);
    ordered_json body = {{"index", *index}, {"size", *size}, {"leaf", base64(leaf.value_or(""))},
                         {"proof", hashes_json(*proof)}};
    return json_response(200, body);
  }

  if (rest == "proof/consistency") {
    auto from = required_u64(ctx.target, "from");
    auto to = required_u64(ctx.target, "to");
    if (!from || !to) return plain_error(400, (!from ? from.error() : to.error()).message);
    Result<audit::Proof> proof = make_error("unset");
    ctx.store.view([&](const store::ReadView& v) { proof = audit::prove_consistency(v, *from, *to); });
    if (!proof) return plain_error(400, proof.error().message);
    ordered_json body = {{"from", *from}, {"to", *to}, {"proof", hashes_json(*proof)}};
    return json_response(200, body);
  }

  // export: leaf indexes [from, to), at most |limit| lines per response; the
  // X-Idra-Next-From header says where the next page starts.
  auto from = parse_u64_param(ctx.target, "from");
  auto to = parse_u64_param(ctx.target, "to");
  auto limit = parse_u64_param(ctx.target, "limit");
  if (!from || !to || !limit) return plain_error(400, (!from ? from.error() : !to ? to.error() : limit.error()).message);
  const std::uint64_t max_lines = limit->value_or(kDefaultExportLimit);
  if (max_lines == 0 || max_lines > kMaxExportLimit) {
    return plain_error(400, "limit must be 1 to " + std::to_string(kMaxExportLimit));
  }
  std::string body;
  std::uint64_t size = 0, first = from->value_or(0), end = 0;
  std::optional<std::string> error;
  ctx.store.view([&](const store::ReadView& v) {
    body.clear();
    size = audit::tree_size(v);
    const std::uint64_t last = to->value_or(size);
    if (last > size) {
      error = "to (" + std::to_string(last) + ") is beyond the log's size " + std::to_string(size);
      return;
    }
    if (first > last) {
      error = "from is after to";
      return;
    }
    end = std::min(last, first + max_lines);
    for (std::uint64_t i = first; i < end; ++i) {
      auto leaf = audit::leaf_at(v, i);
      if (!leaf) throw std::runtime_error("audit log: leaf " + std::to_string(i) + " is missing inside the tree");
      body += leaf_json(i, *leaf).dump();
      body.push_back('\n');
    }
  });
  if (error) return plain_error(400, *error);
  Response r;
  r.status = 200;
  r.body = std::move(body);
  r.headers.emplace_back("content-type", "application/x-ndjson");
  r.headers.emplace_back("cache-control", "no-store");
  r.headers.emplace_back("x-idra-tree-size", std::to_string(size));
  if (end < to->value_or(size)) r.headers.emplace_back("x-idra-next-from", std::to_string(end));
  return r;
}

}  // namespace idra::api

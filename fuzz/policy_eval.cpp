// policy_eval: Cedar policy text (and optionally a request context) on
// arbitrary bytes, decided against a small fixed entity store for a fixed
// set of requests. Input: policy text, optionally followed by a line "---"
// and a context as JSON. Beyond "never crashes", it checks:
//   - the decision agrees with evaluating every policy in order (the index
//     in is_authorized must never change a decision, its determining ids
//     or which policies error);
//   - determining ids are permits on allow and forbids on a non-empty deny;
//   - every evaluation error has a message.
// Templates are linked with fixed slot values so their paths run too.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "idra/policy.hpp"
#include "policy/eval.hpp"
#include "policy/policy_set.hpp"

namespace {

using namespace idra::policy;

constexpr const char* kEntities = R"([
  {"uid": {"type": "User", "id": "alice"}, "attrs": {"level": 5, "name": "alice", "tags": ["a", "b"],
   "ip": {"__extn": {"fn": "ip", "arg": "10.0.0.1"}}, "limit": {"__extn": {"fn": "decimal", "arg": "1.5"}},
   "manager": {"__entity": {"type": "User", "id": "bob"}}, "address": {"city": "x", "zip": 1}},
   "parents": [{"type": "Group", "id": "eng"}], "tags": {"t": "v"}},
  {"uid": {"type": "User", "id": "bob"}, "attrs": {"level": 1}, "parents": []},
  {"uid": {"type": "Group", "id": "eng"}, "attrs": {}, "parents": [{"type": "Group", "id": "all"}]},
  {"uid": {"type": "Doc", "id": "d1"}, "attrs": {"owner": {"__entity": {"type": "User", "id": "alice"}}},
   "parents": [{"type": "Folder", "id": "f"}]},
  {"uid": {"type": "Action", "id": "view"}, "attrs": {}, "parents": [{"type": "Action", "id": "read"}]},
  {"uid": {"type": "Action", "id": "read"}, "attrs": {}, "parents": []}
])";

[[noreturn]] void fail(const char* what, std::string_view input, const std::string& detail) {
  std::fprintf(stderr, "policy_eval: %s\n  input: %.*s\n  detail: %s\n", what,
               static_cast<int>(input.size()), input.data(), detail.c_str());
  std::abort();
}

void check(const PolicySet& set, const Request& request, const Entities& entities,
           std::string_view input) {
  const Decision fast = is_authorized(set, request, entities);
  std::vector<std::string> permits, forbids, errors;
  eval::Evaluator evaluator(request, entities);
  for (const LinkedPolicy& p : set.impl().policies) {
    const eval::Slots slots{p.principal_slot ? &*p.principal_slot : nullptr,
                            p.resource_slot ? &*p.resource_slot : nullptr};
    idra::Result<bool> holds = evaluator.satisfied(*p.policy, slots);
    if (!holds) {
      errors.push_back(p.id);
    } else if (*holds) {
      (p.policy->permit ? permits : forbids).push_back(p.id);
    }
  }
  const bool allow = forbids.empty() && !permits.empty();
  const std::vector<std::string>& determining = forbids.empty() ? permits : forbids;
  if (fast.allow != allow)
    fail("decision differs from evaluating every policy", input, request.action.str());
  if (fast.determining != determining) fail("determining ids differ", input, request.action.str());
  std::vector<std::string> fast_errors;
  for (const EvaluationError& e : fast.errors) {
    if (e.message.empty()) fail("an evaluation error without a message", input, e.policy_id);
    fast_errors.push_back(e.policy_id);
  }
  if (fast_errors != errors) fail("erroring policies differ", input, request.action.str());
}

// GCC 12 at -O3 reports a false free-nonheap-object on destroying the
// Result below (its variant's Error member is never the active one here).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wfree-nonheap-object"
#endif
Entities make_entities() {
  auto e = Entities::from_json(kEntities);
  if (!e) std::abort();
  return std::move(*e);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static const Entities entities = make_entities();
  std::string_view text = input;
  RecordValue context;
  if (const std::size_t split = input.find("\n---\n"); split != std::string_view::npos) {
    text = input.substr(0, split);
    auto parsed = context_from_json(input.substr(split + 5));
    if (parsed) context = std::move(*parsed);
  }
  auto set = PolicySet::parse(text, "fuzz.cedar");
  if (!set) return 0;
  for (const std::string& id : set->template_ids()) {
    // Fill whichever slots the template has; the other key is rejected.
    const EntityUid principal{"Group", "eng"};
    const EntityUid resource{"Doc", "d1"};
    if (set->link(id, id + "-pr", {{"?principal", principal}, {"?resource", resource}})) continue;
    if (set->link(id, id + "-p", {{"?principal", principal}})) continue;
    (void)set->link(id, id + "-r", {{"?resource", resource}});
  }
  const Request requests[] = {
      {{"User", "alice"}, {"Action", "view"}, {"Doc", "d1"}, context},
      {{"User", "bob"}, {"Action", "read"}, {"Folder", "f"}, context},
      {{"User", "nobody"}, {"Action", "other"}, {"Doc", "missing"}, context},
      {{"Group", "eng"}, {"Action", "view"}, {"Doc", "d1"}, {}},
  };
  for (const Request& request : requests) check(*set, request, entities, input);
  return 0;
}

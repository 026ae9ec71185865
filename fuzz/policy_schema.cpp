// policy_schema: arbitrary bytes as a Cedar schema in both syntaxes
// (human-readable and JSON). Neither parser may crash; every error must say
// what is wrong and where (a line, since both syntaxes report one); and a
// schema that parses is used to validate a fixed policy set, so the
// validator meets every shape of schema the fuzzer can build. The derived
// tables must agree with the declarations. Any mismatch aborts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "idra/policy.hpp"
#include "policy/schema.hpp"

namespace {

using idra::policy::Diagnostic;
using idra::policy::PolicySet;
using idra::policy::Schema;
using idra::policy::SchemaImpl;

[[noreturn]] void fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "policy_schema: %s\n  input: %.*s\n", what, static_cast<int>(input.size()),
               input.data());
  std::abort();
}

// Policies that touch every part of the typechecker with names a fuzzed
// schema is likely to declare.
constexpr std::string_view kPolicies = R"(
permit(principal, action, resource);
permit(principal, action, resource) when { principal has a && principal.a == 1 || context has b && context.b };
permit(principal is A, action in [Action::"a", Action::"b"], resource in B::"x")
  when { resource.owner == principal && principal.tags.contains("x") && principal.hasTag("t") &&
         principal.getTag("t") == "v" } unless { context.n > 3 || ip("1.2.3.4").isLoopback() };
permit(principal in ?principal, action, resource == ?resource)
  when { if principal has x then principal.x.y like "a*" else [1, 2].containsAll([context.n]) };
forbid(principal == N::A::"a", action == N::Action::"r", resource is N::B)
  when { {k: principal.a}.k == decimal("1.5") || resource in principal.groups };
)";

const PolicySet& policies() {
  static const PolicySet set = [] {
    auto r = PolicySet::parse(kPolicies, "fuzz.cedar");
    if (!r) std::abort();  // the fixed policies must parse
    return std::move(*r);
  }();
  return set;
}

void check_errors(const std::vector<Diagnostic>& errors, std::string_view input) {
  if (errors.empty()) fail("failure without a diagnostic", input);
  for (const Diagnostic& d : errors) {
    if (d.message.empty()) fail("diagnostic without a message", input);
    if (d.line == 0) fail("diagnostic without a line", input);
  }
}

void check_schema(const SchemaImpl& s, std::string_view input) {
  for (const auto& [name, def] : s.entity_types) {
    if (def.name != name) fail("entity type stored under another name", input);
    for (const std::string& parent : def.member_of) {
      if (!s.entity_type(parent)) fail("memberOf names an undeclared entity type", input);
      if (!s.types_in(parent).count(name)) fail("descendant table misses a child", input);
    }
  }
  for (const auto& [uid, def] : s.actions) {
    if (!(def.uid == uid)) fail("action stored under another uid", input);
    if (def.context.kind != idra::policy::SchemaType::Kind::record)
      fail("context is not a record", input);
    for (const auto& parent : def.member_of) {
      if (!s.action(parent)) fail("action memberOf names an undeclared action", input);
      auto it = s.action_descendants.find(parent);
      if (it == s.action_descendants.end() || !it->second.count(uid))
        fail("action table misses a child", input);
    }
    auto self = s.action_descendants.find(uid);
    if (self != s.action_descendants.end() && self->second.count(uid))
      fail("action cycle accepted", input);
  }
}

void run(idra::Result<Schema, std::vector<Diagnostic>> parsed, std::string_view input) {
  if (!parsed) {
    check_errors(parsed.error(), input);
    return;
  }
  check_schema(parsed->impl(), input);
  for (const Diagnostic& d : idra::policy::validate(*parsed, policies())) {
    if (d.message.empty()) fail("validation diagnostic without a message", input);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  run(Schema::parse_cedarschema(input, "fuzz.cedarschema"), input);
  run(Schema::parse_json(input, "fuzz.json"), input);
  return 0;
}

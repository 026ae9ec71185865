// policy_parse: the Cedar policy parser on arbitrary bytes, as policies and
// as one expression, checking that printing is a faithful round trip:
//   parse(text) ok -> parse(print(p)) ok, the same tree, and
//                     print(parse(print(p))) == print(p)   (a fixed point)
//   parse fails    -> every diagnostic has a message and a position.
// Any mismatch aborts, so the fuzzer reports it as a crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "policy/ast.hpp"

namespace {

namespace ast = idra::policy::ast;

[[noreturn]] void fail(const char* what, std::string_view input, const std::string& printed,
                       const std::string& detail) {
  std::fprintf(stderr, "policy_parse: %s\n  input:   %.*s\n  printed: %s\n  then:    %s\n", what,
               static_cast<int>(input.size()), input.data(), printed.c_str(), detail.c_str());
  std::abort();
}

bool same(const ast::Expr& a, const ast::Expr& b) {
  if (a.kind != b.kind || a.name != b.name || a.keys != b.keys || a.pattern != b.pattern ||
      a.args.size() != b.args.size()) {
    return false;
  }
  if (a.kind == ast::Kind::var && a.var != b.var) return false;
  if (a.kind == ast::Kind::slot && a.slot != b.slot) return false;
  // The parser only makes bool, long, string and entity literals, which
  // compare by value in the variant.
  if (a.kind == ast::Kind::literal && a.literal.storage() != b.literal.storage()) return false;
  for (std::size_t i = 0; i < a.args.size(); ++i) {
    if (!same(*a.args[i], *b.args[i])) return false;
  }
  return true;
}

bool same_scope(const ast::ScopeConstraint& a, const ast::ScopeConstraint& b) {
  return a.op == b.op && a.slot == b.slot && a.entity == b.entity &&
         a.entity_type == b.entity_type && a.entities == b.entities;
}

bool same(const ast::Policy& a, const ast::Policy& b) {
  if (a.permit != b.permit || a.annotations != b.annotations ||
      !same_scope(a.principal, b.principal) || !same_scope(a.action, b.action) ||
      !same_scope(a.resource, b.resource) || a.conditions.size() != b.conditions.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.conditions.size(); ++i) {
    if (a.conditions[i].when != b.conditions[i].when ||
        !same(*a.conditions[i].expr, *b.conditions[i].expr)) {
      return false;
    }
  }
  return true;
}

std::string first_error(const std::vector<idra::policy::Diagnostic>& diags) {
  return diags.empty() ? "no diagnostics" : diags.front().message;
}

void check_diagnostics(std::string_view input, const std::vector<idra::policy::Diagnostic>& diags) {
  if (diags.empty()) fail("error without diagnostics", input, "", "");
  for (const idra::policy::Diagnostic& d : diags) {
    if (d.message.empty() || d.line == 0 || d.column == 0)
      fail("diagnostic without message or position", input, "", d.message);
  }
}

void check_policies(std::string_view input) {
  auto parsed = ast::parse_policies(input, "fuzz");
  if (!parsed.ok()) {
    check_diagnostics(input, parsed.error());
    return;
  }
  for (const ast::Policy& p : *parsed) {
    const std::string printed = ast::print(p);
    auto again = ast::parse_policies(printed, "fuzz");
    if (!again.ok())
      fail("printed policy does not parse", input, printed, first_error(again.error()));
    if (again->size() != 1) fail("printed policy parses to another count", input, printed, "");
    if (!same(p, (*again)[0]))
      fail("printed policy parses to another tree", input, printed, ast::print((*again)[0]));
    const std::string reprinted = ast::print((*again)[0]);
    if (reprinted != printed) fail("print is not a fixed point", input, printed, reprinted);
  }
}

void check_expression(std::string_view input) {
  auto parsed = ast::parse_expression(input);
  if (!parsed.ok()) {
    check_diagnostics(input, parsed.error());
    return;
  }
  const std::string printed = ast::print(**parsed);
  auto again = ast::parse_expression(printed);
  if (!again.ok())
    fail("printed expression does not parse", input, printed, first_error(again.error()));
  if (!same(**parsed, **again))
    fail("printed expression parses to another tree", input, printed, ast::print(**again));
  const std::string reprinted = ast::print(**again);
  if (reprinted != printed) fail("print is not a fixed point", input, printed, reprinted);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_policies(input);
  check_expression(input);
  return 0;
}

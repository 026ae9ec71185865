// ast.hpp: the syntax tree of Cedar policies, shared by the parser, the
// evaluator and the validator (internal to src/policy).
//
// The parser produces it; nothing else builds it except tests. Sugar is
// removed at parse time: `e has a.b` becomes `e has a && e.a has b`, method
// calls become ExtCall with the receiver as the first argument, and `!=`
// keeps its own node (its error behaviour equals `!(a == b)`).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "idra/policy.hpp"

namespace idra::policy::ast {

// Loc is where a node starts in its source (1-based line and column, in
// Unicode scalar values) and its byte span.
struct Loc {
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
};

enum class Var { principal, action, resource, context };
enum class SlotId { principal, resource };

enum class Kind {
  literal,       // Expr::literal (bool, long, string, entity uid)
  var,           // Expr::var
  slot,          // Expr::slot (?principal / ?resource), only in templates
  if_then_else,  // args: cond, then, else
  and_,          // args: a, b (short-circuit)
  or_,           // args: a, b (short-circuit)
  not_,          // args: a
  neg,           // args: a (unary minus on Long; overflow is an error)
  eq,            // args: a, b
  neq,           // args: a, b
  lt, le, gt, ge,  // args: a, b (Long only)
  in,            // args: a, b (entity in entity | entity in set of entities)
  add, sub, mul,   // args: a, b (Long, overflow is an error)
  contains,      // args: set, element
  contains_all,  // args: set, set
  contains_any,  // args: set, set
  is_empty,      // args: set
  get_tag,       // args: entity, string
  has_tag,       // args: entity, string
  get_attr,      // args: a; name = attribute
  has_attr,      // args: a; name = attribute
  like,          // args: a; pattern
  is,            // args: a [, in-expression]; name = entity type
  set,           // args: elements
  record,        // args: values; keys = field names (same order, unique)
  ext_call,      // args: arguments (receiver first for methods); name = function
};

// PatternElem is one element of a `like` pattern: a wildcard (`*`) or one
// literal Unicode scalar value (an escaped `\*` is a literal '*').
struct PatternElem {
  bool wildcard = false;
  char32_t ch = 0;
  bool operator==(const PatternElem&) const = default;
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  Kind kind = Kind::literal;
  Loc loc;
  Value literal;                  // literal
  Var var = Var::principal;       // var
  SlotId slot = SlotId::principal;  // slot
  std::vector<ExprPtr> args;
  std::string name;               // get_attr/has_attr attribute, is type, ext_call function
  std::vector<std::string> keys;  // record field names
  std::vector<PatternElem> pattern;  // like
};

// ScopeConstraint is the principal, action or resource part of a policy head.
struct ScopeConstraint {
  enum class Op {
    any,      // `principal`
    eq,       // `principal == E` / `== ?principal`
    in,       // `principal in E` / `in ?principal`
    is,       // `principal is T`
    is_in,    // `principal is T in E` / `is T in ?principal`
    in_list,  // `action in [A, B]` (action only)
  };
  Op op = Op::any;
  bool slot = false;               // eq / in / is_in name the slot instead of |entity|
  std::optional<EntityUid> entity;  // eq / in / is_in without slot
  std::string entity_type;         // is / is_in
  std::vector<EntityUid> entities;  // in_list
  Loc loc;
};

struct Condition {
  bool when = true;  // false: unless
  ExprPtr expr;
  Loc loc;
};

struct Policy {
  bool permit = true;  // false: forbid
  std::vector<std::pair<std::string, std::string>> annotations;  // in source order; `@a` alone is ""
  ScopeConstraint principal;
  ScopeConstraint action;
  ScopeConstraint resource;
  std::vector<Condition> conditions;
  std::string file;
  Loc loc;

  // has_slot is true when the policy is a template (?principal or ?resource
  // anywhere in its head; Cedar allows slots only in the head).
  bool has_principal_slot() const { return principal.slot; }
  bool has_resource_slot() const { return resource.slot; }
  bool is_template() const { return principal.slot || resource.slot; }
  // annotation returns the value of annotation |key|, if present.
  const std::string* annotation(std::string_view key) const {
    for (const auto& [k, v] : annotations) {
      if (k == key) return &v;
    }
    return nullptr;
  }
};

// parse_policies reads Cedar policy text: zero or more policies and
// templates. On error it returns every error found (it resynchronises at the
// next `;`), each with |file| and a position; no partial result.
Result<std::vector<Policy>, std::vector<Diagnostic>> parse_policies(std::string_view text, std::string_view file);

// parse_expression reads one Cedar expression (for tests and `--context`
// style inputs). Error with the position on failure.
Result<ExprPtr, std::vector<Diagnostic>> parse_expression(std::string_view text);

// print renders |policy| back as Cedar text that parses to the same tree
// (round trip; used by the fuzz target and messages).
std::string print(const Policy& policy);
std::string print(const Expr& expr);

}  // namespace idra::policy::ast

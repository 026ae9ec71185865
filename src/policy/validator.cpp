// validator.cpp: Cedar's strict-mode policy validator and request validation.
//
// The validator follows Cedar 4's design (cedar-policy-core validator): a
// policy is checked once for names (entity types, action ids, enum entity
// ids), then its condition -- the scope constraints as expressions, then the
// `when`/`unless` bodies, joined by `&&` -- is typechecked in every request
// environment the schema defines (action x principal type x resource type,
// and for templates every entity type a slot may be linked to). Typing uses
// singleton booleans so that `false && e` never looks at `e`, and capability
// sets (the `has` tests known to hold) so that optional attributes are only
// read under a guard.
//
// Only errors are reported. Cedar's two warnings -- "unable to find an
// applicable action given the policy scope constraints" and "policy is
// impossible" -- do not make a policy invalid in Cedar, so they are not
// diagnostics here either.
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "policy/ast.hpp"
#include "policy/extensions.hpp"
#include "policy/policy_set.hpp"
#include "policy/schema.hpp"

namespace idra::policy {

namespace {

using ast::Expr;
using ast::Kind;

// ---------------------------------------------------------------------------
// Types

struct Type;
using TypePtr = std::shared_ptr<const Type>;

struct AttrType {
  TypePtr type;
  bool required = true;
};

struct Type {
  enum class K { never, tru, fals, boolean, long_, string, set, record, entity, any_entity, ext };
  K k = K::never;
  TypePtr elem;                           // set; null: any set (only as an expected type)
  std::map<std::string, AttrType> attrs;  // record
  bool open = false;                      // record
  std::string name;                       // entity type, extension name
  bool action = false;                    // entity: an action entity type
};

TypePtr make(Type::K k) {
  auto t = std::make_shared<Type>();
  t->k = k;
  return t;
}
TypePtr t_bool() {
  static const TypePtr t = make(Type::K::boolean);
  return t;
}
TypePtr t_true() {
  static const TypePtr t = make(Type::K::tru);
  return t;
}
TypePtr t_false() {
  static const TypePtr t = make(Type::K::fals);
  return t;
}
TypePtr t_singleton(bool b) { return b ? t_true() : t_false(); }
TypePtr t_long() {
  static const TypePtr t = make(Type::K::long_);
  return t;
}
TypePtr t_string() {
  static const TypePtr t = make(Type::K::string);
  return t;
}
TypePtr t_any_entity() {
  static const TypePtr t = make(Type::K::any_entity);
  return t;
}
TypePtr t_entity(const std::string& name, bool action) {
  auto t = std::make_shared<Type>();
  t->k = Type::K::entity;
  t->name = name;
  t->action = action;
  return t;
}
TypePtr t_set(TypePtr elem) {
  auto t = std::make_shared<Type>();
  t->k = Type::K::set;
  t->elem = std::move(elem);
  return t;
}
TypePtr t_ext(const std::string& name) {
  auto t = std::make_shared<Type>();
  t->k = Type::K::ext;
  t->name = name;
  return t;
}
TypePtr t_any_record() {
  static const TypePtr t = [] {
    auto r = std::make_shared<Type>();
    r->k = Type::K::record;
    r->open = true;
    return r;
  }();
  return t;
}

bool is_bool_kind(const Type& t) {
  return t.k == Type::K::boolean || t.k == Type::K::tru || t.k == Type::K::fals;
}

TypePtr from_schema(const SchemaType& s, const SchemaImpl& schema) {
  switch (s.kind) {
    case SchemaType::Kind::boolean:
      return t_bool();
    case SchemaType::Kind::long_:
      return t_long();
    case SchemaType::Kind::string:
      return t_string();
    case SchemaType::Kind::set:
      return t_set(from_schema(s.element.at(0), schema));
    case SchemaType::Kind::record: {
      auto r = std::make_shared<Type>();
      r->k = Type::K::record;
      r->open = s.open;
      for (const auto& [name, a] : s.attrs)
        r->attrs[name] = AttrType{from_schema(a.type, schema), a.required};
      return r;
    }
    case SchemaType::Kind::entity:
      return t_entity(s.name, false);
    case SchemaType::Kind::extension:
      return t_ext(s.name);
  }
  return t_bool();
}

std::string type_str(const Type& t) {
  switch (t.k) {
    case Type::K::never:
      return "Never";
    case Type::K::tru:
    case Type::K::fals:
    case Type::K::boolean:
      return "Bool";
    case Type::K::long_:
      return "Long";
    case Type::K::string:
      return "String";
    case Type::K::set:
      return "Set<" + (t.elem ? type_str(*t.elem) : std::string("_")) + ">";
    case Type::K::record: {
      std::string out = "{";
      bool first = true;
      for (const auto& [name, a] : t.attrs) {
        out += first ? "" : ", ";
        first = false;
        out += name + (a.required ? "" : "?") + ": " + type_str(*a.type);
      }
      return out + "}";
    }
    case Type::K::entity:
      return t.name;
    case Type::K::any_entity:
      return "entity";
    case Type::K::ext:
      return t.name;
  }
  return "?";
}

bool same_type(const Type& a, const Type& b);

bool same_attrs(const std::map<std::string, AttrType>& a,
                const std::map<std::string, AttrType>& b) {
  if (a.size() != b.size()) return false;
  for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib) {
    if (ia->first != ib->first || ia->second.required != ib->second.required) return false;
    if (!same_type(*ia->second.type, *ib->second.type)) return false;
  }
  return true;
}

bool same_type(const Type& a, const Type& b) {
  if (a.k != b.k) return false;
  switch (a.k) {
    case Type::K::set:
      if (!a.elem || !b.elem) return !a.elem && !b.elem;
      return same_type(*a.elem, *b.elem);
    case Type::K::record:
      return a.open == b.open && same_attrs(a.attrs, b.attrs);
    case Type::K::entity:
      return a.name == b.name && a.action == b.action;
    case Type::K::ext:
      return a.name == b.name;
    default:
      return true;
  }
}

// is_subtype is Cedar's subtyping; |strict| selects strict mode (no width
// subtyping, entity types only subtype themselves).
bool is_subtype(const Type& a, const Type& b, bool strict) {
  using K = Type::K;
  if (a.k == K::never) return true;
  if ((a.k == K::tru || a.k == K::fals) && b.k == K::boolean) return true;
  if (a.k == K::tru || a.k == K::fals || b.k == K::tru || b.k == K::fals) return a.k == b.k;
  if (a.k == K::boolean || a.k == K::long_ || a.k == K::string) return a.k == b.k;
  if (a.k == K::set && b.k == K::set) {
    if (!b.elem) return true;
    if (!a.elem) return false;
    return is_subtype(*a.elem, *b.elem, strict);
  }
  if (a.k == K::ext && b.k == K::ext) return a.name == b.name;
  if (a.k == K::record && b.k == K::record) {
    if (a.open && !b.open) return false;
    auto attrs_sub = [&](bool depth_only) {
      if (depth_only && a.attrs.size() != b.attrs.size()) return false;
      for (const auto& [name, bt] : b.attrs) {
        auto it = a.attrs.find(name);
        if (it == a.attrs.end()) return false;
        const bool qual =
            strict ? it->second.required == bt.required : (it->second.required || !bt.required);
        if (!qual || !is_subtype(*it->second.type, *bt.type, strict)) return false;
      }
      return true;
    };
    return (b.open && !strict && attrs_sub(false)) || attrs_sub(true);
  }
  if (a.k == K::entity && b.k == K::entity) return a.name == b.name && a.action == b.action;
  if (a.k == K::any_entity && b.k == K::any_entity) return true;
  if (a.k == K::entity && b.k == K::any_entity) return !strict;
  return false;
}

// lub is Cedar's strict least upper bound, or null when there is none.
TypePtr lub(const TypePtr& a, const TypePtr& b) {
  using K = Type::K;
  if (is_subtype(*a, *b, true)) return b;
  if (is_subtype(*b, *a, true)) return a;
  if (is_bool_kind(*a) && is_bool_kind(*b)) return t_bool();
  if (a->k == K::set && b->k == K::set) {
    if (!a->elem || !b->elem) return t_set(nullptr);
    TypePtr e = lub(a->elem, b->elem);
    if (!e) return nullptr;
    return t_set(e);
  }
  if (a->k == K::record && b->k == K::record) {
    if (a->attrs.size() != b->attrs.size()) return nullptr;
    auto r = std::make_shared<Type>();
    r->k = K::record;
    for (const auto& [name, at] : a->attrs) {
      auto it = b->attrs.find(name);
      if (it == b->attrs.end() || it->second.required != at.required) return nullptr;
      TypePtr e = lub(at.type, it->second.type);
      if (!e) return nullptr;
      r->attrs[name] = AttrType{e, at.required};
    }
    r->open = a->open || b->open;
    return r;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------
// Capabilities: `e has a` (and `e.hasTag(k)`) tests known to hold, keyed by
// the structure of the expressions (positions ignored), as Cedar does.

void key_into(const Expr& e, std::string& out);

void literal_key(const Value& v, std::string& out) {
  if (v.is_bool()) {
    out += v.as_bool() ? "T" : "F";
  } else if (v.is_long()) {
    out += "L" + std::to_string(v.as_long());
  } else if (v.is_string()) {
    out += "S" + std::to_string(v.as_string().size()) + ":" + v.as_string();
  } else if (v.is_entity()) {
    const EntityUid& u = v.as_entity();
    out += "E" + std::to_string(u.type.size()) + ":" + u.type + std::to_string(u.id.size()) + ":" +
           u.id;
  } else {
    out += "?";
  }
}

void key_into(const Expr& e, std::string& out) {
  out += "(" + std::to_string(static_cast<int>(e.kind));
  switch (e.kind) {
    case Kind::literal:
      literal_key(e.literal, out);
      break;
    case Kind::var:
      out += "v" + std::to_string(static_cast<int>(e.var));
      break;
    case Kind::slot:
      out += "s" + std::to_string(static_cast<int>(e.slot));
      break;
    default:
      break;
  }
  out += "n" + std::to_string(e.name.size()) + ":" + e.name;
  for (const std::string& k : e.keys) out += "k" + std::to_string(k.size()) + ":" + k;
  for (const ast::PatternElem& p : e.pattern) out += p.wildcard ? "*" : "c" + std::to_string(p.ch);
  for (const ast::ExprPtr& a : e.args) key_into(*a, out);
  out += ")";
}

std::string expr_key(const Expr& e) {
  std::string out;
  key_into(e, out);
  return out;
}

using Caps = std::set<std::string>;

Caps cap_union(const Caps& a, const Caps& b) {
  Caps out = a;
  out.insert(b.begin(), b.end());
  return out;
}
Caps cap_intersect(const Caps& a, const Caps& b) {
  Caps out;
  for (const std::string& c : a) {
    if (b.count(c)) out.insert(c);
  }
  return out;
}
std::string attr_cap(const Expr& e, const std::string& attr) {
  return "a" + expr_key(e) + "." + attr;
}
std::string tag_cap(const Expr& e, const Expr& tag) {
  return "t" + expr_key(e) + "#" + expr_key(tag);
}

// Ans is a TypecheckAnswer: a type (null when none could be given), whether
// the expression typechecked, and the capabilities it grants when true.
struct Ans {
  TypePtr type;
  bool ok = true;
  Caps caps;
};

Ans success(TypePtr t, Caps caps = {}) { return Ans{std::move(t), true, std::move(caps)}; }
Ans failure(TypePtr t) { return Ans{std::move(t), false, {}}; }

// ---------------------------------------------------------------------------
// Extension functions.

struct ExtFn {
  std::string_view name;
  std::vector<std::string_view> args;  // "String", "Long" or an extension type name
  std::string_view ret;                // "Bool", "Long" or an extension type name
  bool constructor = false;            // validates its (literal) argument
};

const std::vector<ExtFn>& ext_functions() {
  static const std::vector<ExtFn> fns = {
      {"ip", {"String"}, "ipaddr", true},
      {"decimal", {"String"}, "decimal", true},
      {"datetime", {"String"}, "datetime", true},
      {"duration", {"String"}, "duration", true},
      {"isIpv4", {"ipaddr"}, "Bool", false},
      {"isIpv6", {"ipaddr"}, "Bool", false},
      {"isLoopback", {"ipaddr"}, "Bool", false},
      {"isMulticast", {"ipaddr"}, "Bool", false},
      {"isInRange", {"ipaddr", "ipaddr"}, "Bool", false},
      {"lessThan", {"decimal", "decimal"}, "Bool", false},
      {"lessThanOrEqual", {"decimal", "decimal"}, "Bool", false},
      {"greaterThan", {"decimal", "decimal"}, "Bool", false},
      {"greaterThanOrEqual", {"decimal", "decimal"}, "Bool", false},
      {"offset", {"datetime", "duration"}, "datetime", false},
      {"durationSince", {"datetime", "datetime"}, "duration", false},
      {"toDate", {"datetime"}, "datetime", false},
      {"toTime", {"datetime"}, "duration", false},
      {"toMilliseconds", {"duration"}, "Long", false},
      {"toSeconds", {"duration"}, "Long", false},
      {"toMinutes", {"duration"}, "Long", false},
      {"toHours", {"duration"}, "Long", false},
      {"toDays", {"duration"}, "Long", false},
  };
  return fns;
}

TypePtr ext_type(std::string_view name) {
  if (name == "Bool") return t_bool();
  if (name == "Long") return t_long();
  if (name == "String") return t_string();
  return t_ext(std::string(name));
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int num(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

// valid_datetime accepts Cedar's datetime formats: YYYY-MM-DD, optionally
// followed by Thh:mm:ss, optional .SSS, then Z or (+|-)hhmm.
bool valid_datetime(std::string_view s) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return false;
  if (!all_digits(s.substr(0, 4)) || !all_digits(s.substr(5, 2)) || !all_digits(s.substr(8, 2)))
    return false;
  const int year = num(s.substr(0, 4));
  const int month = num(s.substr(5, 2));
  const int day = num(s.substr(8, 2));
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1) return false;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int max_day = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
  if (day > max_day) return false;
  if (s.size() == 10) return true;
  std::string_view rest = s.substr(10);
  if (rest.size() < 9 || rest[0] != 'T' || rest[3] != ':' || rest[6] != ':') return false;
  if (!all_digits(rest.substr(1, 2)) || !all_digits(rest.substr(4, 2)) ||
      !all_digits(rest.substr(7, 2)))
    return false;
  if (num(rest.substr(1, 2)) > 23 || num(rest.substr(4, 2)) > 59 || num(rest.substr(7, 2)) > 59)
    return false;
  rest.remove_prefix(9);
  if (!rest.empty() && rest[0] == '.') {
    if (rest.size() < 4 || !all_digits(rest.substr(1, 3))) return false;
    rest.remove_prefix(4);
  }
  if (rest == "Z") return true;
  if (rest.size() != 5 || (rest[0] != '+' && rest[0] != '-') || !all_digits(rest.substr(1)))
    return false;
  return num(rest.substr(1, 2)) < 24 && num(rest.substr(3, 2)) < 60;
}

// valid_duration accepts Cedar's durations: an optional '-', then one or
// more of <n>d <n>h <n>m <n>s <n>ms in that order; the total in
// milliseconds must fit in an i64.
bool valid_duration(std::string_view s) {
  if (!s.empty() && s[0] == '-') s.remove_prefix(1);
  if (s.empty()) return false;
  static const std::pair<std::string_view, __int128> kUnits[] = {
      {"d", 86400000}, {"h", 3600000}, {"ms", 1}, {"m", 60000}, {"s", 1000}};
  static const std::string_view kOrder[] = {"d", "h", "m", "s", "ms"};
  int next_unit = 0;
  __int128 total = 0;
  while (!s.empty()) {
    std::size_t i = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == 0 || i > 19) return false;
    __int128 n = 0;
    for (std::size_t j = 0; j < i; ++j) n = n * 10 + (s[j] - '0');
    s.remove_prefix(i);
    std::string_view unit;
    for (const auto& [u, scale] : kUnits) {
      if (s.substr(0, u.size()) == u) {
        unit = u;
        n *= scale;
        break;
      }
    }
    if (unit.empty()) return false;
    s.remove_prefix(unit.size());
    int pos = -1;
    for (int k = 0; k < 5; ++k) {
      if (kOrder[k] == unit) pos = k;
    }
    if (pos < next_unit) return false;
    next_unit = pos + 1;
    total += n;
    if (total > static_cast<__int128>(INT64_MAX) + 1) return false;
  }
  return true;
}

// check_constructor_argument validates a literal constructor argument.
std::optional<std::string> check_constructor_argument(std::string_view fn, std::string_view arg) {
  if (fn == "ip") {
    auto r = ext::parse_ip(arg);
    if (!r) return "invalid IP address `" + std::string(arg) + "`: " + r.error().message;
  } else if (fn == "decimal") {
    auto r = ext::parse_decimal(arg);
    if (!r) return "invalid decimal `" + std::string(arg) + "`: " + r.error().message;
  } else if (fn == "datetime") {
    if (!valid_datetime(arg))
      return "failed to parse as a datetime value: `\"" + std::string(arg) + "\"`";
  } else if (fn == "duration") {
    if (!valid_duration(arg))
      return "failed to parse as a duration value: `\"" + std::string(arg) + "\"`";
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Request environments.

struct Env {
  std::string principal;
  const ActionDef* action = nullptr;
  std::string resource;
  TypePtr context;
  std::optional<std::string> principal_slot;
  std::optional<std::string> resource_slot;
};

bool is_action_type(std::string_view type) {
  return type == "Action" || (type.size() > 8 && type.substr(type.size() - 8) == "::Action");
}

// ---------------------------------------------------------------------------
// The typechecker for one policy in one environment.

class Typechecker {
 public:
  Typechecker(const SchemaImpl& schema, const Env& env, const ast::Policy& policy,
              const std::string& policy_id, std::vector<Diagnostic>& errors)
      : schema_(schema), env_(env), policy_(policy), id_(policy_id), errors_(errors) {}

  // check_policy typechecks the scope constraints and the conditions, in
  // order, as the operands of one `&&` chain.
  void check_policy() {
    Caps caps;
    auto step = [&](const std::function<Ans(const Caps&)>& f) {
      Ans a = f(caps);
      if (a.type && a.type->k == Type::K::fals) return false;  // the rest never runs
      if (a.ok) caps = cap_union(caps, a.caps);
      return true;
    };
    if (!step([&](const Caps& c) { return scope(policy_.principal, ast::Var::principal, c); }))
      return;
    if (!step([&](const Caps& c) { return action_scope(c); })) return;
    if (!step([&](const Caps& c) { return scope(policy_.resource, ast::Var::resource, c); }))
      return;
    for (const ast::Condition& cond : policy_.conditions) {
      if (!cond.expr) continue;
      const bool ok = step([&](const Caps& c) {
        Ans a = expect_bool(*cond.expr, c);
        if (cond.when) return a;
        return not_of(a);
      });
      if (!ok) return;
    }
  }

 private:
  void error(const ast::Loc& loc, const std::string& message) {
    errors_.push_back(
        Diagnostic{policy_.file, loc.line, loc.column, "policy `" + id_ + "`: " + message});
  }

  TypePtr principal_type() const { return t_entity(env_.principal, false); }
  TypePtr resource_type() const { return t_entity(env_.resource, false); }
  TypePtr action_type() const { return t_entity(env_.action->uid.type, true); }

  // literal_type types an entity uid literal; null when the schema has no
  // such entity type or action (reported once per policy elsewhere).
  TypePtr uid_type(const EntityUid& uid) const {
    if (is_action_type(uid.type)) {
      if (!schema_.action(uid)) return nullptr;
      return t_entity(uid.type, true);
    }
    if (!schema_.entity_type(uid.type)) return nullptr;
    return t_entity(uid.type, false);
  }

  Ans not_of(const Ans& a) {
    if (!a.type) return failure(t_bool());
    TypePtr t = a.type->k == Type::K::tru    ? t_false()
                : a.type->k == Type::K::fals ? t_true()
                                             : t_bool();
    return a.ok ? success(t) : failure(t);
  }

  // Scope constraints, typed as the expressions Cedar makes of them.
  Ans scope(const ast::ScopeConstraint& c, ast::Var var, const Caps& caps) {
    using Op = ast::ScopeConstraint::Op;
    TypePtr var_t = var == ast::Var::principal ? principal_type() : resource_type();
    const std::optional<std::string>& slot =
        var == ast::Var::principal ? env_.principal_slot : env_.resource_slot;
    auto other = [&]() -> Ans {
      if (c.slot) {
        if (slot) return success(t_entity(*slot, false));
        return success(t_any_entity());
      }
      if (!c.entity) return failure(nullptr);
      TypePtr t = uid_type(*c.entity);
      return t ? success(t) : failure(nullptr);
    };
    switch (c.op) {
      case Op::any:
      case Op::in_list:
        return success(t_true());
      case Op::eq: {
        Ans rhs = other();
        TypePtr t;
        if (rhs.type && disjoint(*var_t, *rhs.type)) {
          t = t_false();
        } else {
          t = t_bool();
        }
        // Both sides are entities: strict equality needs no check beyond
        // disjointness (equal entity types always have a LUB).
        if (t->k != Type::K::fals && rhs.type && !lub(var_t, rhs.type)) {
          error(c.loc, "the types " + type_str(*var_t) + " and " + type_str(*rhs.type) +
                           " are not compatible");
          return failure(t);
        }
        return rhs.ok ? success(t) : failure(t);
      }
      case Op::in: {
        Ans rhs = other();
        return in_types(success(var_t), rhs, nullptr, nullptr, c.loc);
      }
      case Op::is:
        return is_type(success(var_t), c.entity_type);
      case Op::is_in: {
        Ans is = is_type(success(var_t), c.entity_type);
        if (is.type && is.type->k == Type::K::fals) return is;
        Ans in = in_types(success(var_t), other(), nullptr, nullptr, c.loc);
        return and_types(is, in);
      }
    }
    return success(t_true());
  }

  Ans action_scope(const Caps&) {
    using Op = ast::ScopeConstraint::Op;
    const ast::ScopeConstraint& c = policy_.action;
    switch (c.op) {
      case Op::any:
        return success(t_true());
      case Op::eq: {
        if (!c.entity) return failure(nullptr);
        TypePtr rhs = uid_type(*c.entity);
        // `action == A` between two literals: a singleton, unless the types are disjoint.
        TypePtr t = t_singleton(*c.entity == env_.action->uid);
        return rhs ? success(t) : failure(t);
      }
      case Op::in:
      case Op::in_list: {
        std::vector<EntityUid> list;
        if (c.op == Op::in) {
          if (!c.entity) return failure(nullptr);
          list.push_back(*c.entity);
        } else {
          list = c.entities;
          if (list.empty()) {
            error(c.loc, "empty set literals are forbidden in policies");
            return failure(t_bool());
          }
          // The list is a set literal: its elements need a common type.
          TypePtr elem;
          bool typed = true;
          for (const EntityUid& u : list) {
            TypePtr t = uid_type(u);
            if (!t) {
              typed = false;
              continue;
            }
            if (!elem) {
              elem = t;
            } else if (TypePtr l = lub(elem, t)) {
              elem = l;
            } else {
              error(c.loc, "the types " + type_str(*elem) + " and " + type_str(*t) +
                               " are not compatible");
              return failure(t_bool());
            }
          }
          if (!typed) return failure(t_bool());
        }
        return action_in_literals(env_.action->uid, list);
      }
      case Op::is:
      case Op::is_in:
        return success(t_bool());
    }
    return success(t_true());
  }

  // action_in_literals types `A in [B, ...]` for an action literal (or the
  // request's action) A and entity literals: exact, from the schema's
  // action hierarchy; an action is never in a non-action entity.
  Ans action_in_literals(const EntityUid& lhs, const std::vector<EntityUid>& rhs) {
    bool any_action = false;
    bool unknown = false;
    bool found = false;
    for (const EntityUid& u : rhs) {
      if (!is_action_type(u.type)) continue;
      any_action = true;
      if (!schema_.action(u)) {
        unknown = true;
        continue;
      }
      if (u == lhs) found = true;
      auto it = schema_.action_descendants.find(u);
      if (it != schema_.action_descendants.end() && it->second.count(lhs)) found = true;
    }
    if (!any_action) return success(t_false());
    if (unknown) return failure(t_bool());
    return success(t_singleton(found));
  }

  static bool disjoint(const Type& a, const Type& b) {
    return a.k == Type::K::entity && b.k == Type::K::entity &&
           (a.name != b.name || a.action != b.action);
  }

  Ans and_types(const Ans& l, const Ans& r) {
    if (l.type && l.type->k == Type::K::fals) return l.ok ? success(t_false()) : failure(t_false());
    const bool ok = l.ok && r.ok && l.type && r.type;
    TypePtr t;
    if (r.type && r.type->k == Type::K::fals) {
      t = t_false();
    } else if (r.type && r.type->k == Type::K::tru) {
      t = l.type ? l.type : t_bool();
    } else if (l.type && l.type->k == Type::K::tru) {
      t = r.type ? r.type : t_bool();
    } else {
      t = t_bool();
    }
    if (!ok) return failure(t_bool());
    Caps caps = t->k == Type::K::fals ? Caps{} : cap_union(l.caps, r.caps);
    return success(t, caps);
  }

  // expect checks that |e| has a type that is a subtype (permissive) of one
  // of |expected|.
  Ans expect(const Expr& e, const Caps& caps, std::initializer_list<TypePtr> expected,
             std::string_view what) {
    Ans a = check(e, caps);
    if (!a.type) return failure(nullptr);
    for (const TypePtr& t : expected) {
      if (is_subtype(*a.type, *t, false)) return a;
    }
    error(e.loc,
          "unexpected type: expected " + std::string(what) + " but saw " + type_str(*a.type));
    return failure(nullptr);
  }
  Ans expect_bool(const Expr& e, const Caps& caps) { return expect(e, caps, {t_bool()}, "Bool"); }
  Ans expect_long(const Expr& e, const Caps& caps) { return expect(e, caps, {t_long()}, "Long"); }
  Ans expect_string(const Expr& e, const Caps& caps) {
    return expect(e, caps, {t_string()}, "String");
  }
  Ans expect_entity(const Expr& e, const Caps& caps) {
    return expect(e, caps, {t_any_entity()}, "an entity");
  }
  Ans expect_set(const Expr& e, const Caps& caps) {
    return expect(e, caps, {t_set(nullptr)}, "a set");
  }

  // attr_of looks up |attr| in an entity or record type; null when unknown.
  const AttrType* lookup_attr(const Type& t, const std::string& attr, AttrType& storage) const {
    if (t.k == Type::K::record) {
      auto it = t.attrs.find(attr);
      return it == t.attrs.end() ? nullptr : &it->second;
    }
    if (t.k == Type::K::entity && !t.action) {
      const EntityTypeDef* def = schema_.entity_type(t.name);
      if (!def) return nullptr;
      auto it = def->attrs.find(attr);
      if (it == def->attrs.end()) return nullptr;
      storage = AttrType{from_schema(it->second.type, schema_), it->second.required};
      return &storage;
    }
    return nullptr;
  }

  bool may_have_attr(const Type& t, const std::string& attr) const {
    switch (t.k) {
      case Type::K::never:
      case Type::K::any_entity:
        return true;
      case Type::K::record:
        return t.open || t.attrs.count(attr) != 0;
      case Type::K::entity: {
        if (t.action) return false;
        const EntityTypeDef* def = schema_.entity_type(t.name);
        if (!def) return true;
        return def->open_attrs || def->attrs.count(attr) != 0;
      }
      default:
        return false;
    }
  }

  std::string describe_access(const Type& t, const Expr& base, const std::string& attr) const {
    if (base.kind == Kind::var && base.var == ast::Var::context) {
      return "attribute `" + attr + "` in context for " + env_.action->uid.str();
    }
    if (t.k == Type::K::entity) return "attribute `" + attr + "` on entity type `" + t.name + "`";
    return "attribute `" + attr + "` on " + type_str(t);
  }

  Ans in_types(const Ans& lhs_in, const Ans& rhs_in, const Expr* lhs_expr, const Expr* rhs_expr,
               const ast::Loc& loc) {
    Ans lhs = lhs_in;
    Ans rhs = rhs_in;
    if (lhs.type && !is_subtype(*lhs.type, *t_any_entity(), false)) {
      error(lhs_expr ? lhs_expr->loc : loc,
            "unexpected type: expected an entity but saw " + type_str(*lhs.type));
      lhs = failure(nullptr);
    }
    if (rhs.type && !is_subtype(*rhs.type, *t_set(t_any_entity()), false) &&
        !is_subtype(*rhs.type, *t_any_entity(), false)) {
      error(rhs_expr ? rhs_expr->loc : loc,
            "unexpected type: expected an entity or a set of entities but saw " +
                type_str(*rhs.type));
      rhs = failure(nullptr);
    }
    if (!lhs.ok || !rhs.ok) return failure(t_bool());
    // Action literal (or `action`) in entity literals: exact.
    if (lhs_expr && rhs_expr) {
      std::optional<EntityUid> l = uid_of(*lhs_expr);
      std::optional<std::vector<EntityUid>> r = uids_of(*rhs_expr);
      if (l && r && is_action_type(l->type)) {
        return action_in_literals(*l, *r);
      }
    }
    const Type* lt = lhs.type.get();
    const Type* rt = rhs.type.get();
    if (rt && rt->k == Type::K::set) rt = rt->elem ? rt->elem.get() : nullptr;
    // An action is never `in` a non-action entity, nor the other way round:
    // Cedar types that as false, which also makes what it guards dead code.
    if (lt && rt && lt->k == Type::K::entity && rt->k == Type::K::entity && lt->action != rt->action) {
      return success(t_false());
    }
    if (lt && rt && lt->k == Type::K::entity && !lt->action && rt->k == Type::K::entity &&
        !rt->action) {
      if (!descendant_of(lt->name, rt->name)) return success(t_false());
    }
    return success(t_bool());
  }

  bool descendant_of(const std::string& lhs, const std::string& rhs) const {
    if (lhs == rhs) return true;
    auto it = schema_.descendant_types.find(rhs);
    return it != schema_.descendant_types.end() && it->second.count(lhs) != 0;
  }

  std::optional<EntityUid> uid_of(const Expr& e) const {
    if (e.kind == Kind::var && e.var == ast::Var::action) return env_.action->uid;
    if (e.kind == Kind::literal && e.literal.is_entity()) return e.literal.as_entity();
    return std::nullopt;
  }
  std::optional<std::vector<EntityUid>> uids_of(const Expr& e) const {
    if (auto u = uid_of(e)) return std::vector<EntityUid>{*u};
    if (e.kind != Kind::set) return std::nullopt;
    std::vector<EntityUid> out;
    for (const ast::ExprPtr& a : e.args) {
      auto u = uid_of(*a);
      if (!u) return std::nullopt;
      out.push_back(*u);
    }
    return out;
  }

  Ans is_type(const Ans& operand, const std::string& type) {
    if (!operand.type) return failure(t_bool());
    const Type& t = *operand.type;
    if (t.k == Type::K::entity) {
      TypePtr r = t.name == type ? t_true() : t_false();
      return operand.ok ? success(r) : failure(r);
    }
    return operand.ok ? success(t_bool()) : failure(t_bool());
  }

  // strict_eq applies strict mode's rule to `==`, `contains` and friends:
  // unless the result is a known singleton, the operand types need a LUB.
  Ans strict_eq(const Expr& e, TypePtr result, const TypePtr& lhs, const TypePtr& rhs, bool ok) {
    if (result->k != Type::K::tru && result->k != Type::K::fals && lhs && rhs && !lub(lhs, rhs)) {
      error(e.loc,
            "the types " + type_str(*lhs) + " and " + type_str(*rhs) + " are not compatible");
      return failure(result);
    }
    return ok ? success(result) : failure(result);
  }

  static bool literal_equal(const Expr& a, const Expr& b, bool& equal) {
    if (a.kind != Kind::literal || b.kind != Kind::literal) return false;
    equal = a.literal == b.literal;
    return true;
  }

  Ans check_eq(const Expr& e, const Caps& caps) {
    const Expr& a = *e.args[0];
    const Expr& b = *e.args[1];
    Ans l = check(a, caps);
    Ans r = check(b, caps);
    TypePtr t;
    if (l.type && r.type && disjoint(*l.type, *r.type)) {
      t = t_false();
    } else {
      std::optional<EntityUid> la =
          a.kind == Kind::var && a.var == ast::Var::action ? uid_of(a) : std::nullopt;
      std::optional<EntityUid> lb =
          b.kind == Kind::var && b.var == ast::Var::action ? uid_of(b) : std::nullopt;
      const bool a_lit = a.kind == Kind::literal || la.has_value();
      const bool b_lit = b.kind == Kind::literal || lb.has_value();
      if (a_lit && b_lit) {
        const Value va = la ? Value(*la) : a.literal;
        const Value vb = lb ? Value(*lb) : b.literal;
        t = t_singleton(va == vb);
      } else {
        t = t_bool();
      }
    }
    return strict_eq(e, t, l.type, r.type, l.ok && r.ok);
  }

  Ans check_compare(const Expr& e, const Caps& caps) {
    Ans l = check(*e.args[0], caps);
    Ans r = check(*e.args[1], caps);
    if (!l.type || !r.type) return failure(t_bool());
    auto comparable = [](const Type& t) {
      return t.k == Type::K::long_ ||
             (t.k == Type::K::ext && (t.name == "datetime" || t.name == "duration"));
    };
    const bool ok = l.ok && r.ok;
    if (same_type(*l.type, *r.type) && comparable(*l.type))
      return ok ? success(t_bool()) : failure(t_bool());
    if (!comparable(*l.type)) {
      error(e.args[0]->loc,
            "unexpected type: expected Long, datetime or duration but saw " + type_str(*l.type));
    }
    if (!comparable(*r.type) || comparable(*l.type)) {
      error(e.args[1]->loc, "unexpected type: expected " +
                                type_str(comparable(*l.type) ? *l.type : *t_long()) + " but saw " +
                                type_str(*r.type));
    }
    return failure(t_bool());
  }

  Ans check_get_attr(const Expr& e, const Caps& caps) {
    const Expr& base = *e.args[0];
    Ans a = expect(base, caps, {t_any_entity(), t_any_record()}, "an entity or a record");
    if (!a.type) return failure(nullptr);
    AttrType storage;
    const AttrType* at = lookup_attr(*a.type, e.name, storage);
    if (at) {
      TypePtr t = at->type;
      if (at->required || caps.count(attr_cap(base, e.name))) return a.ok ? success(t) : failure(t);
      error(e.loc, "unable to guarantee safety of access to optional " +
                       describe_access(*a.type, base, e.name));
      return failure(t);
    }
    error(e.loc, describe_access(*a.type, base, e.name) + " not found");
    return failure(nullptr);
  }

  Ans check_has_attr(const Expr& e, const Caps& caps) {
    const Expr& base = *e.args[0];
    Ans a = expect(base, caps, {t_any_entity(), t_any_record()}, "an entity or a record");
    if (!a.type) return failure(t_bool());
    AttrType storage;
    const AttrType* at = lookup_attr(*a.type, e.name, storage);
    const std::string cap = attr_cap(base, e.name);
    if (at) {
      TypePtr t;
      if (at->required) {
        t = (a.type->k == Type::K::record || caps.count(cap)) ? t_true() : t_bool();
      } else {
        t = caps.count(cap) ? t_true() : t_bool();
      }
      return a.ok ? success(t, Caps{cap}) : failure(t);
    }
    TypePtr t = may_have_attr(*a.type, e.name) ? t_bool() : t_false();
    return a.ok ? success(t) : failure(t);
  }

  // tag_types lists the tag types of the entity type(s) of |t|.
  std::vector<TypePtr> tag_types(const Type& t) const {
    std::vector<TypePtr> out;
    if (t.k == Type::K::entity) {
      if (t.action) return out;
      const EntityTypeDef* def = schema_.entity_type(t.name);
      if (def && def->tags) out.push_back(from_schema(*def->tags, schema_));
    } else if (t.k == Type::K::any_entity) {
      for (const auto& [name, def] : schema_.entity_types) {
        if (def.tags) out.push_back(from_schema(*def.tags, schema_));
      }
    }
    return out;
  }

  Ans check_tag(const Expr& e, const Caps& caps, bool get) {
    const Expr& base = *e.args[0];
    const Expr& tag = *e.args[1];
    Ans a = expect_entity(base, caps);
    Ans k = expect_string(tag, caps);
    const bool ok = a.ok && k.ok;
    if (!a.type) return failure(get ? nullptr : t_bool());
    std::vector<TypePtr> tags = tag_types(*a.type);
    const std::string cap = tag_cap(base, tag);
    if (!get) {
      TypePtr t = tags.empty() ? t_false() : caps.count(cap) ? t_true() : t_bool();
      return ok ? success(t, Caps{cap}) : failure(t);
    }
    if (!caps.count(cap)) {
      error(e.loc,
            "unable to guarantee safety of access to tag `" +
                (tag.kind == Kind::literal && tag.literal.is_string() ? tag.literal.as_string()
                                                                      : std::string("...")) +
                "` on " + type_str(*a.type));
      return failure(nullptr);
    }
    if (tags.empty()) {
      error(e.loc, "no tags are allowed on " + type_str(*a.type));
      return failure(nullptr);
    }
    TypePtr t = tags[0];
    for (std::size_t i = 1; i < tags.size(); ++i) {
      t = lub(t, tags[i]);
      if (!t) {
        error(e.loc, "the tag types are not compatible");
        return failure(nullptr);
      }
    }
    return ok ? success(t) : failure(t);
  }

  Ans check_if(const Expr& e, const Caps& caps) {
    Ans test = expect_bool(*e.args[0], caps);
    const Caps test_caps = test.ok ? test.caps : Caps{};
    if (test.type && test.type->k == Type::K::tru) {
      Ans then = check(*e.args[1], cap_union(caps, test_caps));
      Ans out = then.ok ? success(then.type, cap_union(then.caps, test_caps)) : failure(then.type);
      return test.ok ? out : failure(out.type);
    }
    if (test.type && test.type->k == Type::K::fals) {
      Ans els = check(*e.args[2], caps);
      return test.ok ? els : failure(els.type);
    }
    Ans then = check(*e.args[1], cap_union(caps, test_caps));
    if (then.ok) then.caps = cap_union(then.caps, test_caps);
    Ans els = check(*e.args[2], caps);
    TypePtr t;
    if (then.type && els.type) {
      t = lub(then.type, els.type);
      if (!t) {
        error(e.loc, "the types " + type_str(*then.type) + " and " + type_str(*els.type) +
                         " are not compatible: both branches of a conditional need a common type");
        return failure(nullptr);
      }
    }
    if (!test.ok || !then.ok || !els.ok || !t) return failure(t);
    return success(t, cap_intersect(then.caps, els.caps));
  }

  Ans check_and(const Expr& e, const Caps& caps) {
    Ans l = expect_bool(*e.args[0], caps);
    if (l.type && l.type->k == Type::K::fals) return l.ok ? success(t_false()) : failure(t_false());
    const Caps lcaps = l.ok ? l.caps : Caps{};
    Ans r = expect_bool(*e.args[1], cap_union(caps, lcaps));
    if (!l.ok || !r.ok || !l.type || !r.type) return failure(t_bool());
    if (r.type->k == Type::K::fals) return success(t_false());
    if (r.type->k == Type::K::tru) return success(l.type, cap_union(l.caps, r.caps));
    if (l.type->k == Type::K::tru) return success(r.type, r.caps);
    return success(t_bool(), cap_union(l.caps, r.caps));
  }

  Ans check_or(const Expr& e, const Caps& caps) {
    Ans l = expect_bool(*e.args[0], caps);
    if (l.type && l.type->k == Type::K::tru)
      return l.ok ? success(t_true(), l.caps) : failure(t_true());
    Ans r = expect_bool(*e.args[1], caps);
    if (!l.ok || !r.ok || !l.type || !r.type) return failure(t_bool());
    if (r.type->k == Type::K::tru) return success(t_true(), r.caps);
    if (r.type->k == Type::K::fals) return success(l.type, l.caps);
    if (l.type->k == Type::K::fals) return success(r.type, r.caps);
    return success(t_bool(), cap_intersect(l.caps, r.caps));
  }

  Ans check_set(const Expr& e, const Caps& caps) {
    std::vector<Ans> elems;
    bool ok = true;
    for (const ast::ExprPtr& a : e.args) {
      elems.push_back(check(*a, caps));
      ok = ok && elems.back().ok;
    }
    TypePtr elem = make(Type::K::never);
    bool typed = true;
    for (const Ans& a : elems) {
      if (!a.type) {
        typed = false;
        break;
      }
    }
    if (typed) {
      for (const Ans& a : elems) {
        TypePtr l = lub(elem, a.type);
        if (!l) {
          error(e.loc, "the types " + type_str(*elem) + " and " + type_str(*a.type) +
                           " are not compatible: the elements of a set need a common type");
          elem = nullptr;
          break;
        }
        elem = l;
      }
    } else {
      elem = nullptr;
    }
    if (e.args.empty()) {
      error(e.loc, "empty set literals are forbidden in policies");
      return failure(nullptr);
    }
    if (!elem) return failure(nullptr);
    TypePtr t = t_set(elem);
    return ok ? success(t) : failure(t);
  }

  Ans check_record(const Expr& e, const Caps& caps) {
    auto r = std::make_shared<Type>();
    r->k = Type::K::record;
    bool ok = true;
    bool typed = true;
    for (std::size_t i = 0; i < e.args.size(); ++i) {
      Ans a = check(*e.args[i], caps);
      ok = ok && a.ok;
      if (!a.type) {
        typed = false;
        continue;
      }
      r->attrs[e.keys.at(i)] = AttrType{a.type, true};
    }
    if (!typed) return failure(nullptr);
    return ok ? success(r) : failure(r);
  }

  Ans check_ext(const Expr& e, const Caps& caps) {
    const ExtFn* fn = nullptr;
    for (const ExtFn& f : ext_functions()) {
      if (f.name == e.name) fn = &f;
    }
    if (!fn) {
      error(e.loc, "undefined extension function: " + e.name);
      for (const ast::ExprPtr& a : e.args) (void)check(*a, caps);
      return failure(nullptr);
    }
    TypePtr ret = ext_type(fn->ret);
    bool failed = false;
    if (e.args.size() != fn->args.size()) {
      error(e.loc, "wrong number of arguments to `" + e.name + "`: expected " +
                       std::to_string(fn->args.size()) + ", got " + std::to_string(e.args.size()));
      failed = true;
    }
    if (fn->constructor) {
      if (e.args.size() == 1 && e.args[0]->kind == Kind::literal &&
          e.args[0]->literal.is_string()) {
        if (auto bad = check_constructor_argument(fn->name, e.args[0]->literal.as_string())) {
          error(e.loc, "error during extension function argument validation: " + *bad);
          failed = true;
        }
      }
      const bool all_literal = std::all_of(e.args.begin(), e.args.end(), [](const ast::ExprPtr& a) {
        return a->kind == Kind::literal;
      });
      if (!all_literal) {
        error(e.loc, "extension constructors may not be called with non-literal expressions");
        failed = true;
      }
    }
    if (failed) {
      for (const ast::ExprPtr& a : e.args) (void)check(*a, caps);
      return failure(ret);
    }
    bool ok = true;
    for (std::size_t i = 0; i < e.args.size(); ++i) {
      TypePtr want = ext_type(fn->args[i]);
      Ans a = expect(*e.args[i], caps, {want}, fn->args[i]);
      ok = ok && a.ok;
    }
    return ok ? success(ret) : failure(ret);
  }

  Ans check_literal(const Expr& e) {
    const Value& v = e.literal;
    if (v.is_bool()) return success(t_singleton(v.as_bool()));
    if (v.is_long()) return success(t_long());
    if (v.is_string()) return success(t_string());
    if (v.is_entity()) {
      TypePtr t = uid_type(v.as_entity());
      return t ? success(t) : failure(nullptr);
    }
    return failure(nullptr);
  }

  Ans check(const Expr& e, const Caps& caps) {
    switch (e.kind) {
      case Kind::literal:
        return check_literal(e);
      case Kind::var:
        switch (e.var) {
          case ast::Var::principal:
            return success(principal_type());
          case ast::Var::action:
            return success(action_type());
          case ast::Var::resource:
            return success(resource_type());
          case ast::Var::context:
            return success(env_.context);
        }
        return failure(nullptr);
      case Kind::slot: {
        const std::optional<std::string>& s =
            e.slot == ast::SlotId::principal ? env_.principal_slot : env_.resource_slot;
        return success(s ? t_entity(*s, false) : t_any_entity());
      }
      case Kind::if_then_else:
        return check_if(e, caps);
      case Kind::and_:
        return check_and(e, caps);
      case Kind::or_:
        return check_or(e, caps);
      case Kind::not_:
        return not_of(expect_bool(*e.args[0], caps));
      case Kind::neg: {
        Ans a = expect_long(*e.args[0], caps);
        return a.ok ? success(t_long()) : failure(t_long());
      }
      case Kind::eq:
        return check_eq(e, caps);
      case Kind::neq:
        return not_of(check_eq(e, caps));
      case Kind::lt:
      case Kind::le:
      case Kind::gt:
      case Kind::ge:
        return check_compare(e, caps);
      case Kind::add:
      case Kind::sub:
      case Kind::mul: {
        Ans l = expect_long(*e.args[0], caps);
        Ans r = expect_long(*e.args[1], caps);
        return l.ok && r.ok ? success(t_long()) : failure(t_long());
      }
      case Kind::in: {
        Ans l = check(*e.args[0], caps);
        Ans r = check(*e.args[1], caps);
        return in_types(l, r, e.args[0].get(), e.args[1].get(), e.loc);
      }
      case Kind::contains: {
        Ans s = expect_set(*e.args[0], caps);
        Ans x = check(*e.args[1], caps);
        TypePtr elem = s.type && s.type->k == Type::K::set ? s.type->elem : nullptr;
        return strict_eq(e, t_bool(), elem, x.type, s.ok && x.ok);
      }
      case Kind::contains_all:
      case Kind::contains_any: {
        Ans a = expect_set(*e.args[0], caps);
        Ans b = expect_set(*e.args[1], caps);
        return strict_eq(e, t_bool(), a.type, b.type, a.ok && b.ok);
      }
      case Kind::is_empty: {
        Ans a = expect_set(*e.args[0], caps);
        return a.ok ? success(t_bool()) : failure(t_bool());
      }
      case Kind::get_tag:
        return check_tag(e, caps, true);
      case Kind::has_tag:
        return check_tag(e, caps, false);
      case Kind::get_attr:
        return check_get_attr(e, caps);
      case Kind::has_attr:
        return check_has_attr(e, caps);
      case Kind::like: {
        Ans a = expect_string(*e.args[0], caps);
        return a.ok ? success(t_bool()) : failure(t_bool());
      }
      case Kind::is: {
        Ans a = expect_entity(*e.args[0], caps);
        Ans is = is_type(a, e.name);
        if (!a.type) is = failure(t_bool());
        if (e.args.size() < 2) return is;
        if (is.type && is.type->k == Type::K::fals) return is;
        Ans r = check(*e.args[1], caps);
        Ans in = in_types(a.type ? Ans{a.type, a.ok, {}} : failure(nullptr), r, e.args[0].get(),
                          e.args[1].get(), e.loc);
        return and_types(is, in);
      }
      case Kind::set:
        return check_set(e, caps);
      case Kind::record:
        return check_record(e, caps);
      case Kind::ext_call:
        return check_ext(e, caps);
    }
    return failure(nullptr);
  }

  const SchemaImpl& schema_;
  const Env& env_;
  const ast::Policy& policy_;
  const std::string& id_;
  std::vector<Diagnostic>& errors_;
};

// ---------------------------------------------------------------------------
// Checks done once per policy.

struct NameUse {
  EntityUid uid;
  ast::Loc loc;
};

void collect_uids(const Expr& e, std::vector<NameUse>& uids,
                  std::vector<std::pair<std::string, ast::Loc>>& types) {
  if (e.kind == Kind::literal && e.literal.is_entity()) {
    uids.push_back(NameUse{e.literal.as_entity(), e.loc});
    types.emplace_back(e.literal.as_entity().type, e.loc);
  }
  if (e.kind == Kind::is) types.emplace_back(e.name, e.loc);
  for (const ast::ExprPtr& a : e.args) collect_uids(*a, uids, types);
}

class PolicyValidator {
 public:
  PolicyValidator(const SchemaImpl& schema, std::vector<Diagnostic>& errors)
      : schema_(schema), errors_(errors) {}

  void validate(const ast::Policy& p, const std::string& id) {
    check_names(p, id);
    for (const auto& [uid, action] : schema_.actions) {
      for (const std::string& principal : action.principals) {
        for (const std::string& resource : action.resources) {
          for (const auto& ps : slot_links(p.principal, principal)) {
            for (const auto& rs : slot_links(p.resource, resource)) {
              Env env;
              env.principal = principal;
              env.action = &action;
              env.resource = resource;
              env.context = from_schema(action.context, schema_);
              env.principal_slot = ps;
              env.resource_slot = rs;
              std::vector<Diagnostic> found;
              Typechecker(schema_, env, p, id, found).check_policy();
              for (Diagnostic& d : found) add(std::move(d));
            }
          }
        }
      }
    }
  }

  // validate_link checks a template-linked policy: the slot values must be
  // of known entity types.
  void validate_link(const LinkedPolicy& lp) {
    const std::string file = lp.policy ? lp.policy->file : std::string();
    for (const std::optional<EntityUid>* slot : {&lp.principal_slot, &lp.resource_slot}) {
      if (*slot && !schema_.entity_type((*slot)->type) && !is_action_type((*slot)->type)) {
        add(Diagnostic{
            file, lp.policy ? lp.policy->loc.line : 0, lp.policy ? lp.policy->loc.column : 0,
            "policy `" + lp.id + "`: unrecognized entity type `" + (*slot)->type + "` in a slot"});
      }
    }
  }

 private:
  void add(Diagnostic d) {
    // The same problem found in several environments is reported once.
    const std::string key =
        d.file + "\n" + std::to_string(d.line) + ":" + std::to_string(d.column) + "\n" + d.message;
    if (seen_.insert(key).second) errors_.push_back(std::move(d));
  }

  // slot_links lists the entity types a slot may be linked to in an
  // environment whose scope variable has type |var_type| (none when the
  // constraint has no slot).
  std::vector<std::optional<std::string>> slot_links(const ast::ScopeConstraint& c,
                                                     const std::string& var_type) {
    using Op = ast::ScopeConstraint::Op;
    if (!c.slot) return {std::nullopt};
    if (c.op == Op::eq) return {var_type};
    std::vector<std::optional<std::string>> out;
    if (c.op == Op::in || c.op == Op::is_in) {
      for (const auto& [name, def] : schema_.entity_types) {
        auto it = schema_.descendant_types.find(name);
        if (it != schema_.descendant_types.end() && it->second.count(var_type))
          out.emplace_back(name);
      }
      out.emplace_back(var_type);
      return out;
    }
    for (const auto& [name, def] : schema_.entity_types) out.emplace_back(name);
    return out;
  }

  void check_names(const ast::Policy& p, const std::string& id) {
    std::vector<NameUse> uids;
    std::vector<std::pair<std::string, ast::Loc>> types;
    for (const ast::ScopeConstraint* c : {&p.principal, &p.action, &p.resource}) {
      if (c->entity) {
        uids.push_back(NameUse{*c->entity, c->loc});
        types.emplace_back(c->entity->type, c->loc);
      }
      for (const EntityUid& u : c->entities) {
        uids.push_back(NameUse{u, c->loc});
        types.emplace_back(u.type, c->loc);
      }
      if (!c->entity_type.empty()) types.emplace_back(c->entity_type, c->loc);
    }
    for (const ast::Condition& cond : p.conditions) {
      if (cond.expr) collect_uids(*cond.expr, uids, types);
    }
    for (const auto& [type, loc] : types) {
      if (!is_action_type(type) && !schema_.entity_type(type)) {
        add(Diagnostic{p.file, loc.line, loc.column,
                       "policy `" + id + "`: unrecognized entity type `" + type + "`"});
      }
    }
    for (const NameUse& u : uids) {
      if (is_action_type(u.uid.type)) {
        if (!schema_.action(u.uid)) {
          add(Diagnostic{p.file, u.loc.line, u.loc.column,
                         "policy `" + id + "`: unrecognized action `" + u.uid.str() + "`"});
        }
        continue;
      }
      const EntityTypeDef* def = schema_.entity_type(u.uid.type);
      if (def && def->enum_choices &&
          std::find(def->enum_choices->begin(), def->enum_choices->end(), u.uid.id) ==
              def->enum_choices->end()) {
        add(Diagnostic{p.file, u.loc.line, u.loc.column,
                       "policy `" + id + "`: entity `" + u.uid.str() +
                           "` is of an enumerated entity type, but `\"" + u.uid.id +
                           "\"` is not one of its choices"});
      }
    }
  }

  const SchemaImpl& schema_;
  std::vector<Diagnostic>& errors_;
  std::set<std::string> seen_;
};

// conforms checks |v| against schema type |t| for request contexts.
bool conforms(const Value& v, const SchemaType& t, const SchemaImpl& schema, std::string& why) {
  switch (t.kind) {
    case SchemaType::Kind::boolean:
      if (v.is_bool()) return true;
      break;
    case SchemaType::Kind::long_:
      if (v.is_long()) return true;
      break;
    case SchemaType::Kind::string:
      if (v.is_string()) return true;
      break;
    case SchemaType::Kind::set:
      if (v.is_set()) {
        for (const Value& e : v.as_set()) {
          if (!conforms(e, t.element.at(0), schema, why)) return false;
        }
        return true;
      }
      break;
    case SchemaType::Kind::record:
      if (v.is_record()) {
        const RecordValue& r = v.as_record();
        for (const auto& [name, a] : t.attrs) {
          auto it = r.find(name);
          if (it == r.end()) {
            if (a.required) {
              why = "required attribute `" + name + "` is missing";
              return false;
            }
            continue;
          }
          if (!conforms(it->second, a.type, schema, why)) {
            if (why.empty()) why = "attribute `" + name + "` is not of type " + a.type.str();
            return false;
          }
        }
        for (const auto& [name, value] : r) {
          if (!t.open && !t.attrs.count(name)) {
            why = "attribute `" + name + "` is not declared";
            return false;
          }
        }
        return true;
      }
      break;
    case SchemaType::Kind::entity:
      if (v.is_entity() && v.as_entity().type == t.name) return true;
      break;
    case SchemaType::Kind::extension:
      if ((t.name == "ipaddr" && v.is_ip()) || (t.name == "decimal" && v.is_decimal())) return true;
      break;
  }
  if (why.empty()) why = "value " + to_cedar(v) + " is not of type " + t.str();
  return false;
}

}  // namespace

std::vector<Diagnostic> validate(const Schema& schema, const PolicySet& policies) {
  std::vector<Diagnostic> errors;
  PolicyValidator v(schema.impl(), errors);
  const PolicySetImpl& set = policies.impl();
  for (const NamedTemplate& t : set.templates) {
    if (t.policy) v.validate(*t.policy, t.id);
  }
  for (const LinkedPolicy& lp : set.policies) {
    if (!lp.policy) continue;
    if (lp.template_id.empty()) {
      v.validate(*lp.policy, lp.id);
    } else {
      v.validate_link(lp);
    }
  }
  return errors;
}

Result<void> validate_request(const Schema& schema, const Request& request) {
  const SchemaImpl& s = schema.impl();
  const ActionDef* action = s.action(request.action);
  if (!action)
    return make_error("request's action " + request.action.str() +
                      " is not declared in the schema");
  auto known = [&](const EntityUid& uid) { return s.entity_type(uid.type) != nullptr; };
  if (!known(request.principal)) {
    return make_error("principal type `" + request.principal.type +
                      "` is not declared in the schema");
  }
  if (!known(request.resource)) {
    return make_error("resource type `" + request.resource.type +
                      "` is not declared in the schema");
  }
  if (std::find(action->principals.begin(), action->principals.end(), request.principal.type) ==
      action->principals.end()) {
    return make_error("principal type `" + request.principal.type + "` is not valid for " +
                      request.action.str());
  }
  if (std::find(action->resources.begin(), action->resources.end(), request.resource.type) ==
      action->resources.end()) {
    return make_error("resource type `" + request.resource.type + "` is not valid for " +
                      request.action.str());
  }
  for (const EntityUid* uid : {&request.principal, &request.resource}) {
    const EntityTypeDef* def = s.entity_type(uid->type);
    if (def && def->enum_choices &&
        std::find(def->enum_choices->begin(), def->enum_choices->end(), uid->id) ==
            def->enum_choices->end()) {
      return make_error("entity " + uid->str() +
                        " is not one of the choices of its enumerated entity type");
    }
  }
  std::string why;
  if (!conforms(Value::record(request.context), action->context, s, why)) {
    return make_error("context does not match the context type of " + request.action.str() + ": " +
                      why);
  }
  return {};
}

}  // namespace idra::policy

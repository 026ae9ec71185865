// eval.cpp: Cedar expression and policy evaluation (Cedar 4.x semantics,
// checked against cedar-wasm 4.13).
//
// Order matters for which error a policy reports: operands are evaluated
// left to right before any of them is type-checked (as Cedar's interpreter
// does), `&&`, `||` and `if` short-circuit, and record literals evaluate
// their fields in key order (Cedar keeps them in a BTreeMap).
#include "policy/eval.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "policy/extensions.hpp"

namespace idra::policy::eval {
namespace {

using ast::Expr;
using ast::Kind;

constexpr std::string_view kAnyEntity = "(entity of type `any_entity_type`)";
constexpr std::string_view kEntityOrRecord = "one of [record, (entity of type `any_entity_type`)]";
constexpr std::string_view kSetOrEntity = "one of [set, (entity of type `any_entity_type`)]";

// decode_utf8 reads the scalar value at |pos| and advances |pos|. A byte
// that does not start a valid sequence decodes to a value above U+10FFFF,
// so it never matches a pattern character.
char32_t decode_utf8(std::string_view s, std::size_t& pos) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  const auto invalid = [&] {
    ++pos;
    return static_cast<char32_t>(0x110000 + b0);
  };
  if (b0 < 0x80) {
    ++pos;
    return b0;
  }
  std::size_t len = 0;
  char32_t cp = 0;
  if ((b0 & 0xe0) == 0xc0) {
    len = 2;
    cp = b0 & 0x1f;
  } else if ((b0 & 0xf0) == 0xe0) {
    len = 3;
    cp = b0 & 0x0f;
  } else if ((b0 & 0xf8) == 0xf0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return invalid();
  }
  if (pos + len > s.size()) return invalid();
  for (std::size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[pos + i]);
    if ((b & 0xc0) != 0x80) return invalid();
    cp = (cp << 6) | (b & 0x3f);
  }
  pos += len;
  return cp;
}

std::string backticked(std::string_view name) { return "`" + std::string(name) + "`"; }

}  // namespace

bool like_matches(std::string_view text, const std::vector<ast::PatternElem>& pattern) {
  // Greedy matching with one backtrack point (the last wildcard): linear
  // in practice, O(text * pattern) at worst, never exponential.
  std::size_t t = 0;
  std::size_t p = 0;
  std::size_t star_p = std::string_view::npos;
  std::size_t star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p].wildcard) {
      star_p = p++;
      star_t = t;
      continue;
    }
    if (p < pattern.size()) {
      std::size_t next = t;
      if (decode_utf8(text, next) == pattern[p].ch) {
        t = next;
        ++p;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p + 1;
    decode_utf8(text, star_t);  // the wildcard swallows one more character
    t = star_t;
  }
  while (p < pattern.size() && pattern[p].wildcard) ++p;
  return p == pattern.size();
}

bool Evaluator::fail(std::string message) {
  error_ = std::move(message);
  return false;
}

bool Evaluator::type_error(std::string_view expected, const Value& got) {
  // Cedar's wording: an entity is "(entity of type `T`)".
  std::string got_name = got.is_entity() ? "(entity of type `" + got.as_entity().type + "`)"
                                         : std::string(got.type_name());
  return fail("type error: expected " + std::string(expected) + ", got " + got_name);
}

const Value& Evaluator::var_value(ast::Var var) {
  switch (var) {
    case ast::Var::principal:
      if (!principal_) principal_.emplace(*principal_uid_);
      return *principal_;
    case ast::Var::action:
      if (!action_) action_.emplace(*action_uid_);
      return *action_;
    case ast::Var::resource:
      if (!resource_) resource_.emplace(*resource_uid_);
      return *resource_;
    case ast::Var::context:
      if (!context_) context_.emplace(Value::record(*context_fields_));
      return *context_;
  }
  throw std::logic_error("var_value: unknown ast::Var");  // every Var is handled above
}

const EntityUid& Evaluator::var_uid(ast::Var var) const {
  switch (var) {
    case ast::Var::action:
      return *action_uid_;
    case ast::Var::resource:
      return *resource_uid_;
    default:
      return *principal_uid_;
  }
}

void Evaluator::set_resource(const EntityUid& resource) {
  resource_uid_ = &resource;
  resource_.reset();
  var_entities_[static_cast<int>(ast::Var::resource) % 3] = VarEntity{};
}

const Evaluator::VarEntity& Evaluator::var_entity(ast::Var var) const {
  // Never called for context (get_attr/has_attr read the context first).
  VarEntity& cached = var_entities_[static_cast<int>(var) % 3];
  if (!cached.looked_up) {
    const EntityUid& uid = var_uid(var);
    cached.entity = entities_.find(uid);
    cached.ancestors = cached.entity != nullptr ? entities_.ancestors(uid) : nullptr;
    cached.looked_up = true;
  }
  return cached;
}

bool Evaluator::attr_of_entity(const EntityUid& uid, const Entity* entity, const std::string& name,
                               Val& out) {
  if (entity == nullptr) return fail("entity " + backticked(uid.str()) + " does not exist");
  auto it = entity->attrs.find(name);
  if (it == entity->attrs.end()) {
    return fail(backticked(uid.str()) + " does not have the attribute " + backticked(name));
  }
  out.set_ref(it->second);  // the store outlives this evaluation
  return true;
}

bool Evaluator::eval_bool(const Expr& e, bool& out) {
  Val v;
  if (!eval(e, v)) return false;
  if (!v.get().is_bool()) return type_error("bool", v.get());
  out = v.get().as_bool();
  return true;
}

bool Evaluator::eval_in(const Value& lhs, const Value& rhs, bool& out, const VarEntity* lhs_var) {
  if (!lhs.is_entity()) return type_error(kAnyEntity, lhs);
  const EntityUid& a = lhs.as_entity();
  // The ancestors of a request variable were looked up once for the
  // request; any other entity's are looked up now.
  const AncestorList* ancestors = lhs_var != nullptr ? lhs_var->ancestors : entities_.ancestors(a);
  if (rhs.is_entity()) {
    const EntityUid& b = rhs.as_entity();
    out = a == b || (ancestors != nullptr && Entities::contains(*ancestors, b));
    return true;
  }
  if (!rhs.is_set()) return type_error(kSetOrEntity, rhs);
  // Every element must be an entity, even after a match (Cedar converts
  // the whole set before looking).
  bool found = false;
  for (const Value& v : rhs.as_set()) {
    if (!v.is_entity()) return type_error(kAnyEntity, v);
    if (!found) {
      const EntityUid& b = v.as_entity();
      found = b == a || (ancestors != nullptr && Entities::contains(*ancestors, b));
    }
  }
  out = found;
  return true;
}

bool Evaluator::eval_get_attr(const Expr& e, Val& out) {
  const Expr& base = *e.args[0];
  if (base.kind == Kind::var && base.var == ast::Var::context) {
    // context.x reads the request's map directly (no copy of the context).
    auto it = context_fields_->find(e.name);
    if (it == context_fields_->end())
      return fail("record does not have the attribute " + backticked(e.name));
    out.set_ref(it->second);
    return true;
  }
  if (base.kind == Kind::var) {  // principal.x, action.x, resource.x
    return attr_of_entity(var_uid(base.var), var_entity(base.var).entity, e.name, out);
  }
  Val b;
  if (!eval(base, b)) return false;
  const Value& v = b.get();
  if (v.is_entity())
    return attr_of_entity(v.as_entity(), entities_.find(v.as_entity()), e.name, out);
  if (v.is_record()) {
    const RecordValue& fields = v.as_record();
    auto it = fields.find(e.name);
    if (it == fields.end()) return fail("record does not have the attribute " + backticked(e.name));
    if (b.ref != nullptr) {
      out.set_ref(it->second);  // the record outlives this evaluation
    } else {
      out.set(it->second);
    }
    return true;
  }
  return type_error(kEntityOrRecord, v);
}

bool Evaluator::eval_has_attr(const Expr& e, Val& out) {
  const Expr& base = *e.args[0];
  if (base.kind == Kind::var && base.var == ast::Var::context) {
    out.set(context_fields_->contains(e.name));
    return true;
  }
  if (base.kind == Kind::var) {
    const Entity* entity = var_entity(base.var).entity;
    out.set(entity != nullptr && entity->attrs.contains(e.name));
    return true;
  }
  Val b;
  if (!eval(base, b)) return false;
  const Value& v = b.get();
  if (v.is_entity()) {
    const Entity* entity = entities_.find(v.as_entity());
    out.set(entity != nullptr && entity->attrs.contains(e.name));
    return true;
  }
  if (v.is_record()) {
    out.set(v.as_record().contains(e.name));
    return true;
  }
  return type_error(kEntityOrRecord, v);
}

bool Evaluator::eval_tag(const Expr& e, Val& out) {
  Val a;
  Val k;
  if (!eval(*e.args[0], a) || !eval(*e.args[1], k)) return false;
  if (!a.get().is_entity()) return type_error(kAnyEntity, a.get());
  if (!k.get().is_string()) return type_error("string", k.get());
  const EntityUid& uid = a.get().as_entity();
  const std::string& key = k.get().as_string();
  const Entity* entity = entities_.find(uid);
  if (e.kind == Kind::has_tag) {
    out.set(entity != nullptr && entity->tags.contains(key));
    return true;
  }
  if (entity == nullptr) return fail("entity " + backticked(uid.str()) + " does not exist");
  auto it = entity->tags.find(key);
  if (it == entity->tags.end())
    return fail(backticked(uid.str()) + " does not have the tag " + backticked(key));
  out.set_ref(it->second);
  return true;
}

bool Evaluator::eval_binary(const Expr& e, Val& out) {
  Val a;
  Val b;
  if (!eval(*e.args[0], a) || !eval(*e.args[1], b)) return false;
  const bool ordering =
      e.kind == Kind::lt || e.kind == Kind::le || e.kind == Kind::gt || e.kind == Kind::ge;
  if (ordering && !a.get().is_long() && !b.get().is_long()) {
    return type_error("one of [long, datetime, duration]", a.get());
  }
  if (!a.get().is_long()) return type_error("long", a.get());
  if (!b.get().is_long()) return type_error("long", b.get());
  const std::int64_t x = a.get().as_long();
  const std::int64_t y = b.get().as_long();
  std::int64_t r = 0;
  const auto overflow = [&](std::string_view verb) {
    return fail("integer overflow while attempting to " + std::string(verb) + " the values `" +
                std::to_string(x) + "` and `" + std::to_string(y) + "`");
  };
  switch (e.kind) {
    case Kind::lt:
      out.set(x < y);
      return true;
    case Kind::le:
      out.set(x <= y);
      return true;
    case Kind::gt:
      out.set(x > y);
      return true;
    case Kind::ge:
      out.set(x >= y);
      return true;
    case Kind::add:
      if (__builtin_add_overflow(x, y, &r)) return overflow("add");
      break;
    case Kind::sub:
      if (__builtin_sub_overflow(x, y, &r)) return overflow("subtract");
      break;
    case Kind::mul:
      if (__builtin_mul_overflow(x, y, &r)) return overflow("multiply");
      break;
    default:
      return fail("internal error: not a binary operator");
  }
  out.set(Value(r));
  return true;
}

bool Evaluator::eval_record(const Expr& e, Val& out) {
  std::vector<std::size_t> order(e.keys.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [&](std::size_t i, std::size_t j) { return e.keys[i] < e.keys[j]; });
  RecordValue fields;
  for (const std::size_t i : order) {
    Val v;
    if (!eval(*e.args[i], v)) return false;
    fields.insert_or_assign(e.keys[i], v.take());
  }
  out.set(Value::record(std::move(fields)));
  return true;
}

bool Evaluator::eval_ext_call(const Expr& e, Val& out) {
  const std::string& fn = e.name;
  Val a;
  Val b;
  const std::size_t n = e.args.size();
  if (n >= 1 && !eval(*e.args[0], a)) return false;
  if (n >= 2 && !eval(*e.args[1], b)) return false;
  const auto arity = [&](std::size_t want) {
    if (n == want) return true;
    return fail("wrong number of arguments to " + backticked(fn) + ": expected " +
                std::to_string(want) + ", got " + std::to_string(n));
  };
  if (fn == "ip" || fn == "decimal") {
    if (!arity(1)) return false;
    if (!a.get().is_string()) return type_error("string", a.get());
    if (fn == "ip") {
      Result<IpAddr> ip = ext::parse_ip(a.get().as_string());
      if (!ip) return fail(ip.error().message);
      out.set(Value(*ip));
    } else {
      Result<Decimal> d = ext::parse_decimal(a.get().as_string());
      if (!d) return fail(d.error().message);
      out.set(Value(*d));
    }
    return true;
  }
  if (fn == "isIpv4" || fn == "isIpv6" || fn == "isLoopback" || fn == "isMulticast") {
    if (!arity(1)) return false;
    if (!a.get().is_ip()) return type_error("ipaddr", a.get());
    const IpAddr& ip = a.get().as_ip();
    if (fn == "isIpv4") out.set(!ip.v6);
    if (fn == "isIpv6") out.set(ip.v6);
    if (fn == "isLoopback") out.set(ext::ip_is_loopback(ip));
    if (fn == "isMulticast") out.set(ext::ip_is_multicast(ip));
    return true;
  }
  if (fn == "isInRange") {
    if (!arity(2)) return false;
    if (!a.get().is_ip()) return type_error("ipaddr", a.get());
    if (!b.get().is_ip()) return type_error("ipaddr", b.get());
    out.set(ext::ip_in_range(a.get().as_ip(), b.get().as_ip()));
    return true;
  }
  if (fn == "lessThan" || fn == "lessThanOrEqual" || fn == "greaterThan" ||
      fn == "greaterThanOrEqual") {
    if (!arity(2)) return false;
    if (!a.get().is_decimal()) return type_error("decimal", a.get());
    if (!b.get().is_decimal()) return type_error("decimal", b.get());
    const std::int64_t x = a.get().as_decimal().scaled;
    const std::int64_t y = b.get().as_decimal().scaled;
    if (fn == "lessThan") out.set(x < y);
    if (fn == "lessThanOrEqual") out.set(x <= y);
    if (fn == "greaterThan") out.set(x > y);
    if (fn == "greaterThanOrEqual") out.set(x >= y);
    return true;
  }
  return fail("extension function " + backticked(fn) + " does not exist");
}

bool Evaluator::eval(const Expr& e, Val& out) {
  switch (e.kind) {
    case Kind::literal:
      out.set_ref(e.literal);
      return true;
    case Kind::var:
      out.set_ref(var_value(e.var));
      return true;
    case Kind::slot: {
      const EntityUid* uid = e.slot == ast::SlotId::principal ? slots_.principal : slots_.resource;
      if (uid == nullptr) {
        return fail(std::string("the slot ") +
                    (e.slot == ast::SlotId::principal ? "?principal" : "?resource") +
                    " is not linked");
      }
      out.set(Value(*uid));
      return true;
    }
    case Kind::if_then_else: {
      bool c = false;
      if (!eval_bool(*e.args[0], c)) return false;
      return eval(*e.args[c ? 1 : 2], out);
    }
    case Kind::and_:
    case Kind::or_: {
      bool a = false;
      if (!eval_bool(*e.args[0], a)) return false;
      if (a == (e.kind == Kind::or_)) {  // false && _, true || _
        out.set(a);
        return true;
      }
      bool b = false;
      if (!eval_bool(*e.args[1], b)) return false;
      out.set(b);
      return true;
    }
    case Kind::not_: {
      bool a = false;
      if (!eval_bool(*e.args[0], a)) return false;
      out.set(!a);
      return true;
    }
    case Kind::neg: {
      Val a;
      if (!eval(*e.args[0], a)) return false;
      if (!a.get().is_long()) return type_error("long", a.get());
      const std::int64_t x = a.get().as_long();
      if (x == INT64_MIN)
        return fail("integer overflow while attempting to negate the value `" + std::to_string(x) +
                    "`");
      out.set(Value(std::int64_t{-x}));
      return true;
    }
    case Kind::eq:
    case Kind::neq: {
      Val a;
      Val b;
      if (!eval(*e.args[0], a) || !eval(*e.args[1], b)) return false;
      const bool equal = a.get() == b.get();
      out.set(e.kind == Kind::eq ? equal : !equal);
      return true;
    }
    case Kind::lt:
    case Kind::le:
    case Kind::gt:
    case Kind::ge:
    case Kind::add:
    case Kind::sub:
    case Kind::mul:
      return eval_binary(e, out);
    case Kind::in: {
      Val a;
      Val b;
      if (!eval(*e.args[0], a) || !eval(*e.args[1], b)) return false;
      const ast::Expr& lhs = *e.args[0];
      const bool lhs_is_var = lhs.kind == Kind::var && lhs.var != ast::Var::context;
      bool r = false;
      if (!eval_in(a.get(), b.get(), r, lhs_is_var ? &var_entity(lhs.var) : nullptr)) return false;
      out.set(r);
      return true;
    }
    case Kind::contains: {
      Val s;
      Val x;
      if (!eval(*e.args[0], s) || !eval(*e.args[1], x)) return false;
      if (!s.get().is_set()) return type_error("set", s.get());
      const SetValue& elements = s.get().as_set();
      out.set(std::binary_search(elements.begin(), elements.end(), x.get()));
      return true;
    }
    case Kind::contains_all:
    case Kind::contains_any: {
      Val s;
      Val t;
      if (!eval(*e.args[0], s) || !eval(*e.args[1], t)) return false;
      if (!s.get().is_set()) return type_error("set", s.get());
      if (!t.get().is_set()) return type_error("set", t.get());
      const SetValue& haystack = s.get().as_set();
      const SetValue& needles = t.get().as_set();
      const auto present = [&](const Value& v) {
        return std::binary_search(haystack.begin(), haystack.end(), v);
      };
      out.set(e.kind == Kind::contains_all ? std::all_of(needles.begin(), needles.end(), present)
                                           : std::any_of(needles.begin(), needles.end(), present));
      return true;
    }
    case Kind::is_empty: {
      Val s;
      if (!eval(*e.args[0], s)) return false;
      if (!s.get().is_set()) return type_error("set", s.get());
      out.set(s.get().as_set().empty());
      return true;
    }
    case Kind::get_tag:
    case Kind::has_tag:
      return eval_tag(e, out);
    case Kind::get_attr:
      return eval_get_attr(e, out);
    case Kind::has_attr:
      return eval_has_attr(e, out);
    case Kind::like: {
      Val a;
      if (!eval(*e.args[0], a)) return false;
      if (!a.get().is_string()) return type_error("string", a.get());
      out.set(like_matches(a.get().as_string(), e.pattern));
      return true;
    }
    case Kind::is: {
      Val a;
      if (!eval(*e.args[0], a)) return false;
      if (!a.get().is_entity()) return type_error(kAnyEntity, a.get());
      if (a.get().as_entity().type != e.name) {
        out.set(false);  // `x is T in E` is `x is T && x in E`: E is not evaluated
        return true;
      }
      if (e.args.size() < 2) {
        out.set(true);
        return true;
      }
      Val b;
      if (!eval(*e.args[1], b)) return false;
      bool r = false;
      if (!eval_in(a.get(), b.get(), r)) return false;
      out.set(r);
      return true;
    }
    case Kind::set: {
      SetValue elements;
      elements.reserve(e.args.size());
      for (const ast::ExprPtr& arg : e.args) {
        Val v;
        if (!eval(*arg, v)) return false;
        elements.push_back(v.take());
      }
      out.set(Value::set(std::move(elements)));
      return true;
    }
    case Kind::record:
      return eval_record(e, out);
    case Kind::ext_call:
      return eval_ext_call(e, out);
  }
  return fail("internal error: unknown expression kind");
}

Result<Value> Evaluator::evaluate(const Expr& expr, Slots slots) {
  slots_ = slots;
  Val v;
  if (!eval(expr, v)) return make_error(std::move(error_));
  return v.take();
}

bool Evaluator::scope_entity_matches(const ast::ScopeConstraint& c, ast::Var var,
                                     const EntityUid* slot) const {
  using Op = ast::ScopeConstraint::Op;
  const EntityUid& uid = var_uid(var);
  const EntityUid* target = c.slot ? slot : (c.entity ? &*c.entity : nullptr);
  // `in`: equal, or an ancestor (an entity outside the store has none).
  const auto in = [&](const EntityUid& ancestor) {
    if (uid == ancestor) return true;
    const AncestorList* ancestors = var_entity(var).ancestors;
    return ancestors != nullptr && Entities::contains(*ancestors, ancestor);
  };
  switch (c.op) {
    case Op::any:
      return true;
    case Op::eq:
      return target != nullptr && uid == *target;
    case Op::in:
      return target != nullptr && in(*target);
    case Op::is:
      return uid.type == c.entity_type;
    case Op::is_in:
      return uid.type == c.entity_type && target != nullptr && in(*target);
    case Op::in_list:
      return std::any_of(c.entities.begin(), c.entities.end(), in);
  }
  return false;
}

bool Evaluator::scope_matches(const ast::Policy& policy, Slots slots) const {
  // Resource first: it is the constraint that most often rules a policy out.
  return scope_entity_matches(policy.resource, ast::Var::resource, slots.resource) &&
         scope_entity_matches(policy.action, ast::Var::action, nullptr) &&
         scope_entity_matches(policy.principal, ast::Var::principal, slots.principal);
}

Result<bool> Evaluator::satisfied(const ast::Policy& policy, Slots slots) {
  if (!scope_matches(policy, slots)) return false;
  slots_ = slots;
  for (const ast::Condition& condition : policy.conditions) {
    bool holds = false;
    if (!eval_bool(*condition.expr, holds)) return make_error(std::move(error_));
    if (holds != condition.when) return false;
  }
  return true;
}

}  // namespace idra::policy::eval

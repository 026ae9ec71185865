// print.cpp: ast::Policy and ast::Expr back to Cedar text.
//
// The output parses back to an equal tree (the policy_parse fuzz target
// checks that parse -> print -> parse -> print is a fixed point), so
// parentheses go wherever the parser would otherwise group differently, and
// a few shapes the parser folds get an explicit form: `-(5)` is negation of
// the literal 5, while `-5` is the literal -5.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "policy/ast.hpp"
#include "policy/lexer.hpp"

namespace idra::policy::ast {

namespace {

// Binding strength of each printed form; a child printed where a stronger
// form is required gets parentheses.
enum Level : int {
  kIf = 0,
  kOr = 1,
  kAnd = 2,
  kRelation = 3,
  kAdd = 4,
  kMul = 5,
  kUnary = 6,
  kMember = 7,
  kPrimary = 8,
};

constexpr std::string_view kFunctions[] = {"ip", "decimal", "datetime", "duration"};

bool is_function(std::string_view name) {
  for (std::string_view f : kFunctions) {
    if (f == name) return true;
  }
  return false;
}

void escape_char(std::string& out, char32_t c) {
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    case 0:
      out += "\\0";
      return;
    default:
      break;
  }
  if (c < 0x20 || c == 0x7F) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "\\u{%x}", static_cast<unsigned>(c));
    out += buf;
    return;
  }
  lex::append_utf8(out, c);
}

void quote(std::string& out, std::string_view s) {
  out += '"';
  for (char ch : s) {
    const auto b = static_cast<unsigned char>(ch);
    if (b < 0x80) {
      escape_char(out, b);
    } else {
      out += ch;  // UTF-8 continues unchanged
    }
  }
  out += '"';
}

void print_uid(std::string& out, const EntityUid& uid) {
  out += uid.type;
  out += "::";
  quote(out, uid.id);
}

// plain_name is true when |name| can follow `.`, `has` or be a record key
// without quotes.
bool plain_name(std::string_view name) {
  return lex::is_ident(name) && !lex::is_reserved(name) && name != "__cedar";
}

void print_value(std::string& out, const Value& v) {
  if (v.is_bool()) {
    out += v.as_bool() ? "true" : "false";
  } else if (v.is_long()) {
    out += std::to_string(v.as_long());
  } else if (v.is_string()) {
    quote(out, v.as_string());
  } else if (v.is_entity()) {
    print_uid(out, v.as_entity());
  } else if (v.is_set()) {
    out += '[';
    bool first = true;
    for (const Value& e : v.as_set()) {
      if (!first) out += ", ";
      first = false;
      print_value(out, e);
    }
    out += ']';
  } else if (v.is_record()) {
    out += '{';
    bool first = true;
    for (const auto& [k, e] : v.as_record()) {
      if (!first) out += ", ";
      first = false;
      quote(out, k);
      out += ": ";
      print_value(out, e);
    }
    out += '}';
  } else if (v.is_decimal()) {
    const std::int64_t s = v.as_decimal().scaled;
    const std::uint64_t mag =
        s < 0 ? 0 - static_cast<std::uint64_t>(s) : static_cast<std::uint64_t>(s);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%s%llu.%04llu", s < 0 ? "-" : "",
                  static_cast<unsigned long long>(mag / 10000),
                  static_cast<unsigned long long>(mag % 10000));
    out += "decimal(\"";
    out += buf;
    out += "\")";
  } else if (v.is_ip()) {
    const IpAddr& ip = v.as_ip();
    std::string text;
    char buf[16];
    if (!ip.v6) {
      for (int i = 0; i < 4; ++i) {
        if (i != 0) text += '.';
        text += std::to_string(ip.bytes[static_cast<std::size_t>(i)]);
      }
    } else {
      for (int i = 0; i < 8; ++i) {
        if (i != 0) text += ':';
        std::snprintf(buf, sizeof buf, "%x",
                      (ip.bytes[static_cast<std::size_t>(2 * i)] << 8) |
                          ip.bytes[static_cast<std::size_t>(2 * i + 1)]);
        text += buf;
      }
    }
    if (ip.prefix_len != (ip.v6 ? 128 : 32)) text += "/" + std::to_string(ip.prefix_len);
    out += "ip(";
    quote(out, text);
    out += ')';
  }
}

int level(const Expr& e) {
  switch (e.kind) {
    case Kind::if_then_else:
      return kIf;
    case Kind::or_:
      return kOr;
    case Kind::and_:
      return kAnd;
    case Kind::eq:
    case Kind::neq:
    case Kind::lt:
    case Kind::le:
    case Kind::gt:
    case Kind::ge:
    case Kind::in:
    case Kind::has_attr:
    case Kind::like:
    case Kind::is:
      return kRelation;
    case Kind::add:
    case Kind::sub:
      return kAdd;
    case Kind::mul:
      return kMul;
    case Kind::not_:
    case Kind::neg:
      return kUnary;
    case Kind::literal:
      return e.literal.is_long() && e.literal.as_long() < 0 ? kUnary : kPrimary;
    case Kind::contains:
    case Kind::contains_all:
    case Kind::contains_any:
    case Kind::is_empty:
    case Kind::get_tag:
    case Kind::has_tag:
    case Kind::get_attr:
      return kMember;
    case Kind::ext_call:
      return is_function(e.name) || e.args.empty() ? kPrimary : kMember;
    case Kind::var:
    case Kind::slot:
    case Kind::set:
    case Kind::record:
      return kPrimary;
  }
  return kPrimary;
}

void print_expr(std::string& out, const Expr& e, int min_level);

// arg prints argument |i| of |e| (nothing when the tree is malformed).
void arg(std::string& out, const Expr& e, std::size_t i, int min_level) {
  if (i < e.args.size() && e.args[i]) {
    print_expr(out, *e.args[i], min_level);
  } else {
    out += "false";
  }
}

void binary(std::string& out, const Expr& e, std::string_view op, int left, int right) {
  arg(out, e, 0, left);
  out += ' ';
  out += op;
  out += ' ';
  arg(out, e, 1, right);
}

void call_args(std::string& out, const Expr& e, std::size_t from) {
  out += '(';
  for (std::size_t i = from; i < e.args.size(); ++i) {
    if (i != from) out += ", ";
    arg(out, e, i, kIf);
  }
  out += ')';
}

void method(std::string& out, const Expr& e, std::string_view name) {
  arg(out, e, 0, kMember);
  out += '.';
  out += name;
  call_args(out, e, 1);
}

void print_expr(std::string& out, const Expr& e, int min_level) {
  const bool parens = level(e) < min_level;
  if (parens) out += '(';
  switch (e.kind) {
    case Kind::literal:
      print_value(out, e.literal);
      break;
    case Kind::var:
      switch (e.var) {
        case Var::principal:
          out += "principal";
          break;
        case Var::action:
          out += "action";
          break;
        case Var::resource:
          out += "resource";
          break;
        case Var::context:
          out += "context";
          break;
      }
      break;
    case Kind::slot:
      out += e.slot == SlotId::principal ? "?principal" : "?resource";
      break;
    case Kind::if_then_else:
      out += "if ";
      arg(out, e, 0, kIf);
      out += " then ";
      arg(out, e, 1, kIf);
      out += " else ";
      arg(out, e, 2, kIf);
      break;
    case Kind::or_:
      binary(out, e, "||", kOr, kAnd);
      break;
    case Kind::and_:
      binary(out, e, "&&", kAnd, kRelation);
      break;
    case Kind::eq:
      binary(out, e, "==", kAdd, kAdd);
      break;
    case Kind::neq:
      binary(out, e, "!=", kAdd, kAdd);
      break;
    case Kind::lt:
      binary(out, e, "<", kAdd, kAdd);
      break;
    case Kind::le:
      binary(out, e, "<=", kAdd, kAdd);
      break;
    case Kind::gt:
      binary(out, e, ">", kAdd, kAdd);
      break;
    case Kind::ge:
      binary(out, e, ">=", kAdd, kAdd);
      break;
    case Kind::in:
      binary(out, e, "in", kAdd, kAdd);
      break;
    case Kind::add:
      binary(out, e, "+", kAdd, kMul);
      break;
    case Kind::sub:
      binary(out, e, "-", kAdd, kMul);
      break;
    case Kind::mul:
      binary(out, e, "*", kMul, kUnary);
      break;
    case Kind::not_:
      out += '!';
      arg(out, e, 0, kMember);
      break;
    case Kind::neg: {
      out += '-';
      // `-5` would parse as the literal -5: negating the literal 5 needs `-(5)`.
      const bool literal = !e.args.empty() && e.args[0] && e.args[0]->kind == Kind::literal &&
                           e.args[0]->literal.is_long();
      arg(out, e, 0, literal ? kPrimary + 1 : kMember);
      break;
    }
    case Kind::contains:
      method(out, e, "contains");
      break;
    case Kind::contains_all:
      method(out, e, "containsAll");
      break;
    case Kind::contains_any:
      method(out, e, "containsAny");
      break;
    case Kind::is_empty:
      method(out, e, "isEmpty");
      break;
    case Kind::get_tag:
      method(out, e, "getTag");
      break;
    case Kind::has_tag:
      method(out, e, "hasTag");
      break;
    case Kind::get_attr:
      arg(out, e, 0, kMember);
      if (plain_name(e.name)) {
        out += '.';
        out += e.name;
      } else {
        out += '[';
        quote(out, e.name);
        out += ']';
      }
      break;
    case Kind::has_attr:
      arg(out, e, 0, kAdd);
      out += " has ";
      if (plain_name(e.name)) {
        out += e.name;
      } else {
        quote(out, e.name);
      }
      break;
    case Kind::like:
      arg(out, e, 0, kAdd);
      out += " like \"";
      for (const PatternElem& p : e.pattern) {
        if (p.wildcard) {
          out += '*';
        } else if (p.ch == '*') {
          out += "\\*";
        } else {
          escape_char(out, p.ch);
        }
      }
      out += '"';
      break;
    case Kind::is:
      arg(out, e, 0, kAdd);
      out += " is ";
      out += e.name;
      if (e.args.size() > 1) {
        out += " in ";
        arg(out, e, 1, kAdd);
      }
      break;
    case Kind::set:
      out += '[';
      for (std::size_t i = 0; i < e.args.size(); ++i) {
        if (i != 0) out += ", ";
        arg(out, e, i, kIf);
      }
      out += ']';
      break;
    case Kind::record:
      out += '{';
      for (std::size_t i = 0; i < e.args.size(); ++i) {
        if (i != 0) out += ", ";
        const std::string_view key =
            i < e.keys.size() ? std::string_view(e.keys[i]) : std::string_view();
        if (plain_name(key)) {
          out += key;
        } else {
          quote(out, key);
        }
        out += ": ";
        arg(out, e, i, kIf);
      }
      out += '}';
      break;
    case Kind::ext_call:
      if (is_function(e.name) || e.args.empty()) {
        out += e.name;
        call_args(out, e, 0);
      } else {
        method(out, e, e.name);
      }
      break;
  }
  if (parens) out += ')';
}

void print_scope(std::string& out, const ScopeConstraint& s, std::string_view var) {
  out += var;
  const std::string_view slot = var == "resource" ? "?resource" : "?principal";
  auto target = [&] {
    if (s.slot) {
      out += slot;
    } else if (s.entity) {
      print_uid(out, *s.entity);
    }
  };
  switch (s.op) {
    case ScopeConstraint::Op::any:
      break;
    case ScopeConstraint::Op::eq:
      out += " == ";
      target();
      break;
    case ScopeConstraint::Op::in:
      out += " in ";
      target();
      break;
    case ScopeConstraint::Op::is:
      out += " is ";
      out += s.entity_type;
      break;
    case ScopeConstraint::Op::is_in:
      out += " is ";
      out += s.entity_type;
      out += " in ";
      target();
      break;
    case ScopeConstraint::Op::in_list:
      out += " in [";
      for (std::size_t i = 0; i < s.entities.size(); ++i) {
        if (i != 0) out += ", ";
        print_uid(out, s.entities[i]);
      }
      out += ']';
      break;
  }
}

}  // namespace

std::string print(const Expr& expr) {
  std::string out;
  print_expr(out, expr, kIf);
  return out;
}

std::string print(const Policy& policy) {
  std::string out;
  for (const auto& [key, value] : policy.annotations) {
    out += '@';
    out += key;
    out += '(';
    quote(out, value);
    out += ")\n";
  }
  out += policy.permit ? "permit (\n  " : "forbid (\n  ";
  print_scope(out, policy.principal, "principal");
  out += ",\n  ";
  print_scope(out, policy.action, "action");
  out += ",\n  ";
  print_scope(out, policy.resource, "resource");
  out += "\n)";
  for (const Condition& c : policy.conditions) {
    out += c.when ? "\nwhen { " : "\nunless { ";
    if (c.expr) {
      print_expr(out, *c.expr, kIf);
    } else {
      out += "true";
    }
    out += " }";
  }
  out += ';';
  return out;
}

}  // namespace idra::policy::ast

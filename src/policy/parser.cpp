// parser.cpp: Cedar policy text to ast::Policy (Cedar 4.x grammar).
//
// A recursive-descent parser over the tokens of lexer.hpp. Two kinds of
// problems are told apart:
//  - a syntax error (an unexpected token) stops the current policy: the
//    parser skips to the next `;` and goes on with the next policy;
//  - a semantic error (a bad escape, a reserved name, a duplicate key, a
//    wrong arity) is recorded and parsing goes on, so one pass reports as
//    many independent problems as possible.
// Either way nothing is returned when any error was found.
//
// Hostile input cannot exhaust the stack: parenthesised nesting is capped at
// kMaxNesting and the height of every tree built at kMaxHeight (a long chain
// like `1 + 1 + ... + 1` is left-deep, so it counts too; the evaluator, the
// printer and the destructors all recurse over the tree). The `has` path
// sugar, which copies its receiver per attribute, is bounded as well.
#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "policy/ast.hpp"
#include "policy/lexer.hpp"

namespace idra::policy::ast {

namespace {

using lex::Tok;
using lex::Token;

constexpr int kMaxNesting = 200;
constexpr std::uint32_t kMaxHeight = 1000;
constexpr std::size_t kMaxDiagnostics = 100;
constexpr int kMaxUnaryChain = 4;
// `e has a.b.c` copies |e| and the path once per attribute, so the tree
// grows with the square of the path; both are capped so that a short
// hostile input cannot expand into a huge tree.
constexpr std::size_t kMaxHasPath = 100;
constexpr std::size_t kMaxClonedNodes = 200000;

constexpr std::string_view kFunctions[] = {"ip", "decimal", "datetime", "duration"};
constexpr std::string_view kExtMethods[] = {
    "isIpv4",        "isIpv6",          "isLoopback",  "isMulticast",        "isInRange",
    "lessThan",      "lessThanOrEqual", "greaterThan", "greaterThanOrEqual", "offset",
    "durationSince", "toDate",          "toTime",      "toMilliseconds",     "toSeconds",
    "toMinutes",     "toHours",         "toDays"};

struct BuiltinMethod {
  std::string_view name;
  Kind kind;
  std::size_t arity;  // arguments besides the receiver
};
constexpr BuiltinMethod kBuiltinMethods[] = {
    {"contains", Kind::contains, 1},        {"containsAll", Kind::contains_all, 1},
    {"containsAny", Kind::contains_any, 1}, {"isEmpty", Kind::is_empty, 0},
    {"getTag", Kind::get_tag, 1},           {"hasTag", Kind::has_tag, 1},
};

template <class List>
bool listed(const List& list, std::string_view name) {
  for (std::string_view n : list) {
    if (n == name) return true;
  }
  return false;
}

std::string plural(std::size_t n, std::string_view word) {
  return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

std::string join(const std::vector<std::string_view>& parts) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i != 0) out += "::";
    out += parts[i];
  }
  return out;
}

std::size_t count_nodes(const Expr& e) {
  std::size_t n = 1;
  for (const ExprPtr& a : e.args) n += count_nodes(*a);
  return n;
}

ExprPtr clone(const Expr& e) {
  auto out = std::make_unique<Expr>();
  out->kind = e.kind;
  out->loc = e.loc;
  out->literal = e.literal;
  out->var = e.var;
  out->slot = e.slot;
  out->name = e.name;
  out->keys = e.keys;
  out->pattern = e.pattern;
  out->args.reserve(e.args.size());
  for (const ExprPtr& a : e.args) out->args.push_back(clone(*a));
  return out;
}

class Parser {
 public:
  Parser(std::string_view text, std::string_view file)
      : text_(text), file_(file), toks_(lex::lex(text)) {}

  std::vector<Policy> policies() {
    std::vector<Policy> out;
    while (peek().kind != Tok::eof && diags_.size() < kMaxDiagnostics) {
      failed_ = false;
      Policy p;
      parse_policy(p);
      if (failed_) {
        resync();
        continue;
      }
      out.push_back(std::move(p));
    }
    return out;
  }

  ExprPtr expression() {
    in_condition_ = false;
    ExprPtr e = parse_expr();
    if (e && peek().kind != Tok::eof) unexpected("the end of the expression");
    return failed_ ? nullptr : std::move(e);
  }

  std::vector<Diagnostic>& diagnostics() { return diags_; }

 private:
  // --- tokens ---------------------------------------------------------------

  const Token& peek(std::size_t k = 0) const {
    const std::size_t i = pos_ + k;
    return i < toks_.size() ? toks_[i] : toks_.back();
  }
  const Token& next() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    last_end_ = t.loc.offset + t.loc.length;
    return t;
  }
  bool at(Tok k) const { return peek().kind == k; }
  bool at_ident(std::string_view word, std::size_t k = 0) const {
    return peek(k).kind == Tok::ident && peek(k).text == word;
  }
  bool accept(Tok k) {
    if (!at(k)) return false;
    next();
    return true;
  }
  bool expect(Tok k, std::string_view what) {
    if (accept(k)) return true;
    unexpected(what);
    return false;
  }
  bool expect_ident(std::string_view word) {
    if (at_ident(word)) {
      next();
      return true;
    }
    unexpected("`" + std::string(word) + "`");
    return false;
  }

  // span is the location from |start| to the end of the last token read.
  Loc span(const Loc& start) const {
    Loc l = start;
    l.length = last_end_ >= start.offset ? last_end_ - start.offset : 0;
    return l;
  }

  // --- errors ---------------------------------------------------------------

  void error_at(const Loc& loc, std::string message) {
    if (diags_.size() >= kMaxDiagnostics) return;
    diags_.push_back(Diagnostic{std::string(file_), loc.line, loc.column, std::move(message)});
  }
  // fail records a syntax error: the current policy is abandoned.
  std::nullptr_t fail(const Loc& loc, std::string message) {
    if (!failed_) error_at(loc, std::move(message));
    failed_ = true;
    return nullptr;
  }
  std::nullptr_t unexpected(std::string_view expected) {
    const Token& t = peek();
    if (t.kind == Tok::error) return fail(t.loc, t.message);
    if (t.kind == Tok::eof)
      return fail(t.loc, "unexpected end of input, expected " + std::string(expected));
    std::string shown(t.text.substr(0, 40));
    if (t.kind == Tok::string) shown = "\"" + shown + "\"";
    if (t.kind == Tok::slot) shown = "?" + shown;
    return fail(t.loc, "unexpected token `" + shown + "`, expected " + std::string(expected));
  }

  // resync skips past the next `;` (or to the end) after a syntax error.
  void resync() {
    while (!at(Tok::eof)) {
      if (next().kind == Tok::semicolon) return;
    }
  }

  // --- node construction ----------------------------------------------------

  // make builds a node over |args|, refusing trees higher than kMaxHeight.
  ExprPtr make(Kind kind, const Loc& loc, std::vector<ExprPtr> args = {}) {
    std::uint32_t h = 1;
    for (const ExprPtr& a : args) {
      auto it = height_.find(a.get());
      const std::uint32_t ah = it == height_.end() ? 1 : it->second;
      if (ah + 1 > h) h = ah + 1;
    }
    if (h > kMaxHeight) {
      return fail(loc, "expression is nested too deeply (more than " + std::to_string(kMaxHeight) +
                           " levels)");
    }
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->loc = loc;
    e->args = std::move(args);
    height_[e.get()] = h;
    return e;
  }
  ExprPtr make_literal(const Loc& loc, Value v) {
    ExprPtr e = make(Kind::literal, loc);
    if (e) e->literal = std::move(v);
    return e;
  }
  template <class... A>
  std::vector<ExprPtr> list(A&&... a) {
    std::vector<ExprPtr> v;
    (v.push_back(std::forward<A>(a)), ...);
    return v;
  }
  // adopt records the height of a node built outside make() (clones).
  std::uint32_t adopt(const Expr& e) {
    std::uint32_t h = 1;
    for (const ExprPtr& a : e.args) {
      const std::uint32_t ah = adopt(*a) + 1;
      if (ah > h) h = ah;
    }
    height_[&e] = h;
    return h;
  }

  // --- strings and names ----------------------------------------------------

  std::string string_value(const Token& t) {
    std::string out;
    std::string err;
    if (!lex::unescape(t.text, out, err)) error_at(t.loc, err);
    return out;
  }

  // check_name reports a reserved identifier used as a name.
  void check_name(const Token& t) {
    if (lex::is_reserved(t.text)) {
      error_at(t.loc, "this identifier is reserved and cannot be used: " + std::string(t.text));
    } else if (t.text == "__cedar") {
      error_at(t.loc, "the name `__cedar` is reserved");
    }
  }

  // parse_path reads `Ident {:: Ident}` and stops before a `::` followed by
  // a string (an entity uid). Each component is checked against reserved names.
  bool parse_path(std::vector<std::string_view>& parts, Loc& loc, std::string_view expected) {
    parts.clear();
    if (!at(Tok::ident)) {
      unexpected(expected);
      return false;
    }
    loc = peek().loc;
    bool reserved = false;
    for (;;) {
      const Token& t = next();
      parts.push_back(t.text);
      if (lex::is_reserved(t.text) && !reserved) {
        error_at(t.loc, "this identifier is reserved and cannot be used: " + std::string(t.text));
        reserved = true;
      }
      if (!(at(Tok::coloncolon) && peek(1).kind == Tok::ident)) break;
      next();
    }
    loc = span(loc);
    for (std::string_view p : parts) {
      if (p == "__cedar") {
        error_at(loc, "the name `" + join(parts) + "` contains `__cedar`, which is reserved");
        break;
      }
    }
    return true;
  }

  // parse_entity_uid reads `Path :: "id"`.
  bool parse_entity_uid(EntityUid& out, Loc& loc) {
    std::vector<std::string_view> parts;
    if (!parse_path(parts, loc, "an entity uid")) return false;
    if (!expect(Tok::coloncolon, "`::` and a quoted entity id")) return false;
    if (!at(Tok::string)) {
      unexpected("a quoted entity id");
      return false;
    }
    out.type = join(parts);
    out.id = string_value(next());
    loc = span(loc);
    return true;
  }

  // parse_type_name reads the entity type after `is`.
  bool parse_type_name(std::string& out) {
    std::vector<std::string_view> parts;
    Loc loc;
    if (!parse_path(parts, loc, "an entity type name")) return false;
    if (at(Tok::coloncolon) && peek(1).kind == Tok::string) {
      fail(loc, "right hand side of an `is` expression must be an entity type name, but got `" +
                    join(parts) + "::\"" + std::string(peek(1).text) + "\"`");
      return false;
    }
    out = join(parts);
    return true;
  }

  // --- policies -------------------------------------------------------------

  void parse_policy(Policy& p) {
    p.file = std::string(file_);
    const Loc start = peek().loc;
    while (at(Tok::at)) {
      const Token& at_tok = next();
      if (!at(Tok::ident)) {
        unexpected("an annotation name");
        return;
      }
      const Token& key = next();
      std::string value;
      if (accept(Tok::lparen)) {
        if (!at(Tok::string)) {
          unexpected("a string literal");
          return;
        }
        value = string_value(next());
        if (!expect(Tok::rparen, "`)`")) return;
      }
      if (p.annotation(key.text) != nullptr) {
        error_at(at_tok.loc, "duplicate annotation: @" + std::string(key.text));
      } else {
        p.annotations.emplace_back(std::string(key.text), std::move(value));
      }
    }
    if (at_ident("permit") || at_ident("forbid")) {
      p.permit = next().text == "permit";
    } else {
      unexpected("`permit` or `forbid`");
      return;
    }
    if (!expect(Tok::lparen, "`(`")) return;
    if (!parse_scope(p.principal, "principal") || !expect_scope_comma("action")) return;
    if (!parse_scope(p.action, "action") || !expect_scope_comma("resource")) return;
    if (!parse_scope(p.resource, "resource")) return;
    accept(Tok::comma);  // Cedar accepts a trailing comma after the resource
    if (!expect(Tok::rparen, "`)`")) return;
    while (at(Tok::ident)) {
      Condition c;
      const Token& kw = next();
      c.loc = kw.loc;
      if (kw.text == "when" || kw.text == "unless") {
        c.when = kw.text == "when";
      } else {
        fail(kw.loc, "invalid policy condition: " + std::string(kw.text) +
                         " (a condition is `when` or `unless`)");
        return;
      }
      if (!expect(Tok::lbrace, "`{`")) return;
      if (at(Tok::rbrace)) {
        error_at(c.loc, "`" + std::string(kw.text) + "` condition clause cannot be empty");
        next();
        c.loc = span(c.loc);
        c.expr = make_literal(c.loc, Value(true));
        p.conditions.push_back(std::move(c));
        continue;
      }
      in_condition_ = true;
      c.expr = parse_expr();
      in_condition_ = false;
      if (!c.expr) return;
      if (!expect(Tok::rbrace, "`}`")) return;
      c.loc = span(c.loc);
      p.conditions.push_back(std::move(c));
    }
    if (!expect(Tok::semicolon, "`;`")) return;
    p.loc = span(start);
  }

  bool expect_scope_comma(std::string_view missing) {
    if (accept(Tok::comma)) return true;
    if (at(Tok::rparen)) {
      fail(peek().loc, "this policy is missing the `" + std::string(missing) +
                           "` variable in the scope (a scope has `principal`, `action` and "
                           "`resource`, in that order)");
      return false;
    }
    unexpected("`,`");
    return false;
  }

  // parse_scope reads one element of the policy head: |var| alone or with
  // `==`, `in`, `is`.
  bool parse_scope(ScopeConstraint& s, std::string_view var) {
    const bool is_action = var == "action";
    s.loc = peek().loc;
    if (!at_ident(var)) {
      if (at(Tok::rparen)) {
        fail(peek().loc, "this policy is missing the `" + std::string(var) +
                             "` variable in the scope (a scope has `principal`, `action` and "
                             "`resource`, in that "
                             "order)");
        return false;
      }
      if (at_ident("principal") || at_ident("action") || at_ident("resource")) {
        fail(peek().loc, "found the variable `" + std::string(peek().text) +
                             "` where the variable `" + std::string(var) +
                             "` must be used (a scope has `principal`, `action` and `resource`, in "
                             "that order)");
        return false;
      }
      unexpected("`" + std::string(var) + "`");
      return false;
    }
    next();
    const SlotId own_slot = var == "resource" ? SlotId::resource : SlotId::principal;
    // target reads the right-hand side of `==` or `in`: an entity uid or this
    // scope's slot.
    auto target = [&]() -> bool {
      if (at(Tok::slot)) {
        const Token& t = next();
        const SlotId id = t.text == "resource" ? SlotId::resource : SlotId::principal;
        if (is_action) {
          error_at(
              t.loc,
              "expected a single entity uid, found a template slot (the action scope has no slot)");
        } else if (id != own_slot) {
          error_at(t.loc, "expected an entity uid or the matching template slot, found ?" +
                              std::string(t.text) + " instead of ?" + std::string(var));
        }
        s.slot = true;
        return true;
      }
      if (at(Tok::lbracket)) {
        fail(peek().loc,
             "expected a single entity uid or template slot, found a set of entity uids");
        return false;
      }
      if (at(Tok::ident) && peek(1).kind != Tok::coloncolon &&
          (peek().text == "principal" || peek().text == "action" || peek().text == "resource" ||
           peek().text == "context")) {
        fail(peek().loc, "expected an entity uid or matching template slot, found the name `" +
                             std::string(peek().text) + "` (use `is` to test an entity type)");
        return false;
      }
      EntityUid uid;
      Loc loc;
      if (!parse_entity_uid(uid, loc)) return false;
      if (is_action) check_action_uid(uid, loc);
      s.entity = std::move(uid);
      return true;
    };
    if (accept(Tok::eq)) {
      s.op = ScopeConstraint::Op::eq;
      if (!target()) return false;
    } else if (at_ident("in")) {
      next();
      s.op = ScopeConstraint::Op::in;
      if (is_action && at(Tok::lbracket)) {
        next();
        s.op = ScopeConstraint::Op::in_list;
        while (!at(Tok::rbracket)) {
          EntityUid uid;
          Loc loc;
          if (!parse_entity_uid(uid, loc)) return false;
          check_action_uid(uid, loc);
          s.entities.push_back(std::move(uid));
          if (!accept(Tok::comma)) break;
        }
        if (!expect(Tok::rbracket, "`,` or `]`")) return false;
      } else if (!target()) {
        return false;
      }
    } else if (at_ident("is")) {
      if (is_action) {
        fail(peek().loc,
             "`is` cannot appear in the action scope (move `action is ...` into a `when` "
             "condition)");
        return false;
      }
      next();
      s.op = ScopeConstraint::Op::is;
      if (!parse_type_name(s.entity_type)) return false;
      if (at(Tok::eq)) {
        fail(peek().loc, "`is` cannot be used together with `==` (try `is ... in ...`)");
        return false;
      }
      if (at_ident("in")) {
        next();
        s.op = ScopeConstraint::Op::is_in;
        if (!target()) return false;
      }
    }
    s.loc = span(s.loc);
    return true;
  }

  void check_action_uid(const EntityUid& uid, const Loc& loc) {
    const std::size_t cut = uid.type.rfind("::");
    const std::string_view last = cut == std::string::npos
                                      ? std::string_view(uid.type)
                                      : std::string_view(uid.type).substr(cut + 2);
    if (last != "Action") {
      error_at(loc, "expected an entity uid with type `Action` but got `" + uid.type +
                        "::...` (action entities have type `Action`, optionally in a namespace)");
    }
  }

  // --- expressions ----------------------------------------------------------

  ExprPtr parse_expr() {
    if (depth_ >= kMaxNesting) {
      return fail(peek().loc, "expression is nested too deeply (more than " +
                                  std::to_string(kMaxNesting) + " levels)");
    }
    ++depth_;
    ExprPtr e = parse_expr_inner();
    --depth_;
    return e;
  }

  ExprPtr parse_expr_inner() {
    if (at_ident("if")) {
      const Loc start = next().loc;
      ExprPtr c = parse_expr();
      if (!c || !expect_ident("then")) return nullptr;
      ExprPtr a = parse_expr();
      if (!a || !expect_ident("else")) return nullptr;
      ExprPtr b = parse_expr();
      if (!b) return nullptr;
      return make(Kind::if_then_else, span(start), list(std::move(c), std::move(a), std::move(b)));
    }
    return parse_or();
  }

  ExprPtr parse_or() {
    ExprPtr l = parse_and();
    while (l && at(Tok::or_)) {
      next();
      ExprPtr r = parse_and();
      if (!r) return nullptr;
      const Loc loc = span(l->loc);
      l = make(Kind::or_, loc, list(std::move(l), std::move(r)));
    }
    return l;
  }

  ExprPtr parse_and() {
    ExprPtr l = parse_relation();
    while (l && at(Tok::and_)) {
      next();
      ExprPtr r = parse_relation();
      if (!r) return nullptr;
      const Loc loc = span(l->loc);
      l = make(Kind::and_, loc, list(std::move(l), std::move(r)));
    }
    return l;
  }

  bool at_relation() const {
    switch (peek().kind) {
      case Tok::eq:
      case Tok::neq:
      case Tok::lt:
      case Tok::le:
      case Tok::gt:
      case Tok::ge:
        return true;
      case Tok::ident:
        return peek().text == "in" || peek().text == "has" || peek().text == "like" ||
               peek().text == "is";
      default:
        return false;
    }
  }

  ExprPtr parse_relation() {
    ExprPtr l = parse_add();
    if (!l || !at_relation()) return l;
    const Loc start = l->loc;
    ExprPtr out;
    const Token& op = next();
    Kind kind = Kind::eq;
    switch (op.kind) {
      case Tok::eq:
        kind = Kind::eq;
        break;
      case Tok::neq:
        kind = Kind::neq;
        break;
      case Tok::lt:
        kind = Kind::lt;
        break;
      case Tok::le:
        kind = Kind::le;
        break;
      case Tok::gt:
        kind = Kind::gt;
        break;
      case Tok::ge:
        kind = Kind::ge;
        break;
      default:
        kind = Kind::in;
        break;
    }
    if (op.kind == Tok::ident && op.text == "has") {
      out = parse_has(std::move(l), start);
    } else if (op.kind == Tok::ident && op.text == "like") {
      if (!at(Tok::string)) {
        if (at(Tok::error) || at(Tok::eof)) return unexpected("a pattern string");
        return fail(peek().loc,
                    "right hand side of a `like` expression must be a pattern literal, but got `" +
                        std::string(peek().text.substr(0, 40)) + "`");
      }
      const Token& pat = next();
      std::vector<PatternElem> pattern;
      std::string err;
      if (!lex::unescape_pattern(pat.text, pattern, err)) error_at(pat.loc, err);
      out = make(Kind::like, span(start), list(std::move(l)));
      if (out) out->pattern = std::move(pattern);
    } else if (op.kind == Tok::ident && op.text == "is") {
      std::string type;
      if (!parse_type_name(type)) return nullptr;
      std::vector<ExprPtr> args = list(std::move(l));
      if (at_ident("in")) {
        next();
        ExprPtr in = parse_add();
        if (!in) return nullptr;
        args.push_back(std::move(in));
      }
      out = make(Kind::is, span(start), std::move(args));
      if (out) out->name = std::move(type);
    } else {
      ExprPtr r = parse_add();
      if (!r) return nullptr;
      out = make(kind, span(start), list(std::move(l), std::move(r)));
    }
    if (out && at_relation()) {
      return fail(peek().loc,
                  "multiple relational operators (>, ==, in, etc.) must be used with parentheses "
                  "to make ordering "
                  "explicit");
    }
    return out;
  }

  // parse_has reads the right side of `has`: a string, or identifiers
  // separated by `.` which are desugared to a conjunction of single tests.
  ExprPtr parse_has(ExprPtr l, const Loc& start) {
    if (at(Tok::string)) {
      std::string name = string_value(next());
      if (at(Tok::dot) || at(Tok::lbracket)) {
        return fail(
            peek().loc,
            "invalid right side of `has`: a sequence of identifiers separated by `.` or one "
            "string literal");
      }
      ExprPtr out = make(Kind::has_attr, span(start), list(std::move(l)));
      if (out) out->name = std::move(name);
      return out;
    }
    if (!at(Tok::ident)) return unexpected("an attribute name after `has`");
    std::vector<std::string> names;
    for (;;) {
      const Token& t = next();
      check_name(t);
      names.emplace_back(t.text);
      if (!(at(Tok::dot) && peek(1).kind == Tok::ident)) break;
      next();
    }
    if (at(Tok::dot) || at(Tok::lbracket) || at(Tok::lparen)) {
      return fail(peek().loc,
                  "invalid right side of `has`: a sequence of identifiers separated by `.` or one "
                  "string literal");
    }
    const Loc loc = span(start);
    if (names.size() > kMaxHasPath) {
      return fail(
          loc, "`has` path is too long (more than " + std::to_string(kMaxHasPath) + " attributes)");
    }
    // Each test but the last gets a copy of the receiver and the path so far.
    const std::size_t copies =
        (names.size() - 1) * count_nodes(*l) + names.size() * names.size() / 2;
    cloned_nodes_ += copies;
    if (cloned_nodes_ > kMaxClonedNodes) {
      return fail(
          loc, "`has` paths expand to too large a tree (write the tests out or shorten the paths)");
    }
    // `e has a.b.c` is `e has a && e.a has b && e.a.b has c`.
    ExprPtr base = std::move(l);
    ExprPtr out;
    for (std::size_t i = 0; i < names.size(); ++i) {
      ExprPtr receiver;
      if (i + 1 < names.size()) {
        receiver = clone(*base);
        adopt(*receiver);
      } else {
        receiver = std::move(base);
      }
      ExprPtr test = make(Kind::has_attr, loc, list(std::move(receiver)));
      if (!test) return nullptr;
      test->name = names[i];
      if (i + 1 < names.size()) {
        ExprPtr next_base = make(Kind::get_attr, loc, list(std::move(base)));
        if (!next_base) return nullptr;
        next_base->name = names[i];
        base = std::move(next_base);
      }
      if (!out) {
        out = std::move(test);
      } else {
        out = make(Kind::and_, loc, list(std::move(out), std::move(test)));
        if (!out) return nullptr;
      }
    }
    return out;
  }

  ExprPtr parse_add() {
    ExprPtr l = parse_mul();
    while (l && (at(Tok::plus) || at(Tok::minus))) {
      const Kind kind = next().kind == Tok::plus ? Kind::add : Kind::sub;
      ExprPtr r = parse_mul();
      if (!r) return nullptr;
      const Loc loc = span(l->loc);
      l = make(kind, loc, list(std::move(l), std::move(r)));
    }
    return l;
  }

  ExprPtr parse_mul() {
    ExprPtr l = parse_unary();
    while (l && at(Tok::star)) {
      next();
      ExprPtr r = parse_unary();
      if (!r) return nullptr;
      const Loc loc = span(l->loc);
      l = make(Kind::mul, loc, list(std::move(l), std::move(r)));
    }
    return l;
  }

  ExprPtr parse_unary() {
    if (!at(Tok::bang) && !at(Tok::minus)) return parse_member();
    const Tok op = peek().kind;
    std::vector<Loc> ops;
    while (at(op)) ops.push_back(next().loc);
    if (ops.size() > static_cast<std::size_t>(kMaxUnaryChain)) {
      error_at(ops.front(), std::string("too many occurrences of `") +
                                (op == Tok::bang ? "!" : "-") + "` (at most " +
                                std::to_string(kMaxUnaryChain) + " in a row)");
    }
    ExprPtr e;
    if (op == Tok::minus && at(Tok::integer) && peek(1).kind != Tok::dot &&
        peek(1).kind != Tok::lbracket) {
      // `-` right before an integer literal makes a negative literal, so
      // -9223372036854775808 is valid.
      const Token& t = next();
      std::uint64_t v = 0;
      const auto [p, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
      const std::uint64_t limit = std::uint64_t{1} << 63;
      if (ec != std::errc() || p != t.text.data() + t.text.size() || v > limit) {
        error_at(t.loc, "integer literal `-" + std::string(t.text.substr(0, 40)) +
                            "` is too small (the minimum is -9223372036854775808)");
        v = 0;
      }
      const std::int64_t n =
          v == limit ? std::numeric_limits<std::int64_t>::min() : -static_cast<std::int64_t>(v);
      e = make_literal(span(ops.back()), Value(n));
      ops.pop_back();
    } else {
      e = parse_member();
    }
    while (e && !ops.empty()) {
      const Loc loc = span(ops.back());
      ops.pop_back();
      e = make(op == Tok::bang ? Kind::not_ : Kind::neg, loc, list(std::move(e)));
    }
    // `!-x` and `-!x` fail in parse_primary: Cedar takes one kind of
    // prefix operator only.
    return e;
  }

  ExprPtr parse_member() {
    ExprPtr e = parse_primary();
    while (e) {
      const Loc start = e->loc;
      if (at(Tok::dot)) {
        next();
        if (!at(Tok::ident)) return unexpected("an attribute or method name");
        const Token& name = next();
        if (at(Tok::lparen)) {
          e = parse_method(std::move(e), name, start);
          continue;
        }
        check_name(name);
        e = make(Kind::get_attr, span(start), list(std::move(e)));
        if (e) e->name = std::string(name.text);
      } else if (at(Tok::lbracket)) {
        next();
        if (!at(Tok::string)) {
          if (at(Tok::error) || at(Tok::eof) || at(Tok::rbracket))
            return unexpected("a string literal");
          return fail(peek().loc,
                      "invalid string literal: " + std::string(peek().text.substr(0, 40)) +
                          " (only a string literal may appear in `[...]`)");
        }
        std::string name = string_value(next());
        if (!expect(Tok::rbracket, "`]`")) return nullptr;
        e = make(Kind::get_attr, span(start), list(std::move(e)));
        if (e) e->name = std::move(name);
      } else {
        break;
      }
    }
    return e;
  }

  // parse_args reads `( Expr, ... )` with an optional trailing comma.
  bool parse_args(std::vector<ExprPtr>& args) {
    if (!expect(Tok::lparen, "`(`")) return false;
    while (!at(Tok::rparen)) {
      ExprPtr a = parse_expr();
      if (!a) return false;
      args.push_back(std::move(a));
      if (!accept(Tok::comma)) break;
    }
    return expect(Tok::rparen, "`,` or `)`");
  }

  ExprPtr parse_method(ExprPtr receiver, const Token& name, const Loc& start) {
    std::vector<ExprPtr> args = list(std::move(receiver));
    if (!parse_args(args)) return nullptr;
    const Loc loc = span(start);
    const std::size_t given = args.size() - 1;
    for (const BuiltinMethod& m : kBuiltinMethods) {
      if (m.name != name.text) continue;
      if (given != m.arity) {
        error_at(loc, "call to `" + std::string(name.text) + "` requires exactly " +
                          plural(m.arity, "argument") + ", but got " + plural(given, "argument"));
        args.resize(1);
        while (args.size() < m.arity + 1) args.push_back(make_literal(loc, Value(false)));
      }
      return make(m.kind, loc, std::move(args));
    }
    if (listed(kFunctions, name.text)) {
      error_at(loc, "`" + std::string(name.text) + "` is a function, not a method (call it as `" +
                        std::string(name.text) + "(...)`)");
    } else if (!listed(kExtMethods, name.text)) {
      error_at(loc, "`" + std::string(name.text) + "` is not a valid method");
    }
    ExprPtr e = make(Kind::ext_call, loc, std::move(args));
    if (e) e->name = std::string(name.text);
    return e;
  }

  ExprPtr parse_primary() {
    const Token& t = peek();
    switch (t.kind) {
      case Tok::integer: {
        next();
        std::int64_t v = 0;
        const auto [p, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
        if (ec != std::errc() || p != t.text.data() + t.text.size()) {
          error_at(t.loc, "integer literal `" + std::string(t.text.substr(0, 40)) +
                              "` is too large (the maximum is 9223372036854775807)");
          v = 0;
        }
        return make_literal(t.loc, Value(v));
      }
      case Tok::string: {
        next();
        return make_literal(t.loc, Value(string_value(t)));
      }
      case Tok::slot: {
        next();
        if (in_condition_) {
          error_at(t.loc, "found template slot ?" + std::string(t.text) +
                              " in a condition (slots may only appear in the policy scope)");
        }
        ExprPtr e = make(Kind::slot, t.loc);
        if (e) e->slot = t.text == "resource" ? SlotId::resource : SlotId::principal;
        return e;
      }
      case Tok::lparen: {
        next();
        ExprPtr e = parse_expr();
        if (!e || !expect(Tok::rparen, "`)`")) return nullptr;
        return e;
      }
      case Tok::lbracket: {
        next();
        std::vector<ExprPtr> elems;
        while (!at(Tok::rbracket)) {
          ExprPtr a = parse_expr();
          if (!a) return nullptr;
          elems.push_back(std::move(a));
          if (!accept(Tok::comma)) break;
        }
        if (!expect(Tok::rbracket, "`,` or `]`")) return nullptr;
        return make(Kind::set, span(t.loc), std::move(elems));
      }
      case Tok::lbrace:
        return parse_record();
      case Tok::ident:
        return parse_name();
      default:
        return unexpected("an expression");
    }
  }

  ExprPtr parse_record() {
    const Loc start = next().loc;
    std::vector<ExprPtr> values;
    std::vector<std::string> keys;
    while (!at(Tok::rbrace)) {
      std::string key;
      const Token& k = peek();
      if (k.kind == Tok::string) {
        next();
        key = string_value(k);
      } else if (k.kind == Tok::ident) {
        next();
        check_name(k);
        key = std::string(k.text);
      } else if (k.kind == Tok::error || k.kind == Tok::eof) {
        return unexpected("a record key");
      } else {
        return fail(k.loc, "invalid attribute name: " + std::string(k.text.substr(0, 40)) +
                               " (a record key is an identifier or a string literal)");
      }
      if (!expect(Tok::colon, "`:`")) return nullptr;
      ExprPtr v = parse_expr();
      if (!v) return nullptr;
      bool dup = false;
      for (const std::string& seen : keys) dup = dup || seen == key;
      if (dup) {
        error_at(k.loc, "duplicate key `" + key + "` in record literal");
      } else {
        keys.push_back(std::move(key));
        values.push_back(std::move(v));
      }
      if (!accept(Tok::comma)) break;
    }
    if (!expect(Tok::rbrace, "`,` or `}`")) return nullptr;
    ExprPtr e = make(Kind::record, span(start), std::move(values));
    if (e) e->keys = std::move(keys);
    return e;
  }

  // parse_name reads what starts with an identifier: true/false, a
  // variable, an entity uid or an extension function call.
  ExprPtr parse_name() {
    const Token& t = peek();
    if (t.text == "true" || t.text == "false") {
      next();
      return make_literal(t.loc, Value(t.text == "true"));
    }
    if (lex::is_reserved(t.text)) {
      return fail(t.loc, "this identifier is reserved and cannot be used: " + std::string(t.text));
    }
    std::vector<std::string_view> parts;
    Loc loc;
    if (!parse_path(parts, loc, "an expression")) return nullptr;
    if (at(Tok::coloncolon)) {
      next();
      if (!at(Tok::string)) return unexpected("an identifier or a quoted entity id");
      EntityUid uid;
      uid.type = join(parts);
      uid.id = string_value(next());
      return make_literal(span(loc), Value(std::move(uid)));
    }
    const std::string name = join(parts);
    if (at(Tok::lparen)) {
      std::vector<ExprPtr> args;
      if (!parse_args(args)) return nullptr;
      const Loc call = span(loc);
      if (listed(kExtMethods, name) || (parts.size() == 1 && [&] {
            for (const BuiltinMethod& m : kBuiltinMethods) {
              if (m.name == name) return true;
            }
            return false;
          }())) {
        error_at(call,
                 "`" + name + "` is a method, not a function (call it as `e." + name + "(...)`)");
      } else if (!listed(kFunctions, name)) {
        error_at(call, "`" + name + "` is not a valid function");
      }
      ExprPtr e = make(Kind::ext_call, call, std::move(args));
      if (e) e->name = name;
      return e;
    }
    if (parts.size() == 1) {
      static constexpr std::pair<std::string_view, Var> kVars[] = {{"principal", Var::principal},
                                                                   {"action", Var::action},
                                                                   {"resource", Var::resource},
                                                                   {"context", Var::context}};
      for (const auto& [word, var] : kVars) {
        if (word == name) {
          ExprPtr e = make(Kind::var, loc);
          if (e) e->var = var;
          return e;
        }
      }
    }
    return fail(loc, "invalid variable: " + name +
                         " (the variables are `principal`, `action`, `resource` and `context`; a "
                         "string needs quotes)");
  }

  std::string_view text_;
  std::string_view file_;
  std::vector<Token> toks_;
  std::size_t pos_ = 0;
  std::uint32_t last_end_ = 0;
  bool failed_ = false;
  bool in_condition_ = false;
  int depth_ = 0;
  std::size_t cloned_nodes_ = 0;
  std::vector<Diagnostic> diags_;
  std::unordered_map<const Expr*, std::uint32_t> height_;
};

// check_input rejects what the lexer cannot take: invalid UTF-8 and texts
// whose offsets do not fit a Loc.
bool check_input(std::string_view text, std::string_view file, std::vector<Diagnostic>& out) {
  if (text.size() >= std::numeric_limits<std::uint32_t>::max()) {
    out.push_back(Diagnostic{std::string(file), 0, 0, "policy text is too large"});
    return false;
  }
  const std::size_t bad = lex::first_invalid_utf8(text);
  if (bad != text.size()) {
    const Loc loc = lex::position(text, bad);
    out.push_back(Diagnostic{std::string(file), loc.line, loc.column, "invalid UTF-8"});
    return false;
  }
  return true;
}

}  // namespace

Result<std::vector<Policy>, std::vector<Diagnostic>> parse_policies(std::string_view text,
                                                                    std::string_view file) {
  std::vector<Diagnostic> diags;
  if (!check_input(text, file, diags)) return diags;
  Parser parser(text, file);
  std::vector<Policy> policies = parser.policies();
  if (!parser.diagnostics().empty()) return std::move(parser.diagnostics());
  return policies;
}

Result<ExprPtr, std::vector<Diagnostic>> parse_expression(std::string_view text) {
  std::vector<Diagnostic> diags;
  if (!check_input(text, "", diags)) return diags;
  Parser parser(text, "");
  ExprPtr e = parser.expression();
  if (!parser.diagnostics().empty()) return std::move(parser.diagnostics());
  if (!e) return std::vector<Diagnostic>{Diagnostic{"", 1, 1, "expected an expression"}};
  return e;
}

}  // namespace idra::policy::ast

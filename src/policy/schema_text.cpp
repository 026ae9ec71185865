// schema_text.cpp: the human-readable Cedar schema syntax (.cedarschema),
// read by recursive descent into a RawSchema. The grammar is Cedar 4's
// (docs.cedarpolicy.com, "Grammar specification for Cedar schemas"); the
// first syntax error stops the parse, since what follows it is unreliable.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "policy/schema.hpp"

namespace idra::policy {

namespace {

enum class Tok { ident, string, number, punct, end, bad };

struct Token {
  Tok kind = Tok::end;
  std::string text;  // identifier, punctuation, or the unescaped string
  Pos pos;
  std::string error;  // Tok::bad: what is wrong
};

// ParseFailure unwinds the parser at the first error.
struct ParseFailure {
  Pos pos;
  std::string message;
};

bool is_ident_start(char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Token next() {
    skip_space();
    Token t;
    t.pos = Pos{line_, column_};
    if (i_ >= text_.size()) return t;
    const char c = text_[i_];
    if (is_ident_start(c)) {
      const std::size_t start = i_;
      while (i_ < text_.size() && is_ident_char(text_[i_])) advance();
      t.kind = Tok::ident;
      t.text = std::string(text_.substr(start, i_ - start));
      return t;
    }
    if (c >= '0' && c <= '9') {
      const std::size_t start = i_;
      while (i_ < text_.size() && text_[i_] >= '0' && text_[i_] <= '9') advance();
      t.kind = Tok::number;
      t.text = std::string(text_.substr(start, i_ - start));
      return t;
    }
    if (c == '"') return string_token(t);
    if (c == ':' && i_ + 1 < text_.size() && text_[i_ + 1] == ':') {
      advance();
      advance();
      t.kind = Tok::punct;
      t.text = "::";
      return t;
    }
    static const std::string_view kPunct = ",;:{}[]<>=?@()";
    if (kPunct.find(c) != std::string_view::npos) {
      advance();
      t.kind = Tok::punct;
      t.text = std::string(1, c);
      return t;
    }
    t.kind = Tok::bad;
    t.error = "unexpected character";
    advance();
    return t;
  }

 private:
  void advance() {
    const unsigned char c = static_cast<unsigned char>(text_[i_]);
    ++i_;
    if (c == '\n') {
      ++line_;
      column_ = 1;
    } else if ((c & 0xC0) != 0x80) {
      // Columns count Unicode scalar values: continuation bytes do not move it.
      if (i_ < text_.size() && (static_cast<unsigned char>(text_[i_]) & 0xC0) == 0x80) {
        ++column_;
        while (i_ < text_.size() && (static_cast<unsigned char>(text_[i_]) & 0xC0) == 0x80) ++i_;
      } else {
        ++column_;
      }
    }
  }

  void skip_space() {
    while (i_ < text_.size()) {
      const char c = text_[i_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        advance();
      } else if (c == '/' && i_ + 1 < text_.size() && text_[i_ + 1] == '/') {
        while (i_ < text_.size() && text_[i_] != '\n') advance();
      } else {
        break;
      }
    }
  }

  // string_token reads a Cedar string literal with Cedar's escapes.
  Token string_token(Token t) {
    advance();  // opening quote
    std::string out;
    while (true) {
      if (i_ >= text_.size()) {
        t.kind = Tok::bad;
        t.error = "unterminated string literal";
        return t;
      }
      const char c = text_[i_];
      if (c == '"') {
        advance();
        break;
      }
      if (c != '\\') {
        const std::size_t start = i_;
        advance();
        out.append(text_.substr(start, i_ - start));
        continue;
      }
      advance();
      if (i_ >= text_.size()) continue;
      const char e = text_[i_];
      advance();
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case '\\':
          out += '\\';
          break;
        case '0':
          out += '\0';
          break;
        case '\'':
          out += '\'';
          break;
        case '"':
          out += '"';
          break;
        case 'u': {
          std::uint32_t cp = 0;
          int digits = 0;
          bool ok = i_ < text_.size() && text_[i_] == '{';
          if (ok) advance();
          while (ok && i_ < text_.size() && text_[i_] != '}') {
            const char h = text_[i_];
            int v = -1;
            if (h >= '0' && h <= '9') v = h - '0';
            if (h >= 'a' && h <= 'f') v = h - 'a' + 10;
            if (h >= 'A' && h <= 'F') v = h - 'A' + 10;
            if (v < 0 || digits == 6) {
              ok = false;
              break;
            }
            cp = cp * 16 + static_cast<std::uint32_t>(v);
            ++digits;
            advance();
          }
          if (ok && i_ < text_.size()) advance();  // '}'
          if (!ok || digits == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            if (t.error.empty()) t.error = "invalid \\u escape in string literal";
          } else {
            append_utf8(out, cp);
          }
          break;
        }
        default:
          if (t.error.empty())
            t.error = std::string("invalid escape `\\") + e + "` in string literal";
      }
    }
    if (!t.error.empty()) {
      t.kind = Tok::bad;
      return t;
    }
    t.kind = Tok::string;
    t.text = std::move(out);
    return t;
  }

  std::string_view text_;
  std::size_t i_ = 0;
  std::uint32_t line_ = 1;
  std::uint32_t column_ = 1;
};

class Parser {
 public:
  explicit Parser(std::string_view text) : lexer_(text) {
    cur_ = lexer_.next();
    peek_ = lexer_.next();
  }

  RawSchema schema() {
    RawSchema out;
    while (cur_.kind != Tok::end) {
      // Annotations are checked (no key twice) and otherwise ignored.
      (void)parse_annotations();
      if (is_ident("namespace")) {
        RawNamespace ns;
        ns.pos = cur_.pos;
        take();
        ns.name = path();
        expect("{");
        while (!is_punct("}")) {
          if (cur_.kind == Tok::end) fail("expected `}` to close namespace `" + ns.name + "`");
          (void)parse_annotations();
          declaration(ns);
        }
        take();
        out.namespaces.push_back(std::move(ns));
      } else {
        // A declaration outside any namespace belongs to the empty namespace;
        // keep one empty namespace so duplicates are found within it.
        RawNamespace* empty = nullptr;
        for (RawNamespace& ns : out.namespaces) {
          if (ns.name.empty()) empty = &ns;
        }
        if (!empty) {
          out.namespaces.emplace_back();
          empty = &out.namespaces.back();
          empty->pos = cur_.pos;
        }
        declaration(*empty);
      }
    }
    return out;
  }

 private:
  [[noreturn]] void fail(std::string message) const {
    throw ParseFailure{cur_.pos, std::move(message)};
  }
  [[noreturn]] void unexpected(std::string_view wanted) const {
    if (cur_.kind == Tok::bad) throw ParseFailure{cur_.pos, cur_.error};
    if (cur_.kind == Tok::end)
      throw ParseFailure{cur_.pos, "unexpected end of input, expected " + std::string(wanted)};
    const std::string shown = cur_.kind == Tok::string ? "\"" + cur_.text + "\"" : cur_.text;
    throw ParseFailure{cur_.pos,
                       "unexpected token `" + shown + "`, expected " + std::string(wanted)};
  }

  void take() {
    cur_ = std::move(peek_);
    peek_ = lexer_.next();
  }
  bool is_punct(std::string_view p) const { return cur_.kind == Tok::punct && cur_.text == p; }
  bool is_ident(std::string_view id) const { return cur_.kind == Tok::ident && cur_.text == id; }
  void expect(std::string_view p) {
    if (!is_punct(p)) unexpected("`" + std::string(p) + "`");
    take();
  }

  // ident reads an identifier that is not a reserved word.
  std::string ident() {
    if (cur_.kind != Tok::ident) unexpected("an identifier");
    if (is_reserved_identifier(cur_.text)) fail("`" + cur_.text + "` is a reserved identifier");
    std::string out = cur_.text;
    take();
    return out;
  }

  std::string path() {
    std::string out = ident();
    while (is_punct("::") && peek_.kind == Tok::ident) {
      take();
      out += "::" + ident();
    }
    return out;
  }

  std::set<std::string> parse_annotations() {
    std::set<std::string> seen;
    while (is_punct("@")) {
      take();
      if (cur_.kind != Tok::ident) unexpected("an annotation name");
      const Pos pos = cur_.pos;
      const std::string key = cur_.text;
      take();
      if (is_punct("(")) {
        take();
        if (cur_.kind != Tok::string) unexpected("a string");
        take();
        expect(")");
      }
      if (!seen.insert(key).second) throw ParseFailure{pos, "duplicate annotations: `" + key + "`"};
    }
    return seen;
  }

  // name reads an identifier or a string (attribute and action names).
  std::string name() {
    if (cur_.kind == Tok::string) {
      std::string out = cur_.text;
      take();
      return out;
    }
    return ident();
  }

  void declaration(RawNamespace& ns) {
    if (is_ident("entity")) {
      entity(ns);
    } else if (is_ident("action")) {
      action(ns);
    } else if (is_ident("type")) {
      common(ns);
    } else {
      unexpected("`entity`, `action`, `type` or `namespace`");
    }
  }

  std::vector<std::pair<std::string, Pos>> entity_types() {
    std::vector<std::pair<std::string, Pos>> out;
    if (is_punct("[")) {
      take();
      // `[]`, or paths separated by commas (no trailing comma).
      if (!is_punct("]")) {
        while (true) {
          const Pos pos = cur_.pos;
          out.emplace_back(path(), pos);
          if (!is_punct(",")) break;
          take();
        }
      }
      expect("]");
    } else {
      const Pos pos = cur_.pos;
      out.emplace_back(path(), pos);
    }
    return out;
  }

  void entity(RawNamespace& ns) {
    const Pos pos = cur_.pos;
    take();
    std::vector<std::pair<std::string, Pos>> names;
    while (true) {
      const Pos npos = cur_.pos;
      names.emplace_back(ident(), npos);
      if (!is_punct(",")) break;
      take();
    }
    RawEntity proto;
    proto.pos = pos;
    if (is_ident("enum")) {
      take();
      expect("[");
      std::vector<std::string> choices;
      while (true) {
        if (cur_.kind != Tok::string) unexpected("a string");
        choices.push_back(cur_.text);
        take();
        if (!is_punct(",")) break;
        take();
      }
      expect("]");
      proto.enum_choices = std::move(choices);
    } else {
      if (is_ident("in")) {
        take();
        proto.member_of = entity_types();
      }
      if (is_punct("=") || is_punct("{")) {
        if (is_punct("=")) take();
        if (!is_punct("{")) unexpected("`{`");
        proto.shape = record_type();
      }
      if (is_ident("tags")) {
        take();
        proto.tags = type();
      }
    }
    expect(";");
    for (auto& [n, npos] : names) {
      RawEntity e = proto;
      e.name = n;
      e.pos = npos;
      ns.entities.push_back(std::move(e));
    }
  }

  RawType record_type() {
    RawType t;
    t.kind = RawType::Kind::record;
    t.pos = cur_.pos;
    expect("{");
    while (!is_punct("}")) {
      (void)parse_annotations();
      RawAttr a;
      a.pos = cur_.pos;
      a.name = name();
      if (is_punct("?")) {
        a.required = false;
        take();
      }
      expect(":");
      a.type = type();
      t.attrs.push_back(std::move(a));
      if (!is_punct(",")) break;
      take();
    }
    expect("}");
    return t;
  }

  RawType type() {
    // Nesting is bounded so that hostile input cannot exhaust the stack.
    struct Depth {
      explicit Depth(int& d) : d_(d) { ++d_; }
      ~Depth() { --d_; }
      int& d_;
    } depth(depth_);
    if (depth_ > 200) fail("types are nested too deeply");
    if (is_punct("{")) return record_type();
    if (is_ident("Set") && peek_.kind == Tok::punct && peek_.text == "<") {
      RawType t;
      t.kind = RawType::Kind::set;
      t.pos = cur_.pos;
      take();
      take();
      t.element.push_back(type());
      expect(">");
      return t;
    }
    RawType t;
    t.kind = RawType::Kind::name;
    t.pos = cur_.pos;
    t.name = path();
    return t;
  }

  void common(RawNamespace& ns) {
    take();
    RawCommon c;
    c.pos = cur_.pos;
    c.name = ident();
    expect("=");
    c.type = type();
    expect(";");
    ns.commons.push_back(std::move(c));
  }

  // action_ref reads a QualName: Name, or Path::"id".
  RawActionRef action_ref() {
    RawActionRef ref;
    ref.pos = cur_.pos;
    if (cur_.kind == Tok::string) {
      ref.id = cur_.text;
      take();
      return ref;
    }
    std::string first = ident();
    std::string type_path = first;
    while (is_punct("::")) {
      take();
      if (cur_.kind == Tok::string) {
        ref.type = type_path;
        ref.id = cur_.text;
        take();
        return ref;
      }
      type_path += "::" + ident();
    }
    if (type_path != first) unexpected("`::` and a string naming the action");
    ref.id = first;
    return ref;
  }

  void action(RawNamespace& ns) {
    take();
    std::vector<std::pair<std::string, Pos>> names;
    while (true) {
      const Pos npos = cur_.pos;
      names.emplace_back(name(), npos);
      if (!is_punct(",")) break;
      take();
    }
    RawAction proto;
    if (is_ident("in")) {
      take();
      if (is_punct("[")) {
        take();
        while (true) {
          proto.member_of.push_back(action_ref());
          if (!is_punct(",")) break;
          take();
        }
        expect("]");
      } else {
        proto.member_of.push_back(action_ref());
      }
    }
    if (is_ident("appliesTo")) {
      const Pos applies_pos = cur_.pos;
      take();
      proto.has_applies_to = true;
      expect("{");
      bool seen_principal = false;
      bool seen_resource = false;
      bool seen_context = false;
      bool any = false;
      while (!is_punct("}")) {
        any = true;
        if (is_ident("principal") || is_ident("resource")) {
          const bool principal = cur_.text == "principal";
          bool& seen = principal ? seen_principal : seen_resource;
          if (seen)
            fail(std::string("duplicate `") + (principal ? "principal" : "resource") +
                 "` declaration");
          seen = true;
          take();
          expect(":");
          const Pos lpos = cur_.pos;
          auto types = entity_types();
          if (types.empty()) {
            throw ParseFailure{lpos,
                               std::string("`") + (principal ? "principal" : "resource") +
                                   "` is `[]`, which is invalid: every action needs principal and "
                                   "resource types"};
          }
          (principal ? proto.principals : proto.resources) = std::move(types);
        } else if (is_ident("context")) {
          if (seen_context) fail("duplicate `context` declaration");
          seen_context = true;
          take();
          expect(":");
          if (is_punct("{")) {
            proto.context = record_type();
          } else {
            RawType t;
            t.kind = RawType::Kind::name;
            t.pos = cur_.pos;
            t.name = path();
            proto.context = std::move(t);
          }
        } else {
          unexpected("`principal`, `resource` or `context`");
        }
        if (!is_punct(",")) break;
        take();
      }
      if (!any) unexpected("`principal`, `resource` or `context`");
      expect("}");
      const std::string first = names.front().first;
      if (!seen_principal)
        throw ParseFailure{applies_pos, "missing `principal` declaration for `" + first + "`"};
      if (!seen_resource)
        throw ParseFailure{applies_pos, "missing `resource` declaration for `" + first + "`"};
    }
    if (is_ident("attributes")) {
      take();
      expect("{");
      expect("}");
    }
    expect(";");
    for (auto& [n, npos] : names) {
      RawAction a = proto;
      a.name = n;
      a.pos = npos;
      ns.actions.push_back(std::move(a));
    }
  }

  Lexer lexer_;
  int depth_ = 0;
  Token cur_;
  Token peek_;
};

}  // namespace

Result<RawSchema, std::vector<Diagnostic>> parse_schema_text(std::string_view text,
                                                             std::string_view file) {
  try {
    Parser p(text);
    return p.schema();
  } catch (const ParseFailure& f) {
    return std::vector<Diagnostic>{
        Diagnostic{std::string(file), f.pos.line, f.pos.column, f.message}};
  }
}

}  // namespace idra::policy

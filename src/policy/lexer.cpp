// lexer.cpp: Cedar tokens, string escapes and positions.
#include "policy/lexer.hpp"

#include <array>

namespace idra::policy::lex {

namespace {

bool ident_start(char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool ident_char(char c) { return ident_start(c) || (c >= '0' && c <= '9'); }
bool digit(char c) { return c >= '0' && c <= '9'; }

// decode reads the UTF-8 sequence at |text[i]| (known to be valid) and
// returns its scalar value and byte length.
char32_t decode(std::string_view text, std::size_t i, std::size_t& len) {
  const auto b0 = static_cast<unsigned char>(text[i]);
  if (b0 < 0x80) {
    len = 1;
    return b0;
  }
  std::size_t n = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : 2;
  if (i + n > text.size()) n = text.size() - i;
  char32_t c = b0 & (n == 4 ? 0x07 : n == 3 ? 0x0F : 0x1F);
  for (std::size_t k = 1; k < n; ++k)
    c = (c << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
  len = n;
  return c;
}

// Rust's `\s` (Unicode White_Space), which is what Cedar's lexer skips.
bool white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Escape is one decoded element of a string's raw text.
struct Escape {
  char32_t ch = 0;
  bool escaped_star = false;  // the two characters `\*`
};

// next_char decodes the element at raw[i], advancing i. False (with
// |error| naming the escape) on an invalid escape.
bool next_char(std::string_view raw, std::size_t& i, bool pattern, Escape& out,
               std::string& error) {
  out = Escape{};
  if (raw[i] != '\\') {
    std::size_t len = 1;
    out.ch = decode(raw, i, len);
    i += len;
    return true;
  }
  const std::size_t start = i;
  auto fail = [&](std::size_t end) {
    error = "the input `" + std::string(raw.substr(start, end - start)) + "` is not a valid escape";
    i = end;
    return false;
  };
  if (i + 1 >= raw.size()) return fail(raw.size());
  const char e = raw[i + 1];
  i += 2;
  switch (e) {
    case 'n':
      out.ch = '\n';
      return true;
    case 'r':
      out.ch = '\r';
      return true;
    case 't':
      out.ch = '\t';
      return true;
    case '\\':
      out.ch = '\\';
      return true;
    case '0':
      out.ch = 0;
      return true;
    case '\'':
      out.ch = '\'';
      return true;
    case '"':
      out.ch = '"';
      return true;
    case '*':
      if (!pattern) return fail(i);
      out.ch = '*';
      out.escaped_star = true;
      return true;
    case 'x': {
      if (i + 2 > raw.size()) return fail(raw.size());
      const int hi = hex_value(raw[i]);
      const int lo = hex_value(raw[i + 1]);
      if (hi < 0 || lo < 0) return fail(i + (hi < 0 ? 1 : 2));
      if (hi > 7) return fail(i + 2);
      out.ch = static_cast<char32_t>(hi * 16 + lo);
      i += 2;
      return true;
    }
    case 'u': {
      if (i >= raw.size() || raw[i] != '{') return fail(i);
      std::size_t j = i + 1;
      char32_t v = 0;
      std::size_t digits = 0;
      while (j < raw.size() && hex_value(raw[j]) >= 0) {
        if (digits < 7) v = v * 16 + static_cast<char32_t>(hex_value(raw[j]));
        ++digits;
        ++j;
      }
      if (j >= raw.size() || raw[j] != '}') return fail(j);
      ++j;
      if (digits == 0 || digits > 6 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return fail(j);
      out.ch = v;
      i = j;
      return true;
    }
    default: {
      std::size_t len = 1;
      decode(raw, i - 1, len);
      return fail(i - 1 + len);
    }
  }
}

}  // namespace

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

bool unescape(std::string_view raw, std::string& out, std::string& error) {
  out.clear();
  out.reserve(raw.size());
  std::size_t i = 0;
  Escape e;
  while (i < raw.size()) {
    if (!next_char(raw, i, false, e, error)) return false;
    append_utf8(out, e.ch);
  }
  return true;
}

bool unescape_pattern(std::string_view raw, std::vector<ast::PatternElem>& out,
                      std::string& error) {
  out.clear();
  std::size_t i = 0;
  Escape e;
  while (i < raw.size()) {
    if (!next_char(raw, i, true, e, error)) return false;
    // Cedar decodes escapes first, so `\u{2A}` is a wildcard like `*`; only
    // the two characters `\*` make a literal star.
    out.push_back(ast::PatternElem{e.ch == '*' && !e.escaped_star, e.ch});
  }
  return true;
}

bool is_reserved(std::string_view s) {
  static constexpr std::array<std::string_view, 9> kReserved = {
      "true", "false", "if", "then", "else", "in", "is", "like", "has"};
  for (std::string_view r : kReserved) {
    if (s == r) return true;
  }
  return false;
}

bool is_ident(std::string_view s) {
  if (s.empty() || !ident_start(s[0])) return false;
  for (char c : s) {
    if (!ident_char(c)) return false;
  }
  return true;
}

std::size_t first_invalid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = 0;
    char32_t min = 0;
    char32_t c = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      n = 2, min = 0x80, c = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      n = 3, min = 0x800, c = b0 & 0x0F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      n = 4, min = 0x10000, c = b0 & 0x07;
    } else {
      return i;
    }
    if (i + n > text.size()) return i;
    for (std::size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(text[i + k]);
      if ((b & 0xC0) != 0x80) return i;
      c = (c << 6) | (b & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return i;
    i += n;
  }
  return text.size();
}

ast::Loc position(std::string_view text, std::size_t offset) {
  ast::Loc loc{1, 1, static_cast<std::uint32_t>(offset), 0};
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b == '\n') {
      ++loc.line;
      loc.column = 1;
    } else if ((b & 0xC0) != 0x80) {
      ++loc.column;
    }
  }
  return loc;
}

std::vector<Token> lex(std::string_view text) {
  std::vector<Token> out;
  std::size_t i = 0;
  std::uint32_t line = 1;
  std::uint32_t column = 1;
  // advance moves i to |end|, keeping line and column in step.
  auto advance = [&](std::size_t end) {
    while (i < end) {
      const auto b = static_cast<unsigned char>(text[i]);
      if (b == '\n') {
        ++line;
        column = 1;
      } else if ((b & 0xC0) != 0x80) {
        ++column;
      }
      ++i;
    }
  };
  auto push = [&](Tok kind, std::size_t len, std::string_view body) {
    Token t;
    t.kind = kind;
    t.text = body;
    t.loc = ast::Loc{line, column, static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(len)};
    out.push_back(std::move(t));
    advance(i + len);
  };
  auto push_error = [&](std::size_t len, std::string message) {
    push(Tok::error, len, text.substr(i, len));
    out.back().message = std::move(message);
  };
  while (i < text.size()) {
    const char c = text[i];
    const auto uc = static_cast<unsigned char>(c);
    if (uc >= 0x80) {
      std::size_t len = 1;
      const char32_t cp = decode(text, i, len);
      if (white_space(cp)) {
        advance(i + len);
      } else {
        push_error(len, "invalid character `" + std::string(text.substr(i, len)) + "`");
      }
      continue;
    }
    if (white_space(uc)) {
      advance(i + 1);
      continue;
    }
    if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      std::size_t end = i + 2;
      while (end < text.size() && text[end] != '\n' && text[end] != '\r') ++end;
      advance(end);
      continue;
    }
    if (ident_start(c)) {
      std::size_t end = i + 1;
      while (end < text.size() && ident_char(text[end])) ++end;
      push(Tok::ident, end - i, text.substr(i, end - i));
      continue;
    }
    if (digit(c)) {
      std::size_t end = i + 1;
      while (end < text.size() && digit(text[end])) ++end;
      push(Tok::integer, end - i, text.substr(i, end - i));
      continue;
    }
    if (c == '"') {
      std::size_t end = i + 1;
      while (end < text.size() && text[end] != '"') end += text[end] == '\\' ? 2 : 1;
      if (end >= text.size()) {
        push_error(text.size() - i, "unterminated string literal");
        continue;
      }
      push(Tok::string, end + 1 - i, text.substr(i + 1, end - i - 1));
      continue;
    }
    if (c == '?') {
      std::size_t end = i + 1;
      while (end < text.size() && ident_char(text[end])) ++end;
      const std::string_view name = text.substr(i + 1, end - i - 1);
      if (name == "principal" || name == "resource") {
        push(Tok::slot, end - i, name);
      } else if (name.empty()) {
        push_error(1, "invalid character `?`");
      } else {
        push_error(end - i,
                   "`?" + std::string(name) +
                       "` is not a valid template slot (a slot is `?principal` or `?resource`)");
      }
      continue;
    }
    const char n = i + 1 < text.size() ? text[i + 1] : '\0';
    switch (c) {
      case '(':
        push(Tok::lparen, 1, "(");
        break;
      case ')':
        push(Tok::rparen, 1, ")");
        break;
      case '[':
        push(Tok::lbracket, 1, "[");
        break;
      case ']':
        push(Tok::rbracket, 1, "]");
        break;
      case '{':
        push(Tok::lbrace, 1, "{");
        break;
      case '}':
        push(Tok::rbrace, 1, "}");
        break;
      case ',':
        push(Tok::comma, 1, ",");
        break;
      case ';':
        push(Tok::semicolon, 1, ";");
        break;
      case '.':
        push(Tok::dot, 1, ".");
        break;
      case '@':
        push(Tok::at, 1, "@");
        break;
      case '+':
        push(Tok::plus, 1, "+");
        break;
      case '-':
        push(Tok::minus, 1, "-");
        break;
      case '*':
        push(Tok::star, 1, "*");
        break;
      case ':':
        if (n == ':') {
          push(Tok::coloncolon, 2, "::");
        } else {
          push(Tok::colon, 1, ":");
        }
        break;
      case '=':
        if (n == '=') {
          push(Tok::eq, 2, "==");
        } else {
          push_error(1, "`=` is not a valid operator in Cedar (use `==`)");
        }
        break;
      case '!':
        if (n == '=') {
          push(Tok::neq, 2, "!=");
        } else {
          push(Tok::bang, 1, "!");
        }
        break;
      case '<':
        if (n == '=') {
          push(Tok::le, 2, "<=");
        } else {
          push(Tok::lt, 1, "<");
        }
        break;
      case '>':
        if (n == '=') {
          push(Tok::ge, 2, ">=");
        } else {
          push(Tok::gt, 1, ">");
        }
        break;
      case '&':
        if (n == '&') {
          push(Tok::and_, 2, "&&");
        } else {
          push_error(1, "invalid character `&` (use `&&`)");
        }
        break;
      case '|':
        if (n == '|') {
          push(Tok::or_, 2, "||");
        } else {
          push_error(1, "invalid character `|` (use `||`)");
        }
        break;
      default:
        push_error(1, uc < 0x20 || uc == 0x7F ? "invalid control character"
                                              : "invalid character `" + std::string(1, c) + "`");
        break;
    }
  }
  Token end;
  end.kind = Tok::eof;
  end.loc = ast::Loc{line, column, static_cast<std::uint32_t>(i), 0};
  out.push_back(std::move(end));
  return out;
}

}  // namespace idra::policy::lex

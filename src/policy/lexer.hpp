// lexer.hpp: the tokens of Cedar policy text (internal to src/policy).
//
// lex() turns the whole text into tokens up front; a character that starts
// no token becomes an `error` token (with a message) rather than stopping
// the lexer, so the parser decides how to report it and where to resume.
// String tokens keep their raw text: escapes are decoded by unescape(),
// because `like` patterns treat `\*` differently from plain strings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policy/ast.hpp"

namespace idra::policy::lex {

enum class Tok {
  ident,    // [_a-zA-Z][_a-zA-Z0-9]*, keywords included (they are contextual)
  integer,  // [0-9]+ (the value is checked by the parser)
  string,   // "..." ; text is the raw content between the quotes
  slot,     // ?principal / ?resource ; text is the name without '?'
  lparen,
  rparen,
  lbracket,
  rbracket,
  lbrace,
  rbrace,
  comma,
  semicolon,
  colon,
  coloncolon,
  dot,
  at,
  eq,
  neq,
  lt,
  le,
  gt,
  ge,
  and_,
  or_,
  plus,
  minus,
  star,
  bang,
  error,  // text is the offending input, message says what is wrong
  eof,
};

struct Token {
  Tok kind = Tok::eof;
  std::string_view text;  // see Tok
  ast::Loc loc;           // start position and byte length of the whole token
  std::string message;    // error tokens only
};

// lex splits |text| into tokens, skipping whitespace (Unicode White_Space)
// and `//` comments. The last token is always `eof`. |text| must be valid
// UTF-8 (check with first_invalid_utf8 first) and shorter than 4 GiB.
std::vector<Token> lex(std::string_view text);

// first_invalid_utf8 returns the byte offset of the first byte that is not
// part of a well-formed UTF-8 sequence (no surrogates, no overlongs), or
// text.size() when the whole text is valid.
std::size_t first_invalid_utf8(std::string_view text);

// position returns the 1-based line and column (in Unicode scalar values)
// of byte |offset| of |text|.
ast::Loc position(std::string_view text, std::size_t offset);

// unescape decodes the raw content of a string token with Cedar's escapes
// (\n \r \t \\ \0 \' \" \xHH up to 7F, \u{1-6 hex digits} naming a Unicode
// scalar value). In pattern mode `\*` is kept as a literal star: the result
// is then a list of pattern elements. Returns false with |error| set (the
// offending escape) on an invalid escape.
bool unescape(std::string_view raw, std::string& out, std::string& error);
bool unescape_pattern(std::string_view raw, std::vector<ast::PatternElem>& out, std::string& error);

// append_utf8 appends scalar value |c| to |out| in UTF-8.
void append_utf8(std::string& out, char32_t c);

// is_reserved is true for the identifiers Cedar never accepts as a name
// (attribute, record key, entity type component): true, false, if, then,
// else, in, is, like, has. `__cedar` is not in this list: it is reserved
// as a name component only (an annotation may be called `@__cedar`), and the
// parser checks it where it applies.
bool is_reserved(std::string_view ident);

// is_ident is true when |s| has the shape of a Cedar identifier.
bool is_ident(std::string_view s);

}  // namespace idra::policy::lex

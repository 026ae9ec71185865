// ids.hpp: identifier schemes, parsed, validated and mapped to canonical handles.
//
// Every scheme parses to a typed identifier and prints exactly one canonical
// handle; the store only ever sees canonical handles. All functions here are
// pure (no I/O, no global mutable state) and never throw on bad input: an
// invalid identifier is an Error whose message says what is wrong and where.
//
// Case rules. A handle prefix is compared case-insensitively (ASCII letters
// only; "10.abc" and "10.ABC" are one prefix) and its canonical spelling is
// upper-cased. A handle suffix is case-sensitive and kept byte for byte:
// suffixes carry GS1 serial numbers, lot codes and URL paths, all of which are
// case-sensitive ("/21/abc" and "/21/ABC" are two different items). Foreign
// schemes follow their own standards: URL schemes and hosts are
// case-insensitive, EPC and OID URN prefixes ("urn:epc:id:", "urn:oid:") are
// case-insensitive, everything else is case-sensitive.
//
// GS1 details (the Application Identifier table, Digital Link parsing, check
// digits, EPC URNs) are in gs1.hpp.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "idra/result.hpp"

namespace idra::ids {

inline constexpr std::size_t kMaxHandleBytes = 2048;

enum class Scheme { handle, gs1, epc, oid, iec61406 };

// scheme_name returns "handle", "gs1", "epc", "oid" or "iec61406".
std::string_view scheme_name(Scheme scheme);
// scheme_from_name is the inverse; nullopt for an unknown name.
std::optional<Scheme> scheme_from_name(std::string_view name);

// ---------------------------------------------------------------------------
// Handles.

struct Handle {
  std::string prefix;  // canonical: ASCII letters upper-cased
  std::string suffix;  // exactly as given (case-sensitive)
  std::string str() const { return prefix + "/" + suffix; }
};

// parse_handle strips an "hdl:" or "doi:" scheme (any case, once; a second
// scheme is an Error), splits at the first '/', checks UTF-8, length
// (<= kMaxHandleBytes, counted without the scheme) and prefix syntax, and
// canonicalizes the prefix. The suffix must be non-empty and may hold any
// UTF-8 text except ASCII control characters (U+0000-001F, U+007F). Errors
// name the offending byte offset in |text|.
Result<Handle> parse_handle(std::string_view text);

// canonical_prefix validates a prefix alone ("88.100.1", "0.NA/88.100" is
// NOT accepted here: callers strip "0.NA/" themselves) and returns it in
// canonical form. A prefix is one or more '.'-separated segments; a segment
// is non-empty UTF-8 without '/', control characters (C0, DEL, C1) or
// whitespace (ASCII and Unicode White_Space).
Result<std::string> canonical_prefix(std::string_view prefix);

// prefix_ancestors returns |prefix| and every dotted ancestor, nearest first:
// "88.100.1" -> {"88.100.1", "88.100", "88"}. |prefix| must be canonical.
std::vector<std::string> prefix_ancestors(std::string_view prefix);

// prefix_parent is the nearest dotted ancestor of |prefix| as a view into
// it ("88.100.1" -> "88.100"); empty when it has none. prefix_ancestors is
// |prefix| followed by its parents, for walks that must not allocate.
std::string_view prefix_parent(std::string_view prefix);

// prefix_is_within returns true when |prefix| equals |ancestor| or lies
// below it in the dotted hierarchy ("20.5001" is not within "20.500").
// Both must be canonical.
bool prefix_is_within(std::string_view prefix, std::string_view ancestor);

// ---------------------------------------------------------------------------
// OIDs (ITU-T X.660).

// canonical_oid validates an object identifier, with or without a "urn:oid:"
// prefix (any case), and returns its dotted form "1.2.840.113549". Arcs are
// decimal digit strings without leading zeros and of any size (kept as text,
// never converted to integers); there are at least two; the first is 0, 1 or
// 2; under 0 and 1 the second is at most 39.
Result<std::string> canonical_oid(std::string_view text);

// ---------------------------------------------------------------------------
// IEC 61406 identification links.

// kMaxIdentificationLinkChars bounds an identification link. IEC 61406-1
// requires the link to fit its 2D symbol (ILS-5 "String length"); the text
// of the standard is not public, so we use the 255 characters commonly
// cited for it. Both the given text and the canonical form must fit.
inline constexpr std::size_t kMaxIdentificationLinkChars = 255;

// IdentificationLink is a parsed IEC 61406 identification link in canonical
// form (see parse_identification_link).
struct IdentificationLink {
  std::string host;                  // lower-cased; an IPv6 literal keeps its brackets
  std::string port;                  // decimal without leading zeros; empty for 443
  std::string path;                  // starts with '/'; case kept
  std::optional<std::string> query;  // without the '?'; case kept
  // url returns "https://host[:port]/path[?query]".
  std::string url() const;
};

// parse_identification_link validates an IEC 61406 identification link and
// returns it in canonical form. Rules (IEC 61406-1 ILS-5..ILS-9 as far as
// public sources describe them, and RFC 3986):
//   - absolute URL with scheme "https" (any case) and a host; "http" is
//     rejected: the IANA "ilstring" registration (IEC 61406-2:2024 Annex F)
//     describes the IL string as "a valid URL with an https scheme";
//   - no user information ("user@host"); the port, if any, is 1-65535;
//   - at most kMaxIdentificationLinkChars characters;
//   - only RFC 3986 characters: no spaces, control characters or non-ASCII
//     bytes (those must be percent-encoded), '%' only in valid "%XX" escapes,
//     '[' and ']' only around an IPv6 host;
//   - no "." or ".." path segments (characters with special functions).
// Canonical form: scheme and host lower-cased, default port 443 dropped,
// empty path written "/", percent-escapes upper-cased and escapes of
// unreserved characters decoded (RFC 3986 section 6.2.2), path and query case
// kept, the fragment dropped (it is not sent to the server, so it cannot
// distinguish two objects).
Result<IdentificationLink> parse_identification_link(std::string_view text);

// ---------------------------------------------------------------------------
// Foreign schemes and the mapping to canonical handles.

struct MappingConfig {
  // prefix under which every foreign identifier gets its canonical handle:
  // PREFIX/gs1/..., PREFIX/oid/..., PREFIX/iec61406/... (see README).
  std::string prefix = "IDRA";
};

struct Identifier {
  Scheme scheme = Scheme::handle;
  // canonical is the scheme's own canonical spelling: the handle, the
  // uncompressed Digital Link path ("/01/09506000134352/21/A1": primary key
  // and key qualifiers, no data attributes), the EPC URN, the dotted OID, the
  // normalized https URL.
  std::string canonical;
  // handle is the one canonical handle this identifier maps to:
  //   handle    the handle itself
  //   gs1, epc  PREFIX/gs1/01/09506000134352/21/A1 (canonical Digital Link path)
  //   oid       PREFIX/oid/1.2.840.113549
  //   iec61406  PREFIX/iec61406/host[:port]/path[?query] (the canonical URL
  //             without "https://"; it only holds RFC 3986 characters, which
  //             a handle suffix keeps verbatim, so the mapping is reversible)
  std::string handle;
};

// identify parses |text| as |only| if given, else detects the scheme:
//   "urn:epc:..."                            -> epc (mapped onto its GS1 key)
//   "urn:oid:..." or dotted digits (no '/')  -> oid
//   "(01)...", a Digital Link path "/01/...", a bare GTIN (8, 12, 13 or
//   14 digits), or an http(s) URL whose path has a Digital Link shape -> gs1
//   any other https URL                      -> iec61406
//   otherwise                                 -> handle
// A URL has a Digital Link shape when a path segment is a primary-key AI
// (flagged dlpkey in the GS1 syntax dictionary) or its alias ("gtin",
// "sscc", ...) followed by a non-empty segment; such a URL is parsed as GS1
// and its errors are reported (a mistyped check digit is an Error, not an
// IEC 61406 link). With only = iec61406 the same URL is an identification
// link. In a Digital Link or an element string a GTIN has exactly 14 digits
// (the Digital Link grammar: "GTIN-8, GTIN-12 and GTIN-13 SHALL be expressed
// as 14 digits"), so "https://a/01/2112345678900" is not a Digital Link; a
// bare GTIN key is padded to 14 digits.
// A handle under MappingConfig::prefix is a foreign identifier spelled as
// its handle: it is parsed back and re-canonicalized, so two spellings of
// one identifier always give the same handle, and an invalid one is an
// Error. Such a handle is accepted with |only| unset, handle, or its own
// scheme, and the result carries the foreign scheme (gs1, oid, iec61406).
// With |only|, text that is not valid for that scheme is an Error even if
// another scheme would accept it. A handle whose canonical spelling would be
// detected as another scheme ("URN:OID:1.2/x") is an Error, so that every
// handle identify returns identifies back to itself.
Result<Identifier> identify(std::string_view text, const MappingConfig& config,
                            std::optional<Scheme> only = std::nullopt);

// identifier_from_handle is the reverse mapping: for a handle under
// config.prefix it returns the foreign identifier the handle names (scheme,
// canonical spelling, canonical handle), an Error if the suffix is not a
// valid foreign identifier; for any other handle it returns the handle
// itself (Scheme::handle).
Result<Identifier> identifier_from_handle(std::string_view handle, const MappingConfig& config);

}  // namespace idra::ids

// ids.hpp: identifier schemes, parsed, validated and mapped to canonical handles.
//
// Every scheme parses to a typed identifier and prints exactly one canonical
// handle; the store only ever sees canonical handles. All functions here are
// pure (no I/O, no global mutable state) and never throw on bad input: an
// invalid identifier is an Error whose message says what is wrong and where.
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

// parse_handle strips an "hdl:" or "doi:" scheme, splits at the first '/',
// checks UTF-8, length (<= kMaxHandleBytes) and prefix syntax, and
// canonicalizes the prefix. Errors name the offending byte offset.
Result<Handle> parse_handle(std::string_view text);

// canonical_prefix validates a prefix alone ("88.100.1", "0.NA/88.100" is
// NOT accepted here: callers strip "0.NA/" themselves) and returns it in
// canonical form.
Result<std::string> canonical_prefix(std::string_view prefix);

// prefix_ancestors returns |prefix| and every dotted ancestor, nearest first:
// "88.100.1" -> {"88.100.1", "88.100", "88"}. |prefix| must be canonical.
std::vector<std::string> prefix_ancestors(std::string_view prefix);

// prefix_is_within returns true when |prefix| equals |ancestor| or lies
// below it in the dotted hierarchy ("20.5001" is not within "20.500").
// Both must be canonical.
bool prefix_is_within(std::string_view prefix, std::string_view ancestor);

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
  // uncompressed Digital Link path ("/01/09506000134352/21/A1"), the EPC
  // URN, the dotted OID, the normalized https URL.
  std::string canonical;
  // handle is the one canonical handle this identifier maps to.
  std::string handle;
};

// identify parses |text| as |only| if given, else detects the scheme:
//   "urn:epc:id:..."                         -> epc (mapped onto its GS1 key)
//   "urn:oid:..." or dotted digits (no '/')  -> oid
//   "(01)...", or an http(s) URL whose path has a Digital Link shape -> gs1
//   any other https URL                      -> iec61406
//   otherwise                                 -> handle
// A handle under MappingConfig::prefix is a foreign identifier spelled as
// its handle: it is parsed back and re-canonicalized, so two spellings of
// one identifier always give the same handle, and an invalid one is an
// Error. With |only|, text that is not valid for that scheme is an Error
// even if another scheme would accept it.
Result<Identifier> identify(std::string_view text, const MappingConfig& config,
                            std::optional<Scheme> only = std::nullopt);

}  // namespace idra::ids

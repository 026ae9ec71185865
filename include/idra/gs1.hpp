// gs1.hpp: GS1 identification keys, Application Identifiers, Digital Link
// URIs, element strings and EPC pure-identity URNs.
//
// Everything is driven by the GS1 Barcode Syntax Dictionary (embedded in
// idra_ids at build time): the AI table, component formats, linters,
// Digital Link primary keys and their key-qualifier sequences. All functions
// are pure and never throw on bad input; errors name the AI concerned.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "idra/result.hpp"

namespace idra::ids::gs1 {

// ---------------------------------------------------------------------------
// The syntax dictionary.

// CharSet is a component type: "N" digits, "X" GS1 AI encodable character
// set 82, "Y" character set 39, "Z" character set 64 (base64url).
enum class CharSet { numeric, cset82, cset39, cset64 };

struct Component {
  CharSet charset = CharSet::numeric;
  std::size_t min_length = 0;  // equal to max_length for a fixed-length component
  std::size_t max_length = 0;
  bool optional = false;             // written "[...]" in the dictionary
  std::vector<std::string> linters;  // e.g. {"csum", "gcppos2"}
};

struct AiEntry {
  std::string ai;     // "01", "3103" (ranges in the dictionary are expanded)
  std::string title;  // "GTIN"
  std::vector<Component> components;
  bool predefined_length = false;  // flag '*': no FNC1 separator needed
  bool dl_data_attribute = false;  // flag '?': allowed in a Digital Link query string
  bool dl_primary_key = false;     // attribute "dlpkey"
  // dl_qualifier_sequences lists the alternative ordered qualifier sequences
  // of a primary key ("dlpkey=22,10,21|235" -> {{22,10,21},{235}}); a plain
  // "dlpkey" has one empty alternative. Any in-order subsequence of one
  // alternative is valid in a Digital Link path.
  std::vector<std::vector<std::string>> dl_qualifier_sequences;
  std::vector<std::string> requisites;  // raw "req=" values, e.g. "01+21,02"
  std::vector<std::string> excludes;    // "ex=" AIs or patterns ("310n": n is any digit)

  std::size_t min_length() const;  // sum over mandatory components
  std::size_t max_length() const;  // sum over all components
};

class Dictionary {
 public:
  // parse reads the text format of the GS1 Barcode Syntax Dictionary; an
  // Error names the offending line.
  static Result<Dictionary> parse(std::string_view text);

  // find returns the entry of |ai|, nullptr if the AI is unknown.
  const AiEntry* find(std::string_view ai) const;
  // entries are sorted by AI.
  const std::vector<AiEntry>& entries() const { return entries_; }

 private:
  std::vector<AiEntry> entries_;
};

// dictionary returns the embedded dictionary, parsed once (thread-safe). A
// failure to parse the embedded copy is a build defect and aborts.
const Dictionary& dictionary();
// embedded_dictionary_text returns the embedded dictionary file as built in.
std::string_view embedded_dictionary_text();

// ai_for_alias maps a Digital Link convenience alias ("gtin", "ser", ...)
// to its AI; nullopt for anything else. Aliases are lower-case only.
std::optional<std::string_view> ai_for_alias(std::string_view alias);
// alias_for_ai is the inverse; nullopt when the AI has no alias.
std::optional<std::string_view> alias_for_ai(std::string_view ai);

// ---------------------------------------------------------------------------
// Check digits and AI values.

// check_digit returns the GS1 mod-10 check digit for |digits| (the key
// without its check digit); nullopt if |digits| is empty or not all digits.
std::optional<char> check_digit(std::string_view digits);
// check_digit_valid returns true when the last digit of |digits| is its
// mod-10 check digit.
bool check_digit_valid(std::string_view digits);
// check_pair returns the two-character GS1 alphanumeric check character pair
// (as used by GMN, AI 8013) for |data| (CSET 82, at most 97 characters);
// nullopt if |data| does not qualify.
std::optional<std::string> check_pair(std::string_view data);

// normalize_gtin accepts a GTIN-8, -12, -13 or -14 and returns it as 14
// digits (zero-padded on the left) after checking its check digit.
Result<std::string> normalize_gtin(std::string_view gtin);

// validate_ai_value checks |value| against the dictionary entry of |ai|:
// length, character set of each component and the linters the dictionary
// lists. Unknown AIs are an Error.
Result<void> validate_ai_value(std::string_view ai, std::string_view value);
Result<void> validate_ai_value(const AiEntry& entry, std::string_view value);

// ---------------------------------------------------------------------------
// Digital Link and element strings.

struct AiValue {
  std::string ai;
  std::string value;  // decoded (no percent-encoding)
  bool operator==(const AiValue&) const = default;
};

struct DigitalLink {
  // stem is everything before the primary key: "https://example.com/path"
  // for a URI, "" for a bare path, an element string or an EPC.
  std::string stem;
  AiValue primary_key;
  std::vector<AiValue> qualifiers;  // in path order
  std::vector<AiValue> attributes;  // data attributes, in the order given
  // other_query_params keeps query parameters that are not AIs
  // ("linkType=all"), verbatim.
  std::vector<std::string> other_query_params;

  // canonical_path returns the uncompressed Digital Link path of the primary
  // key and key qualifiers ("/01/09506000134352/21/A1"): AI codes, never
  // aliases; values percent-encoded except A-Z a-z 0-9 - . _ (the GS1 Digital
  // Link grammar); no data attributes.
  std::string canonical_path() const;
};

// parse_digital_link parses an uncompressed GS1 Digital Link URI:
// http(s)://host[:port][/stem]/KEY/value[/QUALIFIER/value...][?query][#fragment].
// The primary key is the rightmost path segment that is a dlpkey AI (or its
// alias) such that every following pair is an AI and a value. Path values are
// percent-decoded; /01/ takes 8, 12, 13 or 14 digits and is normalized to 14.
// Qualifiers must follow one of the key's dlpkey alternatives in order.
// Numeric query parameters must be AIs flagged '?' and are validated; other
// query parameters are kept in other_query_params. Duplicate AIs, qualifiers
// out of order or not allowed for the key, a qualifier given in the query
// string, invalid values and AI pairs the dictionary excludes ("ex=") are
// Errors naming the AI. The fragment is ignored.
Result<DigitalLink> parse_digital_link(std::string_view uri);

// parse_digital_link_path parses a bare Digital Link path that starts with
// the primary key ("/01/09506000134352/21/A1[?query]"), with the same rules.
// Without |allow_query| a '?' or '#' is an Error (they must be
// percent-encoded), as in the suffix of a gs1 handle.
Result<DigitalLink> parse_digital_link_path(std::string_view path, bool allow_query = true);

// has_digital_link_shape returns true when |uri| is an http(s) URL one of
// whose path segments is a primary-key AI or alias followed by a non-empty
// segment. It does not validate anything else.
bool has_digital_link_shape(std::string_view uri);

// parse_element_string parses a bracketed GS1 element string
// "(01)09506000134352(21)A1"; a literal '(' inside a value is written "\(".
// Each value is validated; duplicate AIs are an Error. AI (01) also takes 8,
// 12 or 13 digits and is normalized to 14.
Result<std::vector<AiValue>> parse_element_string(std::string_view text);

// digital_link_from_ai_values arranges a set of AI values (from an element
// string or an EPC) as a Digital Link: the first AI that is a primary key,
// the key qualifiers of the alternative sequence that matches the most AIs
// (in sequence order) and the remaining AIs as data attributes. Qualifiers of
// the key that do not fit one alternative, duplicates, invalid values and
// excluded pairs are Errors; there must be a primary key.
Result<DigitalLink> digital_link_from_ai_values(const std::vector<AiValue>& values);

// ---------------------------------------------------------------------------
// EPC pure-identity URNs (GS1 EPC Tag Data Standard).

struct EpcUrn {
  std::string scheme;     // "sgtin", "sscc", ...
  std::string canonical;  // "urn:epc:id:sgtin:0614141.812345.6789", escapes normalized
  DigitalLink key;        // the equivalent GS1 key and qualifiers (no stem)
};

// parse_epc_urn parses urn:epc:id:{sgtin,sscc,sgln,grai,giai,gsrn,gsrnp,gdti,
// sgcn,ginc,gsin,pgln,itip,upui}:... and maps it onto the GS1 key it names,
// computing the check digit: sgtin 0614141.812345.6789 -> (01)80614141123458
// (21)6789. The company prefix has 6 to 12 digits (the TDS partition tables)
// and with the reference fills the key's digit count exactly. Alphanumeric
// serials use the URN escapes of the TDS ("%22 %25 %26 %2F %3C %3E %3F" and
// any %XX of a character set 82 character); the canonical URN escapes exactly
// those seven characters, upper-case hex. SGLN extension "0" means no
// extension (AI 414 alone); any other extension is AI 254.
Result<EpcUrn> parse_epc_urn(std::string_view text);

// ---------------------------------------------------------------------------
// Compressed Digital Link URIs (GS1 Digital Link Standard, URI compression).
//
// The bit stream and its options follow GS1's reference implementation, the
// GS1DigitalLinkCompressionPrototype as shipped in digital-link.js 1.4.3
// (Utils.compressWebUri / Utils.decompressWebUri): AI codes as 4-bit digits
// or 8-bit optimisation codes standing for several AIs, numeric values in
// binary, alphanumeric values as digits, hex, base64url or 7-bit ASCII,
// non-GS1 query parameters after a 0xF flag, and the whole as base64url. Value
// formats come from the embedded syntax dictionary; the optimisation codes
// from src/ids/data/gs1-dl-compression.txt. Where digital-link.js loses data
// (leading zeros of all-digit values, numbers above 2^53, values after a
// numeric component as in (253)) idra encodes and decodes exactly.

struct CompressionOptions {
  // use_optimisations lets one 8-bit code stand for a known set of AIs
  // ((01)+(10)+(17)+(21) is "1A"); digital-link.js's useOptimisations.
  bool use_optimisations = true;
  // compress_other_key_value_pairs moves non-GS1 query parameters into the
  // bit stream (digital-link.js's compressOtherKeyValuePairs); without it
  // they stay in the query string of the compressed URI.
  bool compress_other_key_value_pairs = true;
};

// compress_digital_link returns |link| as a compressed URI: its stem, '/',
// the base64url bit stream of the primary key, key qualifiers, data attributes
// (and non-GS1 query parameters, see |options|), then '?' and any query
// parameters that stay uncompressed. A link with an empty stem gives a bare
// path ("/AQnYUc1gnrNAy"). A query parameter stays in the query string when
// it cannot be compressed: no '=', a key of other than 1-127 base64url
// characters, an invalid percent-escape, or a decoded value longer than 127
// bytes or not 7-bit ASCII. The link is checked as parse_digital_link_path
// checks a path; an Error names the AI when it is invalid, when a data
// attribute is a second primary key (compression would lose which AI is the
// key) or when a value does not fit the reference's bit format ((8007) IBAN
// longer than 31 characters).
Result<std::string> compress_digital_link(const DigitalLink& link,
                                          const CompressionOptions& options = {});

// decompress_digital_link reads a compressed Digital Link: an absolute
// http(s) URI or a path starting with '/', whose last path segment is the
// base64url bit stream; everything before that segment is the stem. Query
// parameters of the compressed URI are kept (AIs as data attributes, others
// in other_query_params before the decompressed non-GS1 parameters); the
// fragment is ignored. Data attributes come out in the order digital-link.js
// prints them: AIs without a leading zero in numeric order, then the others
// in bit-stream order. The result is what parse_digital_link returns for
// digital_link_uri() of it: the values, key qualifiers and exclusions are
// checked as for an uncompressed link. An Error says what is wrong: not
// base64url, a truncated bit stream or non-zero padding, an unknown AI or
// optimisation code, a value that does not fit its length, an invalid value
// or check digit (naming the AI), no or several primary keys (also one in the
// query string).
Result<DigitalLink> decompress_digital_link(std::string_view uri);

// has_compressed_digital_link_shape returns true when |uri| (an absolute
// http(s) URI or a path starting with '/') ends its path with a segment of
// at least 4 base64url characters whose first 8 bits decode to the start of
// an AI, an optimisation code or a non-GS1 parameter. It is a cheap test for
// the resolver to choose decompress_digital_link, which decides; it does not
// decode the rest. Some uncompressed links have the shape too (".../21/ABC1"
// starts with the bits of AI (00)): try parse_digital_link first.
bool has_compressed_digital_link_shape(std::string_view uri);

// digital_link_uri prints |link| uncompressed: stem, canonical_path(), then
// the data attributes as "AI=value" (values percent-encoded as in the path)
// and other_query_params verbatim, joined by '&' after '?'. For a link that
// parse_digital_link accepted this is a URI it accepts again with the same
// key, qualifiers and attributes (the owl:sameAs of a compressed link).
std::string digital_link_uri(const DigitalLink& link);

}  // namespace idra::ids::gs1

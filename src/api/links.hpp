// links.hpp: the links of an identifier (GS1 Digital Link items, IEC 61406
// identification links) as record values, and how a request chooses among
// them (GS1-Conformant Resolver standard 1.2: link types, context, language
// and media type, the linkset of RFC 9264 and the Link header of RFC 8288).
//
// A link is a value of type GS1_LINK whose data is a JSON object:
//   {"linkType": "gs1:pip", "href": "https://example.com/p", "title": "Product page",
//    "hreflang": ["en", "en-GB"], "type": "text/html", "context": ["us"],
//    "default": true, "fwqs": true}
// linkType, href and title are required. The item's description (the linkset's
// itemDescription) is a value of type GS1_ITEM_DESCRIPTION holding text.
// Everything here is pure: bad input is an Error naming the field.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "idra/result.hpp"
#include "idra/store.hpp"

namespace idra::api::links {

inline constexpr std::string_view kLinkValueType = "GS1_LINK";
inline constexpr std::string_view kItemDescriptionType = "GS1_ITEM_DESCRIPTION";
inline constexpr std::string_view kGs1Vocabulary = "https://gs1.org/voc/";
inline constexpr std::string_view kDefaultLinkRel = "https://gs1.org/voc/defaultLink";
inline constexpr std::size_t kMaxLinkDataBytes = 4096;
inline constexpr std::size_t kMaxItemDescriptionBytes = 1024;

struct Link {
  std::string link_type;  // expanded: "https://gs1.org/voc/pip"
  std::string href;       // absolute http(s) URL
  std::string title;
  std::vector<std::string> hreflang;  // "en", "en-GB"
  std::string media_type;             // "text/html"; empty when not given
  std::vector<std::string> context;   // free tokens, e.g. "us", "dscsaSaleableReturn"
  bool is_default = false;
  bool fwqs = true;  // forward the request's query string on redirection
  bool operator==(const Link&) const = default;
};

// expand_link_type accepts "gs1:term", "https://gs1.org/voc/term",
// "http://gs1.org/voc/term" and "https://ref.gs1.org/voc/term" (all the same
// GS1 Web Vocabulary term, returned as "https://gs1.org/voc/term"), or any
// other http(s) URI made of letters, digits, '.', '/', '-' and '_' (kept as
// given). Anything else is an Error ("linkset" and "all" are not link types:
// callers check for them first).
Result<std::string> expand_link_type(std::string_view text);

// compact_link_type writes a GS1 vocabulary URI as "gs1:term"; other URIs as they are.
std::string compact_link_type(std::string_view uri);

// parse_link reads a GS1_LINK value's data. Errors say which field is wrong:
// not a JSON object, a missing or non-string linkType/href/title, an href that
// is not an absolute http(s) URL without spaces or <>", an hreflang that is
// not "ll" or "ll-CC", a type that is not "type/subtype", unknown members.
Result<Link> parse_link(std::string_view data);

// link_data writes |link| as the canonical JSON object parse_link reads
// (members in a fixed order, optional members only when set).
std::string link_data(const Link& link);

// check_link_values validates the GS1_LINK and GS1_ITEM_DESCRIPTION values of
// one record: every link parses, at most one item description (UTF-8, at most
// kMaxItemDescriptionBytes), and exactly one link marked default when the
// record has links. The Error names the value's index.
Result<void> check_link_values(const std::vector<store::HandleValue>& values);

// ---------------------------------------------------------------------------
// Negotiation.

// Weighted is one member of an Accept or Accept-Language header.
struct Weighted {
  std::string value;  // lower-cased; "*" and "type/*" kept
  double q = 1.0;
};

// parse_weighted reads a comma-separated list with optional ";q=" weights
// (RFC 9110 section 12.4.2), ordered by falling q (stable), members with q=0
// and malformed members dropped; at most 32 members are read.
std::vector<Weighted> parse_weighted(std::string_view header);

struct Preferences {
  std::optional<std::string> context;  // the "context" query parameter
  std::vector<Weighted> languages;     // Accept-Language
  std::vector<Weighted> media_types;   // Accept
};

// negotiate picks among |candidates| (links of the one link type asked for)
// by context, then language, then media type, each step narrowing only when
// something matches (a context asked for and matched by no link falls back to
// the links with no context). Returns the positions in |candidates| that
// remain, in their order; empty only when |candidates| is.
std::vector<std::size_t> negotiate(const std::vector<const Link*>& candidates, const Preferences& prefs);

// wants_linkset is true when Accept prefers application/linkset+json (or,
// with |json_too|, application/json) over every other media type it lists.
bool wants_linkset(const std::vector<Weighted>& media_types, bool json_too);

// ---------------------------------------------------------------------------
// Output.

// linkset_json writes {"linkset":[{"anchor":..., "itemDescription":...,
// "https://gs1.org/voc/defaultLink":[...], "<link type>":[...], ...}]}, the
// shape GS1's linkset schema (resolver standard 1.2) requires.
std::string linkset_json(std::string_view anchor, std::string_view item_description,
                         const std::vector<const Link*>& links);

// link_header writes the RFC 8288 Link field value for |links|, then
// |extra| (already formatted members, e.g. the owl:sameAs link).
std::string link_header(const std::vector<const Link*>& links, const std::vector<std::string>& extra);

// link_header_member formats one member: <target>; rel="rel"[; type="..."].
std::string link_header_member(std::string_view target, std::string_view rel, std::string_view type = {});

// with_query appends |query| (without '?', may be empty) to |href|.
std::string with_query(std::string_view href, std::string_view query);

}  // namespace idra::api::links

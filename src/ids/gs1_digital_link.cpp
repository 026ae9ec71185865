// gs1_digital_link.cpp: uncompressed GS1 Digital Link URIs, bracketed element
// strings, and the rules that tie AIs together (primary key, key-qualifier
// sequences, data attributes, exclusions).
#include <algorithm>
#include <set>
#include <string>

#include "idra/gs1.hpp"
#include "idra/text.hpp"
#include "url.hpp"

namespace idra::ids::gs1 {
namespace {

std::string ai_label(std::string_view ai) { return "AI (" + std::string(ai) + ")"; }
std::string at_byte(std::size_t offset) { return " at byte " + std::to_string(offset); }

const AiEntry* find_ai(std::string_view ai) { return dictionary().find(ai); }

bool is_primary_key(std::string_view ai) {
  const AiEntry* e = find_ai(ai);
  return e != nullptr && e->dl_primary_key;
}

// resolve_code reads a path segment as an AI: a known numeric AI or a
// convenience alias.
std::optional<std::string> resolve_code(std::string_view segment) {
  if (text::all_digits(segment)) {
    if (find_ai(segment) != nullptr) return std::string(segment);
    return std::nullopt;
  }
  if (std::optional<std::string_view> ai = ai_for_alias(segment)) return std::string(*ai);
  return std::nullopt;
}

// is_uri_char: the RFC 3986 characters (unreserved, reserved and '%').
bool is_uri_char(char c) {
  if (text::is_unreserved(c) || text::is_sub_delim(c)) return true;
  switch (c) {
    case ':':
    case '/':
    case '?':
    case '#':
    case '[':
    case ']':
    case '@':
    case '%':
      return true;
    default:
      return false;
  }
}

// check_uri_chars accepts only RFC 3986 characters, with every '%' starting
// a valid "%XX" escape.
Result<void> check_uri_chars(std::string_view s, std::size_t base) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!is_uri_char(s[i])) {
      return make_error("character " + text::describe_char(s[i]) + at_byte(base + i) +
                        " is not allowed in a URI; percent-encode it");
    }
    if (s[i] == '%' &&
        (i + 2 >= s.size() || text::hex_value(s[i + 1]) < 0 || text::hex_value(s[i + 2]) < 0)) {
      return make_error("invalid percent-encoding" + at_byte(base + i) +
                        ": '%' must be followed by two hexadecimal digits");
    }
  }
  return {};
}

struct Segment {
  std::string_view text;
  std::size_t offset;
};

// split_path splits "/a/b" into {a, b}; "" gives no segments.
std::vector<Segment> split_path(std::string_view path, std::size_t offset) {
  std::vector<Segment> out;
  if (path.empty()) return out;
  out.reserve(static_cast<std::size_t>(std::count(path.begin(), path.end(), '/')));
  std::size_t pos = 1;  // path[0] == '/'
  while (true) {
    const std::size_t end = path.find('/', pos);
    if (end == std::string_view::npos) {
      out.push_back({path.substr(pos), offset + pos});
      return out;
    }
    out.push_back({path.substr(pos, end - pos), offset + pos});
    pos = end + 1;
  }
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool is_qualifier_of(const AiEntry& key, std::string_view ai) {
  for (const auto& alt : key.dl_qualifier_sequences) {
    if (contains(alt, ai)) return true;
  }
  return false;
}

// is_subsequence: every AI of |quals|, in order, appears in |alt| in order.
bool is_subsequence(const std::vector<AiValue>& quals, const std::vector<std::string>& alt) {
  std::size_t j = 0;
  for (const AiValue& q : quals) {
    while (j < alt.size() && alt[j] != q.ai) ++j;
    if (j == alt.size()) return false;
    ++j;
  }
  return true;
}

Result<void> check_duplicates(const std::vector<const AiValue*>& all) {
  // A Digital Link has a handful of AIs: pairwise, without allocating.
  for (std::size_t i = 1; i < all.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (all[j]->ai == all[i]->ai) return make_error(ai_label(all[i]->ai) + " is given twice");
    }
  }
  return {};
}

// check_qualifiers validates the key-qualifier sequence of a path against
// the key's dlpkey alternatives.
Result<void> check_qualifiers(const AiEntry& key, const std::vector<AiValue>& quals) {
  const auto key_label = [&] { return "primary key " + ai_label(key.ai); };  // for messages only
  bool any_qualifier = false;
  for (const auto& alt : key.dl_qualifier_sequences) any_qualifier = any_qualifier || !alt.empty();
  for (const AiValue& q : quals) {
    if (!is_qualifier_of(key, q.ai)) {
      if (!any_qualifier) {
        return make_error(ai_label(q.ai) + " is not allowed in the path: " + key_label() +
                          " takes no key qualifiers (data attributes go in the query string)");
      }
      return make_error(ai_label(q.ai) + " is not a key qualifier of " + key_label() +
                        " (data attributes go in the query string)");
    }
  }
  for (const auto& alt : key.dl_qualifier_sequences) {
    if (is_subsequence(quals, alt)) return {};
  }
  // Wrong order within one alternative?
  for (const auto& alt : key.dl_qualifier_sequences) {
    const bool all_in = std::all_of(quals.begin(), quals.end(),
                                    [&](const AiValue& q) { return contains(alt, q.ai); });
    if (!all_in) continue;
    for (std::size_t i = 1; i < quals.size(); ++i) {
      const auto pos = [&](std::string_view ai) { return std::find(alt.begin(), alt.end(), ai); };
      if (pos(quals[i].ai) < pos(quals[i - 1].ai)) {
        return make_error("key qualifier " + ai_label(quals[i].ai) + " must come before " +
                          ai_label(quals[i - 1].ai) + " after " + key_label());
      }
    }
  }
  // Qualifiers from different alternatives.
  for (std::size_t i = 0; i < quals.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      const bool together =
          std::any_of(key.dl_qualifier_sequences.begin(), key.dl_qualifier_sequences.end(),
                      [&](const auto& alt) {
                        return contains(alt, quals[i].ai) && contains(alt, quals[j].ai);
                      });
      if (!together) {
        return make_error("key qualifiers " + ai_label(quals[j].ai) + " and " +
                          ai_label(quals[i].ai) + " cannot be used together after " + key_label());
      }
    }
  }
  return make_error("invalid key qualifier sequence after " + key_label());
}

bool pattern_matches(std::string_view pattern, std::string_view ai) {
  if (pattern.size() != ai.size()) return false;
  for (std::size_t i = 0; i < ai.size(); ++i) {
    if (pattern[i] == 'n' ? !text::is_digit(ai[i]) : pattern[i] != ai[i]) return false;
  }
  return true;
}

// check_exclusions applies the dictionary's "ex=" attributes. ("req=" is not
// applied: the dictionary says requisites are evaluated over all carriers on
// an item, and a single Digital Link legitimately lacks them, e.g. /8006/../22/..
// while (22) requires (01).)
Result<void> check_exclusions(const std::vector<const AiValue*>& all) {
  for (const AiValue* a : all) {
    const AiEntry* e = find_ai(a->ai);
    if (e == nullptr) continue;
    for (const std::string& pattern : e->excludes) {
      for (const AiValue* b : all) {
        if (b->ai != a->ai && pattern_matches(pattern, b->ai)) {
          return make_error(ai_label(a->ai) + " and " + ai_label(b->ai) +
                            " cannot be used together");
        }
      }
    }
  }
  return {};
}

// gtin14 enforces the Digital Link grammar's "gtin-value = 14DIGIT; GTIN-8,
// GTIN-12 and GTIN-13 SHALL be expressed as 14 digits" (also the N14 of AI 01
// in element strings), with a message that shows the padded form. A bare
// GTIN key is padded by normalize_gtin instead; a URI or element string is not.
Result<std::string> gtin14(std::string_view ai, std::string value) {
  if (ai == "01" && text::all_digits(value) &&
      (value.size() == 8 || value.size() == 12 || value.size() == 13)) {
    return make_error("(01) GTIN must be written with 14 digits here, as " +
                      std::string(14 - value.size(), '0') + value + " (GTIN-" +
                      std::to_string(value.size()) + " is padded with leading zeros)");
  }
  return value;
}

Result<void> validate(const AiValue& v) { return validate_ai_value(v.ai, v.value); }

// parse_query reads data attributes into |dl|.
Result<void> parse_query(std::string_view query, std::size_t offset, DigitalLink& dl) {
  std::size_t pos = 0;
  while (pos <= query.size()) {
    std::size_t end = query.find('&', pos);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view param = query.substr(pos, end - pos);
    const std::size_t param_offset = offset + pos;
    pos = end + 1;
    if (param.empty()) continue;
    const std::size_t eq = param.find('=');
    const std::string_view key = param.substr(0, eq);
    if (eq == std::string_view::npos || !text::all_digits(key)) {
      dl.other_query_params.emplace_back(param);
      continue;
    }
    const AiEntry* entry = find_ai(key);
    if (entry == nullptr) {
      return make_error("query parameter " + text::quoted(key) + at_byte(param_offset) +
                        " is not a GS1 Application Identifier");
    }
    if (!entry->dl_data_attribute) {
      return make_error(ai_label(key) + at_byte(param_offset) +
                        " is not allowed as a Digital Link data attribute");
    }
    const std::string_view raw = param.substr(eq + 1);
    if (raw.empty())
      return make_error(ai_label(key) + at_byte(param_offset) + " has an empty value");
    Result<std::string> decoded = text::percent_decode(raw, true, param_offset + eq + 1);
    if (!decoded) return make_error(ai_label(key) + ": " + decoded.error().message);
    Result<std::string> value = gtin14(key, std::move(decoded).value());
    if (!value) return value.error();
    AiValue v{std::string(key), std::move(value).value()};
    if (Result<void> r = validate(v); !r) return r;
    dl.attributes.push_back(std::move(v));
  }
  return {};
}

// check_whole: no duplicates across path and query, no key qualifier
// that belongs in the path, no excluded pairs.
Result<void> check_whole(const DigitalLink& dl) {
  std::vector<const AiValue*> all{&dl.primary_key};
  for (const AiValue& q : dl.qualifiers) all.push_back(&q);
  for (const AiValue& a : dl.attributes) all.push_back(&a);
  if (Result<void> r = check_duplicates(all); !r) return r;
  const AiEntry* key = find_ai(dl.primary_key.ai);
  for (const AiValue& a : dl.attributes) {
    if (!is_qualifier_of(*key, a.ai)) continue;
    std::vector<AiValue> with = dl.qualifiers;
    with.push_back(a);
    for (const auto& alt : key->dl_qualifier_sequences) {
      const bool fits = std::all_of(with.begin(), with.end(),
                                    [&](const AiValue& q) { return contains(alt, q.ai); });
      if (fits) {
        return make_error(ai_label(a.ai) + " is a key qualifier of primary key " +
                          ai_label(key->ai) + "; give it in the path, not the query string");
      }
    }
  }
  return check_exclusions(all);
}

// parse_dl_path parses the path (and query) of a Digital Link. |prefix| is
// the text before the path ("https://host" or ""); with |allow_stem| the key
// may follow other path segments.
Result<DigitalLink> parse_dl_path(std::string_view prefix, std::string_view path,
                                  std::size_t path_offset, std::optional<std::string_view> query,
                                  std::size_t query_offset, bool allow_stem) {
  const std::vector<Segment> segs = split_path(path, path_offset);
  const std::size_t n = segs.size();
  std::optional<std::size_t> key_at;
  if (allow_stem) {
    // Walk back over AI/value pairs from the end; the first primary key met
    // starts the Digital Link path (the GS1 reference algorithm).
    for (std::size_t end = n; end >= 2; end -= 2) {
      const std::optional<std::string> code = resolve_code(segs[end - 2].text);
      if (!code) break;
      if (is_primary_key(*code)) {
        key_at = end - 2;
        break;
      }
    }
    if (!key_at) {
      // No valid Digital Link path: report the problem after the rightmost
      // primary key, if there is one.
      for (std::size_t i = n; i-- > 0;) {
        const std::optional<std::string> code = resolve_code(segs[i].text);
        if (code && is_primary_key(*code)) {
          key_at = i;
          break;
        }
      }
    }
    if (!key_at) {
      return make_error(
          "no GS1 primary key (such as /01/ followed by a GTIN) in the Digital Link path");
    }
  } else {
    const std::optional<std::string> code = n > 0 ? resolve_code(segs[0].text) : std::nullopt;
    if (!code || !is_primary_key(*code)) {
      return make_error("a Digital Link path must start with a GS1 primary key such as /01/; got " +
                        (n > 0 ? text::quoted(segs[0].text) : std::string("an empty path")) +
                        at_byte(path_offset));
    }
    key_at = 0;
  }

  DigitalLink dl;
  const std::size_t stem_len = segs[*key_at].offset - 1 - path_offset;
  dl.stem = std::string(prefix) + std::string(path.substr(0, stem_len));
  for (std::size_t k = *key_at; k < n; k += 2) {
    const Segment& code_seg = segs[k];
    if (code_seg.text.empty()) {
      return make_error("empty path segment" + at_byte(code_seg.offset) +
                        " (a Digital Link path must not end with '/' or hold '//')");
    }
    const std::optional<std::string> code = resolve_code(code_seg.text);
    if (!code) {
      return make_error("path segment " + text::quoted(code_seg.text) + at_byte(code_seg.offset) +
                        " is not a GS1 Application Identifier (after primary key " +
                        ai_label(dl.primary_key.ai) + ")");
    }
    if (k + 1 >= n) return make_error(ai_label(*code) + at_byte(code_seg.offset) + " has no value");
    const Segment& value_seg = segs[k + 1];
    if (value_seg.text.empty()) {
      return make_error(ai_label(*code) + at_byte(code_seg.offset) + " has an empty value");
    }
    Result<std::string> decoded = text::percent_decode(value_seg.text, false, value_seg.offset);
    if (!decoded) return make_error(ai_label(*code) + ": " + decoded.error().message);
    Result<std::string> value = gtin14(*code, std::move(decoded).value());
    if (!value) return value.error();
    AiValue v{*code, std::move(value).value()};
    if (Result<void> r = validate(v); !r) return r.error();
    if (k == *key_at) {
      dl.primary_key = std::move(v);
    } else {
      dl.qualifiers.push_back(std::move(v));
    }
  }
  {
    std::vector<const AiValue*> path_ais{&dl.primary_key};
    for (const AiValue& q : dl.qualifiers) path_ais.push_back(&q);
    if (Result<void> r = check_duplicates(path_ais); !r) return r.error();
  }
  if (Result<void> r = check_qualifiers(*find_ai(dl.primary_key.ai), dl.qualifiers); !r) {
    return r.error();
  }
  if (query) {
    if (Result<void> r = parse_query(*query, query_offset, dl); !r) return r.error();
  }
  if (Result<void> r = check_whole(dl); !r) return r.error();
  return dl;
}

}  // namespace

std::string DigitalLink::canonical_path() const {
  std::string out = "/" + primary_key.ai + "/" + text::percent_encode(primary_key.value);
  for (const AiValue& q : qualifiers) out += "/" + q.ai + "/" + text::percent_encode(q.value);
  return out;
}

Result<DigitalLink> parse_digital_link(std::string_view uri) {
  if (Result<void> r = check_uri_chars(uri, 0); !r) return r.error();
  const std::optional<url::Parts> parts = url::split(uri);
  if (!parts || !url::is_http_scheme(parts->scheme)) {
    return make_error("a GS1 Digital Link URI starts with https:// or http://");
  }
  Result<url::Authority> authority =
      url::parse_authority(parts->authority, parts->authority_offset);
  if (!authority) return authority.error();
  if (parts->path.empty() || parts->path == "/") {
    return make_error("the URI has no Digital Link path (such as /01/ followed by a GTIN)");
  }
  const std::string_view prefix = uri.substr(0, parts->path_offset);
  return parse_dl_path(prefix, parts->path, parts->path_offset, parts->query, parts->query_offset,
                       true);
}

Result<DigitalLink> parse_digital_link_path(std::string_view path, bool allow_query) {
  if (path.empty() || path.front() != '/') {
    return make_error("a Digital Link path starts with '/' followed by a GS1 primary key");
  }
  std::string_view p = path;
  std::optional<std::string_view> query;
  std::size_t query_offset = 0;
  const std::size_t special = path.find_first_of("?#");
  if (special != std::string_view::npos) {
    if (!allow_query) {
      return make_error("character " + text::describe_char(path[special]) + at_byte(special) +
                        " must be percent-encoded in a Digital Link path");
    }
    p = path.substr(0, special);
    if (path[special] == '?') {
      std::size_t hash = path.find('#', special);
      if (hash == std::string_view::npos) hash = path.size();
      query = path.substr(special + 1, hash - special - 1);
      query_offset = special + 1;
    }
  }
  if (Result<void> r = check_uri_chars(path, 0); !r) return r.error();
  return parse_dl_path("", p, 0, query, query_offset, false);
}

bool has_digital_link_shape(std::string_view uri) {
  const std::optional<url::Parts> parts = url::split(uri);
  if (!parts || !url::is_http_scheme(parts->scheme)) return false;
  const std::vector<Segment> segs = split_path(parts->path, parts->path_offset);
  for (std::size_t i = 0; i + 1 < segs.size(); ++i) {
    if (segs[i + 1].text.empty()) continue;
    const std::optional<std::string> code = resolve_code(segs[i].text);
    if (code && is_primary_key(*code)) return true;
  }
  return false;
}

Result<std::vector<AiValue>> parse_element_string(std::string_view text) {
  if (text.empty() || text.front() != '(') {
    return make_error("a GS1 element string starts with '(' and an AI, as in (01)09506000134352");
  }
  std::vector<AiValue> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] != '(') {
      return make_error("expected '(' and an AI" + at_byte(pos));
    }
    const std::size_t close = text.find(')', pos);
    const std::string_view ai = close == std::string_view::npos
                                    ? std::string_view()
                                    : text.substr(pos + 1, close - pos - 1);
    if (close == std::string_view::npos || !text::all_digits(ai) || ai.size() < 2 ||
        ai.size() > 4) {
      return make_error("expected an AI of 2 to 4 digits in parentheses" + at_byte(pos));
    }
    if (find_ai(ai) == nullptr) {
      return make_error(ai_label(ai) + at_byte(pos + 1) + " is not a GS1 Application Identifier");
    }
    std::string value;
    std::size_t i = close + 1;
    while (i < text.size() && text[i] != '(') {
      if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '(') {
        value.push_back('(');
        i += 2;
      } else {
        value.push_back(text[i]);
        ++i;
      }
    }
    Result<std::string> gtin = gtin14(ai, std::move(value));
    if (!gtin) return gtin.error();
    AiValue v{std::string(ai), std::move(gtin).value()};
    if (Result<void> r = validate(v); !r) return r.error();
    out.push_back(std::move(v));
    pos = i;
  }
  std::vector<const AiValue*> all;
  for (const AiValue& v : out) all.push_back(&v);
  if (Result<void> r = check_duplicates(all); !r) return r.error();
  return out;
}

Result<DigitalLink> digital_link_from_ai_values(const std::vector<AiValue>& values) {
  std::vector<const AiValue*> all;
  for (const AiValue& v : values) {
    if (Result<void> r = validate(v); !r) return r.error();
    all.push_back(&v);
  }
  if (Result<void> r = check_duplicates(all); !r) return r.error();
  auto key_it = std::find_if(values.begin(), values.end(),
                             [](const AiValue& v) { return is_primary_key(v.ai); });
  if (key_it == values.end()) {
    return make_error("no GS1 primary key (such as (01) GTIN or (00) SSCC) among the AIs");
  }
  const AiEntry& key = *find_ai(key_it->ai);
  const auto present = [&](std::string_view ai) {
    return std::find_if(values.begin(), values.end(), [&](const AiValue& v) { return v.ai == ai; });
  };
  // The alternative that places the most AIs in the path (first on ties).
  const std::vector<std::string>* best = &key.dl_qualifier_sequences.front();
  std::size_t best_count = 0;
  for (const auto& alt : key.dl_qualifier_sequences) {
    const auto count =
        static_cast<std::size_t>(std::count_if(alt.begin(), alt.end(), [&](const std::string& ai) {
          return present(ai) != values.end();
        }));
    if (count > best_count) {
      best = &alt;
      best_count = count;
    }
  }
  DigitalLink dl;
  dl.primary_key = *key_it;
  for (const std::string& ai : *best) {
    if (auto it = present(ai); it != values.end()) dl.qualifiers.push_back(*it);
  }
  for (auto it = values.begin(); it != values.end(); ++it) {
    if (it == key_it || contains(*best, it->ai)) continue;
    if (is_qualifier_of(key, it->ai)) {
      const std::string other = dl.qualifiers.empty() ? std::string() : dl.qualifiers.front().ai;
      return make_error("key qualifiers " + ai_label(other) + " and " + ai_label(it->ai) +
                        " cannot be used together after primary key " + ai_label(key.ai));
    }
    dl.attributes.push_back(*it);
  }
  if (Result<void> r = check_exclusions(all); !r) return r.error();
  return dl;
}

}  // namespace idra::ids::gs1

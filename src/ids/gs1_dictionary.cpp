// gs1_dictionary.cpp: parses the GS1 Barcode Syntax Dictionary text format
// into AI tables, and holds the embedded copy.
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "idra/gs1.hpp"
#include "idra/text.hpp"

namespace idra::ids::embedded {
extern const unsigned char gs1_syntax_dictionary[];
extern const std::size_t gs1_syntax_dictionary_size;
}  // namespace idra::ids::embedded

namespace idra::ids::gs1 {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = s.find(sep, start);
    if (end == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
}

std::vector<std::string_view> tokens(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool parse_size(std::string_view s, std::size_t& out) {
  if (!text::all_digits(s) || s.size() > 4) return false;
  out = 0;
  for (char c : s) out = out * 10 + static_cast<std::size_t>(c - '0');
  return true;
}

// parse_component reads "N14,csum,gcppos2", "X..20", "[X..17]", "[N3],iso3166".
std::optional<Component> parse_component(std::string_view token) {
  Component c;
  std::string_view rest = token;
  if (!rest.empty() && rest.front() == '[') {
    c.optional = true;
    rest.remove_prefix(1);
  }
  if (rest.empty()) return std::nullopt;
  switch (rest.front()) {
    case 'N':
      c.charset = CharSet::numeric;
      break;
    case 'X':
      c.charset = CharSet::cset82;
      break;
    case 'Y':
      c.charset = CharSet::cset39;
      break;
    case 'Z':
      c.charset = CharSet::cset64;
      break;
    default:
      return std::nullopt;
  }
  rest.remove_prefix(1);
  std::size_t spec_end = rest.find_first_of("],");
  std::string_view length = rest.substr(0, spec_end);
  rest = spec_end == std::string_view::npos ? std::string_view() : rest.substr(spec_end);
  const std::size_t dots = length.find("..");
  if (dots == std::string_view::npos) {
    if (!parse_size(length, c.min_length)) return std::nullopt;
    c.max_length = c.min_length;
  } else {
    const std::string_view lo = length.substr(0, dots);
    if (lo.empty()) {
      c.min_length = 1;
    } else if (!parse_size(lo, c.min_length)) {
      return std::nullopt;
    }
    if (!parse_size(length.substr(dots + 2), c.max_length)) return std::nullopt;
  }
  if (c.min_length == 0 || c.max_length < c.min_length) return std::nullopt;
  if (c.optional) {
    if (rest.empty() || rest.front() != ']') return std::nullopt;
    rest.remove_prefix(1);
  }
  if (!rest.empty()) {
    if (rest.front() != ',') return std::nullopt;
    rest.remove_prefix(1);
    for (std::string_view linter : split(rest, ',')) {
      if (linter.empty()) return std::nullopt;
      c.linters.emplace_back(linter);
    }
  }
  return c;
}

bool is_flag_token(std::string_view token) {
  static constexpr std::string_view kFlags = "*!?\"$%&'()+,-./:;<=>@[\\]^_`{|}~";
  if (token.empty()) return false;
  return std::all_of(token.begin(), token.end(),
                     [](char c) { return kFlags.find(c) != std::string_view::npos; });
}

Error line_error(std::size_t line, const std::string& what) {
  return make_error("GS1 syntax dictionary line " + std::to_string(line) + ": " + what);
}

}  // namespace

std::size_t AiEntry::min_length() const {
  std::size_t n = 0;
  for (const Component& c : components) {
    if (!c.optional) n += c.min_length;
  }
  return n;
}

std::size_t AiEntry::max_length() const {
  std::size_t n = 0;
  for (const Component& c : components) n += c.max_length;
  return n;
}

Result<Dictionary> Dictionary::parse(std::string_view text) {
  Dictionary dict;
  std::size_t line_no = 0;
  for (std::string_view raw_line : split(text, '\n')) {
    ++line_no;
    std::string_view line = raw_line;
    std::string title;
    const std::size_t hash = line.find('#');
    if (hash != std::string_view::npos) {
      title = std::string(trim(line.substr(hash + 1)));
      line = line.substr(0, hash);
    }
    const std::vector<std::string_view> toks = tokens(line);
    if (toks.empty()) continue;

    // AIs: "01" or a range "3100-3105" of equal-width numbers.
    std::string_view ais = toks[0];
    std::string first(ais), last(ais);
    if (const std::size_t dash = ais.find('-'); dash != std::string_view::npos) {
      first = std::string(ais.substr(0, dash));
      last = std::string(ais.substr(dash + 1));
    }
    if (!text::all_digits(first) || !text::all_digits(last) || first.size() != last.size() ||
        first.size() < 2 || first.size() > 4 || last < first) {
      return line_error(line_no, "bad AI or AI range " + text::quoted(ais));
    }

    AiEntry proto;
    proto.title = title;
    std::size_t i = 1;
    if (i < toks.size() && is_flag_token(toks[i])) {
      proto.predefined_length = toks[i].find('*') != std::string_view::npos;
      proto.dl_data_attribute = toks[i].find('?') != std::string_view::npos;
      ++i;
    }
    // Specification components start with an upper-case type or '['.
    for (; i < toks.size(); ++i) {
      const char c0 = toks[i].front();
      if (!(c0 == '[' || text::is_upper(c0))) break;
      std::optional<Component> comp = parse_component(toks[i]);
      if (!comp) return line_error(line_no, "bad component " + text::quoted(toks[i]));
      if (!proto.components.empty()) {
        const Component& prev = proto.components.back();
        if (prev.min_length != prev.max_length) {
          return line_error(line_no, "only the last component may have a variable length");
        }
        if (prev.optional && !comp->optional) {
          return line_error(line_no, "a mandatory component follows an optional one");
        }
      }
      proto.components.push_back(std::move(*comp));
    }
    if (proto.components.empty()) return line_error(line_no, "no specification");
    // Attributes: "dlpkey", "dlpkey=a,b|c", "req=...", "ex=...". Others are
    // ignored so that a newer dictionary does not break an older parser.
    for (; i < toks.size(); ++i) {
      const std::string_view attr = toks[i];
      if (attr == "dlpkey") {
        proto.dl_primary_key = true;
        proto.dl_qualifier_sequences.emplace_back();
      } else if (attr.substr(0, 7) == "dlpkey=") {
        proto.dl_primary_key = true;
        for (std::string_view alt : split(attr.substr(7), '|')) {
          std::vector<std::string> seq;
          for (std::string_view q : split(alt, ',')) {
            if (!text::all_digits(q)) {
              return line_error(line_no, "bad dlpkey qualifier " + text::quoted(attr));
            }
            seq.emplace_back(q);
          }
          proto.dl_qualifier_sequences.push_back(std::move(seq));
        }
      } else if (attr.substr(0, 4) == "req=") {
        proto.requisites.emplace_back(attr.substr(4));
      } else if (attr.substr(0, 3) == "ex=") {
        for (std::string_view x : split(attr.substr(3), ',')) {
          if (x.empty()) return line_error(line_no, "bad ex attribute " + text::quoted(attr));
          proto.excludes.emplace_back(x);
        }
      }
    }

    // Expand the range.
    std::size_t lo = 0, hi = 0;
    parse_size(first, lo);
    parse_size(last, hi);
    for (std::size_t n = lo; n <= hi; ++n) {
      AiEntry e = proto;
      std::string ai = std::to_string(n);
      while (ai.size() < first.size()) ai.insert(ai.begin(), '0');
      e.ai = std::move(ai);
      dict.entries_.push_back(std::move(e));
    }
  }
  std::sort(dict.entries_.begin(), dict.entries_.end(),
            [](const AiEntry& a, const AiEntry& b) { return a.ai < b.ai; });
  for (std::size_t k = 1; k < dict.entries_.size(); ++k) {
    if (dict.entries_[k].ai == dict.entries_[k - 1].ai) {
      return make_error("GS1 syntax dictionary: AI (" + dict.entries_[k].ai + ") is defined twice");
    }
  }
  if (dict.entries_.empty()) return make_error("GS1 syntax dictionary: no entries");
  return dict;
}

const AiEntry* Dictionary::find(std::string_view ai) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), ai,
                             [](const AiEntry& e, std::string_view key) { return e.ai < key; });
  if (it == entries_.end() || it->ai != ai) return nullptr;
  return &*it;
}

std::string_view embedded_dictionary_text() {
  return std::string_view(reinterpret_cast<const char*>(embedded::gs1_syntax_dictionary),
                          embedded::gs1_syntax_dictionary_size);
}

const Dictionary& dictionary() {
  // Function-local static: initialized once, thread-safe (C++11 [stmt.dcl]).
  static const Dictionary dict = [] {
    Result<Dictionary> parsed = Dictionary::parse(embedded_dictionary_text());
    if (!parsed) {
      // The embedded copy is part of the build; failing to parse it is a
      // broken invariant, not bad input.
      std::fprintf(stderr, "idra: embedded %s\n", parsed.error().message.c_str());
      std::abort();
    }
    return std::move(parsed).value();
  }();
  return dict;
}

// Convenience aliases of the GS1 Digital Link standard 1.1 (deprecated since
// 1.2 but still to be accepted on input), the set the GS1 Barcode Syntax
// Engine accepts. Sorted by alias for binary search.
namespace {
constexpr std::array<std::pair<std::string_view, std::string_view>, 22> kAliases = {{
    {"cpid", "8010"}, {"cpsn", "8011"}, {"cpv", "22"},    {"gcn", "255"},    {"gdti", "253"},
    {"giai", "8004"}, {"ginc", "401"},  {"gln", "414"},   {"glnx", "254"},   {"gmn", "8013"},
    {"grai", "8003"}, {"gsin", "402"},  {"gsrn", "8018"}, {"gsrnp", "8017"}, {"gtin", "01"},
    {"itip", "8006"}, {"lot", "10"},    {"party", "417"}, {"refno", "8020"}, {"ser", "21"},
    {"srin", "8019"}, {"sscc", "00"},
}};
}  // namespace

std::optional<std::string_view> ai_for_alias(std::string_view alias) {
  auto it = std::lower_bound(kAliases.begin(), kAliases.end(), alias,
                             [](const auto& p, std::string_view key) { return p.first < key; });
  if (it == kAliases.end() || it->first != alias) return std::nullopt;
  return it->second;
}

std::optional<std::string_view> alias_for_ai(std::string_view ai) {
  for (const auto& [alias, code] : kAliases) {
    if (code == ai) return alias;
  }
  return std::nullopt;
}

}  // namespace idra::ids::gs1

// links.cpp: GS1 links as record values, negotiation, linkset and Link header.
#include "links.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "idra/text.hpp"

namespace idra::api::links {
namespace {

constexpr std::string_view kVocabularyAliases[] = {"https://gs1.org/voc/", "http://gs1.org/voc/",
                                                   "https://ref.gs1.org/voc/", "http://ref.gs1.org/voc/"};

bool vocabulary_term(std::string_view term) {
  return !term.empty() && term.size() <= 64 && std::all_of(term.begin(), term.end(), [](char c) { return text::is_alnum(c); });
}

// uri_chars: the characters GS1's linkset schema allows in a relation URI.
bool uri_chars(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return text::is_alnum(c) || c == '.' || c == '/' || c == '-' || c == '_';
  });
}

bool is_http_url(std::string_view s) {
  std::size_t rest = 0;
  if (text::istarts_with(s, "https://")) rest = 8;
  else if (text::istarts_with(s, "http://")) rest = 7;
  else return false;
  if (s.size() <= rest || s[rest] == '/' || s.size() > 2048) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '<' || c == '>' || c == '"' || c == '\\' || c == '^' || c == '`' ||
        c == '{' || c == '|' || c == '}') {
      return false;
    }
  }
  return true;
}

// language_tag: "ll" or "ll-CC" (letters or digits), the forms GS1's schema allows.
bool language_tag(std::string_view s) {
  auto word = [](std::string_view w) {
    return w.size() == 2 && std::all_of(w.begin(), w.end(), [](char c) { return text::is_alnum(c); });
  };
  if (s.size() == 2) return word(s);
  return s.size() == 5 && s[2] == '-' && word(s.substr(0, 2)) && word(s.substr(3));
}

bool token_char(char c) {
  return text::is_alnum(c) || c == '!' || c == '#' || c == '$' || c == '&' || c == '^' || c == '_' || c == '.' ||
         c == '+' || c == '-';
}

bool media_type(std::string_view s) {
  const auto slash = s.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == s.size() || s.size() > 127) return false;
  const auto a = s.substr(0, slash), b = s.substr(slash + 1);
  return std::all_of(a.begin(), a.end(), token_char) && std::all_of(b.begin(), b.end(), token_char);
}

// A link's data is a flat JSON object: strings, booleans, arrays of strings.
// FlatMember is one member of it; anything else is kind other.
struct FlatMember {
  std::string key;
  enum class Kind { string, boolean, strings, other } kind = Kind::other;
  std::string text;
  bool flag = false;
  std::vector<std::string> list;
};
using Flat = std::vector<FlatMember>;

// FastReader reads the common case of a link's JSON without building a tree:
// ASCII only, members that are strings, booleans or arrays of strings. On
// anything else it gives up (nullopt) and the full JSON parser decides, so
// the two never disagree on what is valid.
class FastReader {
 public:
  explicit FastReader(std::string_view in) : in_(in) {}

  std::optional<Flat> read() {
    Flat out;
    out.reserve(8);  // a link has at most 8 members
    space();
    if (!eat('{')) return std::nullopt;
    space();
    if (eat('}')) return finish(std::move(out));
    while (true) {
      FlatMember m;
      space();
      if (!string(m.key)) return std::nullopt;
      space();
      if (!eat(':')) return std::nullopt;
      space();
      if (!value(m)) return std::nullopt;
      out.push_back(std::move(m));
      space();
      if (eat(',')) continue;
      if (eat('}')) return finish(std::move(out));
      return std::nullopt;
    }
  }

 private:
  std::optional<Flat> finish(Flat out) {
    space();
    if (pos_ != in_.size()) return std::nullopt;
    return out;
  }
  void space() {
    while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r')) ++pos_;
  }
  bool eat(char c) {
    if (pos_ < in_.size() && in_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool literal(std::string_view word) {
    if (in_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  bool value(FlatMember& m) {
    if (pos_ >= in_.size()) return false;
    const char c = in_[pos_];
    if (c == '"') {
      m.kind = FlatMember::Kind::string;
      return string(m.text);
    }
    if (c == 't' || c == 'f') {
      m.kind = FlatMember::Kind::boolean;
      m.flag = c == 't';
      return literal(c == 't' ? "true" : "false");
    }
    if (c != '[') return false;
    ++pos_;
    m.kind = FlatMember::Kind::strings;
    space();
    if (eat(']')) return true;
    while (true) {
      space();
      std::string item;
      if (!string(item)) return false;
      m.list.push_back(std::move(item));
      space();
      if (eat(',')) continue;
      return eat(']');
    }
  }
  // string reads a JSON string of ASCII characters; escapes other than
  // \uXXXX below U+0080 give up.
  bool string(std::string& out) {
    if (!eat('"')) return false;
    while (pos_ < in_.size()) {
      // A run of plain characters in one append.
      std::size_t end = pos_;
      while (end < in_.size()) {
        const auto u = static_cast<unsigned char>(in_[end]);
        if (u == '"' || u == '\\' || u < 0x20 || u >= 0x80) break;
        ++end;
      }
      out.append(in_.data() + pos_, end - pos_);
      pos_ = end;
      if (pos_ >= in_.size()) return false;
      const char c = in_[pos_++];
      const auto u = static_cast<unsigned char>(c);
      if (c == '"') return true;
      if (u < 0x20 || u >= 0x80) return false;
      if (pos_ >= in_.size()) return false;
      const char e = in_[pos_++];
      switch (e) {
        case '"': case '\\': case '/': out.push_back(e); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          if (pos_ + 4 > in_.size()) return false;
          unsigned cp = 0;
          for (int k = 0; k < 4; ++k) {
            const int h = text::hex_value(in_[pos_++]);
            if (h < 0) return false;
            cp = cp * 16 + static_cast<unsigned>(h);
          }
          if (cp >= 0x80) return false;
          out.push_back(static_cast<char>(cp));
          break;
        }
        default: return false;
      }
    }
    return false;
  }

  std::string_view in_;
  std::size_t pos_ = 0;
};

// read_flat reads a link's data: the fast reader, else the JSON parser;
// nullopt when it is not a JSON object.
std::optional<Flat> read_flat(std::string_view data) {
  if (auto fast = FastReader(data).read()) return fast;
  const auto j = nlohmann::json::parse(data, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  Flat out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    FlatMember m;
    m.key = it.key();
    if (it->is_string()) {
      m.kind = FlatMember::Kind::string;
      m.text = it->get<std::string>();
    } else if (it->is_boolean()) {
      m.kind = FlatMember::Kind::boolean;
      m.flag = it->get<bool>();
    } else if (it->is_array() && std::all_of(it->begin(), it->end(), [](const auto& e) { return e.is_string(); })) {
      m.kind = FlatMember::Kind::strings;
      for (const auto& e : *it) m.list.push_back(e.get<std::string>());
    }
    out.push_back(std::move(m));
  }
  return out;
}

// string_list takes |m|'s string or strings (moved out), each valid.
Result<std::vector<std::string>> string_list(FlatMember& m, bool (*valid)(std::string_view)) {
  const std::string& name = m.key;
  std::vector<std::string> out;
  if (m.kind == FlatMember::Kind::string) {
    out.push_back(std::move(m.text));
  } else if (m.kind == FlatMember::Kind::strings) {
    if (m.list.size() > 32) return make_error("\"" + name + "\" has more than 32 members");
    out = std::move(m.list);
  } else {
    return make_error("\"" + name + "\" must be a string or an array of strings");
  }
  for (const auto& item : out) {
    if (!valid(item)) return make_error("\"" + name + "\" has an invalid member " + text::quoted(item));
  }
  return out;
}

bool context_token(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return text::is_alnum(c) || c == '-' || c == '_' || c == '.' || c == ':';
  });
}

// quoted_string writes an RFC 9110 quoted-string.
void append_quoted(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

bool plain_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f;
  });
}

// primary subtag of a language tag ("en" of "en-gb").
std::string_view primary(std::string_view tag) { return tag.substr(0, tag.find('-')); }

bool language_matches(std::string_view wanted, const Link& link) {
  if (wanted == "*") return true;
  for (const auto& have : link.hreflang) {
    if (text::iequals(have, wanted)) return true;
  }
  // "en" asked: any English link; "en-gb" asked: an "en" link too.
  for (const auto& have : link.hreflang) {
    if (text::iequals(primary(have), primary(wanted)) &&
        (wanted.find('-') == std::string_view::npos || have.find('-') == std::string::npos)) {
      return true;
    }
  }
  return false;
}

bool media_matches(std::string_view wanted, const Link& link) {
  if (link.media_type.empty()) return false;
  if (wanted == "*/*") return true;
  if (wanted.size() > 2 && wanted.substr(wanted.size() - 2) == "/*") {
    return text::istarts_with(link.media_type, wanted.substr(0, wanted.size() - 1));
  }
  return text::iequals(link.media_type, wanted);
}

std::vector<std::size_t> narrow(const std::vector<const Link*>& links, const std::vector<std::size_t>& in,
                                const std::vector<Weighted>& prefs,
                                bool (*matches)(std::string_view, const Link&)) {
  for (const auto& p : prefs) {
    std::vector<std::size_t> out;
    for (auto i : in) {
      if (matches(p.value, *links[i])) out.push_back(i);
    }
    if (!out.empty()) return out;
  }
  return in;
}

}  // namespace

namespace {

// vocabulary_uri is "https://gs1.org/voc/" + |term|, in one allocation.
std::string vocabulary_uri(std::string_view term) {
  std::string uri;
  uri.reserve(kGs1Vocabulary.size() + term.size());
  uri.append(kGs1Vocabulary).append(term);
  return uri;
}

}  // namespace

Result<std::string> expand_link_type(std::string_view text) {
  if (text::istarts_with(text, "gs1:")) {
    const auto term = text.substr(4);
    if (!vocabulary_term(term)) return make_error("link type " + text::quoted(text) + " is not gs1:<term>");
    return vocabulary_uri(term);
  }
  for (auto alias : kVocabularyAliases) {
    if (text::istarts_with(text, alias)) {
      const auto term = text.substr(alias.size());
      if (!vocabulary_term(term)) return make_error("link type " + text::quoted(text) + " names no GS1 vocabulary term");
      return vocabulary_uri(term);
    }
  }
  if (is_http_url(text)) {
    const auto rest = text.substr(text.find("://") + 3);
    if (uri_chars(rest)) return std::string(text);
  }
  return make_error("link type " + text::quoted(text) +
                    " is neither gs1:<term> nor an http(s) URI of letters, digits, '.', '/', '-' and '_'");
}

std::string compact_link_type(std::string_view uri) {
  if (uri.starts_with(kGs1Vocabulary)) return "gs1:" + std::string(uri.substr(kGs1Vocabulary.size()));
  return std::string(uri);
}

Result<Link> parse_link(std::string_view data) {
  if (data.size() > kMaxLinkDataBytes) {
    return make_error("a GS1_LINK value is larger than " + std::to_string(kMaxLinkDataBytes) + " bytes");
  }
  auto flat = read_flat(data);
  if (!flat) return make_error("a GS1_LINK value must be a JSON object");
  // A key given twice: the last one counts, as in every JSON parser we use.
  std::vector<FlatMember*> members;
  members.reserve(flat->size());
  for (auto it = flat->rbegin(); it != flat->rend(); ++it) {
    if (std::none_of(members.begin(), members.end(), [&](const FlatMember* m) { return m->key == it->key; })) {
      members.push_back(&*it);
    }
  }
  auto find = [&](std::string_view name) -> FlatMember* {
    for (FlatMember* m : members) {
      if (m->key == name) return m;
    }
    return nullptr;
  };
  Link link;
  // (Each required member is read once: its text is moved out.)
  auto required = [&](const char* name) -> Result<std::string> {
    FlatMember* m = find(name);
    if (m == nullptr || m->kind != FlatMember::Kind::string) return make_error(std::string("\"") + name + "\" must be a string");
    return std::move(m->text);
  };
  auto type = required("linkType");
  if (!type) return type.error();
  auto expanded = expand_link_type(*type);
  if (!expanded) return expanded.error();
  link.link_type = std::move(*expanded);
  auto href = required("href");
  if (!href) return href.error();
  if (!is_http_url(*href)) {
    return make_error("\"href\" must be an absolute http(s) URL without spaces, quotes or <>: " + text::quoted(*href));
  }
  link.href = std::move(*href);
  auto title = required("title");
  if (!title) return title.error();
  if (title->size() > 512 || text::check_utf8(*title)) return make_error("\"title\" must be UTF-8 of at most 512 bytes");
  link.title = std::move(*title);
  for (FlatMember* m : members) {
    const std::string& key = m->key;
    if (key == "linkType" || key == "href" || key == "title") continue;
    if (key == "hreflang") {
      auto langs = string_list(*m, language_tag);
      if (!langs) return make_error(langs.error().message + " (a language is \"ll\" or \"ll-CC\")");
      link.hreflang = std::move(*langs);
    } else if (key == "type") {
      if (m->kind != FlatMember::Kind::string || !media_type(m->text)) {
        return make_error("\"type\" must be a media type \"type/subtype\"");
      }
      link.media_type = std::move(m->text);
    } else if (key == "context") {
      auto ctx = string_list(*m, context_token);
      if (!ctx) return ctx.error();
      link.context = std::move(*ctx);
    } else if (key == "default" || key == "fwqs") {
      if (m->kind != FlatMember::Kind::boolean) return make_error("\"" + key + "\" must be true or false");
      (key == "default" ? link.is_default : link.fwqs) = m->flag;
    } else {
      return make_error("unknown member " + text::quoted(key) +
                        " (a link has linkType, href, title, hreflang, type, context, default, fwqs)");
    }
  }
  return link;
}

std::string link_data(const Link& link) {
  nlohmann::ordered_json j;
  j["linkType"] = compact_link_type(link.link_type);
  j["href"] = link.href;
  j["title"] = link.title;
  if (!link.hreflang.empty()) j["hreflang"] = link.hreflang;
  if (!link.media_type.empty()) j["type"] = link.media_type;
  if (!link.context.empty()) j["context"] = link.context;
  if (link.is_default) j["default"] = true;
  if (!link.fwqs) j["fwqs"] = false;
  return j.dump();
}

Result<void> check_link_values(const std::vector<store::HandleValue>& values) {
  std::size_t links = 0, defaults = 0, descriptions = 0;
  for (const auto& v : values) {
    const std::string where = "Invalid value at index " + std::to_string(v.index) + ": ";
    if (v.type == kLinkValueType) {
      auto link = parse_link(v.data);
      if (!link) return make_error(where + link.error().message);
      ++links;
      if (link->is_default) ++defaults;
    } else if (v.type == kItemDescriptionType) {
      if (++descriptions > 1) return make_error(where + "a record has at most one GS1_ITEM_DESCRIPTION");
      if (v.data.size() > kMaxItemDescriptionBytes || text::check_utf8(v.data)) {
        return make_error(where + "GS1_ITEM_DESCRIPTION must be UTF-8 text of at most " +
                          std::to_string(kMaxItemDescriptionBytes) + " bytes");
      }
    }
  }
  if (links > 0 && defaults != 1) {
    return make_error("an item with links needs exactly one default link (\"default\": true); this one has " +
                      std::to_string(defaults));
  }
  return {};
}

std::vector<Weighted> parse_weighted(std::string_view header) {
  std::vector<Weighted> out;
  std::size_t pos = 0;
  while (pos <= header.size() && out.size() < 32) {
    auto comma = header.find(',', pos);
    if (comma == std::string_view::npos) comma = header.size();
    std::string_view member = header.substr(pos, comma - pos);
    pos = comma + 1;
    auto trim = [](std::string_view s) {
      while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
      while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
      return s;
    };
    const auto semi = member.find(';');
    std::string_view value = trim(member.substr(0, semi));
    if (value.empty() || value.size() > 127) continue;
    double q = 1.0;
    bool ok = true;
    if (semi != std::string_view::npos) {
      std::string_view params = member.substr(semi + 1);
      while (!params.empty()) {
        const auto next = params.find(';');
        std::string_view p = trim(params.substr(0, next));
        params = next == std::string_view::npos ? std::string_view{} : params.substr(next + 1);
        if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
          const auto num = p.substr(2);
          // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
          if (num.empty() || num.size() > 5 || (num[0] != '0' && num[0] != '1') ||
              (num.size() > 1 && num[1] != '.') ||
              !std::all_of(num.begin() + std::min<std::size_t>(2, num.size()), num.end(), text::is_digit)) {
            ok = false;
            break;
          }
          q = (num[0] - '0');
          double scale = 0.1;
          for (std::size_t k = 2; k < num.size(); ++k, scale /= 10) q += (num[k] - '0') * scale;
          if (q > 1.0) ok = false;
        }
      }
    }
    if (!ok || q <= 0.0) continue;
    out.push_back(Weighted{text::lower_ascii(value), q});
  }
  std::stable_sort(out.begin(), out.end(), [](const Weighted& a, const Weighted& b) { return a.q > b.q; });
  return out;
}

std::vector<std::size_t> negotiate(const std::vector<const Link*>& candidates, const Preferences& prefs) {
  std::vector<std::size_t> in(candidates.size());
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = i;
  if (in.size() <= 1) return in;
  if (prefs.context) {
    std::vector<std::size_t> matched, neutral;
    for (auto i : in) {
      const auto& ctx = candidates[i]->context;
      if (ctx.empty()) neutral.push_back(i);
      if (std::any_of(ctx.begin(), ctx.end(), [&](const std::string& c) { return text::iequals(c, *prefs.context); })) {
        matched.push_back(i);
      }
    }
    if (!matched.empty()) in = std::move(matched);
    else if (!neutral.empty()) in = std::move(neutral);
  }
  if (in.size() > 1) in = narrow(candidates, in, prefs.languages, language_matches);
  if (in.size() > 1) in = narrow(candidates, in, prefs.media_types, media_matches);
  return in;
}

bool wants_linkset(const std::vector<Weighted>& media_types, bool json_too) {
  if (media_types.empty()) return false;
  const double top = media_types.front().q;
  for (const auto& m : media_types) {
    if (m.q < top) break;
    if (m.value == "application/linkset+json") return true;
    if (json_too && m.value == "application/json") return true;
  }
  return false;
}

std::string linkset_json(std::string_view anchor, std::string_view item_description,
                         const std::vector<const Link*>& links) {
  auto target = [](const Link& l) {
    nlohmann::ordered_json t;
    t["href"] = l.href;
    t["title"] = l.title;
    if (!l.media_type.empty()) t["type"] = l.media_type;
    if (!l.hreflang.empty()) t["hreflang"] = l.hreflang;
    if (!l.context.empty()) t["context"] = l.context;
    if (!l.fwqs) t["fwqs"] = false;
    return t;
  };
  nlohmann::ordered_json entry;
  entry["anchor"] = anchor;
  entry["itemDescription"] = item_description;
  for (const Link* l : links) {
    if (l->is_default) entry[std::string(kDefaultLinkRel)].push_back(target(*l));
  }
  for (const Link* l : links) entry[l->link_type].push_back(target(*l));
  nlohmann::ordered_json body;
  body["linkset"] = nlohmann::ordered_json::array({std::move(entry)});
  return body.dump();
}

namespace {

void append_member(std::string& out, std::string_view target, std::string_view rel, std::string_view type) {
  out.push_back('<');
  out.append(target);
  out.append(">; rel=");
  append_quoted(out, rel);
  if (!type.empty()) {
    out.append("; type=");
    append_quoted(out, type);
  }
}

}  // namespace

std::string link_header_member(std::string_view target, std::string_view rel, std::string_view type) {
  std::string out;
  out.reserve(target.size() + rel.size() + type.size() + 24);
  append_member(out, target, rel, type);
  return out;
}

std::string link_header(const std::vector<const Link*>& links, const std::vector<std::string>& extra) {
  std::string out;
  std::size_t size = 0;
  for (const Link* l : links) size += l->href.size() + l->link_type.size() + l->media_type.size() + l->title.size() + 64;
  for (const auto& e : extra) size += e.size() + 2;
  out.reserve(size);
  for (const Link* l : links) {
    if (!out.empty()) out.append(", ");
    append_member(out, l->href, l->link_type, l->media_type);
    // One hreflang parameter per language is RFC 8288's form.
    for (const auto& h : l->hreflang) out.append("; hreflang=\"").append(h).push_back('"');
    if (plain_ascii(l->title)) {
      out.append("; title=");
      append_quoted(out, l->title);
    } else {
      // RFC 8187 ext-value for non-ASCII titles.
      out.append("; title*=UTF-8''").append(text::percent_encode(l->title));
    }
  }
  for (const auto& e : extra) {
    if (!out.empty()) out.append(", ");
    out.append(e);
  }
  return out;
}

std::string with_query(std::string_view href, std::string_view query) {
  if (query.empty()) return std::string(href);
  const std::string_view base = href.substr(0, href.find('#'));
  const std::string_view fragment = href.substr(base.size());
  std::string out;
  out.reserve(href.size() + 1 + query.size());
  out.append(base).push_back(base.find('?') == std::string_view::npos ? '?' : '&');
  out.append(query).append(fragment);
  return out;
}

}  // namespace idra::api::links

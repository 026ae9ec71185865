// schema_json.cpp: Cedar's JSON schema format, read into a RawSchema.
//
// nlohmann::json keeps no positions, so every diagnostic carries the JSON path
// of the offending element in its message, and its line and column are those
// of the element's key, found by scanning the text for the keys of that path
// in order (exact for any schema a person writes; at worst the position of an
// enclosing key).
#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "policy/schema.hpp"

namespace idra::policy {

namespace {

using nlohmann::json;

constexpr int kMaxDepth = 200;

// JsonFailure unwinds the reader at the first error.
struct JsonFailure {
  std::vector<std::string> path;
  std::string message;
};

Pos pos_of_offset(std::string_view text, std::size_t offset) {
  Pos p{1, 1};
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++p.line;
      p.column = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++p.column;
    }
  }
  return p;
}

// locate finds the position of the last key of |path| by looking for each
// key, JSON-encoded and followed by ':', after the previous one.
Pos locate(std::string_view text, const std::vector<std::string>& path) {
  std::size_t at = 0;
  bool found_any = false;
  std::size_t found = 0;
  for (const std::string& key : path) {
    const std::string quoted = json(key).dump();
    std::size_t from = at;
    std::size_t hit = std::string_view::npos;
    while (true) {
      const std::size_t i = text.find(quoted, from);
      if (i == std::string_view::npos) break;
      std::size_t j = i + quoted.size();
      while (j < text.size() &&
             (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r'))
        ++j;
      if (j < text.size() && text[j] == ':') {
        hit = i;
        break;
      }
      from = i + 1;
    }
    if (hit == std::string_view::npos) break;
    found_any = true;
    found = hit;
    at = hit + quoted.size();
  }
  if (!found_any) return Pos{1, 1};
  return pos_of_offset(text, found);
}

std::string render_path(const std::vector<std::string>& path) {
  std::string out;
  for (const std::string& k : path) out += "/" + k;
  return out.empty() ? "/" : out;
}

// depth_ok rejects nesting deeper than kMaxDepth before nlohmann builds
// (and later destroys) the tree recursively.
bool depth_ok(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxDepth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  RawSchema schema(const json& doc) {
    RawSchema out;
    if (!doc.is_object()) fail({}, "a schema must be a JSON object of namespaces");
    for (const auto& [ns_name, ns_value] : doc.items()) {
      path_ = {ns_name};
      RawNamespace ns;
      ns.name = ns_name;
      ns.pos = here();
      if (!ns_name.empty()) check_path_name(ns_name, "namespace");
      if (!ns_value.is_object()) fail(path_, "a namespace must be an object");
      expect_keys(ns_value, {"commonTypes", "entityTypes", "actions", "annotations"});
      if (!ns_value.contains("entityTypes")) fail(path_, "missing field `entityTypes`");
      if (!ns_value.contains("actions")) fail(path_, "missing field `actions`");
      if (ns_value.contains("commonTypes")) {
        const json& commons = object_at(ns_value, "commonTypes");
        for (const auto& [name, t] : commons.items()) {
          Scope s(path_, {"commonTypes", name});
          check_ident(name, "common type");
          ns.commons.push_back(RawCommon{name, type(t, 0), here()});
        }
      }
      const json& entities = object_at(ns_value, "entityTypes");
      for (const auto& [name, e] : entities.items()) {
        Scope s(path_, {"entityTypes", name});
        check_ident(name, "entity type");
        ns.entities.push_back(entity(name, e));
      }
      const json& actions = object_at(ns_value, "actions");
      for (const auto& [name, a] : actions.items()) {
        Scope s(path_, {"actions", name});
        ns.actions.push_back(action(name, a));
      }
      out.namespaces.push_back(std::move(ns));
    }
    return out;
  }

 private:
  // Scope pushes keys onto the current path for the lifetime of a block.
  struct Scope {
    Scope(std::vector<std::string>& path, std::initializer_list<std::string> keys)
        : path_(path), n_(keys.size()) {
      for (const std::string& k : keys) path_.push_back(k);
    }
    ~Scope() { path_.resize(path_.size() - n_); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    std::vector<std::string>& path_;
    std::size_t n_;
  };

  [[noreturn]] static void fail(std::vector<std::string> path, std::string message) {
    throw JsonFailure{std::move(path), std::move(message)};
  }
  Pos here() const { return locate(text_, path_); }

  void expect_keys(const json& obj, std::initializer_list<std::string_view> allowed) const {
    for (const auto& [key, value] : obj.items()) {
      bool ok = false;
      for (std::string_view a : allowed) ok = ok || key == a;
      if (!ok) {
        std::vector<std::string> p = path_;
        p.push_back(key);
        fail(p, "unknown field `" + key + "`");
      }
    }
  }

  const json& object_at(const json& obj, const std::string& key) {
    const json& v = obj.at(key);
    if (!v.is_object()) {
      std::vector<std::string> p = path_;
      p.push_back(key);
      fail(p, "`" + key + "` must be an object");
    }
    return v;
  }

  const json& array_at(const json& obj, const std::string& key) {
    const json& v = obj.at(key);
    if (!v.is_array()) {
      std::vector<std::string> p = path_;
      p.push_back(key);
      fail(p, "`" + key + "` must be an array");
    }
    return v;
  }

  std::string string_at(const json& obj, const std::string& key) {
    if (!obj.contains(key)) fail(path_, "missing field `" + key + "`");
    const json& v = obj.at(key);
    if (!v.is_string()) {
      std::vector<std::string> p = path_;
      p.push_back(key);
      fail(p, "`" + key + "` must be a string");
    }
    return v.get<std::string>();
  }

  static bool valid_ident(std::string_view s) {
    if (s.empty()) return false;
    const char c0 = s[0];
    if (!(c0 == '_' || (c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z'))) return false;
    for (char c : s) {
      if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
        return false;
    }
    return !is_reserved_identifier(s);
  }

  void check_ident(const std::string& name, std::string_view what) const {
    if (!valid_ident(name)) fail(path_, "invalid " + std::string(what) + " name `" + name + "`");
  }

  // check_path_name accepts A::B::C made of identifiers (namespaces, type references).
  void check_path_name(const std::string& name, std::string_view what) const {
    std::string_view rest = name;
    while (true) {
      const std::size_t sep = rest.find("::");
      if (!valid_ident(rest.substr(0, sep)))
        fail(path_, "invalid " + std::string(what) + " name `" + name + "`");
      if (sep == std::string_view::npos) break;
      rest.remove_prefix(sep + 2);
    }
  }

  std::vector<std::pair<std::string, Pos>> type_names(const json& obj, const std::string& key) {
    std::vector<std::pair<std::string, Pos>> out;
    Scope s(path_, {key});
    const json& arr = obj.at(key);
    if (!arr.is_array()) fail(path_, "`" + key + "` must be an array of entity type names");
    for (const json& n : arr) {
      if (!n.is_string()) fail(path_, "`" + key + "` must be an array of entity type names");
      check_path_name(n.get<std::string>(), "entity type");
      out.emplace_back(n.get<std::string>(), here());
    }
    return out;
  }

  RawType type(const json& t, int depth, bool attribute = false) {
    if (depth > kMaxDepth) fail(path_, "types are nested too deeply");
    if (!t.is_object()) fail(path_, "a type must be an object with a `type` field");
    RawType out;
    out.pos = here();
    const std::string kind = string_at(t, "type");
    // `required` and `annotations` belong to record attributes only.
    auto allowed = [&](std::initializer_list<std::string_view> keys) {
      std::vector<std::string_view> all(keys);
      if (attribute) {
        all.push_back("required");
        all.push_back("annotations");
      }
      for (const auto& [key, value] : t.items()) {
        if (std::find(all.begin(), all.end(), key) == all.end()) {
          std::vector<std::string> p = path_;
          p.push_back(key);
          fail(p, "unknown field `" + key + "`");
        }
      }
    };
    if (kind == "Long" || kind == "String" || kind == "Boolean") {
      allowed({"type"});
      out.kind = kind == "Long"     ? RawType::Kind::long_
                 : kind == "String" ? RawType::Kind::string
                                    : RawType::Kind::boolean;
    } else if (kind == "Set") {
      allowed({"type", "element"});
      if (!t.contains("element")) fail(path_, "missing field `element`");
      out.kind = RawType::Kind::set;
      Scope s(path_, {"element"});
      out.element.push_back(type(t.at("element"), depth + 1));
    } else if (kind == "Record") {
      allowed({"type", "attributes", "additionalAttributes"});
      out.kind = RawType::Kind::record;
      if (!t.contains("attributes")) fail(path_, "missing field `attributes`");
      if (t.contains("additionalAttributes")) {
        const json& add = t.at("additionalAttributes");
        if (!add.is_boolean()) fail(path_, "`additionalAttributes` must be a boolean");
        out.open = add.get<bool>();
      }
      const json& attrs = object_at(t, "attributes");
      for (const auto& [name, at] : attrs.items()) {
        Scope s(path_, {"attributes", name});
        RawAttr a;
        a.name = name;
        a.pos = here();
        a.type = type(at, depth + 1, true);
        if (at.contains("required")) {
          const json& req = at.at("required");
          if (!req.is_boolean()) fail(path_, "`required` must be a boolean");
          a.required = req.get<bool>();
        }
        out.attrs.push_back(std::move(a));
      }
    } else if (kind == "Entity" || kind == "Extension" || kind == "EntityOrCommon") {
      allowed({"type", "name"});
      out.kind = kind == "Entity"      ? RawType::Kind::entity
                 : kind == "Extension" ? RawType::Kind::extension
                                       : RawType::Kind::name;
      out.name = string_at(t, "name");
      if (kind != "Extension") check_path_name(out.name, "type");
    } else {
      allowed({"type"});
      check_path_name(kind, "type");
      out.kind = RawType::Kind::common;
      out.name = kind;
    }
    return out;
  }

  RawEntity entity(const std::string& name, const json& e) {
    if (!e.is_object()) fail(path_, "an entity type declaration must be an object");
    RawEntity out;
    out.name = name;
    out.pos = here();
    if (e.contains("enum")) {
      expect_keys(e, {"enum", "annotations"});
      const json& choices = array_at(e, "enum");
      if (choices.empty()) fail(path_, "`enum` needs at least one choice");
      std::vector<std::string> list;
      for (const json& c : choices) {
        if (!c.is_string()) fail(path_, "`enum` must be an array of strings");
        list.push_back(c.get<std::string>());
      }
      out.enum_choices = std::move(list);
      return out;
    }
    expect_keys(e, {"memberOfTypes", "shape", "tags", "annotations"});
    if (e.contains("memberOfTypes")) out.member_of = type_names(e, "memberOfTypes");
    if (e.contains("shape")) {
      Scope s(path_, {"shape"});
      out.shape = type(e.at("shape"), 0);
    }
    if (e.contains("tags")) {
      Scope s(path_, {"tags"});
      out.tags = type(e.at("tags"), 0);
    }
    return out;
  }

  RawAction action(const std::string& name, const json& a) {
    if (!a.is_object()) fail(path_, "an action declaration must be an object");
    expect_keys(a, {"memberOf", "appliesTo", "annotations", "attributes"});
    RawAction out;
    out.name = name;
    out.pos = here();
    if (a.contains("attributes")) {
      const json& attrs = a.at("attributes");
      if (!attrs.is_null() && !(attrs.is_object() && attrs.empty())) {
        fail(path_, "action attributes are not supported");
      }
    }
    if (a.contains("memberOf")) {
      Scope s(path_, {"memberOf"});
      const json& parents = a.at("memberOf");
      if (!parents.is_array()) fail(path_, "`memberOf` must be an array");
      for (const json& p : parents) {
        if (!p.is_object())
          fail(path_, "`memberOf` entries are objects {\"id\": ..., \"type\": ...}");
        expect_keys(p, {"id", "type"});
        RawActionRef ref;
        ref.id = string_at(p, "id");
        if (p.contains("type")) {
          ref.type = string_at(p, "type");
          check_path_name(*ref.type, "action type");
        }
        Scope s2(path_, {"id"});
        ref.pos = here();
        out.member_of.push_back(std::move(ref));
      }
    }
    if (a.contains("appliesTo") && !a.at("appliesTo").is_null()) {
      Scope s(path_, {"appliesTo"});
      const json& applies = a.at("appliesTo");
      if (!applies.is_object()) fail(path_, "`appliesTo` must be an object");
      expect_keys(applies, {"principalTypes", "resourceTypes", "context"});
      if (!applies.contains("principalTypes")) fail(path_, "missing field `principalTypes`");
      if (!applies.contains("resourceTypes")) fail(path_, "missing field `resourceTypes`");
      out.has_applies_to = true;
      out.principals = type_names(applies, "principalTypes");
      out.resources = type_names(applies, "resourceTypes");
      if (applies.contains("context")) {
        Scope s2(path_, {"context"});
        out.context = type(applies.at("context"), 0);
      }
    }
    return out;
  }

  std::string_view text_;
  std::vector<std::string> path_;
};

}  // namespace

Result<RawSchema, std::vector<Diagnostic>> parse_schema_json(std::string_view text,
                                                             std::string_view file) {
  auto diag = [&](Pos p, std::string message) {
    return std::vector<Diagnostic>{
        Diagnostic{std::string(file), p.line, p.column, std::move(message)}};
  };
  if (!depth_ok(text)) return diag(Pos{1, 1}, "the JSON schema is nested too deeply");
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    const std::size_t at = e.byte > 0 ? e.byte - 1 : 0;
    return diag(pos_of_offset(text, at), "invalid JSON: " + std::string(e.what()));
  } catch (const json::exception& e) {
    // A number out of range, an invalid UTF-8 string, ...
    return diag(Pos{1, 1}, "invalid JSON: " + std::string(e.what()));
  }
  try {
    Reader r(text);
    return r.schema(doc);
  } catch (const JsonFailure& f) {
    return diag(locate(text, f.path), f.message + " (at " + render_path(f.path) + ")");
  } catch (const json::exception& e) {
    return diag(Pos{1, 1}, std::string("invalid JSON schema: ") + e.what());
  }
}

}  // namespace idra::policy

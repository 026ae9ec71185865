// json.cpp: Cedar's JSON formats for values, contexts and entities, and the
// textual form of an entity uid (Type::"id").
//
// Without a schema Cedar reads JSON literally: an object is a record unless
// it is exactly an escape ({"__entity": ...} or {"__extn": ...}), an array
// is a set, a number must be an integer that fits in an i64, and null is
// never a value. Duplicate keys are rejected rather than silently merged
// (what JSON.parse would do) so that a document means one thing.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "idra/policy.hpp"
#include "policy/lexer.hpp"
#include "policy/extensions.hpp"

namespace idra::policy {
namespace {

using Json = nlohmann::json;

constexpr int kMaxDepth = 128;

// parse_json parses |text|, rejecting duplicate object keys and nesting
// deeper than kMaxDepth (the conversion below recurses).
Result<Json> parse_json(std::string_view text) {
  std::vector<std::vector<std::string>> keys;  // the keys seen in each open object
  std::string problem;
  const auto callback = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (!problem.empty()) return true;
    if (depth > kMaxDepth) {
      problem = "JSON nested too deeply";
      return true;
    }
    switch (event) {
      case Json::parse_event_t::object_start:
        keys.emplace_back();
        break;
      case Json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case Json::parse_event_t::key: {
        if (keys.empty() || !parsed.is_string()) break;
        const std::string& key = parsed.get_ref<const std::string&>();
        auto& seen = keys.back();
        if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
          problem = "duplicate key \"" + key + "\" in a JSON object";
        } else {
          seen.push_back(key);
        }
        break;
      }
      default:
        break;
    }
    return true;
  };
  Json json = Json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/false);
  if (json.is_discarded()) return make_error("invalid JSON");
  if (!problem.empty()) return make_error(problem);
  return json;
}

bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }

bool is_reserved(std::string_view ident) {
  static constexpr std::string_view kReserved[] = {"true", "false", "if",   "then", "else",
                                                   "in",   "is",    "like", "has",  "__cedar"};
  return std::find(std::begin(kReserved), std::end(kReserved), ident) != std::end(kReserved);
}

// valid_type_name: Cedar's normalized name, Ident(::Ident)*, no reserved word.
bool valid_type_name(std::string_view name) {
  std::size_t pos = 0;
  while (true) {
    const std::size_t start = pos;
    if (pos >= name.size() || !is_ident_start(name[pos])) return false;
    while (pos < name.size() && is_ident_char(name[pos])) ++pos;
    if (is_reserved(name.substr(start, pos - start))) return false;
    if (pos == name.size()) return true;
    if (name.substr(pos, 2) != "::") return false;
    pos += 2;
  }
}

std::string where(const std::string& path) { return path.empty() ? std::string("value") : path; }

// has_type_and_id: |j| has the shape of Cedar's TypeAndId, an object with
// string "type" and "id" (other keys are ignored, as serde does).
bool has_type_and_id(const Json& j) {
  if (!j.is_object()) return false;
  auto type = j.find("type");
  auto id = j.find("id");
  return type != j.end() && id != j.end() && type->is_string() && id->is_string();
}

// uid_from_type_and_id makes a uid of a TypeAndId-shaped object; error when
// the type is not a valid Cedar name.
Result<EntityUid> uid_from_type_and_id(const Json& j, const std::string& path) {
  const std::string& type_name = j["type"].get_ref<const std::string&>();
  if (!valid_type_name(type_name)) {
    return make_error(where(path) + ": \"" + type_name + "\" is not a valid entity type name");
  }
  return EntityUid{type_name, j["id"].get<std::string>()};
}

// uid_from_json reads an entity reference in either form Cedar accepts:
// {"__entity": {"type","id"}} (which wins when both are present) or {"type","id"}.
Result<EntityUid> uid_from_json(const Json& j, const std::string& path) {
  if (j.is_object()) {
    if (auto e = j.find("__entity"); e != j.end() && has_type_and_id(*e))
      return uid_from_type_and_id(*e, path);
    if (has_type_and_id(j)) return uid_from_type_and_id(j, path);
  }
  return make_error(where(path) + ": expected an entity reference {\"type\": ..., \"id\": ...}");
}

Result<Value> to_value(const Json& j, const std::string& path);

// extension_arg finds the (first) argument of an `__extn` escape; null when |call|
// does not have the escape's shape (then Cedar reads the object as a record).
// {"fn", "arg"} or {"fn", "args": [...]}; |count| is the number of arguments.
const Json* extension_arg(const Json& call, std::size_t& count) {
  if (!call.is_object()) return nullptr;
  auto fn = call.find("fn");
  if (fn == call.end() || !fn->is_string()) return nullptr;
  if (auto a = call.find("arg"); a != call.end()) {
    count = 1;
    return &*a;
  }
  if (auto args = call.find("args"); args != call.end() && args->is_array()) {
    count = args->size();
    return count == 0 ? &*args : &(*args)[0];  // the caller reports a count other than 1
  }
  return nullptr;
}

Result<Value> extension_value(const Json& call, const Json* arg, std::size_t count,
                              const std::string& path) {
  const std::string& name = call["fn"].get_ref<const std::string&>();
  if (name != "ip" && name != "decimal") {
    return make_error(where(path) + ": extension function `" + name + "` does not exist");
  }
  if (count != 1) {
    return make_error(where(path) + ": wrong number of arguments to `" + name +
                      "`: expected 1, got " + std::to_string(count));
  }
  Result<Value> arg_value = to_value(*arg, path);
  if (!arg_value) return arg_value.error();
  if (!arg_value->is_string()) {
    return make_error(where(path) + ": type error: expected string, got " +
                      std::string(arg_value->type_name()));
  }
  if (name == "ip") {
    Result<IpAddr> ip = ext::parse_ip(arg_value->as_string());
    if (!ip) return make_error(where(path) + ": " + ip.error().message);
    return Value(*ip);
  }
  Result<Decimal> d = ext::parse_decimal(arg_value->as_string());
  if (!d) return make_error(where(path) + ": " + d.error().message);
  return Value(*d);
}

Result<Value> to_value(const Json& j, const std::string& path) {
  switch (j.type()) {
    case Json::value_t::boolean:
      return Value(j.get<bool>());
    case Json::value_t::number_integer:
      return Value(j.get<std::int64_t>());
    case Json::value_t::number_unsigned: {
      const auto n = j.get<std::uint64_t>();
      if (n > static_cast<std::uint64_t>(INT64_MAX))
        return make_error(where(path) + ": integer out of range");
      return Value(static_cast<std::int64_t>(n));
    }
    case Json::value_t::number_float:
      return make_error(where(path) + ": numbers must be integers (Cedar has no floating point)");
    case Json::value_t::string:
      return Value(j.get<std::string>());
    case Json::value_t::array: {
      SetValue elements;
      elements.reserve(j.size());
      for (std::size_t i = 0; i < j.size(); ++i) {
        Result<Value> v = to_value(j[i], path + "[" + std::to_string(i) + "]");
        if (!v) return v.error();
        elements.push_back(std::move(*v));
      }
      return Value::set(std::move(elements));
    }
    case Json::value_t::object: {
      // An escape is an object with that one key and a body of the right
      // shape; anything else is a record, as in Cedar.
      if (j.size() == 1) {
        if (auto e = j.find("__entity"); e != j.end() && has_type_and_id(*e)) {
          Result<EntityUid> uid = uid_from_type_and_id(*e, path);
          if (!uid) return uid.error();
          return Value(std::move(*uid));
        }
        if (auto x = j.find("__extn"); x != j.end()) {
          std::size_t count = 0;
          if (const Json* arg = extension_arg(*x, count))
            return extension_value(*x, arg, count, path);
        }
        if (j.contains("__expr"))
          return make_error(where(path) + ": the `__expr` escape is no longer supported");
      }
      RecordValue fields;
      for (const auto& [key, item] : j.items()) {
        Result<Value> v = to_value(item, path.empty() ? key : path + "." + key);
        if (!v) return v.error();
        fields.emplace(key, std::move(*v));
      }
      return Value::record(std::move(fields));
    }
    case Json::value_t::null:
      return make_error(where(path) + ": JSON null is not a Cedar value");
    default:
      return make_error(where(path) + ": not a Cedar value");
  }
}

Result<RecordValue> record_from_json(const Json& j, const std::string& path) {
  if (!j.is_object()) return make_error(where(path) + ": expected a JSON object");
  RecordValue fields;
  for (const auto& [key, item] : j.items()) {
    Result<Value> v = to_value(item, path.empty() ? key : path + "." + key);
    if (!v) return v.error();
    fields.emplace(key, std::move(*v));
  }
  return fields;
}


}  // namespace

Result<Value> value_from_json(std::string_view json_text) {
  Result<Json> json = parse_json(json_text);
  if (!json) return json.error();
  return to_value(*json, "");
}

Result<RecordValue> context_from_json(std::string_view json_text) {
  Result<Json> json = parse_json(json_text);
  if (!json) return json.error();
  if (!json->is_object()) return make_error("the context must be a JSON object");
  return record_from_json(*json, "context");
}

Result<Entities> Entities::from_json(std::string_view json_text) {
  Result<Json> json = parse_json(json_text);
  if (!json) return json.error();
  if (!json->is_array()) return make_error("entities must be a JSON array");
  std::vector<Entity> entities;
  entities.reserve(json->size());
  for (std::size_t i = 0; i < json->size(); ++i) {
    const Json& item = (*json)[i];
    const std::string at = "entity " + std::to_string(i);
    if (!item.is_object()) return make_error(at + ": expected an object");
    auto uid_json = item.find("uid");
    if (uid_json == item.end()) return make_error(at + ": missing field `uid`");
    Result<EntityUid> uid = uid_from_json(*uid_json, at + " uid");
    if (!uid) return uid.error();
    const std::string name = uid->str();
    Entity entity;
    entity.uid = std::move(*uid);
    auto attrs = item.find("attrs");
    if (attrs == item.end()) return make_error(name + ": missing field `attrs`");
    Result<RecordValue> attr_values = record_from_json(*attrs, name + " attrs");
    if (!attr_values) return attr_values.error();
    entity.attrs = std::move(*attr_values);
    auto parents = item.find("parents");
    if (parents == item.end()) return make_error(name + ": missing field `parents`");
    if (!parents->is_array()) return make_error(name + ": `parents` must be an array");
    for (std::size_t p = 0; p < parents->size(); ++p) {
      Result<EntityUid> parent =
          uid_from_json((*parents)[p], name + " parents[" + std::to_string(p) + "]");
      if (!parent) return parent.error();
      entity.parents.push_back(std::move(*parent));
    }
    if (auto tags = item.find("tags"); tags != item.end()) {
      Result<RecordValue> tag_values = record_from_json(*tags, name + " tags");
      if (!tag_values) return tag_values.error();
      entity.tags = std::move(*tag_values);
    }
    entities.push_back(std::move(entity));
  }
  return Entities::make(std::move(entities));
}

Result<EntityUid> entity_uid_from_text(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return make_error("invalid entity uid `" + std::string(text) + "`: " + std::string(why));
  };
  std::size_t pos = 0;
  const auto skip_space = [&] {
    while (pos < text.size() &&
           (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' || text[pos] == '\r')) {
      ++pos;
    }
  };
  std::string type;
  skip_space();
  while (true) {
    const std::size_t start = pos;
    if (pos >= text.size() || !is_ident_start(text[pos])) return bad("expected a type name");
    while (pos < text.size() && is_ident_char(text[pos])) ++pos;
    const std::string_view ident = text.substr(start, pos - start);
    if (is_reserved(ident)) return bad("`" + std::string(ident) + "` is reserved");
    if (!type.empty()) type += "::";
    type += ident;
    skip_space();
    if (text.substr(pos, 2) != "::") return bad("expected `::\"id\"`");
    pos += 2;
    skip_space();
    if (pos < text.size() && text[pos] == '"') break;
  }
  ++pos;  // the opening quote
  const std::size_t body_start = pos;
  while (pos < text.size() && text[pos] != '"') {
    if (text[pos] == '\\') ++pos;
    ++pos;
  }
  if (pos >= text.size()) return bad("unterminated string");
  std::string id, escape_error;
  if (!lex::unescape(text.substr(body_start, pos - body_start), id, escape_error))
    return bad("invalid escape in the id: " + escape_error);
  ++pos;
  skip_space();
  if (pos != text.size()) return bad("unexpected text after the id");
  return EntityUid{std::move(type), std::move(id)};
}

}  // namespace idra::policy

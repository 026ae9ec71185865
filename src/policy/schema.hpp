// schema.hpp: the inside of a Schema (internal to src/policy), shared by the
// two schema parsers (schema_text.cpp, schema_json.cpp) and the validator.
//
// Both parsers produce a RawSchema: names as written, positions attached.
// build_schema (schema.cpp) resolves every name with Cedar's rules (common
// types first, then entity types, the current namespace before the empty
// one, `__cedar` builtins last), checks what Cedar checks (duplicates,
// unknown names, cycles among common types and actions, contexts that are
// not records) and fills a SchemaImpl whose types are fully resolved.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "idra/policy.hpp"

namespace idra::policy {

// SchemaType is a resolved schema type.
struct SchemaAttr;
struct SchemaType {
  enum class Kind { boolean, long_, string, set, record, entity, extension };
  Kind kind = Kind::boolean;
  std::vector<SchemaType> element;          // set: exactly one
  std::map<std::string, SchemaAttr> attrs;  // record
  bool open = false;                        // record: additionalAttributes
  std::string name;                         // entity type / extension name

  bool operator==(const SchemaType&) const;
  // str renders the type in the human-readable schema syntax (messages, tests).
  std::string str() const;
};

struct SchemaAttr {
  SchemaType type;
  bool required = true;
  bool operator==(const SchemaAttr&) const = default;
};

struct EntityTypeDef {
  std::string name;                    // fully qualified
  std::vector<std::string> member_of;  // fully qualified parent types, as declared
  std::map<std::string, SchemaAttr> attrs;
  bool open_attrs = false;
  std::optional<SchemaType> tags;
  std::optional<std::vector<std::string>> enum_choices;
  bool operator==(const EntityTypeDef&) const = default;
};

struct ActionDef {
  EntityUid uid;                        // type "Action" or "Ns::Action"
  std::vector<EntityUid> member_of;     // direct parents, as declared
  std::vector<std::string> principals;  // applicable principal types (empty: applies to nothing)
  std::vector<std::string> resources;
  SchemaType context;  // always a record
  bool operator==(const ActionDef&) const = default;
};

class SchemaImpl {
 public:
  std::map<std::string, EntityTypeDef> entity_types;
  std::map<EntityUid, ActionDef> actions;

  // Derived by build_schema:
  // descendant_types[T] lists the entity types whose entities may be `in` an
  // entity of type T (T's transitive children in memberOfTypes), not T itself.
  std::map<std::string, std::set<std::string>> descendant_types;
  // action_descendants[A] lists the actions transitively `in` A (not A itself).
  std::map<EntityUid, std::set<EntityUid>> action_descendants;
  std::set<std::string> action_types;  // "Action", "Ns::Action" for every declared action

  const EntityTypeDef* entity_type(const std::string& name) const {
    auto it = entity_types.find(name);
    return it == entity_types.end() ? nullptr : &it->second;
  }
  const ActionDef* action(const EntityUid& uid) const {
    auto it = actions.find(uid);
    return it == actions.end() ? nullptr : &it->second;
  }
  // types_in returns T and every type whose entities may be in a T.
  std::set<std::string> types_in(const std::string& type) const;
  // same_content compares the declarations (not the derived tables).
  bool same_content(const SchemaImpl& other) const {
    return entity_types == other.entity_types && actions == other.actions;
  }
};

// Pos is a position in the schema source (1-based; 0 when unknown).
struct Pos {
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};

// RawType is a type as written, before name resolution.
struct RawAttr;
struct RawType {
  enum class Kind {
    name,       // a path to resolve: common type, entity type or builtin (EntityOrCommon)
    common,     // JSON {"type": "X"}: a common type or a builtin, never an entity type
    entity,     // JSON {"type": "Entity", "name": ...}
    extension,  // JSON {"type": "Extension", "name": ...}
    long_,      // JSON "Long" and friends (after the common-type check, see schema_json.cpp)
    string,
    boolean,
    set,
    record,
  };
  Kind kind = Kind::name;
  std::string name;
  std::vector<RawType> element;  // set: exactly one
  std::vector<RawAttr> attrs;    // record
  bool open = false;
  Pos pos;
};

struct RawAttr {
  std::string name;
  RawType type;
  bool required = true;
  Pos pos;
};

struct RawEntity {
  std::string name;  // unqualified
  std::vector<std::pair<std::string, Pos>> member_of;
  std::optional<RawType> shape;  // a record (or a name of a common record type in JSON)
  std::optional<RawType> tags;
  std::optional<std::vector<std::string>> enum_choices;
  Pos pos;
};

struct RawActionRef {
  std::optional<std::string>
      type;  // the action entity type as written; none: this namespace's Action
  std::string id;
  Pos pos;
};

struct RawAction {
  std::string name;
  std::vector<RawActionRef> member_of;
  bool has_applies_to = false;
  std::vector<std::pair<std::string, Pos>> principals;
  std::vector<std::pair<std::string, Pos>> resources;
  std::optional<RawType> context;
  Pos pos;
};

struct RawCommon {
  std::string name;
  RawType type;
  Pos pos;
};

struct RawNamespace {
  std::string name;  // "" for the empty namespace
  std::vector<RawEntity> entities;
  std::vector<RawAction> actions;
  std::vector<RawCommon> commons;
  Pos pos;
};

struct RawSchema {
  std::vector<RawNamespace> namespaces;
};

// build_schema resolves and checks |raw|. Every error found is listed, with
// |file| and the position of the declaration or name at fault.
Result<SchemaImpl, std::vector<Diagnostic>> build_schema(const RawSchema& raw,
                                                         std::string_view file);

// parse_schema_text / parse_schema_json read the two syntaxes into a RawSchema.
Result<RawSchema, std::vector<Diagnostic>> parse_schema_text(std::string_view text,
                                                             std::string_view file);
Result<RawSchema, std::vector<Diagnostic>> parse_schema_json(std::string_view text,
                                                             std::string_view file);

// is_reserved_identifier is true for Cedar's reserved words (true, false,
// if, then, else, in, is, like, has), which cannot name anything.
bool is_reserved_identifier(std::string_view id);

// is_builtin_extension_type is true for ipaddr, decimal, datetime, duration.
bool is_builtin_extension_type(std::string_view name);

}  // namespace idra::policy

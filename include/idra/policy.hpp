// policy.hpp: the Cedar policy engine (Cedar 4.x language and semantics).
//
// Values, entities and requests are plain data; a PolicySet is parsed from
// Cedar text, optionally validated against a Schema, and answers requests
// with is_authorized(). Everything here is safe to share between threads once
// built (a PolicySet and an Entities are immutable after construction).
//
// What this module does not do: it never reads LMDB or the network. The api
// module builds the entities of a request from store data (ARCHITECTURE.md).
#pragma once

#include <algorithm>
#include <array>
#include <compare>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "idra/result.hpp"

namespace idra::policy {

// Diagnostic is one problem in a policy, schema or entities file, with the
// position it was found at (1-based line and column; 0 when unknown).
struct Diagnostic {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::string message;
  // str renders "file:line:column: message" (parts that are unknown are left out).
  std::string str() const;
};

// EntityUid names an entity: a possibly namespaced type ("Ns::Device") and an id.
struct EntityUid {
  std::string type;
  std::string id;
  auto operator<=>(const EntityUid&) const = default;
  bool operator==(const EntityUid&) const = default;
  // str renders Cedar syntax: Type::"id" with the id escaped as a Cedar string.
  std::string str() const;
};

struct EntityUidHash {
  std::size_t operator()(const EntityUid& uid) const noexcept;
};

// IpAddr is the `ipaddr` extension value: an address with a prefix length
// (a plain address has the full length, 32 or 128).
struct IpAddr {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // v4 uses the first 4
  std::uint8_t prefix_len = 32;
  auto operator<=>(const IpAddr&) const = default;
  bool operator==(const IpAddr&) const = default;
};

// Decimal is the `decimal` extension value: a fixed-point number with four
// digits after the point, stored as value * 10^4.
struct Decimal {
  std::int64_t scaled = 0;
  auto operator<=>(const Decimal&) const = default;
  bool operator==(const Decimal&) const = default;
};

class Value;
// A Set is kept sorted and without duplicates (Value's total order), so that
// equality of sets is equality of vectors.
using SetValue = std::vector<Value>;
using RecordValue = std::map<std::string, Value, std::less<>>;

// Value is a Cedar value. Sets and records are shared immutable trees, so
// copying a Value is cheap.
class Value {
 public:
  using Storage = std::variant<bool, std::int64_t, std::string, EntityUid, std::shared_ptr<const SetValue>,
                               std::shared_ptr<const RecordValue>, IpAddr, Decimal>;

  Value() : v_(false) {}
  Value(bool b) : v_(b) {}                         // NOLINT: implicit on purpose
  Value(std::int64_t n) : v_(n) {}                 // NOLINT
  Value(std::string s) : v_(std::move(s)) {}       // NOLINT
  Value(const char* s) : v_(std::string(s)) {}     // NOLINT
  Value(EntityUid e) : v_(std::move(e)) {}         // NOLINT
  Value(IpAddr ip) : v_(ip) {}                     // NOLINT
  Value(Decimal d) : v_(d) {}                      // NOLINT
  // set sorts and de-duplicates |elements|.
  static Value set(SetValue elements);
  static Value record(RecordValue fields);

  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  bool is_long() const { return std::holds_alternative<std::int64_t>(v_); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_entity() const { return std::holds_alternative<EntityUid>(v_); }
  bool is_set() const { return std::holds_alternative<std::shared_ptr<const SetValue>>(v_); }
  bool is_record() const { return std::holds_alternative<std::shared_ptr<const RecordValue>>(v_); }
  bool is_ip() const { return std::holds_alternative<IpAddr>(v_); }
  bool is_decimal() const { return std::holds_alternative<Decimal>(v_); }

  // The accessors below require the matching kind (std::bad_variant_access otherwise).
  bool as_bool() const { return std::get<bool>(v_); }
  std::int64_t as_long() const { return std::get<std::int64_t>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const EntityUid& as_entity() const { return std::get<EntityUid>(v_); }
  const SetValue& as_set() const { return *std::get<std::shared_ptr<const SetValue>>(v_); }
  const RecordValue& as_record() const { return *std::get<std::shared_ptr<const RecordValue>>(v_); }
  const IpAddr& as_ip() const { return std::get<IpAddr>(v_); }
  const Decimal& as_decimal() const { return std::get<Decimal>(v_); }

  // type_name is Cedar's name of the kind: "bool", "long", "string",
  // "entity", "set", "record", "ipaddr", "decimal" (used in error messages).
  std::string_view type_name() const;

  const Storage& storage() const { return v_; }

  // Equality is Cedar's ==: structural, sets as sets, records by fields.
  friend bool operator==(const Value& a, const Value& b);
  // A total order (kind first, then content), used to keep sets canonical.
  friend std::strong_ordering operator<=>(const Value& a, const Value& b);

 private:
  Storage v_;
};

// to_cedar renders |v| as a Cedar expression (for messages and explain).
std::string to_cedar(const Value& v);

// Entity is one node of the entity hierarchy.
struct Entity {
  EntityUid uid;
  RecordValue attrs;
  std::vector<EntityUid> parents;  // direct parents, as given
  RecordValue tags;
};

// AncestorList lists entities' uids, sorted (type, then id) and without repeats.
using AncestorList = std::vector<EntityUid>;

// Entities is an immutable entity store with the transitive closure of the
// parent relation computed at construction (so `in` is a lookup).
//
// A store is a layer: its own entities, in a flat vector, and optionally a
// base layer (see layered()) that lookups fall back to. A layer of a few
// entities (what one request brings) is scanned linearly; a large one (an
// entities.json) is indexed by a hash map.
class Entities {
 public:
  Entities() = default;

  // make builds the store. Error when a uid appears twice with different
  // contents (identical repeats count once, as in Cedar) or the parent
  // relation has a cycle through an entity and itself (Cedar allows parents
  // that are not in the store: they have no attributes and no parents).
  static Result<Entities> make(std::vector<Entity> entities);
  // from_json reads Cedar's JSON entities format: an array of
  // {"uid": {"type","id"}, "attrs": {...}, "parents": [...], "tags": {...}}.
  // Attribute values use Cedar's JSON value format (__entity, __extn, and
  // the implicit forms). Error names the entity and what is wrong.
  static Result<Entities> from_json(std::string_view json_text);

  // find returns the entity, or null when the store has none with that uid.
  const Entity* find(const EntityUid& uid) const;
  // in is Cedar's `in`: a == b, or b is a (transitive) ancestor of a.
  bool in(const EntityUid& a, const EntityUid& b) const;
  // size counts this layer's entities (not a base layer's).
  std::size_t size() const { return nodes_.size(); }
  // ancestors lists every ancestor of |uid| (not |uid| itself); null when
  // the store has no entity |uid|. The list lives as long as the store.
  const AncestorList* ancestors(const EntityUid& uid) const;
  // contains says whether |list| (an ancestors() result) holds |uid|.
  static bool contains(const AncestorList& list, const EntityUid& uid);
  // for_each_entity calls |f| with every entity of this layer and of the
  // layers below it (an entity a layer shadows is visited in both).
  template <class F>
  void for_each_entity(F&& f) const {
    for (const Node& n : nodes_) f(n.entity);
    if (base_) base_->for_each_entity(f);
  }

 private:
  struct Node {
    Entity entity;
    AncestorList ancestors;
  };
  // A layer of more entities than this gets the hash index.
  static constexpr std::size_t kLinearMax = 16;
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  // position finds |uid| in this layer only; kNone when absent.
  std::size_t position(const EntityUid& uid) const;
  const Node* node(const EntityUid& uid) const;
  // add appends |e| (not yet in this layer), indexing it when the layer is large.
  void add(Entity e, bool indexed);
  // close computes every node's ancestors; error on a cycle.
  Result<void> close();

  std::vector<Node> nodes_;
  std::unordered_map<EntityUid, std::size_t, EntityUidHash> index_;  // empty for a small layer
  // types_ lists the entity types of this layer when there are few (the
  // schema's actions are all `Action`), so that a lookup of another type
  // skips the layer without hashing; empty when not kept.
  std::vector<std::string> types_;
  // base_ is a lower layer (see layered()): find/in/ancestors fall back to it
  // for uids this layer does not hold. Null for a plain store.
  std::shared_ptr<const Entities> base_;
  friend Result<Entities> layered(std::vector<Entity> request_entities, std::shared_ptr<const Entities> base);
};

// value_from_json reads one Cedar JSON value ({"__entity": ...},
// {"__extn": {"fn": "ip", "arg": "..."}}, bool, number, string, array,
// object). Error says where and what is wrong.
Result<Value> value_from_json(std::string_view json_text);
// context_from_json reads a request context: a JSON object of values.
Result<RecordValue> context_from_json(std::string_view json_text);
// entity_uid_from_text parses Type::"id" (namespaced types allowed).
Result<EntityUid> entity_uid_from_text(std::string_view text);

struct Request {
  EntityUid principal;
  EntityUid action;
  EntityUid resource;
  RecordValue context;
};

// RequestRef is a Request whose parts the caller owns; they must outlive
// the call that takes it. A server that decides many requests of one
// context (every value of a record) passes it to avoid copying the context.
struct RequestRef {
  const EntityUid& principal;
  const EntityUid& action;
  const EntityUid& resource;
  const RecordValue& context;
};

// EvaluationError is a policy that errored during evaluation: Cedar skips it.
struct EvaluationError {
  std::string policy_id;
  std::string message;
};

struct Decision {
  bool allow = false;
  // determining are the ids of the satisfied forbid policies when a forbid
  // decided, else of the satisfied permit policies (empty on default deny),
  // in policy-set order.
  std::vector<std::string> determining;
  std::vector<EvaluationError> errors;
};

class PolicySetImpl;

// PolicySet is a parsed, linked set of policies and templates. Policies are
// named by their `@id("...")` annotation when they carry one, otherwise
// "policy0", "policy1", ... in the order they were added (as Cedar's
// PolicySet::from_str does); template-linked policies by their link id.
class PolicySet {
 public:
  PolicySet();
  ~PolicySet();
  PolicySet(PolicySet&&) noexcept;
  PolicySet& operator=(PolicySet&&) noexcept;

  // parse reads Cedar policy text (policies and templates). On any parse
  // error nothing is returned and every error found is listed, with
  // |file_name| and the position.
  static Result<PolicySet, std::vector<Diagnostic>> parse(std::string_view text, std::string_view file_name = "");

  // add_text parses |text| and appends its policies and templates to this
  // set; ids go on counting from the policies already in the set. On error
  // the set is unchanged. Duplicate ids are an error.
  Result<void, std::vector<Diagnostic>> add_text(std::string_view text, std::string_view file_name = "");

  // link instantiates template |template_id| as policy |link_id| with the
  // slot values given (?principal and/or ?resource, exactly the slots the
  // template has). Error on an unknown template, a taken id, a missing or extra slot.
  Result<void> link(std::string_view template_id, std::string_view link_id,
                    const std::map<std::string, EntityUid>& slots);

  // ids lists the ids of the static and linked policies, in set order.
  std::vector<std::string> policy_ids() const;
  std::vector<std::string> template_ids() const;
  std::size_t size() const;

  // annotation returns the annotation |key| of policy (or template) |id|.
  std::optional<std::string> annotation(std::string_view id, std::string_view key) const;

  const PolicySetImpl& impl() const { return *impl_; }
  PolicySetImpl& impl() { return *impl_; }

 private:
  std::unique_ptr<PolicySetImpl> impl_;
};

// is_authorized decides |request| over |policies| and |entities| with
// Cedar's semantics: a policy whose evaluation errors is skipped and listed in
// Decision::errors; any satisfied forbid denies; otherwise any satisfied
// permit allows; otherwise deny.
Decision is_authorized(const PolicySet& policies, const Request& request, const Entities& entities);
Decision is_authorized(const PolicySet& policies, const RequestRef& request, const Entities& entities);
// is_authorized_each decides, for every resource of |resources| in order,
// the request of |principal| doing |action| on it with |context|: the same
// decisions as one is_authorized per resource, for less work (the candidate
// policies are found once per resource type, the principal and the action
// are looked up once).
std::vector<Decision> is_authorized_each(const PolicySet& policies, const EntityUid& principal,
                                         const EntityUid& action, std::span<const EntityUid> resources,
                                         const RecordValue& context, const Entities& entities);

class SchemaImpl;

// Schema is a Cedar schema (human-readable .cedarschema or the JSON form).
class Schema {
 public:
  Schema();
  ~Schema();
  Schema(Schema&&) noexcept;
  Schema& operator=(Schema&&) noexcept;

  // parse_cedarschema reads the human-readable schema syntax; parse_json
  // the JSON schema format. Every error found is listed with its position.
  static Result<Schema, std::vector<Diagnostic>> parse_cedarschema(std::string_view text,
                                                                  std::string_view file_name = "");
  static Result<Schema, std::vector<Diagnostic>> parse_json(std::string_view text, std::string_view file_name = "");

  const SchemaImpl& impl() const { return *impl_; }

 private:
  std::unique_ptr<SchemaImpl> impl_;
};

// validate checks every policy and template of |policies| against |schema|
// with Cedar's strict validation: unknown entity types, attributes or
// actions, action/type combinations that never apply, and type errors. It
// returns every problem found (empty when the set is valid), each with the
// file, line and column of the expression at fault and the policy id.
std::vector<Diagnostic> validate(const Schema& schema, const PolicySet& policies);

// validate_request checks that |request| fits |schema| (known action, the
// principal and resource types it applies to, the context's shape).
Result<void> validate_request(const Schema& schema, const Request& request);

// ---------------------------------------------------------------------------
// A policy directory and the engine that serves it.
//
// A directory holds:
//   *.cedar            policies and templates (read in file-name order)
//   *.cedarschema      the schema, human-readable form, or
//   *.cedarschema.json the schema, JSON form (at most one schema in all)
//   entities.json      entities in Cedar's JSON format (memberships, attributes)
//   links.json         template links: [{"template": ID, "id": ID,
//                        "slots": {"?principal": "Org::\"acme\"", "?resource": ...}}]
//   tests/*.json       expected decisions (idra policy test), not part of the set
// A single .cedar file may stand for a directory (no schema, entities or links).

struct Bundle {
  PolicySet policies;
  std::shared_ptr<const Schema> schema;  // null when the directory has none
  std::shared_ptr<const Entities> entities;  // entities.json (empty when absent)
  // sha256_hex identifies the set: SHA-256 over, for every file read in
  // byte order of its name, the name, a NUL, the contents and a NUL.
  std::string sha256_hex;
  std::vector<std::string> files;  // names, in the order read
  // named_types lists, sorted, every entity type that the policies (static,
  // linked and templates, scopes and conditions) or the entities name by
  // uid: load_bundle sets it; null when unknown (a Bundle built by hand).
  //
  // Cedar looks at an entity's uid only to compare it with another uid, so
  // when a type T is not listed, two requests whose T resources differ only
  // in their uids (same attributes, same parents, same relations to the
  // principal's attributes) get the same decision; a server may cache
  // decisions about T resources by those properties. Errors' messages may
  // name the uid: only error-free decisions are that interchangeable.
  std::optional<std::vector<std::string>> named_types;
  bool names_type(std::string_view type) const {
    return !named_types || std::binary_search(named_types->begin(), named_types->end(), type);
  }
};

// named_entity_types computes Bundle::named_types for |policies| and |entities|.
std::vector<std::string> named_entity_types(const PolicySet& policies, const Entities& entities);

// load_bundle reads a policy directory (or one .cedar file) and validates the
// policies against the schema when there is one. Any parse, link or
// validation error refuses the whole bundle; every error found is listed.
Result<std::shared_ptr<const Bundle>, std::vector<Diagnostic>> load_bundle(const std::filesystem::path& path);

// PolicyFile is one file of a bundle held in memory (the built-in defaults).
struct PolicyFile {
  std::string name;  // file name, which says what it is (*.cedar, entities.json, ...)
  std::string text;
  std::string path;  // shown in diagnostics; the name when empty
};
// load_bundle from files in memory; the same rules as from a directory.
Result<std::shared_ptr<const Bundle>, std::vector<Diagnostic>> load_bundle(const std::vector<PolicyFile>& files);

// Engine holds the active bundle. Readers take a shared_ptr to the current
// bundle, so a request that started on one bundle finishes on it while a
// reload installs the next; reload is atomic and refuses a bad set whole.
class Engine {
 public:
  static Result<std::unique_ptr<Engine>, std::vector<Diagnostic>> open(const std::filesystem::path& dir);

  std::shared_ptr<const Bundle> current() const;
  // reload reads the directory again; on error the active bundle stays and
  // the errors are returned. Returns true when the set changed (its hash).
  Result<bool, std::vector<Diagnostic>> reload();
  // changed_on_disk is true when a file's name, size or modification time
  // differs from what the active bundle was loaded from (cheap: stat only).
  bool changed_on_disk() const;
  const std::filesystem::path& directory() const { return dir_; }

 private:
  Engine(std::filesystem::path dir, std::shared_ptr<const Bundle> bundle, std::string stamp);
  std::filesystem::path dir_;
  mutable std::mutex mu_;
  std::shared_ptr<const Bundle> bundle_;
  std::string stamp_;  // names, sizes and mtimes of the files at load
};

// layered returns a store that holds |request_entities| on top of |base|
// (the bundle's static entities, or another layer): lookups find the
// request's entities first, and `in` follows parents across the layers. An
// entity |base| holds too keeps the base's parents, attributes and tags
// that the request's entry does not set. Error when a uid appears twice
// among |request_entities| or their parents form a cycle.
Result<Entities> layered(std::vector<Entity> request_entities, std::shared_ptr<const Entities> base);

}  // namespace idra::policy

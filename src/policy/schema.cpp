// schema.cpp: name resolution and checks shared by both schema syntaxes, and
// the Schema class.
#include "policy/schema.hpp"

#include <algorithm>
#include <functional>

namespace idra::policy {

namespace {

std::string qualify(const std::string& ns, const std::string& name) {
  return ns.empty() ? name : ns + "::" + name;
}

std::string action_type_of(const std::string& ns) { return qualify(ns, "Action"); }

class Builder {
 public:
  Builder(const RawSchema& raw, std::string_view file) : raw_(raw), file_(file) {}

  Result<SchemaImpl, std::vector<Diagnostic>> run() {
    declare();
    check_shadowing();
    if (errors_.empty()) define();
    if (errors_.empty()) derive();
    if (!errors_.empty()) return errors_;
    return std::move(out_);
  }

 private:
  struct CommonDecl {
    const RawCommon* decl;
    std::string ns;
    enum class State { pending, busy, done } state = State::pending;
    std::optional<SchemaType> resolved;
  };

  void error(Pos pos, std::string message) {
    errors_.push_back(Diagnostic{std::string(file_), pos.line, pos.column, std::move(message)});
  }

  // declare records every qualified name and reports duplicates.
  void declare() {
    std::set<std::string> namespaces;
    for (const RawNamespace& ns : raw_.namespaces) {
      if (!ns.name.empty()) {
        if (!namespaces.insert(ns.name).second)
          error(ns.pos, "duplicate namespace `" + ns.name + "`");
        std::string_view rest = ns.name;
        while (true) {
          const std::size_t sep = rest.find("::");
          if (rest.substr(0, sep) == "__cedar") {
            error(ns.pos, "use of the reserved `__cedar` namespace");
            break;
          }
          if (sep == std::string_view::npos) break;
          rest.remove_prefix(sep + 2);
        }
      }
      for (const RawEntity& e : ns.entities) {
        const std::string name = qualify(ns.name, e.name);
        if (!entity_names_.insert(name).second)
          error(e.pos, "entity type `" + name + "` is declared twice");
      }
      for (const RawCommon& c : ns.commons) {
        const std::string name = qualify(ns.name, c.name);
        if (c.name == "Bool" || c.name == "Boolean" || c.name == "Entity" ||
            c.name == "Extension" || c.name == "Long" || c.name == "Record" || c.name == "Set" ||
            c.name == "String") {
          error(c.pos,
                "`" + c.name + "` is a reserved schema keyword and cannot name a common type");
          continue;
        }
        if (commons_.count(name) != 0) {
          error(c.pos, "common type `" + name + "` is declared twice");
          continue;
        }
        commons_.emplace(name, CommonDecl{&c, ns.name, CommonDecl::State::pending, std::nullopt});
      }
      for (const RawAction& a : ns.actions) {
        const EntityUid uid{action_type_of(ns.name), a.name};
        if (!action_uids_.insert(uid).second)
          error(a.pos, "action " + uid.str() + " is declared twice");
      }
    }
  }

  // check_shadowing rejects what Cedar calls illegal shadowing: a type or
  // action of a named namespace with the name of one of the empty namespace
  // (inside the namespace, the unqualified name could mean either).
  void check_shadowing() {
    std::set<std::string> empty_types;
    std::set<std::string> empty_actions;
    for (const RawNamespace& ns : raw_.namespaces) {
      if (!ns.name.empty()) continue;
      for (const RawEntity& e : ns.entities) empty_types.insert(e.name);
      for (const RawCommon& c : ns.commons) empty_types.insert(c.name);
      for (const RawAction& a : ns.actions) empty_actions.insert(a.name);
    }
    for (const RawNamespace& ns : raw_.namespaces) {
      if (ns.name.empty()) continue;
      auto shadow = [&](Pos pos, const std::string& what, const std::string& existing) {
        error(pos, "definition of `" + what + "` illegally shadows the existing definition of `" +
                       existing + "`");
      };
      for (const RawEntity& e : ns.entities) {
        if (empty_types.count(e.name)) shadow(e.pos, qualify(ns.name, e.name), e.name);
      }
      for (const RawCommon& c : ns.commons) {
        if (empty_types.count(c.name)) shadow(c.pos, qualify(ns.name, c.name), c.name);
      }
      for (const RawAction& a : ns.actions) {
        if (empty_actions.count(a.name)) {
          shadow(a.pos, EntityUid{action_type_of(ns.name), a.name}.str(),
                 EntityUid{"Action", a.name}.str());
        }
      }
    }
  }

  // resolve_common returns the type of common type |name|, resolving it on
  // first use; a cycle is an error.
  std::optional<SchemaType> resolve_common(const std::string& name, Pos use) {
    CommonDecl& c = commons_.at(name);
    if (c.state == CommonDecl::State::done) return c.resolved;
    if (c.state == CommonDecl::State::busy) {
      if (!cycle_reported_.count(name)) {
        cycle_reported_.insert(name);
        error(use, "cycle in common type references containing `" + name + "`");
      }
      return std::nullopt;
    }
    c.state = CommonDecl::State::busy;
    std::optional<SchemaType> t = resolve(c.decl->type, c.ns);
    c.state = CommonDecl::State::done;
    c.resolved = t;
    return t;
  }

  std::optional<SchemaType> builtin(std::string_view name) {
    SchemaType t;
    if (name == "Long") {
      t.kind = SchemaType::Kind::long_;
    } else if (name == "String") {
      t.kind = SchemaType::Kind::string;
    } else if (name == "Bool") {
      t.kind = SchemaType::Kind::boolean;
    } else if (is_builtin_extension_type(name)) {
      t.kind = SchemaType::Kind::extension;
      t.name = std::string(name);
    } else {
      return std::nullopt;
    }
    return t;
  }

  static SchemaType entity_ref(const std::string& name) {
    SchemaType t;
    t.kind = SchemaType::Kind::entity;
    t.name = name;
    return t;
  }

  // resolve_entity_name finds the entity type a name written in namespace
  // |ns| refers to: Ns::N first, then N in the empty namespace.
  std::optional<std::string> resolve_entity_name(const std::string& name, const std::string& ns) {
    if (name.find("::") != std::string::npos) {
      if (entity_names_.count(name)) return name;
      return std::nullopt;
    }
    const std::string local = qualify(ns, name);
    if (entity_names_.count(local)) return local;
    if (entity_names_.count(name)) return name;
    return std::nullopt;
  }

  std::optional<SchemaType> resolve(const RawType& raw, const std::string& ns) {
    switch (raw.kind) {
      case RawType::Kind::long_: {
        SchemaType t;
        t.kind = SchemaType::Kind::long_;
        return t;
      }
      case RawType::Kind::string: {
        SchemaType t;
        t.kind = SchemaType::Kind::string;
        return t;
      }
      case RawType::Kind::boolean: {
        SchemaType t;
        t.kind = SchemaType::Kind::boolean;
        return t;
      }
      case RawType::Kind::extension: {
        if (!is_builtin_extension_type(raw.name)) {
          error(raw.pos, "unknown extension type `" + raw.name + "`");
          return std::nullopt;
        }
        SchemaType t;
        t.kind = SchemaType::Kind::extension;
        t.name = raw.name;
        return t;
      }
      case RawType::Kind::entity: {
        std::optional<std::string> name = resolve_entity_name(raw.name, ns);
        if (!name) {
          error(raw.pos, "failed to resolve type: " + raw.name + " is not a declared entity type");
          return std::nullopt;
        }
        return entity_ref(*name);
      }
      case RawType::Kind::set: {
        if (raw.element.size() != 1) {
          error(raw.pos, "a Set type needs exactly one element type");
          return std::nullopt;
        }
        std::optional<SchemaType> elem = resolve(raw.element[0], ns);
        if (!elem) return std::nullopt;
        SchemaType t;
        t.kind = SchemaType::Kind::set;
        t.element.push_back(std::move(*elem));
        return t;
      }
      case RawType::Kind::record: {
        if (raw.open) {
          error(raw.pos, "records with `additionalAttributes` are not supported");
          return std::nullopt;
        }
        SchemaType t;
        t.kind = SchemaType::Kind::record;
        bool ok = true;
        // A name written twice keeps its last declaration, as Cedar does; the
        // earlier ones are dropped unresolved.
        std::map<std::string, const RawAttr*> last;
        for (const RawAttr& a : raw.attrs) last[a.name] = &a;
        for (const RawAttr& a : raw.attrs) {
          if (last[a.name] != &a) continue;
          std::optional<SchemaType> at = resolve(a.type, ns);
          if (!at) {
            ok = false;
            continue;
          }
          t.attrs[a.name] = SchemaAttr{std::move(*at), a.required};
        }
        if (!ok) return std::nullopt;
        return t;
      }
      case RawType::Kind::common:
        return resolve_common_ref(raw, ns);
      case RawType::Kind::name:
        break;
    }
    const std::string& name = raw.name;
    if (name.find("::") != std::string::npos) {
      if (commons_.count(name)) return resolve_common(name, raw.pos);
      if (entity_names_.count(name)) return entity_ref(name);
      if (name.rfind("__cedar::", 0) == 0) {
        if (auto b = builtin(std::string_view(name).substr(9))) return b;
      }
      error(raw.pos, "failed to resolve type: " + name);
      return std::nullopt;
    }
    const std::string local = qualify(ns, name);
    if (commons_.count(local)) return resolve_common(local, raw.pos);
    if (entity_names_.count(local)) return entity_ref(local);
    if (!ns.empty()) {
      if (commons_.count(name)) return resolve_common(name, raw.pos);
      if (entity_names_.count(name)) return entity_ref(name);
    }
    if (auto b = builtin(name)) return b;
    error(raw.pos, "failed to resolve type: " + name);
    return std::nullopt;
  }

  // resolve_common_ref resolves a JSON {"type": "X"}: a common type (this
  // namespace first, then the empty one) or a builtin.
  std::optional<SchemaType> resolve_common_ref(const RawType& raw, const std::string& ns) {
    const std::string& name = raw.name;
    if (name.find("::") != std::string::npos) {
      if (commons_.count(name)) return resolve_common(name, raw.pos);
      if (name.rfind("__cedar::", 0) == 0) {
        if (auto b = builtin(std::string_view(name).substr(9))) return b;
      }
    } else {
      const std::string local = qualify(ns, name);
      if (commons_.count(local)) return resolve_common(local, raw.pos);
      if (commons_.count(name)) return resolve_common(name, raw.pos);
      if (auto b = builtin(name)) return b;
    }
    error(raw.pos, "failed to resolve type: " + name + " is not a declared common type");
    return std::nullopt;
  }

  std::vector<std::string> resolve_entity_list(
      const std::vector<std::pair<std::string, Pos>>& names, const std::string& ns) {
    std::vector<std::string> out;
    for (const auto& [name, pos] : names) {
      std::optional<std::string> r = resolve_entity_name(name, ns);
      if (!r) {
        error(pos, "failed to resolve type: " + name + " is not a declared entity type");
        continue;
      }
      if (std::find(out.begin(), out.end(), *r) == out.end()) out.push_back(*r);
    }
    return out;
  }

  void define() {
    for (const auto& [name, c] : commons_) (void)resolve_common(name, c.decl->pos);
    for (const RawNamespace& ns : raw_.namespaces) {
      for (const RawEntity& e : ns.entities) {
        EntityTypeDef def;
        def.name = qualify(ns.name, e.name);
        def.member_of = resolve_entity_list(e.member_of, ns.name);
        if (e.shape) {
          std::optional<SchemaType> shape = resolve(*e.shape, ns.name);
          if (shape && shape->kind != SchemaType::Kind::record) {
            error(e.shape->pos, "the shape of entity type `" + def.name + "` is not a record");
          } else if (shape) {
            def.attrs = std::move(shape->attrs);
            def.open_attrs = shape->open;
          }
        }
        if (e.tags) def.tags = resolve(*e.tags, ns.name);
        def.enum_choices = e.enum_choices;
        out_.entity_types[def.name] = std::move(def);
      }
      for (const RawAction& a : ns.actions) {
        ActionDef def;
        def.uid = EntityUid{action_type_of(ns.name), a.name};
        for (const RawActionRef& ref : a.member_of) {
          // A written action type resolves like an entity type: this
          // namespace's first (Action::"x" inside N is N::Action::"x").
          EntityUid parent{ref.type ? *ref.type : action_type_of(ns.name), ref.id};
          if (ref.type && !ns.name.empty()) {
            EntityUid local{qualify(ns.name, *ref.type), ref.id};
            if (action_uids_.count(local)) parent = std::move(local);
          }
          if (!action_uids_.count(parent)) {
            error(ref.pos, "undeclared action: " + parent.str());
            continue;
          }
          def.member_of.push_back(std::move(parent));
        }
        if (a.has_applies_to) {
          def.principals = resolve_entity_list(a.principals, ns.name);
          def.resources = resolve_entity_list(a.resources, ns.name);
        }
        def.context.kind = SchemaType::Kind::record;
        if (a.context) {
          std::optional<SchemaType> ctx = resolve(*a.context, ns.name);
          if (ctx && ctx->kind != SchemaType::Kind::record) {
            error(a.context->pos, "context for action " + def.uid.str() +
                                      " is declared with a type other than `Record`");
          } else if (ctx) {
            def.context = std::move(*ctx);
          }
        }
        out_.action_types.insert(def.uid.type);
        out_.actions[def.uid] = std::move(def);
      }
    }
  }

  void derive() {
    // Entity types: children of T are the types that list T in memberOfTypes.
    std::map<std::string, std::vector<std::string>> children;
    for (const auto& [name, def] : out_.entity_types) {
      for (const std::string& p : def.member_of) children[p].push_back(name);
    }
    for (const auto& [name, def] : out_.entity_types) {
      std::set<std::string>& seen = out_.descendant_types[name];
      std::vector<std::string> stack = children[name];
      while (!stack.empty()) {
        std::string t = std::move(stack.back());
        stack.pop_back();
        if (!seen.insert(t).second) continue;
        for (const std::string& c : children[t]) stack.push_back(c);
      }
    }
    // Actions: the same, and a cycle is an error.
    std::map<EntityUid, std::vector<EntityUid>> action_children;
    for (const auto& [uid, def] : out_.actions) {
      for (const EntityUid& p : def.member_of) action_children[p].push_back(uid);
    }
    for (const auto& [uid, def] : out_.actions) {
      std::set<EntityUid>& seen = out_.action_descendants[uid];
      std::vector<EntityUid> stack = action_children[uid];
      while (!stack.empty()) {
        EntityUid a = std::move(stack.back());
        stack.pop_back();
        if (!seen.insert(a).second) continue;
        for (const EntityUid& c : action_children[a]) stack.push_back(c);
      }
      if (seen.count(uid)) {
        const RawAction* decl = find_action_decl(uid);
        error(decl ? decl->pos : Pos{}, "cycle in action hierarchy containing " + uid.str());
      }
    }
  }

  const RawAction* find_action_decl(const EntityUid& uid) const {
    for (const RawNamespace& ns : raw_.namespaces) {
      for (const RawAction& a : ns.actions) {
        if (action_type_of(ns.name) == uid.type && a.name == uid.id) return &a;
      }
    }
    return nullptr;
  }

  const RawSchema& raw_;
  std::string_view file_;
  std::vector<Diagnostic> errors_;
  std::set<std::string> entity_names_;
  std::set<EntityUid> action_uids_;
  std::map<std::string, CommonDecl> commons_;
  std::set<std::string> cycle_reported_;
  SchemaImpl out_;
};

std::string render_attrs(const std::map<std::string, SchemaAttr>& attrs) {
  std::string out = "{";
  bool first = true;
  for (const auto& [name, a] : attrs) {
    if (!first) out += ", ";
    first = false;
    out += "\"" + name + "\"" + (a.required ? "" : "?") + ": " + a.type.str();
  }
  return out + "}";
}

}  // namespace

bool is_reserved_identifier(std::string_view id) {
  return id == "true" || id == "false" || id == "if" || id == "then" || id == "else" ||
         id == "in" || id == "is" || id == "like" || id == "has";
}

bool is_builtin_extension_type(std::string_view name) {
  return name == "ipaddr" || name == "decimal" || name == "datetime" || name == "duration";
}

bool SchemaType::operator==(const SchemaType& o) const {
  return kind == o.kind && element == o.element && attrs == o.attrs && open == o.open &&
         name == o.name;
}

std::string SchemaType::str() const {
  switch (kind) {
    case Kind::boolean:
      return "Bool";
    case Kind::long_:
      return "Long";
    case Kind::string:
      return "String";
    case Kind::set:
      return "Set<" + (element.empty() ? std::string("?") : element[0].str()) + ">";
    case Kind::record:
      return render_attrs(attrs);
    case Kind::entity:
    case Kind::extension:
      return name;
  }
  return "?";
}

std::set<std::string> SchemaImpl::types_in(const std::string& type) const {
  std::set<std::string> out;
  auto it = descendant_types.find(type);
  if (it != descendant_types.end()) out = it->second;
  out.insert(type);
  return out;
}

Result<SchemaImpl, std::vector<Diagnostic>> build_schema(const RawSchema& raw,
                                                         std::string_view file) {
  return Builder(raw, file).run();
}

Schema::Schema() : impl_(std::make_unique<SchemaImpl>()) {}
Schema::~Schema() = default;
Schema::Schema(Schema&&) noexcept = default;
Schema& Schema::operator=(Schema&&) noexcept = default;

Result<Schema, std::vector<Diagnostic>> Schema::parse_cedarschema(std::string_view text,
                                                                  std::string_view file_name) {
  Result<RawSchema, std::vector<Diagnostic>> raw = parse_schema_text(text, file_name);
  if (!raw) return raw.error();
  Result<SchemaImpl, std::vector<Diagnostic>> built = build_schema(*raw, file_name);
  if (!built) return built.error();
  Schema s;
  *s.impl_ = std::move(*built);
  return s;
}

Result<Schema, std::vector<Diagnostic>> Schema::parse_json(std::string_view text,
                                                           std::string_view file_name) {
  Result<RawSchema, std::vector<Diagnostic>> raw = parse_schema_json(text, file_name);
  if (!raw) return raw.error();
  Result<SchemaImpl, std::vector<Diagnostic>> built = build_schema(*raw, file_name);
  if (!built) return built.error();
  Schema s;
  *s.impl_ = std::move(*built);
  return s;
}

}  // namespace idra::policy

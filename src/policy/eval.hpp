// eval.hpp: evaluation of Cedar expressions and policies against one
// request (internal to src/policy).
//
// Errors are values: evaluation returns the message Cedar would give
// ("type error: expected long, got string", "entity `User::\"a\"` does not
// exist", overflow, extension errors) and is_authorized skips the policy.
#pragma once

#include <optional>
#include <string>

#include "idra/policy.hpp"
#include "policy/ast.hpp"

namespace idra::policy::eval {

// Slots are the entities a linked template's slots stand for (null when the
// policy has no such slot).
struct Slots {
  const EntityUid* principal = nullptr;
  const EntityUid* resource = nullptr;
};

// Evaluator evaluates expressions for one request. It borrows |request| and
// |entities| (both must outlive it) and is cheap to construct; results of
// attribute lookups are references into the entities, the context or the
// policy text, so a hot path allocates only when it builds new sets/records.
// Not thread-safe: one Evaluator per request and thread.
class Evaluator {
 public:
  Evaluator(const RequestRef& request, const Entities& entities)
      : principal_uid_(&request.principal),
        action_uid_(&request.action),
        resource_uid_(&request.resource),
        context_fields_(&request.context),
        entities_(entities) {}
  Evaluator(const Request& request, const Entities& entities)
      : Evaluator(RequestRef{request.principal, request.action, request.resource, request.context}, entities) {}

  // set_resource makes this the evaluator of the same request on another
  // resource (borrowed like the request), keeping what it looked up about
  // the principal and the action.
  void set_resource(const EntityUid& resource);

  // evaluate returns the value of |expr|, or an Error whose message names
  // the problem the way Cedar does.
  Result<Value> evaluate(const ast::Expr& expr, Slots slots = {});

  // scope_matches says whether the head of |policy| (principal, action and
  // resource constraints, with |slots| filled in) holds for the request.
  // It never errors: every scope constraint is over entities.
  bool scope_matches(const ast::Policy& policy, Slots slots) const;

  // satisfied says whether |policy| holds: its scope and every `when`, no
  // `unless`, evaluated in order with short-circuit. Error when a condition
  // errors or is not a bool.
  Result<bool> satisfied(const ast::Policy& policy, Slots slots);

 private:
  // Val is an evaluation result: a reference to a value that outlives the
  // evaluation (entity store, context, policy literal, request variable) or
  // a value built here.
  struct Val {
    const Value* ref = nullptr;
    Value own;
    const Value& get() const { return ref != nullptr ? *ref : own; }
    void set_ref(const Value& v) { ref = &v; }
    void set(Value v) {
      ref = nullptr;
      own = std::move(v);
    }
    // take returns the value (a copy when it is a reference).
    Value take() { return ref != nullptr ? *ref : std::move(own); }
  };

  // eval sets |out| and returns true, or sets error_ and returns false.
  bool eval(const ast::Expr& e, Val& out);
  bool eval_bool(const ast::Expr& e, bool& out);
  bool eval_get_attr(const ast::Expr& e, Val& out);
  bool eval_has_attr(const ast::Expr& e, Val& out);
  struct VarEntity;
  // eval_in is `lhs in rhs`; |lhs_var| is the store's view of lhs when lhs
  // is a request variable (null otherwise).
  bool eval_in(const Value& lhs, const Value& rhs, bool& out, const VarEntity* lhs_var = nullptr);
  bool eval_binary(const ast::Expr& e, Val& out);
  bool eval_ext_call(const ast::Expr& e, Val& out);
  bool eval_tag(const ast::Expr& e, Val& out);
  bool eval_record(const ast::Expr& e, Val& out);

  bool type_error(std::string_view expected, const Value& got);
  bool fail(std::string message);

  // VarEntity is the store's view of principal, action or resource, looked
  // up once per request (scopes and `principal.x` reuse it).
  struct VarEntity {
    bool looked_up = false;
    const Entity* entity = nullptr;
    const AncestorList* ancestors = nullptr;
  };
  const VarEntity& var_entity(ast::Var var) const;
  const EntityUid& var_uid(ast::Var var) const;

  const Value& var_value(ast::Var var);
  bool scope_entity_matches(const ast::ScopeConstraint& c, ast::Var var,
                            const EntityUid* slot) const;
  // attr_of_entity finds attribute |name| of |uid| (whose store entry is
  // |entity|, null when absent), or fails with Cedar's message.
  bool attr_of_entity(const EntityUid& uid, const Entity* entity, const std::string& name,
                      Val& out);

  const EntityUid* principal_uid_;
  const EntityUid* action_uid_;
  const EntityUid* resource_uid_;
  const RecordValue* context_fields_;
  const Entities& entities_;
  Slots slots_;
  std::string error_;
  // The request variables as Values, built on first use.
  std::optional<Value> principal_;
  std::optional<Value> action_;
  std::optional<Value> resource_;
  std::optional<Value> context_;
  mutable VarEntity var_entities_[3];  // principal, action, resource
};

// like_matches is Cedar's `like`: |pattern| against |text| over Unicode
// scalar values, a wildcard matching any run (including none).
bool like_matches(std::string_view text, const std::vector<ast::PatternElem>& pattern);

}  // namespace idra::policy::eval

// entities.cpp: the entity store, its layers and the transitive closure of `in`.
#include <algorithm>
#include <unordered_map>

#include "idra/policy.hpp"

namespace idra::policy {

namespace {

bool same_entity(const Entity& a, const Entity& b) {
  if (!(a.attrs == b.attrs) || !(a.tags == b.tags)) return false;
  auto pa = a.parents, pb = b.parents;
  std::sort(pa.begin(), pa.end());
  std::sort(pb.begin(), pb.end());
  pa.erase(std::unique(pa.begin(), pa.end()), pa.end());
  pb.erase(std::unique(pb.begin(), pb.end()), pb.end());
  return pa == pb;
}

// same_uid is EntityUid equality with the cheap tests first: the uids of
// one request mostly differ in the length of their ids.
bool same_uid(const EntityUid& a, const EntityUid& b) {
  return a.id.size() == b.id.size() && a.type.size() == b.type.size() && a.id == b.id && a.type == b.type;
}

// A list this short is searched faster by scanning than by bisecting
// (every bisection step is a string comparison).
constexpr std::size_t kScanMax = 8;

}  // namespace

std::size_t Entities::position(const EntityUid& uid) const {
  if (!types_.empty() && std::find(types_.begin(), types_.end(), uid.type) == types_.end()) return kNone;
  if (!index_.empty()) {
    auto it = index_.find(uid);
    return it == index_.end() ? kNone : it->second;
  }
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (same_uid(nodes_[i].entity.uid, uid)) return i;
  }
  return kNone;
}

const Entities::Node* Entities::node(const EntityUid& uid) const {
  const std::size_t at = position(uid);
  return at == kNone ? nullptr : &nodes_[at];
}

void Entities::add(Entity e, bool indexed) {
  if (indexed) index_.emplace(e.uid, nodes_.size());
  nodes_.push_back(Node{std::move(e), {}});
}

Result<void> Entities::close() {
  // Ancestors by an iterative depth-first walk (a deep hierarchy must not
  // exhaust the stack): a node's ancestors are its parents plus theirs,
  // taken from this layer or, for a parent this layer does not hold, from
  // the base. Reaching a node that is still on the walk's path is a cycle,
  // which Cedar rejects ("input graph has a cycle").
  // The walk's bookkeeping of a small layer reuses the thread's buffers (a
  // server builds small layers for every request); a large one has its own.
  enum class State : unsigned char { fresh, active, done };
  struct Frame {
    std::size_t node;
    std::size_t next_parent;
  };
  thread_local std::vector<State> small_state;
  thread_local std::vector<Frame> small_stack;
  std::vector<State> large_state;
  std::vector<Frame> large_stack;
  const bool small = nodes_.size() <= kLinearMax;
  std::vector<State>& state = small ? small_state : large_state;
  std::vector<Frame>& stack = small ? small_stack : large_stack;
  state.assign(nodes_.size(), State::fresh);
  stack.clear();
  for (std::size_t root = 0; root < nodes_.size(); ++root) {
    if (state[root] != State::fresh) continue;
    state[root] = State::active;
    stack.push_back({root, 0});
    while (!stack.empty()) {
      Frame& frame = stack.back();
      Node& node = nodes_[frame.node];
      if (frame.next_parent < node.entity.parents.size()) {
        const EntityUid& parent = node.entity.parents[frame.next_parent++];
        const std::size_t at = position(parent);
        if (at == kNone) continue;  // a parent outside this layer: the base knows its ancestors
        if (state[at] == State::fresh) {
          state[at] = State::active;
          stack.push_back({at, 0});  // invalidates |frame|
        } else if (state[at] == State::active) {
          return make_error("the entity hierarchy has a cycle through " + parent.str());
        }
        continue;
      }
      AncestorList ancestors;
      for (const EntityUid& parent : node.entity.parents) {
        ancestors.push_back(parent);
        const std::size_t at = position(parent);
        const AncestorList* theirs = at != kNone ? &nodes_[at].ancestors
                                     : base_     ? base_->ancestors(parent)
                                                 : nullptr;
        if (theirs != nullptr) ancestors.insert(ancestors.end(), theirs->begin(), theirs->end());
      }
      std::sort(ancestors.begin(), ancestors.end());
      ancestors.erase(std::unique(ancestors.begin(), ancestors.end()), ancestors.end());
      node.ancestors = std::move(ancestors);
      state[frame.node] = State::done;
      stack.pop_back();
    }
  }
  // Only a hashed layer gains from skipping; a few types or none are kept.
  constexpr std::size_t kMaxTypes = 4;
  if (!index_.empty()) {
    for (const Node& n : nodes_) {
      if (std::find(types_.begin(), types_.end(), n.entity.uid.type) != types_.end()) continue;
      if (types_.size() == kMaxTypes) {
        types_.clear();
        break;
      }
      types_.push_back(n.entity.uid.type);
    }
  }
  return {};
}

Result<Entities> Entities::make(std::vector<Entity> entities) {
  Entities out;
  out.nodes_.reserve(entities.size());
  const bool indexed = entities.size() > kLinearMax;
  if (indexed) out.index_.reserve(entities.size());
  for (Entity& e : entities) {
    // Cedar accepts an entity listed twice when both entries say the same
    // (parents compared as sets); differing entries are an error.
    if (const std::size_t at = out.position(e.uid); at != kNone) {
      if (!same_entity(out.nodes_[at].entity, e)) return make_error("duplicate entity " + e.uid.str());
      continue;
    }
    out.add(std::move(e), indexed);
  }
  if (auto closed = out.close(); !closed) return closed.error();
  return out;
}

Result<Entities> layered(std::vector<Entity> request_entities, std::shared_ptr<const Entities> base) {
  // The request's entities are few (a principal, a resource and its
  // ancestors, the values of one record): their closure is computed here,
  // reaching into |base| for the ancestors of parents that live there.
  Entities out;
  out.base_ = std::move(base);
  out.nodes_.reserve(request_entities.size());
  const bool indexed = request_entities.size() > Entities::kLinearMax;
  if (indexed) out.index_.reserve(request_entities.size());
  for (Entity& e : request_entities) {
    if (out.position(e.uid) != Entities::kNone) return make_error("duplicate entity " + e.uid.str());
    // An entity the base holds too (entities.json adding a device to a
    // group, say) keeps the base's parents and the attributes the request
    // does not set.
    if (const Entity* b = out.base_ ? out.base_->find(e.uid) : nullptr) {
      e.parents.insert(e.parents.end(), b->parents.begin(), b->parents.end());
      for (const auto& [k, v] : b->attrs) e.attrs.emplace(k, v);
      for (const auto& [k, v] : b->tags) e.tags.emplace(k, v);
    }
    out.add(std::move(e), indexed);
  }
  if (auto closed = out.close(); !closed) return closed.error();
  return out;
}

// The lookups walk the layers from the top; a layer's own entry shadows
// the base's.
const Entity* Entities::find(const EntityUid& uid) const {
  for (const Entities* layer = this; layer != nullptr; layer = layer->base_.get()) {
    if (const Node* n = layer->node(uid)) return &n->entity;
  }
  return nullptr;
}

bool Entities::in(const EntityUid& a, const EntityUid& b) const {
  if (a == b) return true;
  const AncestorList* list = ancestors(a);
  return list != nullptr && contains(*list, b);
}

const AncestorList* Entities::ancestors(const EntityUid& uid) const {
  for (const Entities* layer = this; layer != nullptr; layer = layer->base_.get()) {
    if (const Node* n = layer->node(uid)) return &n->ancestors;
  }
  return nullptr;
}

bool Entities::contains(const AncestorList& list, const EntityUid& uid) {
  if (list.size() <= kScanMax) {
    return std::any_of(list.begin(), list.end(), [&](const EntityUid& a) { return same_uid(a, uid); });
  }
  return std::binary_search(list.begin(), list.end(), uid);
}

}  // namespace idra::policy

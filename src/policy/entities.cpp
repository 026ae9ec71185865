// entities.cpp: the entity store and the transitive closure of `in`.
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

}  // namespace

Result<Entities> Entities::make(std::vector<Entity> entities) {
  Entities out;
  out.by_uid_.reserve(entities.size());
  for (Entity& e : entities) {
    // Cedar accepts an entity listed twice when both entries say the same
    // (parents compared as sets); differing entries are an error.
    if (auto it = out.by_uid_.find(e.uid); it != out.by_uid_.end()) {
      if (!same_entity(it->second.entity, e)) return make_error("duplicate entity " + it->first.str());
      continue;
    }
    EntityUid uid = e.uid;
    out.by_uid_.try_emplace(std::move(uid), Node{std::move(e), {}});
  }

  // Ancestors by an iterative depth-first walk (a deep hierarchy must not
  // exhaust the stack): a node's ancestors are its parents plus theirs.
  // Reaching a node that is still on the walk's path is a cycle, which
  // Cedar rejects ("input graph has a cycle").
  enum class State : unsigned char { active, done };
  std::unordered_map<const Node*, State> state;
  state.reserve(out.by_uid_.size());
  struct Frame {
    Node* node;
    std::size_t next_parent;
  };
  std::vector<Frame> stack;
  for (auto& [root_uid, root] : out.by_uid_) {
    if (state.contains(&root)) continue;
    state.emplace(&root, State::active);
    stack.push_back({&root, 0});
    while (!stack.empty()) {
      Frame& frame = stack.back();
      Node& node = *frame.node;
      if (frame.next_parent < node.entity.parents.size()) {
        const EntityUid& parent = node.entity.parents[frame.next_parent++];
        auto found = out.by_uid_.find(parent);
        if (found == out.by_uid_.end()) continue;  // a parent outside the store has no parents
        Node* parent_node = &found->second;
        auto st = state.find(parent_node);
        if (st == state.end()) {
          state.emplace(parent_node, State::active);
          stack.push_back({parent_node, 0});  // invalidates |frame|
        } else if (st->second == State::active) {
          return make_error("the entity hierarchy has a cycle through " + parent.str());
        }
        continue;
      }
      std::vector<EntityUid> ancestors;
      for (const EntityUid& parent : node.entity.parents) {
        ancestors.push_back(parent);
        auto found = out.by_uid_.find(parent);
        if (found != out.by_uid_.end()) {
          const auto& theirs = found->second.ancestors;
          ancestors.insert(ancestors.end(), theirs.begin(), theirs.end());
        }
      }
      std::sort(ancestors.begin(), ancestors.end());
      ancestors.erase(std::unique(ancestors.begin(), ancestors.end()), ancestors.end());
      node.ancestors = std::move(ancestors);
      state[&node] = State::done;
      stack.pop_back();
    }
  }
  return out;
}

// The lookups fall back to the lower layer (see layered() in engine.cpp)
// for uids this layer does not hold; a layer's own entry shadows the base's.
const Entity* Entities::find(const EntityUid& uid) const {
  auto it = by_uid_.find(uid);
  if (it != by_uid_.end()) return &it->second.entity;
  return base_ ? base_->find(uid) : nullptr;
}

bool Entities::in(const EntityUid& a, const EntityUid& b) const {
  if (a == b) return true;
  auto it = by_uid_.find(a);
  if (it == by_uid_.end()) return base_ ? base_->in(a, b) : false;
  const auto& ancestors = it->second.ancestors;
  return std::binary_search(ancestors.begin(), ancestors.end(), b);
}

const std::vector<EntityUid>* Entities::ancestors(const EntityUid& uid) const {
  auto it = by_uid_.find(uid);
  if (it != by_uid_.end()) return &it->second.ancestors;
  return base_ ? base_->ancestors(uid) : nullptr;
}

}  // namespace idra::policy

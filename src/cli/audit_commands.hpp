// audit_commands.hpp: `idra audit ...` (see audit_commands.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "idra/audit.hpp"

namespace idra::cli {

// audit_command runs `idra audit` with its arguments from argv[from];
// returns the exit status (0 verified, 1 verification failed or the node
// could not be asked, 2 usage).
int audit_command(int argc, char** argv, int from);

// RootBuilder computes the RFC 6962 root of leaves added one at a time in
// O(log n) memory: it keeps the perfect subtrees of the binary decomposition
// of the count, largest first, and folds them right to left at the end.
class RootBuilder {
 public:
  void add_leaf_hash(audit::Hash leaf_hash);
  std::uint64_t size() const { return size_; }
  audit::Hash root() const;

 private:
  std::vector<std::pair<std::uint64_t, audit::Hash>> stack_;  // (leaves, hash)
  std::uint64_t size_ = 0;
};

}  // namespace idra::cli

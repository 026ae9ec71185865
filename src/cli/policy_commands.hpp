// policy_commands.hpp: `idra policy ...` (see policy_commands.cpp).
#pragma once

namespace idra::cli {

// policy_command runs `idra policy` with its arguments from argv[from];
// returns the exit status (0 success or allow, 1 failure, 2 usage, 3 deny).
int policy_command(int argc, char** argv, int from);

}  // namespace idra::cli

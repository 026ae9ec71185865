// ca_commands.hpp: `idra ca ...` (see ca_commands.cpp).
#pragma once

namespace idra::cli {

// ca_command runs `idra ca` with its arguments from argv[from]; returns the
// exit status (0 success, 1 failure, 2 usage).
int ca_command(int argc, char** argv, int from);

}  // namespace idra::cli

#!/usr/bin/env bash
# run.sh: install what is missing, build the release binary, and run the node
# on its embedded defaults (data in ./idra-data, https://127.0.0.1:8443).
# Extra arguments go to `idra serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target idra
exec ./build/release/src/idra serve "$@"

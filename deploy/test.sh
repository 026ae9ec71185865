#!/usr/bin/env bash
# test.sh: install what is missing, then build and run the whole test suite:
#   1. release build: unit tests, fuzz-corpus replays, integration tests
#      (the real binary over HTTPS, driven with curl);
#   2. ASan+UBSan build: unit tests and fuzz-corpus replays again.
# Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup.sh

jobs=$(nproc)
echo "== release build"
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"
echo "== release tests"
ctest --preset release -j "$jobs" --timeout 600

echo "== asan+ubsan build"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
echo "== asan+ubsan tests (unit, fuzz replays, integration)"
ctest --preset asan -j "$jobs" --timeout 900

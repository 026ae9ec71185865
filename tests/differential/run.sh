#!/usr/bin/env bash
# run.sh RUNNER [diff.mjs options]: the differential test against Cedar.
# Installs @cedar-policy/cedar-wasm (npm ci, from package-lock.json) when it is
# missing, then runs diff.mjs. Fails (never skips) when node, npm or the
# install is missing or broken: a test that cannot reach what it tests fails.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
runner="${1:?usage: run.sh RUNNER [options]}"
shift
command -v node >/dev/null || { echo "differential: node is not installed (deploy/setup.sh installs nodejs)" >&2; exit 1; }
if [[ ! -f "$here/node_modules/@cedar-policy/cedar-wasm/package.json" ]]; then
  command -v npm >/dev/null || { echo "differential: npm is not installed (deploy/setup.sh installs npm)" >&2; exit 1; }
  echo "differential: npm ci in $here"
  (cd "$here" && npm ci --no-audit --no-fund) || { echo "differential: npm ci failed" >&2; exit 1; }
fi
cd "$here"
# --no-opt: node 20.20 (V8 11.3) was seen to die in its deoptimizer ("unreachable
# code", DoComputeBuiltinContinuation) part-way through an earlier version of this
# run, deterministically; without TurboFan it did not. The cost is small: the time
# goes into cedar-wasm, which --no-opt does not slow down.
exec node --no-opt diff.mjs "$runner" "$@"

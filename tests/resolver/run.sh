#!/usr/bin/env bash
# run.sh: the GS1-Conformant Resolver conformance suite (node --test) against a
# real `idra serve` (IDRA_BIN). Installs ajv and digital-link.js with `npm ci`
# (package-lock.json) when missing. Fails, never skips, when node, npm or the
# install is missing: a test that cannot reach what it tests fails.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${IDRA_BIN:?IDRA_BIN must name the idra binary}"
command -v node >/dev/null || { echo "resolver: node is not installed (deploy/setup.sh installs nodejs)" >&2; exit 1; }
if [[ ! -f "$here/node_modules/digital-link.js/package.json" || ! -f "$here/node_modules/ajv/package.json" ]]; then
  command -v npm >/dev/null || { echo "resolver: npm is not installed (deploy/setup.sh installs npm)" >&2; exit 1; }
  echo "resolver: npm ci in $here"
  (cd "$here" && npm ci --no-audit --no-fund) || { echo "resolver: npm ci failed" >&2; exit 1; }
fi
cd "$here"
exec node --test --test-reporter=spec "$@" resolver.test.mjs

#!/usr/bin/env bash
# run.sh TOOL: the live cross-check of idra's compressed Digital Links against
# digital-link.js 1.4.3. Installs it (npm ci, from package-lock.json) when it is
# missing, then runs compression.test.mjs with node --test. Fails (never
# skips) when node, npm or the install is missing or broken.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tool="${1:?usage: run.sh GS1_COMPRESS_TOOL}"
command -v node >/dev/null || { echo "gs1: node is not installed (deploy/setup.sh installs nodejs)" >&2; exit 1; }
if [[ ! -f "$here/node_modules/digital-link.js/package.json" ]]; then
  command -v npm >/dev/null || { echo "gs1: npm is not installed (deploy/setup.sh installs npm)" >&2; exit 1; }
  echo "gs1: npm ci in $here"
  (cd "$here" && npm ci --no-audit --no-fund) || { echo "gs1: npm ci failed" >&2; exit 1; }
fi
cd "$here"
IDRA_GS1_TOOL="$tool" exec node --test compression.test.mjs

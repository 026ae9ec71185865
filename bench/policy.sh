#!/usr/bin/env bash
# policy.sh: the Cedar policy engine (issue 4).
#
# Part "decide": decisions per second, single thread, for 10, 100 and 1000
# policies, idra (bench_policy_decide, linked to idra_policy) beside the
# official Cedar (@cedar-policy/cedar-wasm 4.x, statefulIsAuthorized over a
# preparsed set) on the same generated policies, entities and requests
# (bench/policy_workload.mjs), alternating the engines over ROUNDS rounds.
# Every round also counts the requests on which the two disagree (decision,
# determining policies, errored policies).
#
# Part "resolve": GET /api/handles/88.100/bench-<random> with wrk over HTTPS
# keep-alive against two nodes serving the same RECORDS records (loaded with
# each binary's own `idra import`): the working tree (every request decided
# by the engine, default policy set) and BASELINE_COMMIT, the last commit
# before the engine, built from `git archive` in BASELINE_DIR. The two are
# alternated over ROUNDS rounds, anonymous requests, then (AUTH=1, default)
# the same as the node administrator of DATA/admin.json with HTTP Basic.
# NOAUDIT=1 (default) adds a third node: the working tree with
# {"audit": {"enabled": false}}, since the working tree also records every
# read in the audit log, which is not the engine's cost.
#
# Usage: [ROUNDS=3] [PARTS="decide resolve"] [BUILD_DIR=build/release]
#        [CEDAR_WASM_DIR=...] [BASELINE_COMMIT=75bf2f4] [BASELINE_DIR=/tmp/idra-<commit>]
#        [DECIDE_SECONDS=3] [REQUESTS=1000] [AUTH=1] [NOAUDIT=1] [SKIP_BUILD=1: use BUILD_DIR as it is]
#        bench/policy.sh [RECORDS] [SECONDS] [CONNECTIONS]
# Writes bench/out/policy/ (summary-decide.md, summary-resolve.md, and
# summary.md, the two together, at the end; a part run alone replaces only its own files). Traffic goes to
# 127.0.0.1 only. Not a test: it passes no verdict.
set -euo pipefail
cd "$(dirname "$0")/.."
RECORDS=${1:-1000000}
SECONDS_PER_RUN=${2:-15}
CONNECTIONS=${3:-64}
ROUNDS=${ROUNDS:-3}
PARTS=${PARTS:-decide resolve}
BUILD_DIR=${BUILD_DIR:-build/release}
BASELINE_COMMIT=${BASELINE_COMMIT:-75bf2f4}
BASELINE_DIR=${BASELINE_DIR:-/tmp/idra-$BASELINE_COMMIT}
DECIDE_SECONDS=${DECIDE_SECONDS:-3}
REQUESTS=${REQUESTS:-1000}
AUTH=${AUTH:-1}
NOAUDIT=${NOAUDIT:-1}
SEED=20261201
THREADS=$(nproc)
OUT=$PWD/bench/out/policy
mkdir -p "$OUT"

# busy_cores COMMAND...: runs COMMAND and prints, on fd 3, how many cores the
# whole machine kept busy meanwhile (/proc/stat), to tell foreign load apart.
cpu_now() { awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }
busy_cores() {
  local b0 t0 b1 t1
  read -r b0 t0 < <(cpu_now)
  "$@"
  read -r b1 t1 < <(cpu_now)
  awk -v b="$((b1 - b0))" -v t="$((t1 - t0))" -v n="$THREADS" 'BEGIN {printf "%.2f\n", (t ? b / t * n : 0)}' >&3
}

echo "== building $BUILD_DIR (idra, bench_policy_decide)"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ -DIDRA_BENCH=ON >/dev/null
  cmake --build "$BUILD_DIR" --target idra bench_policy_decide >/dev/null
fi
IDRA=$PWD/$BUILD_DIR/src/idra
DECIDE=$PWD/$BUILD_DIR/bench/bench_policy_decide
HEAD_COMMIT=$(git rev-parse --short HEAD)

# ---------------------------------------------------------------------------
if [[ " $PARTS " == *" decide "* ]]; then
  if [[ -z "${CEDAR_WASM_DIR:-}" ]]; then
    CEDAR_WASM_DIR=$PWD/tests/differential/node_modules/@cedar-policy/cedar-wasm
    if [[ ! -f "$CEDAR_WASM_DIR/package.json" ]]; then
      CEDAR_WASM_DIR=$PWD/bench/out/npm/node_modules/@cedar-policy/cedar-wasm
      [[ -f "$CEDAR_WASM_DIR/package.json" ]] ||
        npm install --prefix "$PWD/bench/out/npm" --no-audit --no-fund --no-save @cedar-policy/cedar-wasm@4.13.0 >/dev/null
    fi
  fi
  CEDAR_VERSION=$(node -p "require('$CEDAR_WASM_DIR/package.json').version")
  echo "== decisions: cedar-wasm $CEDAR_VERSION from $CEDAR_WASM_DIR"
  rm -f "$OUT"/workload-* "$OUT"/idra-* "$OUT"/cedar-* "$OUT/summary-decide.md"
  for n in 10 100 1000; do
    node bench/policy_workload.mjs "$n" "$REQUESTS" "$SEED" >"$OUT/workload-$n.json"
    for round in $(seq "$ROUNDS"); do
      for mode in decide make json; do
        echo "-- $n policies, round $round: idra $mode"
        busy_cores "$DECIDE" "$OUT/workload-$n.json" "$DECIDE_SECONDS" "$mode" "$OUT/idra-$n.txt" \
          >"$OUT/idra-$mode-$n-$round.json" 3>"$OUT/idra-$mode-$n-$round.busy"
      done
      echo "-- $n policies, round $round: cedar-wasm"
      busy_cores node bench/policy_cedar.mjs "$CEDAR_WASM_DIR" "$OUT/workload-$n.json" "$DECIDE_SECONDS" "$OUT/idra-$n.txt" \
        >"$OUT/cedar-$n-$round.json" 3>"$OUT/cedar-$n-$round.busy"
    done
  done
  python3 - "$OUT" "$ROUNDS" "$CEDAR_VERSION" "$DECIDE_SECONDS" "$REQUESTS" >"$OUT/summary-decide.md" <<'PY'
import json, statistics, sys
out, rounds, cedar_version, secs, nreq = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
def runs(prefix, n):
    r = []
    for k in range(1, rounds + 1):
        fig = json.load(open(f"{out}/{prefix}-{n}-{k}.json"))
        fig["busy"] = float(open(f"{out}/{prefix}-{n}-{k}.busy").read())
        r.append(fig)
    return r
med = lambda xs: statistics.median(xs)
print("| policies | engine | decisions/s (median) | every round | p50 µs | p99 µs | ÷ idra `is_authorized` | machine busy (cores) |")
print("|---|---|---|---|---|---|---|---|")
dis = []
for n in (10, 100, 1000):
    base = med([f["per_second"] for f in runs("idra-decide", n)])
    for label, prefix in (("idra `is_authorized` (store built just before, untimed)", "idra-decide"),
                          ("idra `Entities::make` + `is_authorized`", "idra-make"),
                          ("idra entities+context from JSON + `is_authorized`", "idra-json"),
                          (f"cedar-wasm {cedar_version} `statefulIsAuthorized`", "cedar")):
        r = runs(prefix, n)
        rate = med([f["per_second"] for f in r])
        print(f"| {n} | {label} | {rate:,.0f} | {' '.join(format(f['per_second'], ',.0f') for f in r)} | "
              f"{med([f['p50_us'] for f in r]):.2f} | {med([f['p99_us'] for f in r]):.2f} | {rate / base:.4f} | "
              f"{' '.join(format(f['busy'], '.2f') for f in r)} |")
    for f in runs("cedar", n):
        dis.append((n, f["disagreements"], f["requests"], f["allow_share_requests"], f["requests_with_policy_errors"]))
print()
print(f"{nreq} requests per set, decided round-robin for {secs} s per run, single thread, {rounds} rounds; p50/p99 are medians over the rounds; "
      "machine busy = cores the whole machine kept busy during the run (the run itself uses ~1).")
print()
print("| policies | requests | allowed (Cedar) | with policy errors (Cedar) | disagreements decision / determining / errored / Cedar failures (every round) |")
print("|---|---|---|---|---|")
by_n = {}
for n, d, req, allow, errs in dis:
    by_n.setdefault(n, [req, allow, errs, []])[3].append(f"{d['decision']}/{d['determining']}/{d['errored']}/{d['cedar_failures']}")
for n, (req, allow, errs, ds) in by_n.items():
    print(f"| {n} | {req} | {allow:.1%} | {errs} | {' '.join(ds)} |")
print()
PY
fi

# ---------------------------------------------------------------------------
if [[ " $PARTS " == *" resolve "* ]]; then
  IDRA_SETUP_EXTRA="wrk" bash deploy/setup.sh >/dev/null
  rm -rf "$OUT"/data-* "$OUT"/wrk-* "$OUT"/serve-* "$OUT"/import-* "$OUT"/record* "$OUT"/admin-status-* "$OUT/summary-resolve.md"
  OLD=$BASELINE_DIR/build/src/idra
  if [[ ! -x "$OLD" ]]; then
    echo "== building the baseline $BASELINE_COMMIT in $BASELINE_DIR"
    rm -rf "$BASELINE_DIR"
    mkdir -p "$BASELINE_DIR/src"
    git archive "$BASELINE_COMMIT" | tar -x -C "$BASELINE_DIR/src"
    cmake -S "$BASELINE_DIR/src" -B "$BASELINE_DIR/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_CXX_COMPILER=g++ -DIDRA_BUILD_TESTS=OFF >/dev/null
    cmake --build "$BASELINE_DIR/build" --target idra >/dev/null
  fi
  PIDS=()
  cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
  trap cleanup EXIT

  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$OUT/key.pem" -out "$OUT/cert.pem" 2>/dev/null
  chmod 600 "$OUT/key.pem"
  echo "== generating $RECORDS records"
  python3 - "$RECORDS" >"$OUT/records.ndjson" <<'PY'
import json, sys
n = int(sys.argv[1])
w = sys.stdout.write
for i in range(n):
    w(json.dumps({"handle": f"88.100/bench-{i}", "values": [
        {"index": 1, "type": "URL", "data": {"format": "string", "value": f"https://products.example.com/item/{i}"}},
        {"index": 2, "type": "EMAIL", "data": {"format": "string", "value": "support@example.com"}},
        {"index": 100, "type": "HS_ADMIN", "data": {"format": "admin", "value": {"handle": "0.NA/88.100", "index": 300, "permissions": "011111110011"}}},
    ]}, separators=(",", ":")) + "\n")
PY
  cat >"$OUT/idra.json" <<JSON
{"listen": "127.0.0.1:0", "threads": $THREADS, "io_model": "per-thread", "durable": true,
 "plain_http": {"listen": "127.0.0.1:0"},
 "tls": {"certificate_file": "$OUT/cert.pem", "key_file": "$OUT/key.pem"}}
JSON
  # The working tree also records every read in the audit log (issue 5's
  # ReadBatcher); "with-noaudit" turns that off, to show the engine alone.
  python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c["audit"]={"enabled": False}; print(json.dumps(c))' \
    "$OUT/idra.json" >"$OUT/idra-noaudit.json"
  NODES="without with"
  [[ "$NOAUDIT" == 1 ]] && NODES="without with with-noaudit"
  declare -A PORT PID
  start_node() {  # name binary config
    local name=$1 bin=$2 config=$3
    echo "== $name: import, serve"
    "$bin" import "$OUT/records.ndjson" --data "$OUT/data-$name" --home-prefixes >"$OUT/import-$name.txt"
    "$bin" serve --data "$OUT/data-$name" --config "$config" >"$OUT/serve-$name.out" 2>"$OUT/serve-$name.err" &
    PID[$name]=$!
    PIDS+=($!)
    for _ in $(seq 300); do grep -q "listening on" "$OUT/serve-$name.out" 2>/dev/null && break; sleep 0.1; done
    PORT[$name]=$(sed -n 's/.*listening on https:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$OUT/serve-$name.out")
    [[ -n "${PORT[$name]}" ]] || { cat "$OUT/serve-$name.err"; exit 1; }
  }
  start_node without "$OLD" "$OUT/idra.json"
  start_node with "$IDRA" "$OUT/idra.json"
  [[ "$NOAUDIT" == 1 ]] && start_node with-noaudit "$IDRA" "$OUT/idra-noaudit.json"
  # All must answer the same bytes (the engine must not change what an
  # anonymous caller sees of these records), but for the timestamps, which
  # are those of each node's own import.
  SAME_BYTES="yes, but for the import timestamps"
  for name in $NODES; do
    curl -s --cacert "$OUT/cert.pem" "https://127.0.0.1:${PORT[$name]}/api/handles/88.100/bench-1" >"$OUT/record-$name.json"
    cmp -s <(sed 's/"timestamp":"[^"]*"//g' "$OUT/record-without.json") <(sed 's/"timestamp":"[^"]*"//g' "$OUT/record-$name.json") ||
      SAME_BYTES="NO (see record-*.json)"
  done

  cat >"$OUT/random.lua" <<LUA
math.randomseed(42)
request = function()
  return wrk.format("GET", "/api/handles/88.100/bench-" .. math.random(0, $RECORDS - 1))
end
LUA
  basic() {  # name -> Authorization header value for DATA/admin.json
    python3 - "$OUT/data-$1/admin.json" <<'PY'
import base64, json, sys, urllib.parse as u
a = json.load(open(sys.argv[1]))
print("Basic " + base64.b64encode((u.quote(a["id"], safe="") + ":" + a["secret"]).encode()).decode())
PY
  }
  run_wrk() {  # kind name round
    local kind=$1 name=$2 round=$3 hdr=()
    [[ $kind == admin ]] && hdr=(-H "Authorization: $(basic "$name")")
    busy_cores wrk -t "$THREADS" -c "$CONNECTIONS" -d "${SECONDS_PER_RUN}s" --latency -s "$OUT/random.lua" "${hdr[@]}" \
      "https://127.0.0.1:${PORT[$name]}" >"$OUT/wrk-$kind-$name-$round.txt" 3>"$OUT/wrk-$kind-$name-$round.busy"
  }
  KINDS=anonymous
  [[ "$AUTH" == 1 ]] && KINDS="anonymous admin"
  for name in $NODES; do
    curl -s -o /dev/null -w "%{http_code}\n" --cacert "$OUT/cert.pem" -H "Authorization: $(basic "$name")" \
      "https://127.0.0.1:${PORT[$name]}/api/handles/88.100/bench-1" >"$OUT/admin-status-$name.txt"
    echo "== warm-up $name"
    wrk -t "$THREADS" -c "$CONNECTIONS" -d 5s -s "$OUT/random.lua" "https://127.0.0.1:${PORT[$name]}" >/dev/null
  done
  read -r -a NODE_LIST <<<"$NODES"
  for kind in $KINDS; do
    for round in $(seq "$ROUNDS"); do
      # Rotate which goes first, so that none always follows another.
      for k in $(seq 0 $((${#NODE_LIST[@]} - 1))); do
        name=${NODE_LIST[$(((k + round - 1) % ${#NODE_LIST[@]}))]}
        echo "== $kind round $round: wrk $name"
        run_wrk "$kind" "$name" "$round"
      done
    done
  done
  RSS=""
  for name in $NODES; do RSS+="$name $(awk '/VmHWM/ {print $2 " " $3}' "/proc/${PID[$name]}/status"); "; done
  python3 - "$OUT" "$ROUNDS" "$KINDS" "$BASELINE_COMMIT" "$HEAD_COMMIT" "$NODES" >"$OUT/summary-resolve.md" <<'PY'
import re, statistics, sys
out, rounds, kinds, base, head, nodes = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4], sys.argv[5], sys.argv[6].split()
def parse(path):
    t = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", t, re.M))
    errs = " ".join(l.strip() for l in t.splitlines() if "Non-2xx" in l or "Socket errors" in l) or "-"
    return rps, lat.get("50", "?"), lat.get("99", "?"), errs
labels = {"without": f"without the engine ({base})", "with": f"with the engine (working tree on {head})",
          "with-noaudit": f"with the engine, `audit.enabled: false` (working tree on {head})"}
print(f"| requests | node | requests/s (median of {rounds}) | every round | ratio to without (medians) | per-round ratios | p50 (median run) | p99 (median run) | errors | machine busy (cores) |")
print("|---|---|---|---|---|---|---|---|---|---|")
for kind in kinds:
    res = {name: [parse(f"{out}/wrk-{kind}-{name}-{k}.txt") + (open(f"{out}/wrk-{kind}-{name}-{k}.busy").read().strip(),)
                  for k in range(1, rounds + 1)] for name in nodes}
    mo = statistics.median(r[0] for r in res["without"])
    for name in nodes:
        rs = res[name]
        m = sorted(rs, key=lambda r: r[0])[len(rs) // 2]
        mw = statistics.median(r[0] for r in rs)
        ratio = "1" if name == "without" else f"**{mw / mo:.3f}**"
        per = "" if name == "without" else " ".join(f"{w[0] / o[0]:.3f}" for w, o in zip(rs, res["without"]))
        print(f"| {kind} | {labels[name]} | {m[0]:.0f} | {' '.join(format(r[0], '.0f') for r in rs)} | {ratio} | {per} | {m[1]} | {m[2]} | "
              f"{' '.join(sorted(set(r[3] for r in rs)))} | {' '.join(r[4] for r in rs)} |")
print()
PY
  STATUS=""
  for name in $NODES; do STATUS+="$name $(cat "$OUT/admin-status-$name.txt"), "; done
  cat >>"$OUT/summary-resolve.md" <<MD
wrk -t $THREADS -c $CONNECTIONS -d ${SECONDS_PER_RUN}s --latency x $ROUNDS rounds, the nodes in turn (the order
rotates every round), random handle of $RECORDS per request, HTTPS keep-alive, all nodes up throughout
(idra threads $THREADS, io_model per-thread, durable); admin = HTTP Basic as DATA/admin.json's administrator
(status of one request: ${STATUS%, }).
Same response bytes from all nodes: $SAME_BYTES ($(wc -c <"$OUT/record-with.json") bytes).
Peak RSS: ${RSS%; }. $(nproc) cores shared by the nodes and wrk.
MD
fi
cat "$OUT"/summary-*.md >"$OUT/summary.md"
echo
cat "$OUT/summary.md"

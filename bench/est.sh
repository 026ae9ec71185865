#!/usr/bin/env bash
# est.sh: certificate-authority throughput of idra on this machine, beside
# OpenSSL's own ECDSA P-256 sign rate measured in the same run.
#
#  1. builds idra and bench_issue (bench/issue_rate.cpp, CMake option
#     IDRA_BENCH) in BUILD_DIR (default build/release), and the load generator
#     bench/est_load.cpp with one c++ command;
#  2. starts a fresh node on a temporary data directory (threads = cores,
#     access log off, durable writes, plain-HTTP listener for OCSP) and homes
#     the prefix 88.100.1;
#  3. ROUNDS times (default 3), in this order:
#       openssl speed -seconds S ecdsap256   the reference: sign/s, verify/s (one core)
#       bench_issue S 1, bench_issue S 2     raw issuance/s in-process (pki::issue_certificate),
#                                            without and with CSR parsing, 1 and 2 threads
#       est_load reenroll                    EST simplereenroll, mTLS, NEW TLS connection each
#       est_load token                       EST simpleenroll, one-time token, NEW TLS connection each
#       est_load ocsp                        POST /ocsp on the plain listener, keep-alive
#  4. prints medians, every round, the ratios to openssl's sign/s and the
#     CPU milliseconds per request of server and client, as Markdown for
#     bench/RESULTS.md (also in bench/out/est/summary.md).
#
# Usage: [ROUNDS=3] [BUILD_DIR=build/release] [EXTRA_CONFIG='{"durable": false}'] \
#        bench/est.sh [SECONDS] [CLIENT_THREADS]
# EXTRA_CONFIG is merged into the node's config (for breakdown runs).
# Traffic goes to 127.0.0.1 only. Not a test: it passes no verdict.
set -euo pipefail
cd "$(dirname "$0")/.."
S=${1:-10}
CLIENTS=${2:-4}
ROUNDS=${ROUNDS:-3}
BUILD_DIR=${BUILD_DIR:-build/release}
EXTRA_CONFIG=${EXTRA_CONFIG:-"{}"}
THREADS=$(nproc)
PREFIX=88.100.1

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ -DIDRA_BENCH=ON >/dev/null
cmake --build "$BUILD_DIR" --target idra bench_issue >/dev/null
IDRA=$PWD/$BUILD_DIR/src/idra
ISSUE=$PWD/$BUILD_DIR/bench/bench_issue
LOAD=$PWD/$BUILD_DIR/bench/est_load
if [[ ! -x "$LOAD" || bench/est_load.cpp -nt "$LOAD" ]]; then
  c++ -O2 -std=c++20 bench/est_load.cpp -lssl -lcrypto -pthread -o "$LOAD"
fi

OUT=$PWD/bench/out/est
rm -rf "$OUT"
mkdir -p "$OUT"
DATA=$(mktemp -d /tmp/idra-bench-est-XXXXXX)
cleanup() {
  [[ -n "${IDRA_PID:-}" ]] && kill "$IDRA_PID" 2>/dev/null && wait "$IDRA_PID" 2>/dev/null || true
  rm -rf "$DATA"
}
trap cleanup EXIT

python3 - "$THREADS" "$EXTRA_CONFIG" >"$OUT/idra.json" <<'PY'
import json, sys
cfg = {"listen": "127.0.0.1:0", "threads": int(sys.argv[1]), "access_log": False, "durable": True,
       "plain_http": {"listen": "127.0.0.1:0"}}
cfg.update(json.loads(sys.argv[2]))
print(json.dumps(cfg))
PY
echo "== idra serve ($(cat "$OUT/idra.json"))"
"$IDRA" serve --data "$DATA/node" --config "$OUT/idra.json" >"$OUT/idra.out" 2>"$OUT/idra.err" &
IDRA_PID=$!
for _ in $(seq 300); do
  grep -q "^admin:" "$OUT/idra.out" 2>/dev/null && grep -q "plain HTTP" "$OUT/idra.out" && break
  kill -0 "$IDRA_PID" 2>/dev/null || { cat "$OUT/idra.err"; exit 1; }
  sleep 0.1
done
PORT=$(sed -n 's/^idra listening on https:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$OUT/idra.out")
PLAIN=$(sed -n 's/^plain HTTP (CRL, OCSP) on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$OUT/idra.out")
[[ -n "$PORT" && -n "$PLAIN" && -f "$DATA/node/admin.json" ]] || { cat "$OUT/idra.out" "$OUT/idra.err"; exit 1; }
ADMIN_ID=$(python3 -c 'import json,sys,urllib.parse as u; print(u.quote(json.load(open(sys.argv[1]))["id"], safe=""))' "$DATA/node/admin.json")
ADMIN_SECRET=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["secret"])' "$DATA/node/admin.json")
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$DATA/node/tls/ca.pem" -u "$ADMIN_ID:$ADMIN_SECRET" \
  -X PUT "https://127.0.0.1:$PORT/api/prefixes/$PREFIX")
[[ "$code" == 200 || "$code" == 201 ]] || { echo "homing $PREFIX: HTTP $code"; exit 1; }

load() {  # mode round extra-args...
  local mode=$1 round=$2
  shift 2
  "$LOAD" "$mode" --data "$DATA/node" --port "$PORT" --plain-port "$PLAIN" --threads "$CLIENTS" \
    --seconds "$S" --prefix "$PREFIX" --server-pid "$IDRA_PID" "$@" \
    >"$OUT/$mode-$round.txt" 2>"$OUT/$mode-$round.err"
  cat "$OUT/$mode-$round.txt"
  grep -v '^setup:' "$OUT/$mode-$round.err" >&2 || true
}
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$1"; }

echo "== warm-up (reenroll, 3 s)"
"$LOAD" reenroll --data "$DATA/node" --port "$PORT" --threads "$CLIENTS" --seconds 3 --prefix "$PREFIX" >/dev/null 2>&1
for round in $(seq "$ROUNDS"); do
  echo "== round $round: openssl speed -seconds $S ecdsap256"
  openssl speed -seconds "$S" ecdsap256 >"$OUT/speed-$round.txt" 2>/dev/null
  awk '/nistp256/ {print "sign/s " $(NF-1) "  verify/s " $NF}' "$OUT/speed-$round.txt"
  echo "== round $round: bench_issue"
  "$ISSUE" "$S" 1 >"$OUT/issue1-$round.txt"
  "$ISSUE" "$S" 2 >"$OUT/issue2-$round.txt"
  cat "$OUT/issue1-$round.txt" "$OUT/issue2-$round.txt"
  echo "== round $round: est_load reenroll"
  load reenroll "$round" --devices 32
  # Enough one-time tokens for this round's token run: 1.5x what reenroll
  # managed in the same time, so that running out is unlikely (it is reported).
  RE_RPS=$(field "$OUT/reenroll-$round.txt" rps)
  TOKENS=$(python3 -c "print(int(max(200, float('$RE_RPS') * 1.5 * $S)))")
  echo "== round $round: est_load token ($TOKENS tokens)"
  load token "$round" --tokens "$TOKENS"
  sed -n 's/^setup: //p' "$OUT/token-$round.err"
  echo "== round $round: est_load ocsp"
  load ocsp "$round"
done
RSS=$(awk '/VmHWM/ {print $2 " " $3}' /proc/$IDRA_PID/status)
kill -TERM "$IDRA_PID"; wait "$IDRA_PID" || true; IDRA_PID=

python3 - "$OUT" "$ROUNDS" "$S" "$CLIENTS" "$THREADS" "$RSS" "$(cat "$OUT/idra.json")" <<'PY' | tee "$OUT/summary.md"
import re, statistics, sys
out, rounds, secs, clients, threads, rss, config = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7]
R = range(1, rounds + 1)

def kv(path):
    text = open(path).read()
    return {k: v for k, v in re.findall(r"(\w+)=(\S+)", text)}, text

def speed(r):
    for line in open(f"{out}/speed-{r}.txt"):
        if "nistp256" in line:
            f = line.split()
            return float(f[-2]), float(f[-1])
    raise SystemExit(f"no nistp256 line in speed-{r}.txt")

def issue(r, threads, label):
    for line in open(f"{out}/issue{threads}-{r}.txt"):
        if line.startswith(label + " "):
            return float(re.search(r"per_second=(\S+)", line).group(1))

def median_round(values):  # the round whose value is the median
    order = sorted(R, key=lambda r: values[r])
    return order[(len(order) - 1) // 2]

sign = {r: speed(r)[0] for r in R}
verify = {r: speed(r)[1] for r in R}
rows = []  # (name, values by round, unit extra)
loads = {m: {r: kv(f"{out}/{m}-{r}.txt")[0] for r in R} for m in ("reenroll", "token", "ocsp")}
med = lambda d: statistics.median(d.values())
sign_med = med(sign)
def fmt(x): return f"{x:.0f}" if x >= 100 else f"{x:.1f}"
lines = []
lines.append("| measure (median of %d rounds) | per second | every round | ÷ openssl sign/s | p50 | p99 | server CPU ms/req | client CPU ms/req | other load (cores) | errors |" % rounds)
lines.append("|---|---|---|---|---|---|---|---|---|---|")
lines.append(f"| openssl speed ecdsap256 sign (1 core) | {fmt(sign_med)} | {' '.join(fmt(sign[r]) for r in R)} | 1 | | | | | | |")
lines.append(f"| openssl speed ecdsap256 verify (1 core) | {fmt(med(verify))} | {' '.join(fmt(verify[r]) for r in R)} | {med(verify)/sign_med:.2f} | | | | | | |")
for threads_ in (1, 2):
    for label, name in (("issue", "raw issuance (issue_certificate)"), ("csr+issue", "raw issuance incl. CSR parse+verify")):
        v = {r: issue(r, threads_, label) for r in R}
        lines.append(f"| {name}, {threads_} thread{'s' if threads_ > 1 else ''} | {fmt(med(v))} | {' '.join(fmt(v[r]) for r in R)} | {med(v)/sign_med:.2f} | | | | | | |")
names = {"reenroll": "EST simplereenroll (mTLS, new TLS 1.3 connection each)",
         "token": "EST simpleenroll (token, new TLS 1.3 connection each)",
         "ocsp": "OCSP POST /ocsp (plain HTTP keep-alive)"}
notes = []
for m in ("reenroll", "token", "ocsp"):
    v = {r: float(loads[m][r]["rps"]) for r in R}
    mr = loads[m][median_round(v)]
    errors = sum(int(loads[m][r]["errors"]) for r in R)
    lines.append(f"| {names[m]} | {fmt(med(v))} | {' '.join(fmt(v[r]) for r in R)} | {med(v)/sign_med:.3f} | "
                 f"{mr['p50_ms']} ms | {mr['p99_ms']} ms | {mr['server_cpu_ms']} | {mr['client_cpu_ms']} | "
                 f"{' '.join(loads[m][r]['other_cores'] for r in R)} | {errors} |")
    for r in R:
        if "note" in loads[m][r]:
            notes.append(f"round {r} {m}: {loads[m][r]['note']} after {loads[m][r]['seconds']} s")
        err = open(f"{out}/{m}-{r}.err").read()
        for line in err.splitlines():
            if line.startswith("error:"):
                notes.append(f"round {r} {m}: {line}")
print("\n".join(lines))
print()
print(f"{rounds} rounds of: openssl speed -seconds {secs} ecdsap256; bench_issue {secs} 1; bench_issue {secs} 2;")
print(f"est_load reenroll|token|ocsp --threads {clients} --seconds {secs} (reenroll: 32 devices round-robin;")
print(f"token: one fresh token and identifier per request). Latency and CPU/req from the median round;")
print(f"other load: CPU used by everything else on the machine during each round's run (noise).")
print(f"{threads} cores shared by server and client; idra config {config}; idra peak RSS {rss}.")
for n in notes:
    print(f"\n{n}")
PY

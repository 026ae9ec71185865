#!/usr/bin/env bash
# audit.sh: the audit log (issue 5, section 7).
#
# Part "append": ROUNDS rounds of `bench_audit append DIR SECONDS 1 2 4`:
# appends per second through audit::ReadBatcher (default BatcherConfig:
# commit at 512 queued records or 100 ms, up to 16,384 per transaction when
# more queued up, secondary indexes written by the same thread) into a
# durable store from 1, 2 and 4 submitting threads, with the leaves left
# unindexed at the final flush and the rate counting until the index caught
# up; then, same round, audit::append (leaves and hashes) in transactions of
# 100,000 and of 16,384, and the floor: the same leaf bytes put raw
# (store::WriteView::put, and liblmdb's mdb_put) in transactions of 16,384,
# durable. Target: >= 100,000 appends/s with group commit.
#
# Part "prove": for each N of LEAVES (default "1000000 10000000") builds a log
# of N leaves (`bench_audit build`, audit::append in transactions of 100,000,
# durable=false) in AUDIT_TMP, then `bench_audit prove DIR SECONDS`:
# inclusion and consistency proofs per second (random index/sizes), and
# verifications per second; the log is deleted afterwards (about 1 KB per
# leaf: 10 GB for 10^7).
#
# Part "resolve": GET /api/handles/88.100/bench-<random> with wrk over HTTPS
# keep-alive against two nodes of the same binary serving the same RECORDS
# records (each loaded with `idra import --home-prefixes`), one with the
# default configuration (audit on) and one with {"audit": {"enabled":
# false}}, alternated over ROUNDS rounds (order swapped every round);
# medians. Target: audit on >= 0.9x audit off. Also each node's CPU time
# per request (/proc/PID/stat, all threads, over its round plus 1.5 s),
# which foreign load on the machine disturbs less than the rates.
#
# Part "cpu" (only when asked: PARTS="resolve cpu", or PARTS=cpu after a
# resolve run, whose data directories and configurations it reuses): server
# CPU per request, each node alone, restarted for each measure, ROUNDS
# alternating pairs: wrk warm-up 3 s, then CPU_SECONDS (10) of the same wrk
# load, CPU from /proc/PID/task/*/stat (all threads, and the audit log's
# writer thread, named "audit-writer", apart), divided by wrk's requests.
#
# Usage: [ROUNDS=3] [PARTS="append prove resolve"] [BUILD_DIR=build/release]
#        [SKIP_BUILD=1] [AUDIT_TMP=/tmp/idra-audit-bench] [LEAVES="1000000 10000000"]
#        [APPEND_SECONDS=5] [PROVE_SECONDS=4] [AUDIT_ON='{"enabled": true}': the audit
#        object of the "on" node, e.g. '{"enabled": true, "batch_size": 8192}']
#        bench/audit.sh [RECORDS] [SECONDS] [CONNECTIONS]
# Writes bench/out/audit/ (summary.md at the end). Traffic goes to
# 127.0.0.1 only. Not a test: it passes no verdict.
set -euo pipefail
cd "$(dirname "$0")/.."
RECORDS=${1:-1000000}
SECONDS_PER_RUN=${2:-15}
CONNECTIONS=${3:-64}
ROUNDS=${ROUNDS:-3}
PARTS=${PARTS:-append prove resolve}
BUILD_DIR=${BUILD_DIR:-build/release}
AUDIT_TMP=${AUDIT_TMP:-/tmp/idra-audit-bench}
LEAVES=${LEAVES:-1000000 10000000}
APPEND_SECONDS=${APPEND_SECONDS:-5}
PROVE_SECONDS=${PROVE_SECONDS:-4}
THREADS=$(nproc)
OUT=$PWD/bench/out/audit
# Part "cpu" alone reuses the data directories of an earlier "resolve" run.
[[ "$PARTS" == cpu ]] || rm -rf "$OUT"
mkdir -p "$OUT" "$AUDIT_TMP"
: >"$OUT/summary.md"

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

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  echo "== building $BUILD_DIR (idra, bench_audit)"
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ -DIDRA_BENCH=ON >/dev/null
  targets=(bench_audit)
  [[ " $PARTS " == *" resolve "* ]] && targets+=(idra)
  cmake --build "$BUILD_DIR" --target "${targets[@]}" >/dev/null
fi
BENCH=$PWD/$BUILD_DIR/bench/bench_audit
IDRA=$PWD/$BUILD_DIR/src/idra

# ---------------------------------------------------------------------------
if [[ " $PARTS " == *" append "* ]]; then
  for round in $(seq "$ROUNDS"); do
    echo "== append, round $round"
    { cat /proc/loadavg; busy_cores "$BENCH" append "$AUDIT_TMP/append" "$APPEND_SECONDS" 1 2 4; } \
      >"$OUT/append-$round.txt" 3>"$OUT/append-$round.busy"
    rm -rf "$AUDIT_TMP/append"
  done
  python3 - "$OUT" "$ROUNDS" "$APPEND_SECONDS" >>"$OUT/summary.md" <<'PY'
import statistics, sys
out, rounds, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = {}   # label -> list of dicts, one per round
loads, busy = [], []
for k in range(1, rounds + 1):
    lines = open(f"{out}/append-{k}.txt").read().splitlines()
    loads.append(lines[0].split()[0])
    busy.append(open(f"{out}/append-{k}.busy").read().strip())
    for l in lines[1:]:
        parts = l.split()
        kv = dict(p.split("=", 1) for p in parts[1:])
        label = parts[0] + (f" threads={kv['threads']}" if "threads" in kv else f" per_txn={kv['per_txn']}")
        rows.setdefault(label, []).append(kv)
med = statistics.median
floor = [float(r["per_second"]) for r in rows[next(l for l in rows if l.startswith("lmdb_put"))]]
names = {"batcher": "ReadBatcher (group commit, defaults), submitting threads", "append_big": "audit::append, one transaction per",
         "append_batch": "audit::append, one transaction per", "store_put": "WriteView::put of the leaf bytes only, per txn",
         "lmdb_put": "liblmdb mdb_put of the leaf bytes only, per txn (floor)"}
print(f"| measure (durable store) | appends/s (median of {rounds}) | every round | ÷ lmdb_put (median of per-round ratios) | CPU µs per record (median) | bytes written per record (median) | mean batch | leaf bytes | not indexed at the final flush (median) | appends/s counting until the index caught up (median) |")
print("|---|---|---|---|---|---|---|---|---|---|")
for label, rs in rows.items():
    kind, arg = label.split(" ", 1)
    rates = [float(r["per_second"]) for r in rs]
    ratios = [a / b for a, b in zip(rates, floor)]
    lag = f'{med(float(r["index_lag"]) for r in rs):,.0f}' if "index_lag" in rs[0] else ""
    indexed = f'{med(float(r["per_second_indexed"]) for r in rs):,.0f}' if "per_second_indexed" in rs[0] else ""
    print(f"| {names[kind]} {arg.split('=')[1]} | {med(rates):,.0f} | {' '.join(f'{x:,.0f}' for x in rates)} | "
          f"{med(ratios):.3f} | {med(float(r['cpu_us']) for r in rs):.2f} | {med(float(r['written_bytes']) for r in rs):,.0f} | "
          f"{rs[0].get('mean_batch', '')} | {rs[0].get('leaf_bytes', '')} | {lag} | {indexed} |")
print()
print(f"bench_audit append DIR {secs} 1 2 4, {rounds} rounds; each measure {secs} s in a fresh store; "
      f"load average (1 min) at the start of each round: {' '.join(loads)}; machine busy (cores, whole machine, per round): {' '.join(busy)}.")
print()
PY
fi

# ---------------------------------------------------------------------------
if [[ " $PARTS " == *" prove "* ]]; then
  for n in $LEAVES; do
    dir=$AUDIT_TMP/log-$n
    rm -rf "$dir"
    echo "== building a log of $n leaves"
    { cat /proc/loadavg; busy_cores "$BENCH" build "$dir" "$n"; } >"$OUT/build-$n.txt" 3>"$OUT/build-$n.busy"
    df -h "$AUDIT_TMP" | tail -1 >>"$OUT/build-$n.txt"
    echo "== proofs at $n leaves"
    { cat /proc/loadavg; busy_cores "$BENCH" prove "$dir" "$PROVE_SECONDS"; } >"$OUT/prove-$n.txt" 3>"$OUT/prove-$n.busy"
    rm -rf "$dir"
  done
  python3 - "$OUT" "$LEAVES" >>"$OUT/summary.md" <<'PY'
import sys
out, leaves = sys.argv[1], sys.argv[2].split()
print("| leaves | measure | per second | CPU µs each | hashes per proof | load avg / machine busy |")
print("|---|---|---|---|---|---|")
for n in leaves:
    b = open(f"{out}/build-{n}.txt").read().splitlines()
    kv = dict(p.split("=", 1) for p in b[1].split()[1:])
    print(f"| {n} | build: audit::append, txn of {kv['per_txn']}, durable=false | {float(kv['per_second']):,.0f} | | | "
          f"{b[0].split()[0]} / {open(f'{out}/build-{n}.busy').read().strip()} |")
    print(f"| {n} | store size | {int(kv['used_bytes']) / 1e9:.2f} GB, {kv['bytes_per_leaf']} bytes per leaf | | | |")
    p = open(f"{out}/prove-{n}.txt").read().splitlines()
    busy = open(f"{out}/prove-{n}.busy").read().strip()
    for l in p[1:]:
        parts = l.split()
        kv = dict(x.split("=", 1) for x in parts[1:])
        print(f"| {n} | {parts[0]} ({kv['threads']} thread{'s' if kv['threads'] != '1' else ''}) | {float(kv['per_second']):,.0f} | "
              f"{kv['cpu_us']} | {kv['mean_hashes']} | {p[0].split()[0]} / {busy} |")
print()
PY
fi

# ---------------------------------------------------------------------------
if [[ " $PARTS " == *" resolve "* ]]; then
  IDRA_SETUP_EXTRA="wrk" bash deploy/setup.sh >/dev/null
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
  for name in on off; do
    audit=${AUDIT_ON:-'{"enabled": true}'}
    [[ $name == off ]] && audit='{"enabled": false}'
    cat >"$OUT/idra-$name.json" <<JSON
{"listen": "127.0.0.1:0", "threads": $THREADS, "io_model": "per-thread", "durable": true,
 "tls": {"certificate_file": "$OUT/cert.pem", "key_file": "$OUT/key.pem"},
 "plain_http": {"listen": "127.0.0.1:0"}, "audit": $audit}
JSON
  done
  declare -A PORT NODE_PID
  # proc_ticks PID: the process's CPU time so far (utime + stime of all its
  # threads, in clock ticks).
  proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
  start_node() {  # name
    local name=$1
    echo "== $name: import, serve"
    "$IDRA" import "$OUT/records.ndjson" --data "$OUT/data-$name" --home-prefixes >"$OUT/import-$name.txt"
    "$IDRA" serve --data "$OUT/data-$name" --config "$OUT/idra-$name.json" >"$OUT/serve-$name.out" 2>"$OUT/serve-$name.err" &
    PIDS+=($!)
    NODE_PID[$name]=$!
    for _ in $(seq 300); do grep -q "listening on" "$OUT/serve-$name.out" 2>/dev/null && break; sleep 0.1; done
    PORT[$name]=$(sed -n 's/.*listening on https:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$OUT/serve-$name.out")
    [[ -n "${PORT[$name]}" ]] || { cat "$OUT/serve-$name.err"; exit 1; }
  }
  start_node off
  start_node on
  for name in off on; do
    curl -s --cacert "$OUT/cert.pem" "https://127.0.0.1:${PORT[$name]}/api/handles/88.100/bench-1" >"$OUT/record-$name.json"
  done
  # The same bytes but for the values' timestamps (each import stamps its own time).
  strip_ts() { sed 's/"timestamp":"[^"]*"//g' "$1"; }
  [[ "$(strip_ts "$OUT/record-off.json")" == "$(strip_ts "$OUT/record-on.json")" ]] &&
    SAME_BYTES="yes, but for the import timestamps" || SAME_BYTES="NO (see record-*.json)"
  cat >"$OUT/random.lua" <<LUA
math.randomseed(42)
request = function()
  return wrk.format("GET", "/api/handles/88.100/bench-" .. math.random(0, $RECORDS - 1))
end
LUA
  # The audit log's size through the public checkpoint (anyone may read it).
  tree_size() { curl -s --cacert "$OUT/cert.pem" "https://127.0.0.1:${PORT[$1]}/api/audit/checkpoint" | sed -n 2p; }
  for name in off on; do
    echo "== warm-up $name"
    wrk -t "$THREADS" -c "$CONNECTIONS" -d 5s -s "$OUT/random.lua" "https://127.0.0.1:${PORT[$name]}" >/dev/null
  done
  for round in $(seq "$ROUNDS"); do
    order="off on"
    (( round % 2 == 0 )) && order="on off"
    for name in $order; do
      echo "== round $round: wrk audit $name"
      ticks0=$(proc_ticks "${NODE_PID[$name]}")
      { cat /proc/loadavg; busy_cores wrk -t "$THREADS" -c "$CONNECTIONS" -d "${SECONDS_PER_RUN}s" --latency -s "$OUT/random.lua" \
          "https://127.0.0.1:${PORT[$name]}"; } >"$OUT/wrk-$name-$round.txt" 3>"$OUT/wrk-$name-$round.busy"
      # The node's CPU over the round and 1.5 s after it (the audit log's
      # last group commit and index transaction of the round), per request.
      sleep 1.5
      echo "$(( $(proc_ticks "${NODE_PID[$name]}") - ticks0 )) $(getconf CLK_TCK)" >"$OUT/cpu-$name-$round.txt"
    done
  done
  sleep 2  # the last group commit and checkpoint
  SIZE_ON=$(tree_size on); SIZE_OFF=$(tree_size off)
  RSS_OFF=$(awk '/VmHWM/ {print $2 " " $3}' "/proc/${PIDS[0]}/status")
  RSS_ON=$(awk '/VmHWM/ {print $2 " " $3}' "/proc/${PIDS[1]}/status")
  DU_ON=$(du -sh "$OUT/data-on" | cut -f1); DU_OFF=$(du -sh "$OUT/data-off" | cut -f1)
  python3 - "$OUT" "$ROUNDS" "$(git rev-parse --short HEAD)" >>"$OUT/summary.md" <<'PY'
import re, statistics, sys
out, rounds, head = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def parse(path):
    t = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", t, re.M))
    errs = " ".join(l.strip() for l in t.splitlines() if "Non-2xx" in l or "Socket errors" in l) or "-"
    return rps, lat.get("50", "?"), lat.get("99", "?"), errs, t.split()[0]
def cpu_us(n, k):  # the node's CPU µs per request of round k
    requests = int(re.search(r"(\d+) requests in", open(f"{out}/wrk-{n}-{k}.txt").read()).group(1))
    ticks, hz = map(int, open(f"{out}/cpu-{n}-{k}.txt").read().split())
    return ticks / hz * 1e6 / requests
res = {n: [parse(f"{out}/wrk-{n}-{k}.txt") + (open(f"{out}/wrk-{n}-{k}.busy").read().strip(), cpu_us(n, k))
           for k in range(1, rounds + 1)]
       for n in ("off", "on")}
ratios = [a[0] / b[0] for a, b in zip(res["on"], res["off"])]
mon = statistics.median(r[0] for r in res["on"]); moff = statistics.median(r[0] for r in res["off"])
cpu_on = statistics.median(r[6] for r in res["on"]); cpu_off = statistics.median(r[6] for r in res["off"])
print(f"| node (working tree on {head}) | requests/s (median of {rounds}) | every round | ratio on/off (medians) | per-round ratios | p50 (median run) | p99 (median run) | errors | load avg at start | machine busy (cores) | server CPU µs/request (every round) | CPU off/on (medians) |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
on_cfg = open(f"{out}/idra-on.json").read().split('"audit": ', 1)[1].rstrip().rstrip("}").strip()
for name, label in (("off", '`"audit": {"enabled": false}`'), ("on", f"audit on: `{on_cfg}}}`")):
    rs = res[name]
    m = sorted(rs, key=lambda r: r[0])[len(rs) // 2]
    ratio = f"**{mon / moff:.3f}**" if name == "on" else "1"
    per = " ".join(f"{x:.3f}" for x in ratios) if name == "on" else ""
    print(f"| {label} | {m[0]:.0f} | {' '.join(f'{r[0]:.0f}' for r in rs)} | {ratio} | {per} | {m[1]} | {m[2]} | "
          f"{' '.join(sorted(set(r[3] for r in rs)))} | {' '.join(r[4] for r in rs)} | {' '.join(r[5] for r in rs)} | "
          f"{' '.join(f'{r[6]:.1f}' for r in rs)} | {f'**{cpu_off / cpu_on:.3f}**' if name == 'on' else ''} |")
print()
PY
  cat >>"$OUT/summary.md" <<MD
wrk -t $THREADS -c $CONNECTIONS -d ${SECONDS_PER_RUN}s --latency x $ROUNDS rounds, alternating the two nodes (order
swapped every round), random handle of $RECORDS per request, anonymous, HTTPS keep-alive, both nodes up
throughout (same binary, threads $THREADS, io_model per-thread, durable). Same response bytes: $SAME_BYTES.
Audit log size after the run (checkpoint): on ${SIZE_ON:-?}, off ${SIZE_OFF:-?} leaves. Data directories: on $DU_ON,
off $DU_OFF. Peak RSS: off $RSS_OFF, on $RSS_ON. $(nproc) cores shared by both nodes and wrk.
MD
fi
echo
cat "$OUT/summary.md"

# ---------------------------------------------------------------------------
if [[ " $PARTS " == *" cpu "* ]]; then
  [[ -d "$OUT/data-on" && -d "$OUT/data-off" && -f "$OUT/random.lua" ]] ||
    { echo "part cpu needs the data directories of a resolve run in $OUT" >&2; exit 1; }
  CPU_SECONDS=${CPU_SECONDS:-10}
  # The resolve part's nodes hold these data directories: stop them first.
  for p in ${PIDS[@]+"${PIDS[@]}"}; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  PIDS=()
  # thread_ticks PID: CPU ticks of all the process's threads, and of its
  # audit-writer thread.
  thread_ticks() {
    python3 - "$1" <<'PY'
import glob, sys
total = writer = 0
for path in glob.glob(f"/proc/{sys.argv[1]}/task/*/stat"):
    try:
        text = open(path).read()
    except OSError:
        continue
    comm = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    total += ticks
    writer += ticks if comm == "audit-writer" else 0
print(total, writer)
PY
  }
  : >"$OUT/cpu.txt"
  for round in $(seq "$ROUNDS"); do
    order="off on"
    (( round % 2 == 0 )) && order="on off"
    for name in $order; do
      "$IDRA" serve --data "$OUT/data-$name" --config "$OUT/idra-$name.json" >"$OUT/cpu-serve-$name.out" 2>"$OUT/cpu-serve-$name.err" &
      pid=$!
      for _ in $(seq 600); do grep -q "listening on" "$OUT/cpu-serve-$name.out" 2>/dev/null && break; sleep 0.1; done
      port=$(sed -n 's/.*listening on https:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$OUT/cpu-serve-$name.out")
      [[ -n "$port" ]] || { cat "$OUT/cpu-serve-$name.err"; kill "$pid"; exit 1; }
      wrk -t "$THREADS" -c "$CONNECTIONS" -d 3s -s "$OUT/random.lua" "https://127.0.0.1:$port" >/dev/null
      read -r t0 w0 < <(thread_ticks "$pid")
      load=$(cut -d' ' -f1 /proc/loadavg)
      wrk -t "$THREADS" -c "$CONNECTIONS" -d "${CPU_SECONDS}s" -s "$OUT/random.lua" "https://127.0.0.1:$port" >"$OUT/cpu-wrk-$name-$round.txt"
      read -r t1 w1 < <(thread_ticks "$pid")
      kill "$pid"; wait "$pid" || true
      requests=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$OUT/cpu-wrk-$name-$round.txt")
      awk -v n="$name" -v r="$round" -v t="$((t1 - t0))" -v w="$((w1 - w0))" -v q="$requests" -v hz="$(getconf CLK_TCK)" -v l="$load" \
        'BEGIN {printf "%s %s %.2f %.2f %d %s\n", n, r, t / hz * 1e6 / q, w / hz * 1e6 / q, q, l}' | tee -a "$OUT/cpu.txt"
    done
  done
  python3 - "$OUT/cpu.txt" "$CPU_SECONDS" >>"$OUT/summary.md" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
by = {n: [r for r in rows if r[0] == n] for n in ("off", "on")}
print(f"| node | server CPU µs/request (median) | every round | of which audit-writer (every round) | requests in {sys.argv[2]} s | load avg (1 min) at start |")
print("|---|---|---|---|---|---|")
for n in ("off", "on"):
    rs = by[n]
    print(f"| audit {n} | {statistics.median(float(r[2]) for r in rs):.2f} | {' '.join(r[2] for r in rs)} | "
          f"{' '.join(r[3] for r in rs)} | {' '.join(r[4] for r in rs)} | {' '.join(r[5] for r in rs)} |")
on = statistics.median(float(r[2]) for r in by["on"]); off = statistics.median(float(r[2]) for r in by["off"])
print(f"\nCPU per request off/on (medians): **{off / on:.3f}**; the audit log's share: {on - off:.2f} µs.\n")
PY
  cat "$OUT/summary.md"
fi

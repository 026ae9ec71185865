#!/usr/bin/env bash
# handles.sh: resolution throughput of idra against nginx on this machine.
#
#  1. builds the release binary;
#  2. generates N records (default 1,000,000) and loads them with
#     `idra import`, reporting the load rate and LMDB bytes per record;
#  3. serves them with `idra serve` and runs wrk over HTTPS keep-alive against
#     GET /api/handles/88.100/bench-<random>;
#  4. in the same run, with the same wrk settings and the same certificate
#     and key, runs nginx serving the same JSON bytes as a static file;
#  5. prints requests/s of both, their ratio, p50/p99 latency and idra's peak
#     RSS as a Markdown block for bench/RESULTS.md.
#
# Usage: [ROUNDS=3] bench/handles.sh [RECORDS] [SECONDS] [CONNECTIONS] [IO_MODEL]
# Traffic goes to 127.0.0.1 only. Not a test: it passes no verdict.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
RECORDS=${1:-1000000}
SECONDS_PER_RUN=${2:-15}
CONNECTIONS=${3:-64}
IO_MODEL=${4:-per-thread}
ROUNDS=${ROUNDS:-3}
THREADS=$(nproc)
IDRA_SETUP_EXTRA="wrk nginx-light" bash deploy/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target idra >/dev/null
IDRA=$PWD/build/release/src/idra

OUT=$PWD/bench/out
rm -rf "$OUT"
mkdir -p "$OUT"
cleanup() {
  [[ -n "${IDRA_PID:-}" ]] && kill "$IDRA_PID" 2>/dev/null || true
  [[ -f "$OUT/nginx.pid" ]] && kill "$(cat "$OUT/nginx.pid")" 2>/dev/null || true
}
trap cleanup EXIT

# One certificate and key for both servers (P-256, as idra's own).
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
{"listen": "127.0.0.1:0", "threads": $THREADS, "io_model": "$IO_MODEL", "durable": true,
 "tls": {"certificate_file": "$OUT/cert.pem", "key_file": "$OUT/key.pem"}}
JSON
echo "== loading"
"$IDRA" import "$OUT/records.ndjson" --data "$OUT/data" --home-prefixes | tee "$OUT/import.txt"

echo "== idra serve"
"$IDRA" serve --data "$OUT/data" --config "$OUT/idra.json" >"$OUT/idra.out" 2>"$OUT/idra.err" &
IDRA_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$OUT/idra.out" 2>/dev/null && break; sleep 0.1; done
IDRA_PORT=$(sed -n 's/.*listening on https:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$OUT/idra.out")
[[ -n "$IDRA_PORT" ]] || { cat "$OUT/idra.err"; exit 1; }

# The static file nginx serves: the exact bytes idra returns for one record.
curl -s --cacert "$OUT/cert.pem" "https://127.0.0.1:$IDRA_PORT/api/handles/88.100/bench-1" >"$OUT/record.json"
mkdir -p "$OUT/www"
cp "$OUT/record.json" "$OUT/www/record.json"

NGINX_PORT=$((IDRA_PORT + 1))
write_nginx_conf "$OUT" "$NGINX_PORT" "$THREADS" "root $OUT/www; location / { default_type application/json; try_files /record.json =404; }"
nginx -c "$OUT/nginx.conf" -p "$OUT"

cat >"$OUT/random.lua" <<LUA
math.randomseed(42)
request = function()
  return wrk.format("GET", "/api/handles/88.100/bench-" .. math.random(0, $RECORDS - 1))
end
LUA

alternate_wrk "$OUT" "$THREADS" "$CONNECTIONS" "$SECONDS_PER_RUN" "$ROUNDS" "$IDRA_PORT" "$NGINX_PORT"

cp "$(median_run "$OUT" idra)" "$OUT/wrk-idra.txt"
cp "$(median_run "$OUT" nginx)" "$OUT/wrk-nginx.txt"
ALL_IDRA=$(all_runs "$OUT" idra)
ALL_NGINX=$(all_runs "$OUT" nginx)

rps() { awk '/Requests\/sec/ {print $2}' "$OUT/wrk-$1.txt"; }
pct() { awk -v p="$2" '$1 == p {print $2}' "$OUT/wrk-$1.txt"; }
errors() { awk '/Non-2xx|Socket errors/ {print}' "$OUT/wrk-$1.txt"; }
IDRA_RPS=$(rps idra); NGINX_RPS=$(rps nginx)
RSS=$(awk '/VmHWM/ {print $2 " " $3}' /proc/$IDRA_PID/status)
kill -TERM "$IDRA_PID"; wait "$IDRA_PID" || true; IDRA_PID=
RATIO=$(python3 -c "print(f'{$IDRA_RPS / $NGINX_RPS:.2f}')")
LOAD=$(sed -n 's/imported .* in \([0-9.]*\) s (\([0-9]*\) records\/s)/\2 records\/s (\1 s)/p' "$OUT/import.txt")
BPR=$(sed -n 's/.*(\([0-9.]*\) bytes\/record).*/\1/p' "$OUT/import.txt")

cat <<MD | tee "$OUT/summary.md"
| measure | idra | nginx (same bytes, same cert) |
|---|---|---|
| requests/s (median of $ROUNDS) | $IDRA_RPS | $NGINX_RPS |
| every run | $ALL_IDRA | $ALL_NGINX |
| ratio idra/nginx | $RATIO | 1 |
| latency p50 | $(pct idra 50%) | $(pct nginx 50%) |
| latency p99 | $(pct idra 99%) | $(pct nginx 99%) |
| errors | $(errors idra | tr '\n' ' ')- | $(errors nginx | tr '\n' ' ')- |
| idra peak RSS | $RSS | |
| load ($RECORDS records, idra import, durable) | $LOAD | |
| LMDB bytes per record | $BPR | |
| response body bytes | $(wc -c <"$OUT/record.json") | $(wc -c <"$OUT/www/record.json") |

wrk -t $THREADS -c $CONNECTIONS -d ${SECONDS_PER_RUN}s --latency x $ROUNDS rounds alternating idra and nginx,
random handle per request, HTTPS keep-alive; latency from the median run;
$(nproc) cores shared by server and wrk; idra threads $THREADS (io_model $IO_MODEL), nginx worker_processes $THREADS.
MD

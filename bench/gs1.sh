#!/usr/bin/env bash
# gs1.sh: GS1 Digital Link resolutions per second (307 responses) of idra
# against nginx returning a static 307 on this machine (issue 6).
#
#  1. builds the release binary (SKIP_BUILD=1: uses BUILD_DIR as it is);
#  2. generates RECORDS GS1 items (GTINs 09506000000000.. with check digits),
#     each with a default gs1:pip link and two more GS1_LINK values, and loads
#     them with `idra import`;
#  3. serves them with `idra serve` (default configuration: the Cedar policies
#     decide every request and link, the audit log records every resolution)
#     and runs wrk over HTTPS keep-alive on GET /01/<random GTIN>?utm=qr,
#     counting only 307s;
#  4. in the same run, with the same wrk settings, certificate and key, runs
#     nginx answering every request with `return 307` to the same Location;
#  5. alternates the two ROUNDS times and prints requests/s, the ratio, p50/p99
#     and idra's peak RSS as Markdown for bench/RESULTS.md;
#  6. then measures the floor the same way: idra's GET /healthz (no lookup,
#     decision or audit record) against the same nginx.
#
# Usage: [ROUNDS=3] [EXTRA_CONFIG='{"audit":{"enabled":false}}'] bench/gs1.sh [RECORDS] [SECONDS] [CONNECTIONS]
# Traffic goes to 127.0.0.1 only. Not a test: it passes no verdict.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
RECORDS=${1:-100000}
SECONDS_PER_RUN=${2:-15}
CONNECTIONS=${3:-64}
ROUNDS=${ROUNDS:-3}
THREADS=$(nproc)
BUILD_DIR=${BUILD_DIR:-build/release}
EXTRA_CONFIG=${EXTRA_CONFIG:-"{}"}
IDRA_SETUP_EXTRA="wrk nginx-light" bash deploy/setup.sh
if [[ -z "${SKIP_BUILD:-}" ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ >/dev/null
  cmake --build "$BUILD_DIR" --target idra >/dev/null
fi
IDRA=$PWD/$BUILD_DIR/src/idra

OUT=$PWD/bench/out/gs1
rm -rf "$OUT"
mkdir -p "$OUT"
cleanup() {
  [[ -n "${IDRA_PID:-}" ]] && kill "$IDRA_PID" 2>/dev/null || true
  [[ -f "$OUT/nginx.pid" ]] && kill "$(cat "$OUT/nginx.pid")" 2>/dev/null || true
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$OUT/key.pem" -out "$OUT/cert.pem" 2>/dev/null
chmod 600 "$OUT/key.pem"

echo "== generating $RECORDS GS1 items"
python3 - "$RECORDS" "$OUT/gtins.txt" >"$OUT/records.ndjson" <<'PY'
import json, sys
n = int(sys.argv[1])
def check(d13):
    s = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(d13)))
    return str((10 - s % 10) % 10)
def link(t, href, title, **kw):
    return json.dumps({"linkType": t, "href": href, "title": title, **kw}, separators=(",", ":"))
w = sys.stdout.write
with open(sys.argv[2], "w") as g:
    for i in range(n):
        d13 = "0950600" + f"{i:06d}"
        gtin = d13 + check(d13)
        g.write(gtin + "\n")
        w(json.dumps({"handle": f"(01){gtin}", "values": [
            {"index": 1, "type": "GS1_LINK", "data": link("gs1:pip", f"https://brand.example/p/{gtin}", "Product",
                                                          hreflang=["en"], type="text/html", default=True)},
            {"index": 2, "type": "GS1_LINK", "data": link("gs1:epil", f"https://brand.example/l/{gtin}", "Leaflet",
                                                          hreflang=["en"])},
            {"index": 3, "type": "GS1_LINK", "data": link("gs1:certificationInfo", f"https://brand.example/c/{gtin}",
                                                          "Certificates")},
            {"index": 4, "type": "GS1_ITEM_DESCRIPTION", "data": f"Item {i}"},
        ]}, separators=(",", ":")) + "\n")
PY

python3 - "$OUT/idra.json" "$THREADS" "$OUT" "$EXTRA_CONFIG" <<'PY'
import json, sys
path, threads, out, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
cfg = {"listen": "127.0.0.1:0", "threads": threads, "durable": True,
       "tls": {"certificate_file": f"{out}/cert.pem", "key_file": f"{out}/key.pem"},
       "resolver": {"root": "https://id.example.com"}}
cfg.update(extra)
json.dump(cfg, open(path, "w"))
PY
echo "== loading"
"$IDRA" import "$OUT/records.ndjson" --data "$OUT/data" --home-prefixes | tee "$OUT/import.txt"

echo "== idra serve"
"$IDRA" serve --data "$OUT/data" --config "$OUT/idra.json" >"$OUT/idra.out" 2>"$OUT/idra.err" &
IDRA_PID=$!
for _ in $(seq 300); do grep -q "listening on" "$OUT/idra.out" 2>/dev/null && break; sleep 0.1; done
IDRA_PORT=$(sed -n 's/.*listening on https:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$OUT/idra.out")
[[ -n "$IDRA_PORT" ]] || { cat "$OUT/idra.err"; exit 1; }
FIRST=$(head -1 "$OUT/gtins.txt")
curl -s -D "$OUT/idra-307.txt" -o /dev/null --cacert "$OUT/cert.pem" "https://127.0.0.1:$IDRA_PORT/01/$FIRST?utm=qr"
grep -q "^HTTP/1.1 307" "$OUT/idra-307.txt" || { echo "idra did not answer 307:"; cat "$OUT/idra-307.txt"; exit 1; }

NGINX_PORT=$((IDRA_PORT + 1))
write_nginx_conf "$OUT" "$NGINX_PORT" "$THREADS" "location / { return 307 https://brand.example/p/$FIRST?utm=qr; }"
nginx -c "$OUT/nginx.conf" -p "$OUT"

# Random GTINs, read by every wrk thread; a 307 is the only good answer.
cat >"$OUT/random.lua" <<LUA
local gtins = {}
for line in io.lines("$OUT/gtins.txt") do gtins[#gtins + 1] = line end
math.randomseed(42)
request = function()
  return wrk.format("GET", "/01/" .. gtins[math.random(1, #gtins)] .. "?utm=qr")
end
local bad = 0
response = function(status, headers, body)
  if status ~= 307 then bad = bad + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("not 307: %d\n", bad))
end
LUA

alternate_wrk "$OUT" "$THREADS" "$CONNECTIONS" "$SECONDS_PER_RUN" "$ROUNDS" "$IDRA_PORT" "$NGINX_PORT"

# The floor: idra's GET /healthz (TLS, HTTP parsing, routing, the access log,
# no lookup, no decision, no audit record) against the same nginx, alternating
# the same way. Whatever a resolution adds comes on top of this ratio.
for r in $(seq "$ROUNDS"); do
  echo "== floor round $r: wrk idra /healthz, nginx"
  wrk -t "$THREADS" -c "$CONNECTIONS" -d "${SECONDS_PER_RUN}s" "https://127.0.0.1:$IDRA_PORT/healthz" >"$OUT/floor-idra-$r.txt"
  wrk -t "$THREADS" -c "$CONNECTIONS" -d "${SECONDS_PER_RUN}s" "https://127.0.0.1:$NGINX_PORT/" >"$OUT/floor-nginx-$r.txt"
done
FLOOR_RATIOS=$(for r in $(seq "$ROUNDS"); do
  python3 -c "print(f'{$(awk '/Requests\/sec/ {print $2}' "$OUT/floor-idra-$r.txt") / $(awk '/Requests\/sec/ {print $2}' "$OUT/floor-nginx-$r.txt"):.3f}', end=' ')"
done)
FLOOR_IDRA=$(cat "$OUT"/floor-idra-*.txt | awk '/Requests\/sec/ {print $2}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
FLOOR_NGINX=$(cat "$OUT"/floor-nginx-*.txt | awk '/Requests\/sec/ {print $2}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')

cp "$(median_run "$OUT" idra)" "$OUT/wrk-idra.txt"
cp "$(median_run "$OUT" nginx)" "$OUT/wrk-nginx.txt"
ALL_IDRA=$(all_runs "$OUT" idra)
ALL_NGINX=$(all_runs "$OUT" nginx)
RATIOS=$(for r in $(seq "$ROUNDS"); do
  python3 -c "print(f'{$(awk '/Requests\/sec/ {print $2}' "$OUT/wrk-idra-$r.txt") / $(awk '/Requests\/sec/ {print $2}' "$OUT/wrk-nginx-$r.txt"):.3f}', end=' ')"
done)
rps() { awk '/Requests\/sec/ {print $2}' "$OUT/wrk-$1.txt"; }
pct() { awk -v p="$2" '$1 == p {print $2}' "$OUT/wrk-$1.txt"; }
bad() { cat "$OUT"/wrk-"$1"-*.txt | awk '/not 307:/ {s += $3} /Socket errors/ {print} END {print "not 307: " s}' | tr '\n' ' '; }
IDRA_RPS=$(rps idra); NGINX_RPS=$(rps nginx)
RSS=$(awk '/VmHWM/ {print $2 " " $3}' /proc/$IDRA_PID/status)
kill -TERM "$IDRA_PID"; wait "$IDRA_PID" || true; IDRA_PID=
RATIO=$(python3 -c "print(f'{$IDRA_RPS / $NGINX_RPS:.3f}')")

cat <<MD | tee "$OUT/summary.md"
| measure | idra (GET /01/<random GTIN>?utm=qr) | nginx (\`return 307\`, same cert) |
|---|---|---|
| 307 responses/s (median of $ROUNDS) | $IDRA_RPS | $NGINX_RPS |
| every run | $ALL_IDRA | $ALL_NGINX |
| ratio idra/nginx (medians) | **$RATIO** | 1 |
| per-round ratios | $RATIOS | |
| latency p50 | $(pct idra 50%) | $(pct nginx 50%) |
| latency p99 | $(pct idra 99%) | $(pct nginx 99%) |
| errors (all runs) | $(bad idra) | $(bad nginx) |
| idra peak RSS | $RSS | |
| floor: idra \`GET /healthz\` against nginx (medians) | $FLOOR_IDRA | $FLOOR_NGINX |
| floor ratio per round | $FLOOR_RATIOS | |

$RECORDS items, 3 links each; idra config: $(cat "$OUT/idra.json");
wrk -t $THREADS -c $CONNECTIONS -d ${SECONDS_PER_RUN}s --latency x $ROUNDS rounds alternating idra and nginx,
HTTPS keep-alive; $(nproc) cores shared by server and wrk; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg).
MD

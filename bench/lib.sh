# lib.sh: what the HTTPS benchmarks against nginx share (sourced, not run).

# write_nginx_conf OUT PORT THREADS LOCATION: an nginx configuration in
# OUT/nginx.conf serving HTTPS on 127.0.0.1:PORT with OUT/cert.pem and
# OUT/key.pem, the TLS settings idra uses, and LOCATION as its location block.
write_nginx_conf() {
  local out=$1 port=$2 threads=$3 location=$4
  cat >"$out/nginx.conf" <<NGINX
worker_processes $threads;
pid $out/nginx.pid;
error_log $out/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log $out/nginx-access.log combined buffer=64k flush=1s;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:$port ssl;
    ssl_certificate $out/cert.pem;
    ssl_certificate_key $out/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305;
    $location
  }
}
NGINX
}

# median_run OUT NAME: the wrk output file OUT/wrk-NAME-*.txt of the run with
# the median requests/s.
median_run() {
  for f in "$1"/wrk-"$2"-*.txt; do echo "$(awk '/Requests\/sec/ {print $2}' "$f") $f"; done |
    sort -n | awk '{a[NR]=$2} END {print a[int((NR+1)/2)]}'
}

# all_runs OUT NAME: requests/s of every run, space-separated.
all_runs() {
  for f in "$1"/wrk-"$2"-*.txt; do awk '/Requests\/sec/ {printf "%d ", $2}' "$f"; done
}

# alternate_wrk OUT THREADS CONNECTIONS SECONDS ROUNDS IDRA_PORT NGINX_PORT:
# a 5 s warm-up of each server, then ROUNDS rounds of wrk (OUT/random.lua)
# alternating idra and nginx, so that both see the same machine (this VM's
# throughput drifts by more than the differences measured). Each run's output
# goes to OUT/wrk-{idra,nginx}-ROUND.txt.
alternate_wrk() {
  local out=$1 threads=$2 connections=$3 seconds=$4 rounds=$5 idra_port=$6 nginx_port=$7 round
  echo "== warm-up"
  wrk -t "$threads" -c "$connections" -d 5s -s "$out/random.lua" "https://127.0.0.1:$idra_port" >/dev/null
  wrk -t "$threads" -c "$connections" -d 5s -s "$out/random.lua" "https://127.0.0.1:$nginx_port" >/dev/null
  for round in $(seq "$rounds"); do
    echo "== round $round: wrk idra"
    wrk -t "$threads" -c "$connections" -d "${seconds}s" --latency -s "$out/random.lua" \
      "https://127.0.0.1:$idra_port" >"$out/wrk-idra-$round.txt"
    echo "== round $round: wrk nginx"
    wrk -t "$threads" -c "$connections" -d "${seconds}s" --latency -s "$out/random.lua" \
      "https://127.0.0.1:$nginx_port" >"$out/wrk-nginx-$round.txt"
  done
}

#!/usr/bin/env bash
# Plain reverse-proxy benchmark, in one run on one machine, against one backend:
# the backend directly, nginx as a reverse proxy, sekisho as a reverse proxy;
# keep-alive and new-connection variants. See bench/README.md.
#
# Last line: proxy: sekisho/nginx throughput=R1 p99=R2 sekisho/direct throughput=R3
# (ratios of the keep-alive variant).
#
# Environment: BENCH_DURATION (seconds per measurement, default 10), BENCH_CONNS (default 32),
# BENCH_WORKERS (proxy worker threads/processes, default 1), BENCH_ROUNDS (measurements per
# target; the best counts, on a shared machine the least disturbed: the highest throughput
# and the lowest p99 of the rounds, each on its own; default 1),
# CARGO_TARGET_DIR.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${BENCH_DURATION:-10}
CONNS=${BENCH_CONNS:-32}
WORKERS=${BENCH_WORKERS:-1}
ROUNDS=${BENCH_ROUNDS:-1}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
NCPU=$(nproc)
# The proxy under test gets CPU 0 to itself; the load generator and the backend share
# the last CPU. On one CPU everything shares it.
PROXY_CPUS=0
if [ "$NCPU" -ge 4 ]; then PROXY_CPUS="0-$((WORKERS - 1))"; fi
OTHER_CPU=$((NCPU - 1))

need() { command -v "$1" >/dev/null 2>&1; }
if ! need nginx || ! need wrk; then
    echo "installing nginx and wrk ..." >&2
    SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nginx-light wrk >/dev/null \
        || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nginx wrk >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

echo "building sekisho and sekisho-demo (release) ..." >&2
(cd "$ROOT" && CARGO_TARGET_DIR=$TARGET cargo build --release --quiet -p sekisho -p sekisho-demo)
SEKISHO=$TARGET/release/sekisho
DEMO=$TARGET/release/sekisho-demo

TMP=$(mktemp -d /tmp/sekisho-bench.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

# A loopback port nothing listens on: below Linux's ephemeral range (32768+), so that no
# outgoing connection of the run can hold it, and clear of the usual dev ports.
free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 12000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
    done
}
wait_port() {
    local i
    for i in $(seq 1 200); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    echo "error: nothing listens on 127.0.0.1:$1 after 10 s ($2)" >&2
    for f in "$TMP"/*.log; do echo "--- $f" >&2; tail -20 "$f" >&2; done
    exit 1
}

BACKEND_PORT=$(free_port); DIRECT_PORT=$(free_port); NGINX_PORT=$(free_port)
SEKISHO_PORT=$(free_port); ADMIN_PORT=$(free_port)

# The backend behind both proxies, on the load generator's CPU.
taskset -c "$OTHER_CPU" "$DEMO" --listen "127.0.0.1:$BACKEND_PORT" --threads 1 >"$TMP/demo.log" 2>&1 &
PIDS+=($!)
wait_port "$BACKEND_PORT" sekisho-demo
# "direct": the same backend program, given the CPU the proxies get.
taskset -c "$PROXY_CPUS" "$DEMO" --listen "127.0.0.1:$DIRECT_PORT" --threads "$WORKERS" >"$TMP/direct.log" 2>&1 &
PIDS+=($!)
wait_port "$DIRECT_PORT" sekisho-demo

# nginx: plain reverse proxy, keep-alive to the upstream, no access log (as sekisho below).
mkdir -p "$TMP/nginx"
USER_LINE=; [ "$(id -u)" -eq 0 ] && USER_LINE="user root;"
cat >"$TMP/nginx.conf" <<CONF
$USER_LINE
worker_processes $WORKERS;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    keepalive_requests 1000000;
    upstream backend {
        server 127.0.0.1:$BACKEND_PORT;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
CONF
taskset -c "$PROXY_CPUS" "$NGINX" -c "$TMP/nginx.conf" -e "$TMP/nginx/error.log" >"$TMP/nginx.log" 2>&1 &
PIDS+=($!)
wait_port "$NGINX_PORT" nginx

# sekisho: one route to one cluster, no event destinations (nginx logs nothing either).
cat >"$TMP/sekisho.toml" <<CONF
[admin]
listen = "127.0.0.1:$ADMIN_PORT"

[[listeners]]
name = "bench"
listen = "127.0.0.1:$SEKISHO_PORT"

[[routes]]
name = "all"
path_prefix = "/"
cluster = "backend"

[[clusters]]
name = "backend"
endpoints = ["127.0.0.1:$BACKEND_PORT"]
CONF
taskset -c "$PROXY_CPUS" \
    "$SEKISHO" serve --config "$TMP/sekisho.toml" --workers "$WORKERS" >"$TMP/sekisho.log" 2>&1 &
PIDS+=($!)
wait_port "$SEKISHO_PORT" sekisho

# measure NAME PORT CLOSE → "rps p50_us p99_us requests errors"
measure() {
    local out
    out=$(BENCH_CLOSE=$3 taskset -c "$OTHER_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" --timeout 5s \
        -s "$ROOT/bench/wrk.lua" "http://127.0.0.1:$2" 2>&1) || { echo "error: wrk failed: $out" >&2; exit 1; }
    local line
    line=$(grep '^RESULT' <<<"$out") || { echo "error: no result from wrk: $out" >&2; exit 1; }
    sed -E 's/RESULT rps=([0-9]+) p50_us=([0-9]+) p99_us=([0-9]+) requests=([0-9]+) errors=([0-9]+)/\1 \2 \3 \4 \5/' <<<"$line"
}

# Sanity: each target answers the benchmark request with 200.
for port in "$BACKEND_PORT" "$DIRECT_PORT" "$NGINX_PORT" "$SEKISHO_PORT"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/users/1" || true)
    if [ "$code" != 200 ]; then
        echo "error: 127.0.0.1:$port answered \`$code\` to GET /api/users/1" >&2
        tail -20 "$TMP/sekisho.log" >&2
        exit 1
    fi
done

declare -A R
printf '%-12s %-8s %10s %9s %9s %10s %7s\n' variant target req/s p50_us p99_us requests errors
for variant in keepalive close; do
    close=0; [ "$variant" = close ] && close=1
    for target in direct nginx sekisho; do R[$variant.$target.rps]=0; R[$variant.$target.p99]=0; done
    # Rounds interleave the targets so that a burst of outside load hits all of them alike.
    for round in $(seq 1 "$ROUNDS"); do
        for target in direct nginx sekisho; do
            case $target in
                direct) port=$DIRECT_PORT ;;
                nginx) port=$NGINX_PORT ;;
                sekisho) port=$SEKISHO_PORT ;;
            esac
            res=$(measure "$target" "$port" "$close")
            read -r rps p50 p99 n errs <<<"$res"
            printf '%-12s %-8s %10s %9s %9s %10s %7s\n' "$variant" "$target" "$rps" "$p50" "$p99" "$n" "$errs"
            # Each figure is the best of its rounds, the least disturbed: the highest
            # throughput and, separately, the lowest p99 (one outside stall in a round moves
            # its p99 far more than its throughput).
            if [ "$rps" -gt "${R[$variant.$target.rps]}" ]; then
                R[$variant.$target.rps]=$rps
            fi
            if [ "${R[$variant.$target.p99]}" -eq 0 ] || [ "$p99" -lt "${R[$variant.$target.p99]}" ]; then
                R[$variant.$target.p99]=$p99
            fi
        done
    done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "inf"; else printf "%.2f", a / b }'; }
echo "cpus=$NCPU proxy_workers=$WORKERS rounds=$ROUNDS proxy_cpus=$PROXY_CPUS wrk+backend_cpu=$OTHER_CPU duration=${DURATION}s conns=$CONNS"
echo "proxy: sekisho/nginx throughput=$(ratio "${R[keepalive.sekisho.rps]}" "${R[keepalive.nginx.rps]}") p99=$(ratio "${R[keepalive.sekisho.p99]}" "${R[keepalive.nginx.p99]}") sekisho/direct throughput=$(ratio "${R[keepalive.sekisho.rps]}" "${R[keepalive.direct.rps]}")"

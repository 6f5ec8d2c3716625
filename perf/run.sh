#!/usr/bin/env bash
# Side-by-side performance run on ONE machine, in ONE go, with the same load for every path:
#   direct   - mcpguard-refserver (the fast reference MCP upstream), no proxy
#   mcpguard-off - the gateway with every feature off ([detect] enabled = false, no store)
#   mcpguard - the gateway with its default configuration (full detection policy), one worker
#   nginx    - plain `proxy_pass` with keep-alive upstream connections, one worker (the standard a
#              user would pick instead)
# For each: max throughput (closed loop), then latency at half of mcpguard's saturation rate (open
# loop, coordinated-omission corrected), CPU µs per request of the proxy process (/proc), split into
# user and kernel time, peak RSS.
# Then: RSS of mcpguard holding 10,000 idle keep-alive connections, and the stripped binary size.
# Cores are pinned so the proxy does not share its core with the load generator or the upstream
# where the machine allows. Everything is on 127.0.0.1, bounded, and stops by itself.
#
#   bash perf/run.sh                 # ~5 minutes on 2 cores; DUR/CONNS/IDLE_CONNS override
# Output: a markdown table on stdout and in perf/results/latest.md.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${DUR:-10}
WARMUP=${WARMUP:-2}
CONNS=${CONNS:-32}
IDLE_CONNS=${IDLE_CONNS:-10000}
RESPONSE_BYTES=${RESPONSE_BYTES:-256}
BASE=${BASE_PORT:-19100}
UP_PORT=$BASE; GW_PORT=$((BASE + 1)); NGX_PORT=$((BASE + 2))
OUT=perf/results; mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/mcpguard-perf.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.2
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
log() { printf '[perf] %s\n' "$*" >&2; }

log "building release binaries"
cargo build --release -q --bin mcpguard -p mcpguard
cargo build --release -q -p mcpguard-loadtest
GW_BIN=target/release/mcpguard
LT_BIN=target/release/mcpguard-loadtest
UP_BIN=target/release/mcpguard-refserver

NGINX=$(command -v nginx || true)
if [ -z "$NGINX" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  log "installing nginx (Debian package nginx-light)"
  apt-get install -y -qq nginx-light >/dev/null 2>&1 || apt-get install -y -qq nginx >/dev/null 2>&1 || true
  NGINX=$(command -v nginx || true)
fi

NCPU=$(nproc)
if [ "$NCPU" -ge 4 ]; then PROXY_CPU=0; UP_CPU=1; LOAD_CPU=2-$((NCPU - 1))
elif [ "$NCPU" -ge 3 ]; then PROXY_CPU=0; UP_CPU=1; LOAD_CPU=2
else PROXY_CPU=0; UP_CPU=1; LOAD_CPU=1; fi
log "cores: proxy $PROXY_CPU, upstream $UP_CPU, load generator $LOAD_CPU (of $NCPU)"

wait_port() {
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
  log "port $1 did not open"; return 1
}
ticks() { local t=0; for p in "$@"; do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo $t; }
uticks() { local t=0; for p in "$@"; do t=$((t + $(awk '{print $14}' "/proc/$p/stat"))); done; echo $t; }
hwm_kb() { local m=0; for p in "$@"; do m=$((m + $(awk '/VmHWM/{print $2}' "/proc/$p/status"))); done; echo $m; }
rss_kb() { local m=0; for p in "$@"; do m=$((m + $(awk '/VmRSS/{print $2}' "/proc/$p/status"))); done; echo $m; }
jq_py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

taskset -c "$UP_CPU" "$UP_BIN" --listen "127.0.0.1:$UP_PORT" --workers 1 \
  --response-bytes "$RESPONSE_BYTES" >"$WORK/up.log" 2>&1 & PIDS+=($!)
wait_port "$UP_PORT"

start_proxy() { # name -> sets PROXY_PIDS and PORT
  case $1 in
    direct) PROXY_PIDS=(); PORT=$UP_PORT ;;
    mcpguard) # the full default policy: every detector family on, both directions
      taskset -c "$PROXY_CPU" "$GW_BIN" run --listen "127.0.0.1:$GW_PORT" --workers 1 \
        --upstream "http://127.0.0.1:$UP_PORT/mcp" --store "$WORK/gw.db" --log-level warn \
        2>"$WORK/gw.log" & PIDS+=($!)
      PROXY_PIDS=($!); PORT=$GW_PORT; wait_port "$GW_PORT" ;;
    mcpguard-off) # every feature off: the proxy alone
      printf '[[upstreams]]\nname = "up"\nurl = "http://127.0.0.1:%s/mcp"\n[[routes]]\npath = "/mcp"\nupstream = "up"\n[detect]\nenabled = false\n[store]\npath = ""\n' \
        "$UP_PORT" >"$WORK/off.toml"
      taskset -c "$PROXY_CPU" "$GW_BIN" run --config "$WORK/off.toml" --listen "127.0.0.1:$GW_PORT" \
        --workers 1 --log-level warn 2>"$WORK/gw-off.log" & PIDS+=($!)
      PROXY_PIDS=($!); PORT=$GW_PORT; wait_port "$GW_PORT" ;;
    nginx)
      mkdir -p "$WORK/nginx"
      cat >"$WORK/nginx/nginx.conf" <<NGX
worker_processes 1;
worker_cpu_affinity auto;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 20000; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  upstream mcp { server 127.0.0.1:$UP_PORT; keepalive 64; }
  server {
    listen 127.0.0.1:$NGX_PORT;
    location / {
      proxy_pass http://mcp;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
NGX
      taskset -c "$PROXY_CPU" "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" & PIDS+=($!)
      local master=$!; wait_port "$NGX_PORT"
      PROXY_PIDS=($master $(pgrep -P "$master" || true)); PORT=$NGX_PORT ;;
  esac
}
stop_proxy() { for p in "${PROXY_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.3; }

load() { # port json-out [extra flags...]
  local port=$1 json=$2; shift 2
  taskset -c "$LOAD_CPU" "$LT_BIN" --url "http://127.0.0.1:$port/mcp" --connections "$CONNS" \
    --threads 1 --duration "${DUR}s" --warmup "${WARMUP}s" --scenario call --quiet --json "$json" "$@" \
    >/dev/null 2>>"$WORK/load.log"
}

PATHS=(direct mcpguard-off mcpguard)
[ -n "$NGINX" ] && PATHS+=(nginx) || log "nginx not available: its column is skipped"
declare -A RPS CPU UCPU SCPU HWM
for p in "${PATHS[@]}"; do
  log "$p: closed loop, $CONNS connections, ${DUR}s"
  start_proxy "$p"
  t0=$(ticks "${PROXY_PIDS[@]:-$$}"); u0=$(uticks "${PROXY_PIDS[@]:-$$}")
  load "$PORT" "$WORK/$p-max.json"
  t1=$(ticks "${PROXY_PIDS[@]:-$$}"); u1=$(uticks "${PROXY_PIDS[@]:-$$}")
  RPS[$p]=$(jq_py "$WORK/$p-max.json" 'd["throughput_rps"]')
  ok=$(jq_py "$WORK/$p-max.json" 'd["ok"]')
  if [ ${#PROXY_PIDS[@]} -gt 0 ]; then
    CPU[$p]=$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$ok" -v w="$WARMUP" -v d="$DUR" \
      'BEGIN{ printf "%.1f", t*1e6/hz / (n * (d + w) / d) }')
    UCPU[$p]=$(awk -v t=$((u1 - u0)) -v hz="$(getconf CLK_TCK)" -v n="$ok" -v w="$WARMUP" -v d="$DUR" \
      'BEGIN{ printf "%.1f", t*1e6/hz / (n * (d + w) / d) }')
    SCPU[$p]=$(python3 -c "print(f'{float(\"${CPU[$p]}\") - float(\"${UCPU[$p]}\"):.1f}')")
    HWM[$p]=$(hwm_kb "${PROXY_PIDS[@]}")
  else CPU[$p]="-"; UCPU[$p]="-"; SCPU[$p]="-"; HWM[$p]="-"; fi
  stop_proxy
done

RATE=$(python3 -c "print(int(float('${RPS[mcpguard]}') / 2))")
declare -A P50 P99 ERR
for p in "${PATHS[@]}"; do
  log "$p: open loop at $RATE req/s (half of mcpguard's saturation)"
  start_proxy "$p"
  load "$PORT" "$WORK/$p-rate.json" --rate "$RATE"
  P50[$p]=$(jq_py "$WORK/$p-rate.json" 'd["latency_us"]["p50"]')
  P99[$p]=$(jq_py "$WORK/$p-rate.json" 'd["latency_us"]["p99"]')
  ERR[$p]=$(jq_py "$WORK/$p-rate.json" 'd["sent"] - d["ok"]')
  stop_proxy
done

log "mcpguard: RSS with $IDLE_CONNS idle keep-alive connections"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
start_proxy mcpguard
RSS_BEFORE=$(rss_kb "${PROXY_PIDS[@]}")
HOLD=30 python3 perf/idle_conns.py 127.0.0.1 "$GW_PORT" "$IDLE_CONNS" >"$WORK/idle.out" & IDLE=$!; PIDS+=($IDLE)
for _ in $(seq 600); do grep -q ready "$WORK/idle.out" 2>/dev/null && break; sleep 0.1; done
IDLE_STATE=$(cat "$WORK/idle.out")
RSS_IDLE=$(rss_kb "${PROXY_PIDS[@]}")
kill "$IDLE" 2>/dev/null || true
stop_proxy

cp "$GW_BIN" "$WORK/mcpguard.stripped" && strip "$WORK/mcpguard.stripped"
SIZE=$(stat -c %s "$WORK/mcpguard.stripped")

ratio() { python3 -c "a,b=float('$1'),float('$2'); print(f'{a/b:.2f}' if b else '-')" 2>/dev/null || echo "-"; }
{
  echo "## perf/run.sh — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r)"
  echo
  echo "Load: mcpguard-loadtest, tools/call ($RESPONSE_BYTES-byte result), $CONNS connections, ${DUR}s (+${WARMUP}s warm-up);"
  echo "upstream: mcpguard-refserver, 1 worker. Proxy on core $PROXY_CPU; upstream on $UP_CPU; load on $LOAD_CPU."
  echo
  echo "| path | max req/s | vs direct | CPU µs/req | vs nginx | user µs/req | user vs nginx | kernel µs/req | p50 µs @ $RATE/s | p99 µs @ $RATE/s | added p99 µs | peak RSS MB | errors |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for p in "${PATHS[@]}"; do
    added=$(python3 -c "print(round(float('${P99[$p]}') - float('${P99[direct]}')))")
    vsn="-"; [ -n "$NGINX" ] && [ "${CPU[$p]}" != "-" ] && vsn=$(ratio "${CPU[$p]}" "${CPU[nginx]}")
    uvsn="-"; [ -n "$NGINX" ] && [ "${UCPU[$p]}" != "-" ] && uvsn=$(ratio "${UCPU[$p]}" "${UCPU[nginx]}")
    hwm="-"; [ "${HWM[$p]}" != "-" ] && hwm=$(python3 -c "print(f'{${HWM[$p]}/1024:.1f}')")
    echo "| $p | ${RPS[$p]%.*} | $(ratio "${RPS[$p]}" "${RPS[direct]}") | ${CPU[$p]} | $vsn | ${UCPU[$p]} | $uvsn | ${SCPU[$p]} | ${P50[$p]} | ${P99[$p]} | $added | $hwm | ${ERR[$p]} |"
  done
  echo
  echo "mcpguard with $IDLE_CONNS idle keep-alive connections ($IDLE_STATE): RSS $((RSS_IDLE / 1024)) MB (before: $((RSS_BEFORE / 1024)) MB)"
  echo "stripped mcpguard binary: $((SIZE / 1024 / 1024)) MB ($SIZE bytes)"
} | tee "$OUT/latest.md"

#!/usr/bin/env bash
# First end-to-end measurement: the same tools/call load against the upstream direct and through
# mcpguard (one worker), in one run. Reports throughput, latency and the gateway's CPU time per
# proxied request (utime+stime from /proc, the steadiest figure on a noisy machine).
# Needs wrk (Debian package `wrk`). Everything runs on 127.0.0.1 and stops by itself.
# The full harness (open-loop load generator, nginx comparison, RSS) is loadtest/ + perf/ proper.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MCPGUARD_BIN:-target/release/mcpguard}
DUR=${DUR:-10}
CONNS=${CONNS:-8}
UP_PORT=${UP_PORT:-18901}
GW_PORT=${GW_PORT:-18902}
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }
[ -x "$BIN" ] || cargo build --release --bin mcpguard
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

"$BIN" demo --server-only --listen "127.0.0.1:$UP_PORT" >/dev/null 2>&1 & PIDS+=($!)
"$BIN" run --listen "127.0.0.1:$GW_PORT" --upstream "http://127.0.0.1:$UP_PORT/mcp" --workers 1 \
  --log-level warn 2>/tmp/mcpguard-quick.log & GW=$!; PIDS+=($GW)
for _ in $(seq 50); do
  (exec 3<>/dev/tcp/127.0.0.1/$GW_PORT) 2>/dev/null && break; sleep 0.1
done

init() {
  curl -s -D - -o /dev/null -X POST "http://127.0.0.1:$1/mcp" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' \
    -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"perf","version":"1"}}}' \
    | tr -d '\r' | awk -F': ' 'tolower($1)=="mcp-session-id"{print $2}'
}
SID_DIRECT=$(init $UP_PORT); SID_GW=$(init $GW_PORT)

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
run_wrk() { # port sid conns duration
  SID=$2 wrk -t1 -c"$3" -d"$4"s --latency -s perf/post.lua "http://127.0.0.1:$1/mcp"
}
field() { awk -v k="$1" '$1==k{print $2}'; }

echo "warm-up"; run_wrk $GW_PORT "$SID_GW" "$CONNS" 2 >/dev/null
direct=$(run_wrk $UP_PORT "$SID_DIRECT" "$CONNS" "$DUR")
t0=$(cpu_ticks $GW); gw=$(run_wrk $GW_PORT "$SID_GW" "$CONNS" "$DUR"); t1=$(cpu_ticks $GW)
direct1=$(run_wrk $UP_PORT "$SID_DIRECT" 1 "$DUR")
gw1=$(run_wrk $GW_PORT "$SID_GW" 1 "$DUR")

reqs() { echo "$1" | awk '/requests in/{print $1}'; }
rps() { echo "$1" | awk '/Requests\/sec/{print $2}'; }
hz=$(getconf CLK_TCK)
gw_reqs=$(reqs "$gw")
cpu_us=$(awk -v t="$((t1 - t0))" -v hz="$hz" -v n="$gw_reqs" 'BEGIN{printf "%.1f", t*1e6/hz/n}')
errors=$(echo "$gw" | grep -E "Non-2xx|Socket errors" || true)
echo
echo "| path | conns | req/s | p50 | p99 |"
echo "|---|---|---|---|---|"
for row in "direct|$CONNS|$direct" "mcpguard|$CONNS|$gw" "direct|1|$direct1" "mcpguard|1|$gw1"; do
  name=${row%%|*}; rest=${row#*|}; c=${rest%%|*}; out=${rest#*|}
  p50=$(echo "$out" | field 50%); p99=$(echo "$out" | field 99%)
  echo "| $name | $c | $(rps "$out") | $p50 | $p99 |"
done
echo
echo "mcpguard CPU per proxied request (user+system, 1 worker): ${cpu_us} us over $gw_reqs requests"
[ -z "$errors" ] || echo "errors: $errors"

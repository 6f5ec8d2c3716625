#!/usr/bin/env bash
# A/B comparison of two mcpguard binaries on a noisy machine: the same closed-loop tools/call load
# against each, alternating A and B for ROUNDS rounds so drift and neighbours hit both alike, for
# the gateway with every feature off and with the default policy. Reports the median CPU µs per
# request of the gateway process (user and kernel, from /proc) and the median throughput.
#
#   bash perf/ab.sh OLD_BIN NEW_BIN        # ROUNDS=3 DUR=6 CONNS=32 override
# Needs the release loadtest binaries (cargo build --release -p mcpguard-loadtest). Everything runs
# on 127.0.0.1, bounded, and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
A=$1; B=$2
ROUNDS=${ROUNDS:-3}; DUR=${DUR:-6}; WARMUP=${WARMUP:-1}; CONNS=${CONNS:-32}
BASE=${BASE_PORT:-19300}; UP_PORT=$BASE; GW_PORT=$((BASE + 1))
LT_BIN=${LT_BIN:-target/release/mcpguard-loadtest}; UP_BIN=${UP_BIN:-target/release/mcpguard-refserver}
for b in "$LT_BIN" "$UP_BIN" "$A" "$B"; do
  [ -x "$b" ] || { echo "not found: $b (cargo build --release -p mcpguard-loadtest, or set LT_BIN/UP_BIN)" >&2; exit 1; }
done
WORK=$(mktemp -d /tmp/mcpguard-ab.XXXXXX); PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; [ -n "${KEEP:-}" ] || rm -rf "$WORK"; }
trap cleanup EXIT
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
stat_of() { awk '{print $14, $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

taskset -c 1 "$UP_BIN" --listen "127.0.0.1:$UP_PORT" --workers 1 >/dev/null 2>&1 & PIDS+=($!)
wait_port "$UP_PORT"
printf '[[upstreams]]\nname = "up"\nurl = "http://127.0.0.1:%s/mcp"\n[[routes]]\npath = "/mcp"\nupstream = "up"\n[detect]\nenabled = false\n[store]\npath = ""\n' "$UP_PORT" >"$WORK/off.toml"
printf '[[upstreams]]\nname = "up"\nurl = "http://127.0.0.1:%s/mcp"\n[[routes]]\npath = "/mcp"\nupstream = "up"\n[store]\npath = "%s/gw.db"\n' "$UP_PORT" "$WORK" >"$WORK/full.toml"

one() { # bin config -> "user_us sys_us rps"
  local gw
  rm -f "$WORK"/gw.db* # each run starts with an empty store (A and B may differ in schema)
  for _ in 1 2 3; do # a port still held by the previous run's closing socket: try again
    taskset -c 0 "$1" run --config "$WORK/$2.toml" --listen "127.0.0.1:$GW_PORT" --workers 1 --log-level warn \
      2>>"$WORK/gw.log" & gw=$!; PIDS+=($gw)
    wait_port "$GW_PORT" && [ -e "/proc/$gw/stat" ] && break
    sleep 0.5
  done
  read -r u0 s0 < <(stat_of "$gw")
  taskset -c 1 "$LT_BIN" --url "http://127.0.0.1:$GW_PORT/mcp" --connections "$CONNS" --threads 1 \
    --duration "${DUR}s" --warmup "${WARMUP}s" --scenario call --quiet --json "$WORK/r.json" >/dev/null 2>>"$WORK/load.log"
  read -r u1 s1 < <(stat_of "$gw")
  kill "$gw"; wait "$gw" 2>/dev/null || true
  python3 - "$WORK/r.json" "$((u1 - u0))" "$((s1 - s0))" "$HZ" "$DUR" "$WARMUP" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); u, s, hz, dur, w = map(float, sys.argv[2:])
n = d["ok"] * (dur + w) / dur  # requests served during warm-up and measurement
print(f'{u * 1e6 / hz / n:.2f} {s * 1e6 / hz / n:.2f} {d["throughput_rps"]:.0f}')
PY
}

declare -A RES
for r in $(seq "$ROUNDS"); do
  for cfg in off full; do
    for side in A B; do
      bin=$A; [ "$side" = B ] && bin=$B
      got=$(one "$bin" "$cfg")
      RES[$side.$cfg]+="$got;"
      echo "[ab] round $r $cfg $side ($bin): user/kernel µs, req/s = $got" >&2
    done
  done
done
echo "| config | binary | user µs/req | kernel µs/req | total µs/req | req/s |"
echo "|---|---|---|---|---|---|"
for cfg in off full; do
  for side in A B; do
    python3 - "$cfg" "$side" "${RES[$side.$cfg]}" <<'PY'
import statistics, sys
cfg, side, raw = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [list(map(float, x.split())) for x in raw.split(";") if x.strip()]
med = [statistics.median(c) for c in zip(*rows)]
name = {"off": "every feature off", "full": "default policy"}[cfg]
print(f"| {name} | {side} | {med[0]:.2f} | {med[1]:.2f} | {med[0] + med[1]:.2f} | {med[2]:.0f} |")
PY
  done
done

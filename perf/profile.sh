#!/usr/bin/env bash
# Profile one gateway run: mcpguard (one worker, epoll driver: valgrind does not emulate io_uring)
# under a fixed number of tools/call requests, recorded with callgrind. Instruction counts are
# repeatable whatever else the machine does, so before/after comparisons of an optimisation hold.
#   bash perf/profile.sh [REQUESTS]      -> perf/results/callgrind.out + top functions on stdout
# Open the .out file with kcachegrind, or turn it into a flamegraph with any callgrind converter.
set -euo pipefail
cd "$(dirname "$0")/.."
REQS=${1:-20000}
BASE=${BASE_PORT:-19200}
command -v valgrind >/dev/null || { echo "valgrind is required (apt-get install valgrind)" >&2; exit 1; }
cargo build --release -q --bin mcpguard -p mcpguard
cargo build --release -q -p mcpguard-loadtest
mkdir -p perf/results
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
target/release/mcpguard-refserver --listen "127.0.0.1:$BASE" --workers 1 >/dev/null 2>&1 & PIDS+=($!)
valgrind --tool=callgrind --callgrind-out-file=perf/results/callgrind.out \
  target/release/mcpguard run --listen "127.0.0.1:$((BASE + 1))" --workers 1 --driver legacy \
  --upstream "http://127.0.0.1:$BASE/mcp" --log-level warn 2>perf/results/callgrind.log & VG=$!; PIDS+=($VG)
for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$((BASE + 1))") 2>/dev/null && break; sleep 0.1; done
# Closed loop, a fixed count: duration is long enough for valgrind's slowdown, rate bounds the count.
RATE=$((REQS / 20))
target/release/mcpguard-loadtest --url "http://127.0.0.1:$((BASE + 1))/mcp" --connections 4 --threads 1 \
  --duration 20s --warmup 0s --rate "$RATE" --scenario call --quiet --json perf/results/profile-load.json
kill -TERM "$VG"; wait "$VG" 2>/dev/null || true
python3 -c "import json; d=json.load(open('perf/results/profile-load.json')); print('requests ok:', d['ok'])"
callgrind_annotate perf/results/callgrind.out 2>/dev/null | head -40

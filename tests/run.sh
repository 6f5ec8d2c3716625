#!/usr/bin/env bash
# mcpguard's test command: `bash tests/run.sh [extra pytest args]`.
#
#  1. sets up the interop dependencies inside the checkout (gitignored), skipping
#     whatever is already installed from the same pins:
#       - tests/interop/node/node_modules  (npm ci from the committed package-lock.json)
#       - tests/interop/.venv              (pip install -r tests/interop/requirements.txt)
#  2. generates the detection corpus (tests/corpus/*.jsonl, and the untouched holdout split in
#     tests/corpus/holdout/) from its seeded generators
#  3. cargo build --bins, cargo test --all-targets, then the integration tests once more with
#     the workers on the epoll driver (MCPGUARD_TEST_DRIVER=legacy)
#  4. the interop suite: real server-everything <-> real mcpguard <-> MCP Python SDK
#     (MCPGUARD_BIN selects the binary; default target/debug/mcpguard)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

INTEROP="tests/interop"
NODE_DIR="$INTEROP/node"
VENV="$INTEROP/.venv"
PYTHON="${PYTHON:-python3}"

section() {
  printf '\n==================== %s ====================\n' "$*"
}

# Hash of the given files plus a tool version: what an install was made from.
stamp_of() {
  local version="$1"
  shift
  { printf '%s\n' "$version"; cat "$@"; } | sha256sum | cut -d' ' -f1
}

SETUP_START=$SECONDS

section "setup: Node upstream (@modelcontextprotocol/server-everything)"
NODE_STAMP_FILE="$NODE_DIR/node_modules/.mcpguard-stamp"
if [[ -f "$NODE_DIR/package-lock.json" ]]; then
  want="$(stamp_of "node $(node --version)" "$NODE_DIR/package.json" "$NODE_DIR/package-lock.json")"
  if [[ -f "$NODE_STAMP_FILE" && "$(cat "$NODE_STAMP_FILE")" == "$want" ]]; then
    echo "node_modules up to date (package-lock.json unchanged); skipping npm ci"
  else
    npm ci --prefix "$NODE_DIR" --no-audit --no-fund
    echo "$want" >"$NODE_STAMP_FILE"
  fi
else
  echo "no package-lock.json yet: npm install (commit the lock file it writes)"
  npm install --prefix "$NODE_DIR" --no-audit --no-fund
  stamp_of "node $(node --version)" "$NODE_DIR/package.json" "$NODE_DIR/package-lock.json" >"$NODE_STAMP_FILE"
fi
node -e 'const p=require(process.argv[1]); console.log(`server-everything ${p.version}`)' \
  "$ROOT/$NODE_DIR/node_modules/@modelcontextprotocol/server-everything/package.json"

section "setup: Python venv ($VENV)"
PY_STAMP_FILE="$VENV/.mcpguard-stamp"
want="$(stamp_of "$("$PYTHON" --version 2>&1)" "$INTEROP/requirements.txt")"
if [[ -x "$VENV/bin/python" && -f "$PY_STAMP_FILE" && "$(cat "$PY_STAMP_FILE")" == "$want" ]]; then
  echo "venv up to date (requirements.txt unchanged); skipping pip install"
else
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$INTEROP/requirements.txt"
  echo "$want" >"$PY_STAMP_FILE"
fi
"$VENV/bin/python" -c 'import importlib.metadata as m; print(" ".join(f"{p}=={m.version(p)}" for p in ("mcp", "pytest", "pytest-timeout", "trustme", "httpx")))'
echo "setup took $((SECONDS - SETUP_START))s"

section "detection corpus: tests/corpus/gen_*.py (deterministic) -> *.jsonl"
"$PYTHON" tests/corpus/gen_attacks.py >/dev/null
"$PYTHON" tests/corpus/gen_benign.py >/dev/null
# The untouched (holdout) split: measured in CI (0 false positives asserted), never tuned on.
"$PYTHON" tests/corpus/holdout/gen_holdout.py >/dev/null
wc -l tests/corpus/attacks.jsonl tests/corpus/benign.jsonl tests/corpus/holdout/attacks.jsonl tests/corpus/holdout/benign.jsonl

section "cargo build --workspace --bins"
cargo build --workspace --bins

section "cargo test --all-targets (workers on the default driver: io_uring where allowed)"
cargo test --workspace --all-targets

section "integration tests again, workers on the epoll driver"
MCPGUARD_TEST_DRIVER=legacy cargo test --tests

section "interop tests (pytest $INTEROP)"
export MCPGUARD_BIN="${MCPGUARD_BIN:-$ROOT/${CARGO_TARGET_DIR:-target}/debug/mcpguard}"
echo "MCPGUARD_BIN=$MCPGUARD_BIN"
"$VENV/bin/python" -m pytest -q "$INTEROP" "$@"

#!/usr/bin/env bash
# Load test of `topicops serve` with single-work /v1/predict requests, using wrk and
# scripts/bench-serve.lua. Trains a classifier on the Crossref sample (the serving bench
# example), registers it as champion in a temporary store, starts the release binary on
# 127.0.0.1, and runs two wrk passes:
#   1. paced: CONNECTIONS connections each waiting DELAY_MS between requests, about
#      CONNECTIONS * 1000 / (DELAY_MS + latency) requests per second (about 500 by default). Plain wrk is a
#      closed loop, so this approximates a constant rate but is not wrk2's open-loop model.
#   2. saturation: back-to-back requests on 16 connections, for the maximum throughput.
# Prints the server's peak memory (VmHWM) at the end and stops the server with SIGTERM.
#
# Usage: scripts/bench-serve.sh [DURATION_SECONDS]   (needs wrk: apt-get install -y wrk)
set -euo pipefail

cd "$(dirname "$0")/.."
DURATION="${1:-30}"
PORT="${PORT:-18080}"
CONNECTIONS="${CONNECTIONS:-10}"
DELAY_MS="${DELAY_MS:-19}"
DATA="${DATA:-../shared/data/crossref}"

command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 2; }
cargo build --release -p topicops -p serving --example bench_serving >&2

WORK_DIR="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" || true
  fi
  rm -rf "$WORK_DIR"
}
trap cleanup EXIT

echo "== batch scoring and model registration" >&2
./target/release/examples/bench_serving "$DATA" --store "$WORK_DIR/.topicops" --requests-out "$WORK_DIR/bodies.jsonl"

echo "== starting topicops serve on 127.0.0.1:$PORT" >&2
./target/release/topicops --store "$WORK_DIR/.topicops" serve --addr "127.0.0.1:$PORT" &
SERVER_PID=$!
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$PORT/ready" >/dev/null

# Warm up connections and caches.
BODIES="$WORK_DIR/bodies.jsonl" DELAY_MS=0 wrk -t1 -c2 -d3s -s scripts/bench-serve.lua "http://127.0.0.1:$PORT" >/dev/null

echo "== paced: $CONNECTIONS connections, ${DELAY_MS} ms between requests per connection, ${DURATION} s"
BODIES="$WORK_DIR/bodies.jsonl" DELAY_MS="$DELAY_MS" \
  wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 5s -s scripts/bench-serve.lua "http://127.0.0.1:$PORT"

echo "== saturation: 16 connections back to back, ${DURATION} s"
BODIES="$WORK_DIR/bodies.jsonl" DELAY_MS=0 \
  wrk -t1 -c16 -d"${DURATION}s" --timeout 5s -s scripts/bench-serve.lua "http://127.0.0.1:$PORT"

echo "== server peak memory"
grep -E "VmHWM|VmRSS" "/proc/$SERVER_PID/status"

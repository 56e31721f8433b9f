#!/usr/bin/env bash
# Kills `topicops run` with SIGKILL at random points, ITERATIONS times (default 50), after
# a delay from 0 to MAX_DELAY_MS (default 2500) drawn from SEED (random unless set). The
# store is checked after each kill and the last killed run is resumed at the end. It runs
# the `killed_runs_leave_store_consistent` test of crates/topicops/tests/reliability.rs
# with more iterations than CI's 5. The per-iteration lines show where each kill landed.
# Not part of CI.
#
# Usage: [ITERATIONS=50] [SEED=n] [MAX_DELAY_MS=2500] scripts/reliability/kill_run.sh
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
iterations="${ITERATIONS:-50}"
max_delay_ms="${MAX_DELAY_MS:-2500}"
seed="${SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
echo "iterations: $iterations, delays 0-$max_delay_ms ms, seed: $seed (rerun with SEED=$seed to repeat the delays)"

cd "$repo"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
RELIABILITY_KILL_ITERATIONS="$iterations" RELIABILITY_KILL_SEED="$seed" RELIABILITY_KILL_MAX_DELAY_MS="$max_delay_ms" \
    cargo test --release -p topicops --test reliability killed_runs_leave_store_consistent \
    -- --exact --nocapture > "$log" 2>&1 || status=$?
grep -E "^iteration|^phases|^test |test result|panicked" "$log" || true

echo "kills by phase:"
grep -oE "during [a-z ]+;" "$log" | sort | uniq -c
exit "$status"

#!/usr/bin/env bash
# Measures the resident memory of `topicops serve` across SWAPS hot swaps (default 12):
# the champion alternates between versions 1 and 2, and VmRSS is read after each swap has
# been picked up. A leak of the replaced model grows VmRSS by about one model per swap; an
# allocator that keeps freed memory levels off. Not part of CI.
#
# Usage: [SWAPS=12] scripts/reliability/swap_memory.sh
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
shared="$repo/../shared/data"
binary="$repo/target/release/topicops"
swaps="${SWAPS:-12}"
work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

cd "$work"
printf '[gate]\nmax_regression = 1.0\nmin_value = 0.0\n' > seed0.toml
printf '[split]\nseed = 1\n\n[gate]\nmax_regression = 1.0\nmin_value = 0.0\n' > seed1.toml
"$binary" --store store run -q -c seed0.toml --data "$shared/crossref" --labels "$shared/asjc/issn_subject_codes.csv" > /dev/null
"$binary" --store store run -q --no-promote -c seed1.toml --data "$shared/crossref" --labels "$shared/asjc/issn_subject_codes.csv" > /dev/null

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$binary" --store store serve --addr "127.0.0.1:$port" --poll-interval-ms 100 2> serve.log &
server_pid=$!
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/health" > /dev/null && break
    sleep 0.1
done
echo "before any swap: $(grep VmRSS "/proc/$server_pid/status")"
for swap in $(seq 1 "$swaps"); do
    version=$(( swap % 2 + 1 ))
    "$binary" --store store models promote "$version" --reason "swap memory check" > /dev/null
    sleep 1
    served="$(curl -s -D - -o /dev/null -X POST -H 'Content-Type: application/json' \
        -d '{"works": [{"title": "x"}]}' "http://127.0.0.1:$port/v1/predict" | grep -i '^x-model-version' | tr -d '\r')"
    echo "swap $swap to version $version ($served): $(grep VmRSS "/proc/$server_pid/status")"
done

#!/usr/bin/env bash
# Load test of `topicops serve` on loopback with wrk: single-work POST /v1/predict requests
# for DURATION seconds (default 180), with a hot swap (`topicops models promote 2`) half-way.
# Prints throughput, p50/p99 latency, errors, and the server's VmRSS/VmHWM after warm-up,
# at the swap and at the end. Not part of CI.
#
# Needs wrk (`apt-get install -y wrk`) and a release build (`cargo build --release -p
# topicops`). Everything runs in a temporary directory that is removed at the end.
#
# Usage: [DURATION=180] [CONNECTIONS=16] [THREADS=2] scripts/reliability/load.sh
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
shared="$repo/../shared/data"
binary="$repo/target/release/topicops"
duration="${DURATION:-180}"
connections="${CONNECTIONS:-16}"
threads="${THREADS:-2}"
work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

memory() {
    grep -E "^(VmRSS|VmHWM)" "/proc/$server_pid/status" | tr -s ' \t' ' ' | tr '\n' ' '
}

cd "$work"
printf '[gate]\nmax_regression = 1.0\nmin_value = 0.0\n' > seed0.toml
printf '[split]\nseed = 1\n\n[gate]\nmax_regression = 1.0\nmin_value = 0.0\n' > seed1.toml
echo "training versions 1 (champion) and 2 on the Crossref sample"
"$binary" --store store run -q -c seed0.toml --data "$shared/crossref" --labels "$shared/asjc/issn_subject_codes.csv" > /dev/null
"$binary" --store store run -q --no-promote -c seed1.toml --data "$shared/crossref" --labels "$shared/asjc/issn_subject_codes.csv" > /dev/null

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$binary" --store store serve --addr "127.0.0.1:$port" --poll-interval-ms 500 2> serve.log &
server_pid=$!
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/health" > /dev/null && break
    sleep 0.1
done

cat > post.lua <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"works": [{"title": "Atopic dermatitis in infants: a cohort study of early skin barrier dysfunction", "abstract": "We followed 1,200 newborns for two years and measured transepidermal water loss.", "venue": "Journal of Investigative Dermatology", "issns": ["0022-202X"]}]}'
LUA
body="$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" post.lua)"
status="$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$port/v1/predict")"
if [ "$status" != 200 ]; then
    echo "the load request gets $status, not 200; fix post.lua" >&2
    exit 1
fi

echo "warm-up: 10 s"
wrk -t"$threads" -c"$connections" -d10s -s post.lua "http://127.0.0.1:$port/v1/predict" > warmup.txt
echo "memory after warm-up: $(memory)"

echo "load: ${duration} s, $threads threads, $connections connections; promote version 2 at $((duration / 2)) s"
wrk -t"$threads" -c"$connections" -d"${duration}s" --latency -s post.lua "http://127.0.0.1:$port/v1/predict" > load.txt &
wrk_pid=$!
sleep $((duration / 2))
"$binary" --store store models promote 2 --reason "load test hot swap"
echo "memory at the swap: $(memory)"
wait "$wrk_pid"
echo "memory at the end: $(memory)"

cat load.txt
served="$(curl -s -D - -o /dev/null -X POST -H 'Content-Type: application/json' \
    -d '{"works": [{"title": "x"}]}' "http://127.0.0.1:$port/v1/predict" | grep -i '^x-model-version' | tr -d '\r')"
echo "served after the swap: $served"
echo "server log lines with WARN or ERROR: $(grep -cE 'WARN|ERROR' serve.log || true)"
grep -E "swapped|reload|version" serve.log | tail -n 5 || true

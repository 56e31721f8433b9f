#!/usr/bin/env bash
# Measures corpus ingest throughput on the Crossref sample against plain gzip decompression
# with the same flate2 build, on 1 and 2 threads, and peak memory on the sample and on the
# sample copied 4 times. Prints a Markdown table on stdout.
#
# Usage: scripts/bench-ingest.sh [CROSSREF_DIR]   (default: ../shared/data/crossref)
# Env:   RUNS (default 3): runs per row; the table shows the run with the least CPU time.
#
# "1 thread" pins the process to one core with taskset, so the reader thread and the thread
# consuming its records share that core: the numbers are per core. CPU seconds (user + sys)
# are the stable measure on a shared machine; wall seconds include time other processes
# held the core.
set -euo pipefail

cd "$(dirname "$0")/.."
data=${1:-../shared/data/crossref}
runs=${RUNS:-3}

for tool in /usr/bin/time taskset python3; do
    command -v "$tool" >/dev/null || { echo "error: $tool is required" >&2; exit 2; }
done

bench=$(cargo bench -p corpus --bench ingest --no-run --message-format=json 2>/dev/null \
    | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "ingest" and m.get("executable"):
        print(m["executable"])')
[ -x "$bench" ] || { echo "error: could not build the ingest bench target" >&2; exit 1; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/x4"
for copy in 1 2 3 4; do
    mkdir "$scratch/x4/copy$copy"
    cp "$data"/*.gz "$scratch/x4/copy$copy/"
done

compressed_mb=$(du -cb "$data"/*.gz | tail -1 | awk '{printf "%.1f", $1 / 1e6}')

# run MODE INPUT THREADS: prints "wall cpu peak_kb works" of the run with the least CPU time.
run() {
    local mode=$1 input=$2 threads=$3 best=""
    local pin=()
    [ "$threads" = 1 ] && pin=(taskset -c 0)
    for _ in $(seq "$runs"); do
        /usr/bin/time -f "%e %U %S %M" -o "$scratch/time" "${pin[@]}" "$bench" "$mode" "$input" "$threads" >"$scratch/out"
        local works
        works=$(sed -n 's/.* works=\([0-9]*\) .*/\1/p' "$scratch/out")
        local line
        line=$(awk -v works="$works" '{printf "%s %.3f %s %s\n", $1, $2 + $3, $4, works}' "$scratch/time")
        if [ -z "$best" ] || awk -v a="$line" -v b="$best" 'BEGIN { split(a, x, " "); split(b, y, " "); exit !(x[2] < y[2]) }'; then
            best=$line
        fi
    done
    echo "$best"
}

echo "Input: $data ($compressed_mb MB compressed), $runs runs per row, best by CPU time."
echo
echo "| mode | threads | wall s | CPU s | works/s (wall) | works/s per CPU s | compressed MB/s (wall) | CPU vs gunzip | peak RSS MB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for threads in 1 2; do
    read -r gunzip_wall gunzip_cpu gunzip_peak _ <<<"$(run gunzip "$data" "$threads")"
    for mode in gunzip read ingest; do
        read -r wall cpu peak works <<<"$(run "$mode" "$data" "$threads")"
        awk -v mode="$mode" -v threads="$threads" -v wall="$wall" -v cpu="$cpu" -v peak="$peak" -v works="$works" \
            -v mb="$compressed_mb" -v base="$gunzip_cpu" 'BEGIN {
                rate = works > 0 ? sprintf("%.0f", works / wall) : "-";
                per_cpu = works > 0 ? sprintf("%.0f", works / cpu) : "-";
                printf "| %s | %s | %.2f | %.2f | %s | %s | %.1f | %.1fx | %.1f |\n",
                    mode, threads, wall, cpu, rate, per_cpu, mb / wall, cpu / base, peak / 1024 }'
    done
done

echo
echo "Peak memory, sample against the sample copied 4 times (2 threads):"
echo
echo "| mode | input | works read | peak RSS MB |"
echo "|---|---|---:|---:|"
for mode in read ingest; do
    for input in "$data" "$scratch/x4"; do
        read -r _ _ peak works <<<"$(run "$mode" "$input" 2)"
        label=$([ "$input" = "$data" ] && echo "sample" || echo "sample x4")
        awk -v mode="$mode" -v label="$label" -v works="$works" -v peak="$peak" \
            'BEGIN { printf "| %s | %s | %s | %.1f |\n", mode, label, works, peak / 1024 }'
    done
done

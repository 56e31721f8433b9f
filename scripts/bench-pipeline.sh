#!/usr/bin/env bash
# Times the whole `topicops run` on the Crossref sample: cold (empty store) and warm (every
# step cached), with peak memory from GNU time. Prints a Markdown table.
#
# Usage: scripts/bench-pipeline.sh [REPEATS]   (run from the repository root)
set -euo pipefail

repeats=${1:-3}
root=$(pwd)
shared=${SHARED:-$root/../shared}
cargo build --release -p topicops >/dev/null
binary=$root/target/release/topicops
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

measure() {
    local label=$1
    shift
    /usr/bin/time -f "%e %M" -o "$work/time" "$binary" -q "$@" >/dev/null
    read -r seconds max_kb <"$work/time"
    printf '| %s | %s | %s |\n' "$label" "$seconds" "$((max_kb / 1024))"
}

echo "| run | wall time (s) | peak RSS (MiB) |"
echo "|---|---:|---:|"
for i in $(seq "$repeats"); do
    rm -rf "$work/store"
    measure "cold $i" run --store "$work/store" --data "$shared/data/crossref" \
        --labels "$shared/data/asjc/issn_subject_codes.csv"
    measure "warm $i" run --store "$work/store" --data "$shared/data/crossref" \
        --labels "$shared/data/asjc/issn_subject_codes.csv"
done

#!/usr/bin/env bash
# Measures the peak memory of `ingest` on synthetic Crossref JSON Lines inputs with 0.5, 1,
# 2 and 4 million distinct DOIs, to show whether the duplicate index grows with the corpus.
# Each record is small (a DOI, a title, a subject and an indexing time), so that the
# index, not the records, dominates memory. Prints a Markdown table on stdout.
#
# Usage: scripts/bench-ingest-distinct.sh [MILLIONS...]   (default: 0.5 1 2 4)
set -euo pipefail

cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(0.5 1 2 4)

for tool in /usr/bin/time python3; do
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

echo "| distinct DOIs | input MB (gzip) | wall s | peak RSS MB |"
echo "|---:|---:|---:|---:|"
for millions in "${sizes[@]}"; do
    input="$scratch/m$millions"
    mkdir -p "$input"
    # Four files, so the reader threads share the work as with real data files.
    python3 - "$input" "$millions" <<'PY'
import gzip, json, sys
directory, millions = sys.argv[1], float(sys.argv[2])
count = int(millions * 1_000_000)
files = 4
for part in range(files):
    with gzip.open(f"{directory}/part-{part}.jsonl.gz", "wt", compresslevel=1) as out:
        for index in range(part, count, files):
            record = {
                "DOI": f"10.9999/synthetic.{index}",
                "title": [f"Synthetic work number {index}"],
                "subject": ["Ecology"],
                "indexed": {"timestamp": 1600000000000 + index},
            }
            out.write(json.dumps(record) + "\n")
PY
    size=$(du -cb "$input"/*.gz | tail -1 | awk '{printf "%.1f", $1 / 1e6}')
    /usr/bin/time -f "%e %M" -o "$scratch/time" "$bench" ingest "$input" 2 >"$scratch/out"
    read -r wall peak_kb <"$scratch/time"
    printf "| %s million | %s | %s | %.1f |\n" "$millions" "$size" "$wall" "$(echo "$peak_kb" | awk '{print $1 / 1024}')"
    rm -rf "$input"
done

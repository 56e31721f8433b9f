#!/usr/bin/env bash
# Times alexandria3k's `populate` and topicops' `ingest` side by side on the same files.
# alexandria3k 3.6.2 aborts on works without `published` and on files whose first line is
# not a lone `{`, so both tools read a copy of the Crossref sample holding only the works
# with `published`, written in the layout alexandria3k accepts.
#
# Usage: scripts/bench-a3k-populate.sh   (run from the repository root; needs python3 -m venv)
set -euo pipefail

root=$(pwd)
shared=${SHARED:-$root/../shared}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet alexandria3k==3.6.2
cargo build --release -p topicops >/dev/null

mkdir "$work/input"
python3 - "$shared/data/crossref" "$work/input" <<'PY'
import glob, gzip, json, os, sys
source, target = sys.argv[1], sys.argv[2]
works = []
for path in sorted(glob.glob(os.path.join(source, "*.gz"))):
    with gzip.open(path, "rt") as handle:
        if path.endswith(".jsonl.gz"):
            items = [json.loads(line) for line in handle if line.strip()]
        else:
            items = json.load(handle)["items"]
    works.extend(item for item in items if "published" in item)
for index in range(0, len(works), 1000):
    with gzip.open(os.path.join(target, f"{index // 1000}.json.gz"), "wt") as handle:
        handle.write("{\n\"items\": " + json.dumps(works[index:index + 1000]) + "\n}\n")
print(f"{len(works)} works with `published`", file=sys.stderr)
PY

echo "| tool | command | wall time (s) | peak RSS (MiB) |"
echo "|---|---|---:|---:|"
/usr/bin/time -f "%e %M" -o "$work/a3k.time" "$work/venv/bin/a3k" populate "$work/a3k.db" crossref "$work/input" >/dev/null 2>&1
read -r seconds max_kb <"$work/a3k.time"
echo "| alexandria3k 3.6.2 | \`a3k populate DB crossref DIR\` | $seconds | $((max_kb / 1024)) |"
/usr/bin/time -f "%e %M" -o "$work/topicops.time" "$root/target/release/topicops" -q ingest "$work/input" \
    --keep-unlabelled -o "$work/corpus.arrow" >/dev/null
read -r seconds max_kb <"$work/topicops.time"
echo "| topicops | \`topicops ingest DIR --keep-unlabelled -o FILE\` | $seconds | $((max_kb / 1024)) |"

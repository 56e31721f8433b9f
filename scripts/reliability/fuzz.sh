#!/usr/bin/env bash
# Runs each cargo-fuzz target of fuzz/ for a bounded time (FUZZ_SECONDS, default 300) and
# prints, per target, the executions run and whether a crash was found. Not part of CI.
#
# Needs the nightly toolchain (`rustup toolchain list` shows it) and cargo-fuzz
# (`cargo install cargo-fuzz`). Seeds come from the shared sample data beside the checkout,
# and python3 with its sqlite3 module writes some of them. Crashing inputs land in
# fuzz/artifacts/<target>/.
#
# Usage: scripts/reliability/fuzz.sh [target...]
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
shared="$repo/../shared/data"
seconds="${FUZZ_SECONDS:-300}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(crossref_reader openalex_reader arxiv_reader a3k_reader jsonl_reader clean_markup)
fi
cd "$repo/fuzz"

# Writes one seed: a selector byte (layout and format, see fuzz/src/lib.rs) then the text.
seed() {
    local target="$1" name="$2" selector="$3"
    mkdir -p "corpus/$target"
    { printf "$selector"; cat; } > "corpus/$target/$name"
}

# `head` closes its input early, so the decompressors end on SIGPIPE: not an error here.
set +o pipefail
zcat "$shared/crossref/part-0003.jsonl.gz" | head -n 3 | seed crossref_reader jsonl '\x40'
zcat "$shared/crossref/0.json.gz" | head -c 6000 | seed crossref_reader items '\x00'
zcat "$shared/crossref/part-0003.jsonl.gz" | head -n 2 | seed crossref_reader jsonl-gzip '\x42'
zcat "$shared/openalex/works.jsonl.gz" | head -n 3 | seed openalex_reader plain '\x00'
head -n 3 "$shared/labeled/citeseer.jsonl" | seed jsonl_reader plain '\x00'
head -n 3 "$shared/arxiv/arxiv-metadata.jsonl" | seed arxiv_reader plain '\x00'
head -n 2 "$shared/arxiv/arxiv-metadata.jsonl" | seed arxiv_reader gzip '\x02'
mkdir -p corpus/clean_markup
zcat "$shared/crossref/part-000"*.jsonl.gz | python3 -c '
import json, sys
count = 0
for line in sys.stdin:
    record = json.loads(line)
    text = record.get("abstract")
    if text and ("<" in text or "&" in text):
        open(f"corpus/clean_markup/abstract{count}", "w").write(text[:4000])
        count += 1
    if count == 20:
        break
'
set -o pipefail

# arxiv_reader: the sample lines carry no `versions` or `update_date`, which snapshot records
# have, so one written record adds them.
printf '%s\n' '{"id": "0704.0001", "title": "A title", "abstract": "Text.", "categories": "hep-ph math.CO", "versions": [{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}], "update_date": "2008-11-13"}' \
    | seed arxiv_reader versions '\x00'

# a3k_reader: five works of the sample database with their subject names and ASJC codes, as
# a database file (selector 0x00) and as table-mode cells with both side tables (selector
# 0x07). fuzz/fuzz_targets/a3k_reader.rs describes both modes.
a3k_scratch="$(mktemp -d)"
trap 'rm -rf "$a3k_scratch"' EXIT
python3 - "$shared/a3k/crossref-sample.db" "$a3k_scratch" <<'EOF'
import sqlite3, sys

source, out = sys.argv[1], sys.argv[2]
database = sqlite3.connect(f"{out}/sample.db")
# The smallest page size keeps the seed at a few kB, far below the fuzzer's -max_len.
database.execute("PRAGMA page_size = 512")
database.execute("ATTACH DATABASE ? AS source", (source,))
tables = ("works", "work_subjects", "works_asjcs")
for table in tables:
    (schema,) = database.execute("SELECT sql FROM source.sqlite_master WHERE name = ?", (table,)).fetchone()
    database.execute(schema)

# The first four works, and the first work with an abstract, subject names and ASJC codes.
chosen = [row[0] for row in database.execute("SELECT id FROM source.works ORDER BY id LIMIT 4")]
(with_abstract,) = database.execute(
    "SELECT id FROM source.works WHERE abstract IS NOT NULL"
    " AND id IN (SELECT work_id FROM source.work_subjects)"
    " AND id IN (SELECT work_id FROM source.works_asjcs) ORDER BY id LIMIT 1"
).fetchone()
chosen.append(with_abstract)
marks = ", ".join("?" * len(chosen))
database.execute(f"INSERT INTO works SELECT * FROM source.works WHERE id IN ({marks})", chosen)
database.execute("UPDATE works SET abstract = substr(abstract, 1, 400)")
for table in tables[1:]:
    database.execute(f"INSERT INTO {table} SELECT * FROM source.{table} WHERE work_id IN ({marks})", chosen)
database.commit()
database.execute("DETACH DATABASE source")
database.execute("VACUUM")

def cell(value):
    """Encodes one value as a table-mode cell: a type tag, then the value's bytes."""
    if value is None:
        return b"n"
    if isinstance(value, int):
        return b"i%d" % value
    if isinstance(value, float):
        return b"r" + repr(value).encode()
    if isinstance(value, bytes):
        return b"b" + value
    return b"t" + value.encode()

queries = (
    "SELECT id, doi, title, abstract, container_title, publisher, type, published_year,"
    " issn_print, issn_electronic FROM works ORDER BY id",
    "SELECT work_id, name FROM work_subjects ORDER BY work_id",
    "SELECT work_id, asjc_id FROM works_asjcs ORDER BY work_id",
)
sections = [b"\x1f".join(cell(value) for row in database.execute(query) for value in row) for query in queries]
with open(f"{out}/tables", "wb") as tables_file:
    tables_file.write(b"\x1e".join(sections))
EOF
seed a3k_reader file '\x00' < "$a3k_scratch/sample.db"
seed a3k_reader tables '\x07' < "$a3k_scratch/tables"

for target in "${targets[@]}"; do
    log="fuzz-$target.log"
    echo "== $target: ${seconds} s"
    status=0
    cargo +nightly fuzz run -O "$target" -- \
        -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        > "$log" 2>&1 || status=$?
    grep -E "^#[0-9]+.*(DONE|pulse)" "$log" | tail -n 1 || true
    grep -E "Done [0-9]+ runs" "$log" || true
    if [ "$status" -ne 0 ]; then
        echo "   CRASH (exit $status); see fuzz/$log and fuzz/artifacts/$target/"
    else
        echo "   no crash"
    fi
done

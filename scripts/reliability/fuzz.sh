#!/usr/bin/env bash
# Runs each cargo-fuzz target of fuzz/ for a bounded time (FUZZ_SECONDS, default 300) and
# prints, per target, the executions run and whether a crash was found. Not part of CI.
#
# Needs the nightly toolchain (`rustup toolchain list` shows it) and cargo-fuzz
# (`cargo install cargo-fuzz`). Seeds come from the shared sample data beside the checkout;
# crashing inputs land in fuzz/artifacts/<target>/.
#
# Usage: scripts/reliability/fuzz.sh [target...]
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
shared="$repo/../shared/data"
seconds="${FUZZ_SECONDS:-300}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(crossref_reader openalex_reader jsonl_reader clean_markup)
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

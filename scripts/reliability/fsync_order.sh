#!/usr/bin/env bash
# Checks the write order that a power loss relies on: traces topicops under strace and runs
# fsync_order_check.py on each trace. Every object renamed into artifacts/objects/ must have
# its temporary file fsynced before the rename and its directory fsynced after it, both
# before the SQLite transaction that records it. Every WAL commit must be fsynced.
#
# First the checker runs on the hand-written traces in fsync_order_fixtures/ and must pass
# the complete one and fail each broken one with the expected message. Then three commands
# are traced on the small Crossref file: `topicops run` into a new store, `topicops run
# --no-cache` on the now warm store, and `topicops models promote 1 --alias staging`.
# It needs strace. Not part of CI.
#
# Usage: [KEEP=1] scripts/reliability/fsync_order.sh
#   KEEP=1 leaves the scratch directory with the traces and the store in place.
set -euo pipefail

script_dir="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$script_dir/../.." && pwd)"
checker="$script_dir/fsync_order_check.py"
fixtures="$script_dir/fsync_order_fixtures"
shared_data="$(cd "$repo/../shared/data" && pwd)"
data="$shared_data/crossref/part-0003.jsonl.gz"
labels="$shared_data/asjc/issn_subject_codes.csv"
# Every call that writes, syncs, names or creates a file. Reads are left out to keep the
# traces small. -s 4096 prints whole SQLite pages (4,096 bytes by default), which the
# checker searches for object hashes.
syscalls="openat,close,write,pwrite64,writev,pwritev,pwritev2,ftruncate,fallocate"
syscalls+=",fsync,fdatasync,sync,syncfs,rename,renameat,renameat2,mkdir,mkdirat,unlink,unlinkat"

# Runs the checker on a fixture and fails unless the exit code and a line of its output
# are as expected.
expect_checker() {
    local trace="$1" expected_status="$2" expected_line="$3"
    local output status=0
    output="$(python3 "$checker" "$trace" --store /fixture/store)" || status=$?
    if [[ "$status" != "$expected_status" ]] || ! grep -qF -- "$expected_line" <<<"$output"; then
        echo "self-test FAILED on $(basename "$trace"): exit $status, expected $expected_status" \
            "and a line containing '$expected_line'; output:" >&2
        echo "$output" >&2
        exit 2
    fi
    echo "self-test passed: $(basename "$trace") -> exit $status"
}

scratch="$(mktemp -d)"
if [[ "${KEEP:-0}" == 1 ]]; then
    echo "scratch directory (kept): $scratch"
else
    trap 'rm -rf "$scratch"' EXIT
fi

echo "== checker self-test on the fixtures"
expect_checker "$fixtures/complete.trace" 0 "violations: 0"
expect_checker "$fixtures/missing_temp_fsync.trace" 1 "step 1: temporary file"
expect_checker "$fixtures/late_directory_fsync.trace" 1 \
    "step 3: fsync of /fixture/store/artifacts/objects/33"
expect_checker "$fixtures/missing_wal_fsync.trace" 1 "transaction 1: step 4"
grep -vF 'fsync(6</fixture/store/artifacts/objects/33>)' "$fixtures/complete.trace" \
    > "$scratch/missing_directory_fsync.trace"
expect_checker "$scratch/missing_directory_fsync.trace" 1 \
    "step 2: directory /fixture/store/artifacts/objects/33 not fsynced"

echo "== building the release binary"
(cd "$repo" && cargo build --release -p topicops)
topicops="$repo/target/release/topicops"

store="$scratch/store"
config="$scratch/gate.toml"
printf '[gate]\nmax_regression = 1.0\nmin_value = 0.0\n' > "$config"
run_args=(run -q --json -c "$config" --data "$data" --labels "$labels")

list_objects() {
    if [[ -d "$store/artifacts/objects" ]]; then
        find "$store/artifacts/objects" -type f | sort
    fi
}

# Traces `topicops --store STORE ARGS...` and checks the trace. The first argument names
# the case, the second is the minimum number of objects the trace must contain.
status=0
trace_and_check() {
    local name="$1" min_objects="$2"
    shift 2
    echo "== $name: topicops $*"
    list_objects > "$scratch/$name.before"
    (cd "$scratch" && strace -f -tt -y -x -s 4096 -o "$scratch/$name.trace" -e trace="$syscalls" \
        "$topicops" --store "$store" "$@" > "$scratch/$name.stdout")
    list_objects > "$scratch/$name.after"
    python3 "$checker" "$scratch/$name.trace" --store "$store" \
        --objects-before "$scratch/$name.before" --objects-after "$scratch/$name.after" \
        --min-objects "$min_objects" --min-commits 1 || status=1
}

trace_and_check fresh-run 1 "${run_args[@]}"
trace_and_check warm-run 0 "${run_args[@]}" --no-cache
trace_and_check promote 0 models promote 1 --alias staging

if [[ "$status" != 0 ]]; then
    echo "fsync order: violations found (see above)"
fi
exit "$status"

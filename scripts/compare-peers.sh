#!/usr/bin/env bash
# Compares a topicops run with scikit-learn (TF-IDF + linear SVM) and fastText trained on the
# same split: the random test split and the held-out venues. Prints topicops' metrics of the
# run, then each peer's quality, training time and peak memory.
#
# Usage: scripts/compare-peers.sh RUN_ID [STORE]   (run from the directory of the store)
# Needs python3 with venv; installs scikit-learn into a virtual environment under target/,
# and uses `fasttext` from Debian's package when it is on PATH (apt-get install fasttext).
set -euo pipefail

run_id=$1
store=${2:-.topicops}
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/target/peers-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet scikit-learn
fi
cargo build --release --manifest-path "$root/Cargo.toml" -p topicops >/dev/null
topicops=$root/target/release/topicops
export_dir=$(mktemp -d)
trap 'rm -rf "$export_dir"' EXIT

"$topicops" --store "$store" runs export-splits "$run_id" -o "$export_dir" >/dev/null
echo "topicops run $run_id:"
"$topicops" --store "$store" runs show "$run_id" --json |
    "$venv/bin/python" -c 'import json,sys; d=json.load(sys.stdin)
last={}
for m in d["metrics"]: last[m["key"]]=m["value"]
for k in ("test.micro_f1","test.macro_f1","test.p_at_1","heldout_venues.micro_f1","heldout_venues.macro_f1","heldout_venues.p_at_1","train.solve_seconds"):
    print("  %-26s %.4f" % (k, last.get(k, float("nan"))))'
for test_set in test heldout_venues; do
    echo "peers on $test_set:"
    "$venv/bin/python" "$root/crates/model/scripts/peers.py" "$export_dir/$test_set.jsonl"
done

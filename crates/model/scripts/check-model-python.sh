#!/usr/bin/env bash
# Reads a topicops model file with Python's safetensors and numpy, without topicops, and
# checks its format, shapes and both BLAKE3 checksums (see FORMAT.md).
#
# Usage: check-model-python.sh MODEL.safetensors
# The packages go into a virtual environment at $TOPICOPS_PYENV (default
# /tmp/topicops-pyenv), created on first use. When they cannot be installed the check is
# skipped with the reason, except with CI=true, where that is a failure.
set -euo pipefail

model="${1:?usage: check-model-python.sh MODEL.safetensors}"
venv="${TOPICOPS_PYENV:-/tmp/topicops-pyenv}"

skip() {
    echo "check-model-python: skipped: $1" >&2
    if [ "${CI:-}" = "true" ]; then
        exit 1
    fi
    exit 0
}

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || skip "cannot create a virtual environment at $venv"
fi
if ! "$venv/bin/python" -c "import safetensors, numpy, blake3" 2>/dev/null; then
    "$venv/bin/pip" install -q safetensors numpy blake3 || skip "pip cannot install safetensors, numpy and blake3"
fi

"$venv/bin/python" - "$model" <<'PY'
import json
import sys

import blake3
import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file

path = sys.argv[1]
tensors = load_file(path)
with safe_open(path, "np") as handle:
    metadata = handle.metadata()

assert metadata["format"] == "topicops-model", metadata["format"]
assert metadata["format_version"] == "1", metadata["format_version"]
labels = json.loads(metadata["labels"])
vocabulary = json.loads(metadata["featurizer"])["vocabulary"]
expected = {
    "weights": (len(labels), len(vocabulary)),
    "bias": (len(labels),),
    "thresholds": (len(labels),),
    "platt_a": (len(labels),),
    "platt_b": (len(labels),),
    "idf": (len(vocabulary),),
}
for name, shape in expected.items():
    assert tensors[name].dtype == np.float32, (name, tensors[name].dtype)
    assert tensors[name].shape == shape, (name, tensors[name].shape, shape)

digest = blake3.blake3()
for name in ["weights", "bias", "thresholds", "platt_a", "platt_b", "idf"]:
    digest.update(np.ascontiguousarray(tensors[name]).astype("<f4").tobytes())
assert digest.hexdigest() == metadata["tensor_blake3"], "tensor checksum mismatch"

digest = blake3.blake3()
for key in sorted(k for k in metadata if k != "metadata_blake3"):
    digest.update(key.encode() + b"\0" + metadata[key].encode() + b"\0")
assert digest.hexdigest() == metadata["metadata_blake3"], "metadata checksum mismatch"

assert np.all(tensors["platt_a"] < 0), "platt_a must be negative"
assert np.all((tensors["thresholds"] >= 0) & (tensors["thresholds"] <= 1)), "thresholds outside [0, 1]"
print(f"{path}: {len(labels)} labels x {len(vocabulary)} features, checksums match")
PY

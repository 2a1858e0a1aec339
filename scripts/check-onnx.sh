#!/usr/bin/env bash
# ONNX export checked by ONNX Runtime and onnx.checker against SonoSeg (Tests/onnx/check_onnx.py, docs/onnx.md):
# the bundled ensemble as one graph, probabilities within 1e-4 at network resolution and masks identical to
# `segment --no-diagnosis` on the samples, f16 weights, the diagnosis classifiers, implicit networks refused.
# Needs onnx, onnxruntime, numpy and pillow (scripts/bootstrap --test). Usage: scripts/check-onnx.sh SONOSEG
set -euo pipefail
BIN=$(realpath "${1:?sonoseg binary}")
cd "$(dirname "$0")/.."
exec python3 Tests/onnx/check_onnx.py "$BIN"

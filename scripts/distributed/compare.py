#!/usr/bin/env python3
"""Compares two training runs (log.jsonl per epoch, the tensors of last.safetensors) within a bound.
Usage: compare.py RUN_A RUN_B LOSS_REL WEIGHT_REL LABEL. Standard library only."""
import json, math, struct, sys
from array import array

def tensors(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n]); base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32": continue
        a = array("f"); a.frombytes(data[base + info["data_offsets"][0]:base + info["data_offsets"][1]]); out[name] = a
    return out

def log(run): return [json.loads(l) for l in open(f"{run}/log.jsonl") if l.strip()]

a, b, loss_rel, weight_rel, label = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
la, lb = log(a), log(b)
assert len(la) == len(lb), f"{label}: {len(la)} vs {len(lb)} epochs"
worst_loss = 0.0
for ra, rb in zip(la, lb):
    assert ra["step"] == rb["step"], f"{label}: steps differ at epoch {ra['epoch'] + 1}"
    pairs = [("train loss", ra["trainLoss"], rb["trainLoss"])]
    va, vb = ra["validation"], rb["validation"]
    pairs += [(f"validation {k}", va[k], vb[k]) for k in va if isinstance(va[k], (int, float)) and k in vb]
    for what, x, y in pairs:
        rel = abs(x - y) / max(abs(x), 1e-3)
        worst_loss = max(worst_loss, rel)
        if rel > loss_rel:
            sys.exit(f"{label}: epoch {ra['epoch'] + 1} {what}: {x!r} vs {y!r} (relative {rel:.2e} > {loss_rel:.0e})")
ta, tb = tensors(f"{a}/last.safetensors"), tensors(f"{b}/last.safetensors")
assert ta.keys() == tb.keys(), f"{label}: the checkpoints hold different tensors"
worst, where, count = 0.0, "", 0
for name in sorted(ta):
    # the model's tensors (weights, buffers; discriminators included), not the optimizer's state
    if not name.startswith("model.") or name.startswith("model.discopt."): continue
    x, y = ta[name], tb[name]
    scale = max(max(abs(v) for v in x), 1e-3)
    d = max(abs(p - q) for p, q in zip(x, y)) / scale
    count += len(x)
    if d > worst: worst, where = d, name
if worst > weight_rel:
    sys.exit(f"{label}: {where}: weights differ by {worst:.2e} of the tensor's largest value (> {weight_rel:.0e})")
print(f"check-distributed: {label}: {len(la)} epochs ({la[-1]['step']} steps), losses within {worst_loss:.1e} (bound {loss_rel:.0e}), "
      f"{len(ta)} tensors ({count} values) within {worst:.1e} of each tensor's largest value (bound {weight_rel:.0e}, at {where or '-'})")

#!/usr/bin/env python3
"""The allreduce cost model of docs/scale-out-training.md: a ring allreduce of the gradients (parameters x 4 bytes)
moves 2(R-1)/R x size through each rank's link and takes 2(R-1) latency hops per bucket. Prints, for each shipped
network, the allreduce time at 4-64 ranks on 10 and 25 Gb/s, and the step time and efficiency of the default U-Net
with the per-image compute time measured here (argument 1, ms per image per core; default 118: the 470 ms U-Net step of batch 8 at 128 px on 2 cores, README)."""
import math, sys

PER_IMAGE_MS = float(sys.argv[1]) if len(sys.argv) > 1 else 118.0   # one 128-px image, forward + backward, one core
LATENCY_S = 30e-6            # one TCP message hop on a cluster network (Open MPI tcp btl), per bucket and hop
BUCKET = 4 * 1024 * 1024     # floats per bucket (ProcessGroup.bucketFloats)
NETWORKS = [  # name, trained parameters (counted from the shipped files), trains with --distributed
    ("U-Net, default (base 32, depth 4)", 7_766_370, True),
    ("ResNet-18, diagnosis pathology/BI-RADS", 2_796_258, True),
    ("ResNet-18 (half width), diagnosis presence", 700_786, True),
    ("byra-local (encoder + implicit MLP)", 1_298_948, False),
    ("NISF / Byra MLP", 132_610, False),
]
RANKS = [2, 4, 8, 16, 32, 64]
LINKS = {"10 Gb/s": 10e9 / 8, "25 Gb/s": 25e9 / 8}

def allreduce(params, ranks, bandwidth):
    size = params * 4
    buckets = math.ceil(params / BUCKET)
    return 2 * (ranks - 1) / ranks * size / bandwidth + buckets * 2 * (ranks - 1) * LATENCY_S

print("Allreduce of one step's gradients, ms (ring; size = parameters x 4 bytes)\n")
print("| network | MB | " + " | ".join(f"R={r} {l}" for l in LINKS for r in RANKS[1:]) + " |")
print("|---|---:|" + "---:|" * (len(LINKS) * (len(RANKS) - 1)))
for name, p, dp in NETWORKS:
    cells = [f"{1000 * allreduce(p, r, bw):.1f}" for bw in LINKS.values() for r in RANKS[1:]]
    print(f"| {name}{'' if dp else ' (not trained distributed)'} | {p * 4 / 1e6:.1f} | " + " | ".join(cells) + " |")

unet = NETWORKS[0][1]
for label, per_rank in [("global batch 8 (the recipe's; a rank gets 8/R images, none past R = 8)", None),
                        ("8 images per rank (global batch 8R: a different recipe)", 8)]:
    print(f"\nDefault U-Net, one core per rank, {label}: step ms (compute + allreduce), efficiency against one core\n")
    print("| R | " + " | ".join(f"step {l} | eff. {l}" for l in LINKS) + " |")
    print("|---:|" + "---:|---:|" * len(LINKS))
    for r in [1] + RANKS:
        images = per_rank if per_rank else 8 / r
        if not per_rank and images < 1: images = 1   # a rank has at least one image or sits idle
        compute = images * PER_IMAGE_MS / 1000
        cells = []
        for bw in LINKS.values():
            comm = allreduce(unet, r, bw) if r > 1 else 0
            step = compute + comm
            ideal = (per_rank * r if per_rank else 8) * PER_IMAGE_MS / 1000 / r
            cells += [f"{1000 * step:.0f}", f"{ideal / step:.0%}"]
        print(f"| {r} | " + " | ".join(cells) + " |")

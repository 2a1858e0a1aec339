#!/usr/bin/env python3
"""Writes a tiny synthetic dataset (images/ + masks/ + labels.csv, 32x32 grey PNGs: a bright ellipse on
speckle, its mask, a benign/malignant label) for scripts/check-distributed.sh. Standard library only."""
import os, random, struct, sys, zlib

def png(path, rows):
    h, w = len(rows), len(rows[0])
    raw = b"".join(b"\0" + bytes(r) for r in rows)
    def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

out, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
os.makedirs(f"{out}/images", exist_ok=True); os.makedirs(f"{out}/masks", exist_ok=True)
labels = ["image,label"]
for i in range(n):
    cx, cy, rx, ry = rng.uniform(10, 22), rng.uniform(10, 22), rng.uniform(3, 8), rng.uniform(3, 8)
    img, mask = [], []
    for y in range(32):
        ir, mr = [], []
        for x in range(32):
            inside = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1
            ir.append(max(0, min(255, int((60 if inside else 150) + rng.gauss(0, 25)))))
            mr.append(255 if inside else 0)
        img.append(ir); mask.append(mr)
    png(f"{out}/images/case{i:03d}.png", img); png(f"{out}/masks/case{i:03d}.png", mask)
    labels.append(f"case{i:03d}.png,{'malignant' if rx * ry > 30 else 'benign'}")
open(f"{out}/labels.csv", "w").write("\n".join(labels) + "\n")

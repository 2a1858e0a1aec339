#!/usr/bin/env python3
"""Crops the same box from several PNGs and writes them side by side (docs figures; no dependencies).

Usage: scripts/side-by-side.py OUT.png X,Y,W,H IN1.png IN2.png ...
"""
import struct, sys, zlib

def read_png(path):
    data = open(path, "rb").read()
    pos, idat = 8, b""
    while pos < len(data):
        n = struct.unpack(">I", data[pos:pos + 4])[0]
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            w, h, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8, f"{path}: only 8-bit PNGs"
        elif kind == b"IDAT":
            idat += body
    ch = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    raw, stride = zlib.decompress(idat), w * ch
    rows, prev, p = [], bytearray(stride), 0
    for _ in range(h):
        f, line, p = raw[p], bytearray(raw[p + 1:p + 1 + stride]), p + 1 + stride
        for i in range(stride):
            a = line[i - ch] if i >= ch else 0
            b, c = prev[i], (prev[i - ch] if i >= ch else 0)
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line); prev = line
    # as RGB rows
    if ch == 3: return w, h, rows
    out = []
    for r in rows:
        rgb = bytearray()
        for i in range(w):
            rgb += bytes([r[i * ch]] * 3) if ch in (1, 2) else r[i * ch:i * ch + 3]
        out.append(rgb)
    return w, h, out

def write_png(path, w, h, rows):
    raw = b"".join(b"\x00" + bytes(r) for r in rows)
    def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                           + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))

out, box, inputs = sys.argv[1], [int(v) for v in sys.argv[2].split(",")], sys.argv[3:]
x, y, bw, bh = box
gap = 6
crops = []
for path in inputs:
    w, h, rows = read_png(path)
    assert x + bw <= w and y + bh <= h, f"{path}: box {box} outside {w}x{h}"
    crops.append([r[3 * x:3 * (x + bw)] for r in rows[y:y + bh]])
white = bytearray([255] * 3 * gap)
rows = [white.join(c[j] for c in crops) for j in range(bh)]
write_png(out, len(crops) * bw + (len(crops) - 1) * gap, bh, rows)

#!/usr/bin/env python3
"""Speed of `sonoseg serve` against the model's in-process time and a cold `sonoseg segment`.

    python3 scripts/bench-serve.py --server .build/release/sonoseg-serve --sonoseg .build/release/sonoseg \
        [--image samples/busi-benign-18.png] [--requests 40] [--warmup 5] [--levels 1,4,16]

The image is first resized to 256x256 px (pure-Python bilinear, written with zlib). Then, over 127.0.0.1:
p50/p95 latency of POST /v1/segment and throughput at 1, 4 and 16 concurrent clients; the in-process time of
the same image and model (`sonoseg bench segment` on a one-image BUS-BRA-layout folder holding it: decode,
forward, post-process, PNG writes, without the diagnosis bundle; and the `seconds` field of the server's rows,
which is the server's own in-process time of the image, diagnosis included); and a cold
`sonoseg segment IMAGE --out TMP` (wall time, median of 5). No pass/fail: it prints figures.
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(REPO, "Tests", "serve"))
sys.dont_write_bytecode = True  # no __pycache__ in the checkout
import serverproc as sp  # noqa: E402


def pick(path_release, path_debug):
    return (path_release, "release") if os.path.exists(path_release) else (path_debug, "debug")


def in_process_bench(sonoseg, image, runs):
    """`sonoseg bench segment` times `segment` end to end in one process, on the first image of --data's BUS-BRA
    folder; give it a one-image BUS-BRA layout holding our image. Returns (median ms, line) or (None, why)."""
    d = tempfile.mkdtemp(prefix="bench-serve-data-")
    try:
        b = os.path.join(d, "bus-bra", "BUSBRA")
        os.makedirs(os.path.join(b, "Images"))
        os.makedirs(os.path.join(b, "Masks"))
        shutil.copy(image, os.path.join(b, "Images", "bus_0001-l.png"))
        w, h, px = sp.grey_pixels(open(image, "rb").read())
        with open(os.path.join(b, "Masks", "mask_0001-l.png"), "wb") as f:
            f.write(sp.encode_png_grey(w, h, bytes(w * h)))
        with open(os.path.join(b, "bus_data.csv"), "w") as f:
            f.write("ID,Case,Histology,Pathology,BIRADS,Device,Width,Height,Side,BBOX\n")
            f.write(f'bus_0001-l,1,fibroadenoma,benign,3,bench,{w},{h},left,"[1,1,10,10]"\n')
        p = subprocess.run([sonoseg, "bench", "segment", "--runs", str(runs), "--data", d], cwd=REPO,
                           capture_output=True, timeout=900)
        text = p.stdout.decode(errors="replace")
        m = re.search(r"WORKLOAD segment .*?median_ms=([0-9.]+)", text)
        if p.returncode != 0 or not m:
            return None, f"rc={p.returncode}: {(text + p.stderr.decode(errors='replace'))[-400:]}"
        line = next(line for line in text.splitlines() if line.startswith("WORKLOAD segment"))
        return float(m.group(1)), line
    finally:
        shutil.rmtree(d, ignore_errors=True)


def cold_segment(sonoseg, image, n):
    times = []
    for _ in range(n):
        d = tempfile.mkdtemp(prefix="bench-serve-cold-")
        try:
            t0 = time.monotonic()
            p = subprocess.run([sonoseg, "segment", image, "--out", d], cwd=REPO, capture_output=True, timeout=900)
            times.append(time.monotonic() - t0)
            if p.returncode != 0:
                raise RuntimeError(p.stderr.decode(errors="replace")[-400:])
        finally:
            shutil.rmtree(d, ignore_errors=True)
    return times


def level(srv, body, clients, n):
    lat, seconds = [], []
    statuses = {}

    def one(i):
        t0 = time.monotonic()
        while True:
            st, h, data = srv.request("POST", f"/v1/segment?filename=bench-{i}.png", body,
                                      {"Content-Type": "image/png"}, timeout=600)
            if st != 503:
                break
            time.sleep(min(float(h.get("retry-after", "1") or 1), 5))
        dt = time.monotonic() - t0
        sec = None
        if st == 200:
            try:
                sec = json.loads(data)["rows"][0].get("seconds")
            except (ValueError, KeyError, IndexError):
                pass
        return st, dt, sec

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        for st, dt, sec in pool.map(one, range(n)):
            statuses[st] = statuses.get(st, 0) + 1
            lat.append(dt)
            if isinstance(sec, (int, float)):
                seconds.append(sec)
    wall = time.monotonic() - t0
    return lat, wall, seconds, statuses


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    srv_default, srv_kind = pick(os.path.join(REPO, ".build/release/sonoseg-serve"),
                                 os.path.join(REPO, ".build/debug/sonoseg-serve"))
    # the CLI of the same build kind as the server, so the ratios compare like with like
    cli_default = os.path.join(REPO, f".build/{srv_kind}/sonoseg")
    if not os.path.exists(cli_default):
        cli_default, _ = pick(os.path.join(REPO, ".build/release/sonoseg"), os.path.join(REPO, ".build/debug/sonoseg"))
    ap.add_argument("--server", default=srv_default)
    ap.add_argument("--sonoseg", default=cli_default)
    ap.add_argument("--image", default=os.path.join(REPO, "samples/busi-benign-18.png"))
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--requests", type=int, default=40, help="timed requests per level")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--levels", default="1,4,16")
    ap.add_argument("--cold-runs", type=int, default=5)
    ap.add_argument("--bench-runs", type=int, default=5)
    args = ap.parse_args()
    for label, path in (("server", args.server), ("CLI", args.sonoseg)):
        kind = "release" if "/release/" in path else "debug" if "/debug/" in path else "given"
        print(f"{label}: {path} ({kind} build)")
        if kind == "debug":
            print(f"  note: no release build of the {label}; debug figures are not representative")
    print(f"host: {os.cpu_count()} CPUs; {time.strftime('%Y-%m-%d %H:%M')}")

    work = tempfile.mkdtemp(prefix="bench-serve-")
    srv = None
    checks = sp.Checks()
    try:
        w, h, px = sp.grey_pixels(open(args.image, "rb").read())
        small = sp.encode_png_grey(args.size, args.size, sp.resize_grey(w, h, px, args.size, args.size))
        image = os.path.join(work, f"{os.path.splitext(os.path.basename(args.image))[0]}-{args.size}.png")
        with open(image, "wb") as f:
            f.write(small)
        print(f"image: {os.path.relpath(args.image, REPO)} {w}x{h} → {args.size}x{args.size} ({len(small)} B)")

        srv = sp.Server(args.server)
        t0 = time.monotonic()
        srv.start()
        print(f"server up in {time.monotonic() - t0:.1f}s: {srv.first_line}")
        for i in range(args.warmup):
            st, _, data = srv.request("POST", "/v1/segment?filename=warm.png", small, {"Content-Type": "image/png"},
                                      timeout=600)
            if st != 200:
                print(f"warm-up request → {st} {data[:200]!r}")
        rows = []
        all_seconds = []
        for c in [int(x) for x in args.levels.split(",")]:
            lat, wall, seconds, statuses = level(srv, small, c, args.requests)
            all_seconds += seconds
            rows.append((c, sp.percentile(lat, 50), sp.percentile(lat, 95), len(lat) / wall, statuses,
                         statistics.median(seconds) if seconds else None))
            print(f"  {c} clients: done ({statuses})", flush=True)
        rss = srv.peak_rss_kib()
        srv.terminate(60)

        bench_ms, bench_line = in_process_bench(args.sonoseg, image, args.bench_runs)
        print(f"sonoseg bench segment: {bench_line}")
        cold = cold_segment(args.sonoseg, image, args.cold_runs)

        print()
        print(f"| clients | p50 ms | p95 ms | images/s | rows' `seconds` p50 ms | statuses |")
        print(f"|---:|---:|---:|---:|---:|---|")
        for c, p50, p95, tput, statuses, sec in rows:
            print(f"| {c} | {p50 * 1000:.1f} | {p95 * 1000:.1f} | {tput:.2f} | "
                  f"{sec * 1000 if sec is not None else float('nan'):.1f} | {statuses} |")
        p50_1 = rows[0][1]
        sec_1 = rows[0][5]
        print()
        print(f"in-process, `sonoseg bench segment --runs {args.bench_runs}` (same image and model, no diagnosis): "
              + (f"{bench_ms:.1f} ms (median)" if bench_ms else "unavailable"))
        if sec_1 is not None:
            print(f"in-process, the server's own `seconds` field at 1 client (diagnosis included): {sec_1 * 1000:.1f} ms")
        print(f"cold `sonoseg segment IMAGE --out TMP`: median {statistics.median(cold) * 1000:.0f} ms of {len(cold)} "
              f"(min {min(cold) * 1000:.0f}, max {max(cold) * 1000:.0f})")
        print(f"server peak RSS {rss / 1024 if rss else float('nan'):.0f} MiB")
        print()
        if bench_ms:
            print(f"ratio p50 (1 client) / in-process (bench segment): {p50_1 * 1000 / bench_ms:.2f}")
        if sec_1:
            print(f"ratio p50 (1 client) / in-process (row seconds):    {p50_1 / sec_1:.2f}")
        print(f"ratio cold segment / p50 (1 client):                {statistics.median(cold) / p50_1:.1f}")
        # No pass/fail on the figures; the line below only says whether every request was answered 200.
        bad = sum(n for _, _, _, _, statuses, _ in rows for st, n in statuses.items() if st != 200)
        checks.check("every timed request answered 200", bad == 0, f"{bad} not 200")
        checks.check("in-process figure from `sonoseg bench segment`", bench_ms is not None, bench_line[:200])
    except Exception as e:  # noqa: BLE001
        checks.check("benchmark ran to the end", False, f"{type(e).__name__}: {e}")
    finally:
        if srv:
            srv.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())

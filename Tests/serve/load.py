#!/usr/bin/env python3
"""Load test of `sonoseg serve`: many POST /v1/segment from concurrent clients, each mask compared byte for byte
with what `sonoseg segment` writes for the same sample; SIGTERM with requests in flight; SIGKILL while a review
is being saved.

    python3 Tests/serve/load.py --server .build/debug/sonoseg-serve --sonoseg .build/debug/sonoseg \
        [--requests 1000] [--clients 32] [--kill-loops 20]

Prints errors, mismatched masks, mixed-up results, p50/p95 latency, throughput and the server's peak RSS; ends
with `N passed, M failed` and exits non-zero when M > 0. Standard library only; traffic to 127.0.0.1 only.
"""
import argparse
import collections
import concurrent.futures
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in the checkout
import serverproc as sp  # noqa: E402

C = sp.Checks()
GIB = 1024 * 1024  # KiB per GiB


def cli_masks(sonoseg, samples):
    """SHA-256 of STEM_mask.png that `sonoseg segment SAMPLE --out DIR` writes, per sample."""
    out = {}
    for path in samples:
        stem = os.path.splitext(os.path.basename(path))[0]
        d = tempfile.mkdtemp(prefix="sonoserve-cli-")
        try:
            t0 = time.monotonic()
            p = subprocess.run([sonoseg, "segment", path, "--out", d], cwd=sp.REPO, capture_output=True, timeout=600)
            if p.returncode != 0:
                raise RuntimeError(f"sonoseg segment {path} failed: {p.stderr.decode(errors='replace')[-500:]}")
            with open(os.path.join(d, f"{stem}_mask.png"), "rb") as f:
                out[stem] = hashlib.sha256(f.read()).hexdigest()
            print(f"  {stem}: CLI mask {out[stem][:16]}… ({time.monotonic() - t0:.1f}s)", flush=True)
        finally:
            shutil.rmtree(d, ignore_errors=True)
    return out


def post_segment(srv, body, name, timeout, max_retries=1000):
    """POST /v1/segment until it is not 503; returns (status, json/None, raw body, latency of the last attempt,
    end-to-end seconds, number of 503s)."""
    retries = 0
    t_start = time.monotonic()
    while True:
        t0 = time.monotonic()
        st, headers, data = srv.request("POST", f"/v1/segment?filename={urllib.parse.quote(name)}", body,
                                        {"Content-Type": "image/png"}, timeout=timeout)
        lat = time.monotonic() - t0
        if st == 503 and retries < max_retries:
            retries += 1
            try:
                wait = float(headers.get("retry-after", "1"))
            except ValueError:
                wait = 1.0
            time.sleep(min(max(wait, 0.05), 10.0) * random.uniform(0.5, 1.0))
            continue
        try:
            j = json.loads(data)
        except ValueError:
            j = None
        return st, headers, j, data, lat, time.monotonic() - t_start, retries


def phase_load(args, expected, samples):
    print(f"\n== {args.requests} POST /v1/segment from {args.clients} clients", flush=True)
    bodies = {}
    for path in samples:
        with open(path, "rb") as f:
            bodies[os.path.splitext(os.path.basename(path))[0]] = f.read()
    stems = sorted(bodies)
    srv = sp.Server(args.server, args.server_args)
    try:
        srv.start()
        print(f"  server: {srv.first_line} (pid {srv.proc.pid})", flush=True)
        stats = collections.Counter()
        problems = collections.defaultdict(list)
        latencies, e2e = [], []
        lock = threading.Lock()
        seconds_field = []

        def one(i):
            stem = stems[i % len(stems)]
            name = f"{stem}-r{i:05d}.png"
            try:
                st, headers, j, data, lat, total, retries = post_segment(srv, bodies[stem], name, args.timeout)
            except Exception as e:  # noqa: BLE001
                return i, name, "exception", f"POST {name}: {type(e).__name__}: {e}", None, None, 0
            if st != 200 or not isinstance(j, dict):
                return i, name, "error", f"POST {name} → {st} {data[:200]!r}", lat, total, retries
            rows = j.get("rows") or []
            if not rows:
                return i, name, "error", f"POST {name} → 200 without rows: {data[:200]!r}", lat, total, retries
            row = rows[0]
            if row.get("image") != name:
                return i, name, "mixed", f"POST {name} → row image {row.get('image')!r}, input {row.get('input')!r}", \
                    lat, total, retries
            url = row.get("mask_url")
            if not url:
                return i, name, "error", f"POST {name} → row without mask_url", lat, total, retries
            try:
                mst, _, mask = srv.request("GET", url, timeout=args.timeout)
            except Exception as e:  # noqa: BLE001
                return i, name, "exception", f"GET {url}: {type(e).__name__}: {e}", lat, total, retries
            if mst != 200:
                return i, name, "error", f"GET {url} → {mst} {mask[:200]!r}", lat, total, retries
            digest = hashlib.sha256(mask).hexdigest()
            if digest != expected[stem]:
                return i, name, "mismatch", f"{name}: mask {digest[:16]}… ≠ CLI {expected[stem][:16]}… ({url})", \
                    lat, total, retries
            if isinstance(row.get("seconds"), (int, float)):
                with lock:
                    seconds_field.append(row["seconds"])
            return i, name, "ok", "", lat, total, retries

        t0 = time.monotonic()
        done = 0
        with concurrent.futures.ThreadPoolExecutor(args.clients) as pool:
            for i, name, outcome, detail, lat, total, retries in pool.map(one, range(args.requests)):
                done += 1
                stats[outcome] += 1
                stats["503 retries"] += retries
                if detail:
                    problems[outcome].append(detail)
                if lat is not None and outcome in ("ok", "mismatch", "mixed"):
                    latencies.append(lat)
                    e2e.append(total)
                if done % max(1, args.requests // 10) == 0:
                    print(f"  {done}/{args.requests} in {time.monotonic() - t0:.0f}s: "
                          f"{ {k: v for k, v in stats.items() if v} }", flush=True)
        wall = time.monotonic() - t0
        rss = srv.peak_rss_kib()
        alive = srv.alive()
        ok, hst, hbody = srv.healthz()
        print(f"\n  requests {args.requests}, clients {args.clients}, wall {wall:.1f}s")
        print(f"  ok {stats['ok']}, errors {stats['error'] + stats['exception']}, mismatched masks {stats['mismatch']}, "
              f"mixed-up results {stats['mixed']}, 503 answers retried {stats['503 retries']}")
        print(f"  latency of the answered POST: p50 {sp.percentile(latencies, 50) * 1000:.0f} ms, "
              f"p95 {sp.percentile(latencies, 95) * 1000:.0f} ms, max {max(latencies or [0]) * 1000:.0f} ms")
        print(f"  end to end incl. 503 waits:   p50 {sp.percentile(e2e, 50) * 1000:.0f} ms, "
              f"p95 {sp.percentile(e2e, 95) * 1000:.0f} ms")
        print(f"  throughput {stats['ok'] / wall:.2f} images/s")
        if seconds_field:
            print(f"  rows' `seconds` (in-process): p50 {sp.percentile(seconds_field, 50) * 1000:.0f} ms, "
                  f"p95 {sp.percentile(seconds_field, 95) * 1000:.0f} ms")
        print(f"  server peak RSS (VmHWM) {rss / 1024 if rss else float('nan'):.0f} MiB")
        for kind, items in problems.items():
            print(f"  {kind}: {len(items)}; first ones:")
            for d in items[:8]:
                print(f"    {d}")
        C.check("every request answered 200 (after 503 retries)", stats["error"] + stats["exception"] == 0,
                f"{stats['error']} errors, {stats['exception']} exceptions")
        C.check("every mask identical to the CLI's", stats["mismatch"] == 0, f"{stats['mismatch']} mismatched")
        C.check("every row's image is the file sent", stats["mixed"] == 0, f"{stats['mixed']} mixed up")
        C.check("all requests done", stats["ok"] + stats["error"] + stats["exception"] + stats["mismatch"]
                + stats["mixed"] == args.requests, f"{done}")
        C.check("server alive, /healthz 200 after the load", alive and ok, f"poll={srv.proc.poll()} healthz={hst}")
        C.check("peak RSS < 2 GiB", rss is not None and rss < 2 * GIB, f"{rss / 1024 if rss else None} MiB")
        rc = srv.terminate(120)
        C.check("SIGTERM after the load → exit 0", rc == 0, f"rc={rc}; stderr: {srv.stderr_tail(5)}")
    finally:
        srv.cleanup(keep=args.keep)


def phase_sigterm(args, samples, inflight=8):
    print(f"\n== SIGTERM with {inflight} requests in flight", flush=True)
    srv = sp.Server(args.server, args.server_args)
    try:
        srv.start()
        print(f"  server: {srv.first_line} (pid {srv.proc.pid})", flush=True)
        bodies = []
        for path in samples:
            with open(path, "rb") as f:
                bodies.append((os.path.basename(path), f.read()))
        # warm up once, so the requests below are in inference rather than in model loading
        post_segment(srv, bodies[0][1], "warm.png", args.timeout)
        results = [None] * inflight
        sent = threading.Barrier(inflight + 1)

        def one(k):
            name, body = bodies[k % len(bodies)]
            sent.wait()
            try:
                st, _, data = srv.request("POST", f"/v1/segment?filename=t{k}-{name}", body,
                                          {"Content-Type": "image/png"}, timeout=args.timeout)
                results[k] = (st, data[:160])
            except Exception as e:  # noqa: BLE001
                results[k] = (None, f"{type(e).__name__}: {e}")

        threads = [threading.Thread(target=one, args=(k,)) for k in range(inflight)]
        for t in threads:
            t.start()
        sent.wait()
        # Wait until the server holds them: queue depth or a fixed delay (bodies of ~120 KB over loopback).
        depth_seen = None
        deadline = time.monotonic() + 0.3
        while time.monotonic() < deadline:
            try:
                st, _, body = sp.http_request(srv.port, "GET", "/healthz", timeout=2)
                depth_seen = json.loads(body).get("queue_depth")
                if depth_seen and depth_seen >= inflight - 2:
                    break
            except Exception:  # noqa: BLE001
                pass
            time.sleep(0.02)
        time.sleep(0.05)
        busy = sum(1 for r in results if r is None)
        print(f"  SIGTERM with {busy} of {inflight} still waiting for their answer (queue_depth seen {depth_seen})")
        t0 = time.monotonic()
        srv.proc.send_signal(15)
        for t in threads:
            t.join(args.timeout + 10)
        try:
            rc = srv.proc.wait(120)
        except subprocess.TimeoutExpired:
            rc = None
        print(f"  exit after {time.monotonic() - t0:.1f}s, rc={rc}")
        statuses = collections.Counter(r[0] if r else None for r in results)
        print(f"  answers: {dict(statuses)}")
        for k, r in enumerate(results):
            if not r or r[0] != 200:
                print(f"    request {k}: {r}")
        C.check("requests were in flight at SIGTERM", busy >= inflight // 2, f"{busy} of {inflight}")
        C.check("every in-flight request got its 200", statuses[200] == inflight, f"{dict(statuses)}")
        C.check("process exited 0 after SIGTERM", rc == 0, f"rc={rc}; stderr: {srv.stderr_tail(5)}")
    finally:
        srv.cleanup(keep=args.keep)


def mask_pixels(w, h, kind):
    px = bytearray(w * h)
    if kind == "A":  # a rectangle in the upper left
        for y in range(h // 8, h // 2):
            px[y * w + w // 8:y * w + w // 2] = b"\xff" * (w // 2 - w // 8)
    else:  # a disc in the lower right
        cx, cy, r2 = 2 * w // 3, 2 * h // 3, (min(w, h) // 5) ** 2
        for y in range(h):
            for x in range(w):
                if (x - cx) ** 2 + (y - cy) ** 2 <= r2:
                    px[y * w + x] = 255
    return px


def phase_kill9(args):
    print(f"\n== SIGKILL 0–50 ms after POST /v1/items/ID/review, {args.kill_loops} times", flush=True)
    workdir = tempfile.mkdtemp(prefix="sonoserve-kill9-")
    root = os.path.join(workdir, "root")
    shutil.copytree(sp.SAMPLES, root, ignore=shutil.ignore_patterns("*.md"))
    rng = random.Random(args.seed)
    try:
        # A first server, not killed: the item's id, size, NAME (from the record), the model's result ready.
        srv = sp.Server(args.server, args.server_args, root=root)
        srv.start()
        try:
            st, _, body = srv.request("GET", "/v1/worklist")
            items = json.loads(body)["items"]
            item = next(i for i in items if i.get("input") == "busi-benign-22.png")
            iid = item["id"]
            st, _, body = srv.request("GET", f"/v1/items/{iid}", timeout=args.timeout)
            detail = json.loads(body)
            w, h = detail["width"], detail["height"]
            masks = {k: mask_pixels(w, h, k) for k in "AB"}
            pngs = {k: sp.encode_png_grey(w, h, masks[k]) for k in "AB"}
            reqs = {k: json.dumps({"mask_png_base64": sp.b64(pngs[k]), "reader": "t", "edited": True}).encode()
                    for k in "AB"}
            review_ms = []
            for k in "BA":  # ends with A on disk
                t0 = time.monotonic()
                st, _, body = srv.request("POST", f"/v1/items/{iid}/review", reqs[k],
                                          {"Content-Type": "application/json"}, timeout=args.timeout)
                review_ms.append((time.monotonic() - t0) * 1000)
            print(f"  a review takes {', '.join(f'{t:.1f}' for t in review_ms)} ms on a warm server (no kill)")
            rec = json.loads(body) if st == 200 else {}
            C.check("control: a review saved without a kill → 200", st == 200, f"{st} {body[:200]!r}")
            mask_path = os.path.join(root, rec.get("mask_path", "reviewed/masks/busi-benign-22.png"))
            print(f"  item {iid} ({w}x{h}), mask at {os.path.relpath(mask_path, root)}")
        finally:
            srv.terminate(60)
        mask_dir = os.path.dirname(mask_path)
        name = os.path.basename(mask_path)
        outcomes = collections.Counter()
        seen_extra = collections.Counter()
        for loop in range(args.kill_loops):
            kind = "B" if loop % 2 == 0 else "A"
            srv = sp.Server(args.server, args.server_args, root=root)
            try:
                srv.start()
                # the item's result first (a fresh server segments it again), so the kill lands in the save
                srv.request("GET", f"/v1/items/{iid}", timeout=args.timeout)
                delay = rng.uniform(0, 0.05)
                import socket
                s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
                s.sendall(sp.build_request("POST", f"/v1/items/{iid}/review",
                                           [("Content-Type", "application/json")], reqs[kind], port=srv.port))
                time.sleep(delay)
                srv.proc.kill()
                srv.proc.wait(30)
                s.close()
            finally:
                srv.kill()
            state = "absent"
            if os.path.exists(mask_path):
                with open(mask_path, "rb") as f:
                    data = f.read()
                try:
                    mw, mh, px = sp.grey_pixels(data)
                    bits = bytes(255 if v else 0 for v in px)
                    state = "A" if (mw, mh) == (w, h) and bits == bytes(masks["A"]) else \
                        "B" if (mw, mh) == (w, h) and bits == bytes(masks["B"]) else f"other {mw}x{mh}"
                except sp.PNGError as e:
                    state = f"broken PNG ({e}, {len(data)} B)"
            outcomes[state] += 1
            extra = []
            for sub in ("images", "masks", "records"):
                d = os.path.join(os.path.dirname(mask_dir), sub)
                for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
                    if f.startswith(os.path.splitext(name)[0] + ".") and not f.endswith(".tmp"):
                        continue
                    extra.append(f"{sub}/{f}")
            rec_path = os.path.join(os.path.dirname(mask_dir), "records", os.path.splitext(name)[0] + ".json")
            rec_state = "absent"
            if os.path.exists(rec_path):
                try:
                    with open(rec_path) as f:
                        json.load(f)
                    rec_state = "valid JSON"
                except ValueError:
                    rec_state = "BROKEN JSON"
            img_path = os.path.join(os.path.dirname(mask_dir), "images", name)
            img_state = "absent"
            if os.path.exists(img_path):
                try:
                    with open(img_path, "rb") as f:
                        sp.decode_png(f.read())
                    img_state = "complete PNG"
                except sp.PNGError as e:
                    img_state = f"BROKEN ({e})"
            for e in extra:
                seen_extra[e.split("/")[0] + "/" + ("hidden .tmp" if os.path.basename(e).startswith(".")
                                                    and e.endswith(".tmp") else os.path.basename(e))] += 1
            print(f"  loop {loop:2d}: sent {kind}, kill after {delay * 1000:4.1f} ms → mask {state}, image {img_state}, "
                  f"record {rec_state}; other files: {extra or 'none'}", flush=True)
            C.check(f"loop {loop}: mask absent, A or B", state in ("absent", "A", "B"), state)
            C.check(f"loop {loop}: record and image complete or absent",
                    "BROKEN" not in rec_state and "BROKEN" not in img_state, f"{rec_state}, {img_state}")
            stray = [e for e in extra if not (os.path.basename(e).startswith(".") and e.endswith(".tmp"))]
            C.check(f"loop {loop}: no stray files beside NAME other than hidden .tmp", not stray, f"{stray}")
        print(f"  mask after the kill: {dict(outcomes)}")
        print(f"  other files seen in reviewed/: {dict(seen_extra) or 'none'}")
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def main():
    ap = sp.common_args(argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter),
                        sonoseg=True)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--kill-loops", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds one request may take")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--queue", type=int, default=None, help="pass --queue N to the server")
    ap.add_argument("--skip", default="", help="comma-separated phases to skip: load,sigterm,kill9")
    ap.add_argument("--size", type=int, default=None,
                    help="send the samples resized to SIZE x SIZE px (make test: 256, BUS-BRA's size, to fit CI's time)")
    args = ap.parse_args()
    args.server_args = ["--queue", str(args.queue)] if args.queue else []
    skip = set(filter(None, args.skip.split(",")))
    for b in (args.server, args.sonoseg):
        if not os.path.exists(b):
            print(f"no binary at {b}")
            print("0 passed, 1 failed")
            return 1
    samples = sp.sample_files()
    if args.size:
        small_dir = tempfile.mkdtemp(prefix="load-samples-")
        resized = []
        for path in samples:
            w, h, px = sp.grey_pixels(open(path, "rb").read())
            out = os.path.join(small_dir, os.path.basename(path))
            with open(out, "wb") as f:
                f.write(sp.encode_png_grey(args.size, args.size, sp.resize_grey(w, h, px, args.size, args.size)))
            resized.append(out)
        samples = resized
        print(f"samples resized to {args.size}x{args.size} px in {small_dir}")
    try:
        if "load" not in skip:
            print("== the CLI's masks", flush=True)
            expected = cli_masks(args.sonoseg, samples)
            phase_load(args, expected, samples)
        if "sigterm" not in skip:
            phase_sigterm(args, samples)
        if "kill9" not in skip:
            phase_kill9(args)
    except Exception as e:  # noqa: BLE001
        import traceback
        traceback.print_exc()
        C.check("test ran to the end", False, f"{type(e).__name__}: {e}")
    return C.summary()


if __name__ == "__main__":
    sys.exit(main())

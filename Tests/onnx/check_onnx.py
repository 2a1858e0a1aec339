#!/usr/bin/env python3
"""ONNX export checked by independent readers (onnx.checker, ONNX Runtime) against SonoSeg itself.

usage: check_onnx.py SONOSEG_BINARY [--keep DIR]

1. `sonoseg export models/default --format onnx` (the bundled ensemble of two U-Nets, one graph) passes
   onnx.checker.check_model(full_check=True) and carries the preprocessing in metadata_props.
2. On the five bundled samples: SonoSeg's network-resolution input and probability (`export --probe`, .npy)
   against ONNX Runtime: the probability within 1e-4 on SonoSeg's input; scripts/onnx_predict.py's
   preprocessing equal to SonoSeg's within 1e-5 and its probability within 1e-4; its mask identical to
   `sonoseg segment --no-diagnosis`'s STEM_mask.png, and its full-size probability within 1/255 of STEM_prob.png.
3. The same export with f16 weights: checker, runs, masks identical on the samples (probability within 2e-3).
4. The diagnosis bundle's whole-image classifiers (presence, pathology-2): checker, class probabilities within
   1e-4 of SonoSeg's.
5. An implicit network (models/nisf) is refused with a message naming it.
Last line: `N passed, M failed`; exit status 1 when anything failed.
"""
import argparse, glob, os, shutil, subprocess, sys, tempfile

import numpy as np
import onnx
import onnxruntime as ort
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import onnx_predict  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("sonoseg")
ap.add_argument("--keep", help="work in this folder and keep it")
args = ap.parse_args()
BIN = os.path.abspath(args.sonoseg)
work = args.keep or tempfile.mkdtemp(prefix="check-onnx-")
os.makedirs(work, exist_ok=True)
samples = sorted(glob.glob(os.path.join(ROOT, "samples", "*.png")))
passed = failed = 0


def check(ok, what):
    global passed, failed
    print(("PASS " if ok else "FAIL ") + what, flush=True)
    passed, failed = passed + bool(ok), failed + (not ok)


def sonoseg(*a):
    return subprocess.run([BIN, *a], capture_output=True, text=True, cwd=ROOT)


def export(model, out, *extra):
    r = sonoseg("export", model, "--format", "onnx", "--out", out, *extra)
    check(r.returncode == 0, f"export {model} {' '.join(extra[:2])}: {(r.stdout + r.stderr).strip().splitlines()[:1]}")
    return r.returncode == 0


# 1. The bundled ensemble as one graph, with SonoSeg's own network-resolution figures for the samples.
model = os.path.join(work, "default.onnx")
probe = os.path.join(work, "probe")
if export("models/default", model, "--probe", *samples, "--probe-out", probe):
    m = onnx.load(model)
    try:
        onnx.checker.check_model(m, full_check=True)
        check(True, "onnx.checker.check_model(full_check=True): default.onnx")
    except Exception as e:  # noqa: BLE001
        check(False, f"onnx.checker: {e}")
    meta = {p.key: p.value for p in m.metadata_props}
    need = ["input.width", "input.height", "preprocess.resize", "preprocess.resampling", "preprocess.normalization",
            "preprocess.low_percentile", "preprocess.high_percentile", "postprocess.threshold", "class_names",
            "ensemble.members"]
    check(all(k in meta for k in need) and m.opset_import[0].version == 17,
          f"metadata and opset 17: {', '.join(f'{k}={meta.get(k)}' for k in need[:5] + ['ensemble.members'])}")

    seg = os.path.join(work, "segment")
    r = sonoseg("segment", *samples, "--no-diagnosis", "--out", seg)
    check(r.returncode == 0, "sonoseg segment --no-diagnosis on the samples")
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    for path in samples:
        stem = os.path.splitext(os.path.basename(path))[0]
        x = np.load(os.path.join(probe, f"{stem}_input.npy"))
        p = np.load(os.path.join(probe, f"{stem}_prob.npy"))
        q = sess.run(["probability"], {"image": x})[0]
        d = float(np.abs(p - q).max())
        check(d <= 1e-4, f"{stem}: ONNX Runtime vs SonoSeg, probability at {q.shape[2]}x{q.shape[3]} on SonoSeg's input: max |diff| {d:.2e} (<= 1e-4)")
        full, net, xp, _ = onnx_predict.predict(sess, path)
        d = float(np.abs(x - xp).max())
        check(d <= 1e-5, f"{stem}: onnx_predict.py preprocessing vs SonoSeg's: max |diff| {d:.2e} (<= 1e-5)")
        d = float(np.abs(p - net).max())
        check(d <= 1e-4, f"{stem}: onnx_predict.py probability at network resolution vs SonoSeg: max |diff| {d:.2e} (<= 1e-4)")
        out = os.path.join(work, f"{stem}_onnx_mask.png")
        r = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "onnx_predict.py"), model, path, out],
                           capture_output=True, text=True)
        mine = np.asarray(Image.open(out)) if r.returncode == 0 else None
        theirs = np.asarray(Image.open(os.path.join(seg, f"{stem}_mask.png")))
        differ = -1 if mine is None else int((mine != theirs).sum())
        check(differ == 0, f"{stem}: onnx_predict.py mask vs segment --no-diagnosis: {differ} pixels differ of {theirs.size} ({int((theirs > 0).sum())} lesion)")
        png = np.asarray(Image.open(os.path.join(seg, f"{stem}_prob.png"))).astype(np.float64) / 255
        d = float(np.abs(png - full).max())
        check(d <= 1 / 255, f"{stem}: probability at the image's size vs STEM_prob.png: max |diff| {d:.4f} (<= 1/255)")

    # 3. f16 weights.
    half = os.path.join(work, "default-f16.onnx")
    if export("models/default", half, "--dtype", "f16"):
        onnx.checker.check_model(onnx.load(half), full_check=True)
        hs = ort.InferenceSession(half, providers=["CPUExecutionProvider"])
        worst, differ = 0.0, 0
        for path in samples:
            stem = os.path.splitext(os.path.basename(path))[0]
            x, p = np.load(os.path.join(probe, f"{stem}_input.npy")), np.load(os.path.join(probe, f"{stem}_prob.npy"))
            worst = max(worst, float(np.abs(hs.run(["probability"], {"image": x})[0] - p).max()))
            full, _, _, meta = onnx_predict.predict(hs, path)
            mask = onnx_predict.fill_holes((full >= np.float32(float(meta["postprocess.threshold"]))).astype(np.uint8))
            differ += int((mask * 255 != np.asarray(Image.open(os.path.join(seg, f"{stem}_mask.png")))).sum())
        check(worst <= 2e-3, f"f16 weights ({os.path.getsize(half) / 1e6:.0f} MB vs {os.path.getsize(model) / 1e6:.0f} MB): "
                             f"probability max |diff| {worst:.2e} (<= 2e-3); {differ} mask pixels differ on the samples (reported)")

# 4. The diagnosis bundle's whole-image classifiers.
for name in ("presence", "pathology-2"):
    out, folder = os.path.join(work, f"{name}.onnx"), os.path.join(work, f"probe-{name}")
    if not export(f"models/diagnosis/{name}.safetensors", out, "--probe", *samples, "--probe-out", folder):
        continue
    onnx.checker.check_model(onnx.load(out), full_check=True)
    s = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
    worst = max(float(np.abs(s.run(["class_probabilities"], {"image": np.load(f)})[0]
                             - np.load(f.replace("_input.npy", "_classes.npy"))).max())
                for f in glob.glob(os.path.join(folder, "*_input.npy")))
    check(worst <= 1e-4, f"{name}: checker passed; class probabilities vs SonoSeg on {len(samples)} samples: max |diff| {worst:.2e} (<= 1e-4)")

# 5. Implicit networks are refused with a reason.
r = sonoseg("export", "models/nisf", "--format", "onnx", "--out", os.path.join(work, "nisf.onnx"))
check(r.returncode != 0 and "implicit network" in r.stderr and not os.path.exists(os.path.join(work, "nisf.onnx")),
      "export models/nisf --format onnx refused: " + r.stderr.strip().splitlines()[0][:100] if r.stderr.strip() else "no message")

if not args.keep:
    shutil.rmtree(work, ignore_errors=True)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)

#!/usr/bin/env python3
"""Segment one image with a model exported by `sonoseg export MODEL --format onnx`, without SonoSeg.

usage: onnx_predict.py MODEL.onnx IMAGE OUT_MASK.png [--prob OUT_PROB.npy] [--threshold T]
                       [--no-fill-holes] [--largest-component] [--threads N]

Needs onnxruntime, numpy and pillow only. Everything SonoSeg does around the network is read from the model's
metadata_props and done here the way SonoSeg does it (Sources/SonoImaging, Sources/SonoData/PreprocessConfig.swift,
Sources/SonoPipeline/Segment/MaskPostprocessing.swift), in float32 where SonoSeg uses float32:
  1. grey: 8-bit v / 255; 16-bit v / 65535; RGB(A) by BT.601 (0.299 R + 0.587 G + 0.114 B) / 255; alpha dropped
  2. resize to the network's size: letterbox (aspect kept, centred, padded with 0) or stretch; area (box filter
     weighted by overlap) or bilinear (half-pixel centres) resampling
  3. normalise the whole network-sized canvas: zScore (per image, or the stored mean/std), minMax, or percentile
     (clip to the low/high percentile, NumPy's linear interpolation, then rescale to [0, 1])
  4. the network: probability (after the sigmoid) at the network's resolution
  5. back to the image: crop the letterbox content, bilinear (half-pixel centres) to the image's size
  6. mask = probability >= threshold; holes filled (background not 4-connected to the border); optionally the
     largest 8-connected region only
The mask is what `sonoseg segment --no-diagnosis` writes as STEM_mask.png (0/255). `segment` with the bundled
diagnosis may also empty a mask where the lesion-presence classifier calls the image normal; that classifier is
not part of this model.

A classifier export (kind "classifier") prints its class probabilities as JSON instead and writes no mask
(whole-image classifiers only; a lesion-crop classifier needs the lesion's window, which this script does not cut).
"""
import argparse
import collections
import json
import math
import sys

import numpy as np
import onnxruntime as ort
from PIL import Image

F = np.float32


def grey(path):
    """The image as float32 grey in [0, 1], as SonoSeg's GrayConversion."""
    im = Image.open(path)
    im.load()
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        return np.asarray(im, dtype=np.float64).astype(F) * F(1 / 65535)
    if im.mode in ("L", "LA"):
        a = np.asarray(im, dtype=np.uint8)
        a = a[..., 0] if a.ndim == 3 else a
        return a.astype(F) * F(1 / 255)
    if im.mode == "F":
        return np.asarray(im, dtype=F)
    if im.mode not in ("RGB", "RGBA"):
        im = im.convert("RGB")
    a = np.asarray(im, dtype=np.uint8).astype(F)
    r, g, b = a[..., 0], a[..., 1], a[..., 2]
    return (F(0.299) * r + F(0.587) * g + F(0.114) * b) * F(1 / 255)


def swift_round(x):
    """Swift's `.rounded()`: halves away from zero (Python's round() rounds halves to even)."""
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


def geometry(sw, sh, tw, th, mode):
    """(content width, content height, offset x, offset y) as LetterboxGeometry."""
    if mode == "stretch":
        return tw, th, 0, 0
    scale = min(tw / sw, th / sh)
    cw = max(1, min(tw, int(swift_round(sw * scale))))
    ch = max(1, min(th, int(swift_round(sh * scale))))
    return cw, ch, (tw - cw) // 2, (th - ch) // 2


def area_weights(source, target):
    """Per output pixel: first source index and overlap weights (Resampler.areaWeights)."""
    scale = source / target
    starts, weights = [], []
    for i in range(target):
        lo, hi = i * scale, (i + 1) * scale
        first = int(lo)
        last = min(source - 1, int(math.floor(hi - 1e-9)))
        w = []
        for s in range(first, max(first, last) + 1):
            overlap = min(hi, s + 1) - max(lo, s)
            w.append(F(max(0.0, overlap) / scale))
        starts.append(first)
        weights.append(w)
    k = max(len(w) for w in weights)
    idx = np.array([[min(source - 1, s + j) for j in range(k)] for s in starts])
    wts = np.array([w + [F(0)] * (k - len(w)) for w in weights], dtype=F)
    return idx, wts


def resize_area(img, nw, nh):
    """Box filter weighted by overlap; rows first, then columns, summed in SonoSeg's order (float32)."""
    h, w = img.shape
    if (nw, nh) == (w, h):
        return img
    xi, xw = area_weights(w, nw)
    rows = np.zeros((h, nw), dtype=F)
    for j in range(xi.shape[1]):
        rows += img[:, xi[:, j]] * xw[:, j][None, :]
    yi, yw = area_weights(h, nh)
    out = np.zeros((nh, nw), dtype=F)
    for j in range(yi.shape[1]):
        out += rows[yi[:, j], :] * yw[:, j][:, None]
    return out


def resize_bilinear(img, nw, nh):
    """Bilinear at pixel centres (half-pixel aligned), edges clamped (Resampler.bilinear), float32."""
    h, w = img.shape
    if (nw, nh) == (w, h):
        return img
    sx, sy = F(w) / F(nw), F(h) / F(nh)

    def axis(n, size, scale):
        s = np.clip((np.arange(n, dtype=F) + F(0.5)) * scale - F(0.5), F(0), F(size - 1)).astype(F)
        i0 = s.astype(np.int64)
        return i0, np.minimum(size - 1, i0 + 1), (s - i0.astype(F)).astype(F)

    x0, x1, fx = axis(nw, w, sx)
    y0, y1, fy = axis(nh, h, sy)
    r0, r1 = img[y0, :], img[y1, :]
    top = r0[:, x0] + (r0[:, x1] - r0[:, x0]) * fx[None, :]
    bottom = r1[:, x0] + (r1[:, x1] - r1[:, x0]) * fx[None, :]
    return (top + (bottom - top) * fy[:, None]).astype(F)


def percentiles(values, percents):
    """NumPy's linear interpolation, as SonoSeg's Percentiles (float32 arithmetic)."""
    s = np.sort(values.ravel())
    out = []
    for p in percents:
        pos = max(0.0, min(100.0, p)) / 100 * (s.size - 1)
        lo = int(pos)
        hi = min(s.size - 1, lo + 1)
        out.append(F(s[lo] + (s[hi] - s[lo]) * F(pos - lo)))
    return out


def rescale(x, low, high):
    rng = F(high - low)
    if rng <= 1e-12:
        return np.zeros_like(x)
    return ((np.minimum(high, np.maximum(low, x)) - low) / rng).astype(F)


def normalise(x, meta):
    method = meta["preprocess.normalization"]
    if method == "none":
        return x
    if method == "zScore":
        if "preprocess.mean" in meta and "preprocess.std" in meta:
            m, s = float(meta["preprocess.mean"]), float(meta["preprocess.std"])
        else:
            d = x.astype(np.float64)
            m = d.sum() / d.size
            s = math.sqrt(max(0.0, (d * d).sum() / d.size - m * m))
        scale, shift = F(1 / max(s, 1e-6)), F(m)
        return ((x - shift) * scale).astype(F)
    if method == "minMax":
        return rescale(x, x.min(), x.max())
    if method == "percentile":
        low, high = percentiles(x, [float(meta["preprocess.low_percentile"]), float(meta["preprocess.high_percentile"])])
        return rescale(x, low, high)
    sys.exit(f"onnx_predict: unknown normalisation '{method}' in the model's metadata")


def preprocess(image, meta):
    """The network input [1, 1, H, W] and the letterbox geometry."""
    tw, th = int(meta["input.width"]), int(meta["input.height"])
    h, w = image.shape
    cw, ch, ox, oy = geometry(w, h, tw, th, meta["preprocess.resize"])
    resize = resize_area if meta["preprocess.resampling"] == "area" else resize_bilinear
    canvas = np.full((th, tw), F(float(meta.get("preprocess.pad_value", "0"))), dtype=F)
    canvas[oy:oy + ch, ox:ox + cw] = resize(image, cw, ch)
    return normalise(canvas, meta)[None, None], (cw, ch, ox, oy)


def fill_holes(mask):
    """Background not 4-connected to the border becomes lesion (Mask.fillingHoles)."""
    h, w = mask.shape
    padded = np.zeros((h + 2, w + 2), dtype=np.uint8)
    padded[1:-1, 1:-1] = mask
    outside = np.zeros_like(padded, dtype=bool)
    outside[0, 0] = True
    queue = collections.deque([(0, 0)])
    H, W = h + 2, w + 2
    while queue:
        y, x = queue.popleft()
        for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
            if 0 <= ny < H and 0 <= nx < W and not outside[ny, nx] and padded[ny, nx] == 0:
                outside[ny, nx] = True
                queue.append((ny, nx))
    return (~outside[1:-1, 1:-1]).astype(np.uint8)


def largest_component(mask):
    """The largest 8-connected region; ties: the first found in raster order."""
    h, w = mask.shape
    labels = np.zeros(mask.shape, dtype=np.int32)
    best, best_area, label = 0, 0, 0
    for y0, x0 in zip(*np.nonzero(mask)):
        if labels[y0, x0]:
            continue
        label += 1
        labels[y0, x0] = label
        queue, area = collections.deque([(y0, x0)]), 0
        while queue:
            y, x = queue.popleft()
            area += 1
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ny, nx = y + dy, x + dx
                    if 0 <= ny < h and 0 <= nx < w and mask[ny, nx] and not labels[ny, nx]:
                        labels[ny, nx] = label
                        queue.append((ny, nx))
        if area > best_area:
            best, best_area = label, area
    return (labels == best).astype(np.uint8) if best else mask


def session(model, threads):
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def predict(sess, image_path):
    """(probability at the image's size, probability at network resolution, network input, metadata)."""
    meta = dict(sess.get_modelmeta().custom_metadata_map)
    if meta.get("sonoseg.kind") != "segmenter":
        raise ValueError("not a segmenter export")
    image = grey(image_path)
    x, (cw, ch, ox, oy) = preprocess(image, meta)
    net = sess.run([meta.get("output.name", "probability")], {meta.get("input.name", "image"): x})[0]
    content = np.ascontiguousarray(net[0, 0, oy:oy + ch, ox:ox + cw])
    h, w = image.shape
    return resize_bilinear(content, w, h), net, x, meta


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("image")
    ap.add_argument("out_mask", nargs="?")
    ap.add_argument("--prob", help="also write the probability at the image's size as .npy (float32)")
    ap.add_argument("--threshold", type=float, help="instead of the model's postprocess.threshold")
    ap.add_argument("--no-fill-holes", action="store_true")
    ap.add_argument("--largest-component", action="store_true")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()

    sess = session(args.model, args.threads)
    meta = dict(sess.get_modelmeta().custom_metadata_map)
    if meta.get("sonoseg.kind") == "classifier":
        if "preprocess.crop_margin" in meta:
            sys.exit("onnx_predict: this classifier reads a window around the lesion (preprocess.crop_*); "
                     "this script feeds whole images only")
        x, _ = preprocess(grey(args.image), meta)
        p = sess.run(["class_probabilities"], {"image": x})[0][0]
        print(json.dumps(dict(zip(json.loads(meta["class_names"]), map(float, p)))))
        return
    if not args.out_mask:
        ap.error("OUT_MASK.png is needed for a segmenter")
    prob, _, _, meta = predict(sess, args.image)
    threshold = F(args.threshold if args.threshold is not None else float(meta["postprocess.threshold"]))
    mask = (prob >= threshold).astype(np.uint8)
    if not args.no_fill_holes and meta.get("postprocess.fill_holes", "true") == "true":
        mask = fill_holes(mask)
    if args.largest_component:
        mask = largest_component(mask)
    Image.fromarray(mask * 255, mode="L").save(args.out_mask)
    if args.prob:
        np.save(args.prob, prob)
    print(f"{args.out_mask}: {int(mask.sum())} lesion pixels of {mask.size}")


if __name__ == "__main__":
    main()

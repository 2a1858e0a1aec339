#!/usr/bin/env python3
"""Writes PyTorch reference values for SonoSeg's golden tests.

  python3 scripts/golden/make_golden.py

Outputs (small, seeded, deterministic; rerun only when adding cases):
  Tests/SonoTensorTests/Fixtures/golden_ops.json   conv, transposed conv, pooling, batch norm, resize,
                                                   softmax, group/instance/layer norm (forward values)
  Tests/SonoNNTests/Fixtures/golden_losses.json    every loss: value and gradient w.r.t. the logits

Each case: {"name", "op", "params": {key: [numbers]}, "inputs": {key: tensor}, "expected": {key: tensor}}
with tensor = {"shape": [...], "data": [row-major floats]}. Values are float32 computed on the CPU.
Losses PyTorch lacks (soft Dice, Tversky, pixel-wise KL, focal) are written out here from their published
formulas with torch ops, so the reference is independent of SonoSeg's fused kernels.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(1234)
torch.set_default_dtype(torch.float32)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def t(x):
    x = x.detach().to(torch.float32).contiguous()
    return {"shape": list(x.shape), "data": [float("%.7g" % v) for v in x.reshape(-1).tolist()]}


def rnd(*shape, lo=-1.0, hi=1.0):
    return torch.rand(*shape) * (hi - lo) + lo


def case(name, op, inputs, expected, **params):
    ps = {k: (list(map(float, v)) if isinstance(v, (list, tuple)) else [float(v)]) for k, v in params.items()}
    return {"name": name, "op": op, "params": ps, "inputs": {k: t(v) for k, v in inputs.items()},
            "expected": {k: t(v) for k, v in expected.items()}}


def ops_cases():
    cs = []
    # --- convolution: stride / padding / dilation / groups / bias
    for name, (n, c, h, w, o, k, s, p, d, g, bias) in {
        "conv_basic": (2, 3, 7, 7, 4, 3, 1, 1, 1, 1, True),
        "conv_stride2_nobias": (1, 3, 8, 9, 5, 3, 2, 0, 1, 1, False),
        "conv_dilated_grouped": (1, 4, 8, 8, 6, 3, 1, 2, 2, 2, True),
        "conv_blocked_16to16": (1, 16, 4, 4, 16, 3, 2, 1, 1, 1, True),
        "conv_depthwise_16": (1, 16, 5, 5, 16, 3, 1, 1, 1, 16, True),
    }.items():
        x, wt = rnd(n, c, h, w), rnd(o, c // g, k, k, lo=-0.5, hi=0.5)
        b = rnd(o) if bias else None
        y = F.conv2d(x, wt, b, stride=s, padding=p, dilation=d, groups=g)
        ins = {"x": x, "weight": wt}
        if bias:
            ins["bias"] = b
        cs.append(case(name, "conv2d", ins, {"y": y}, stride=[s, s], padding=[p, p], dilation=[d, d], groups=g))
    # --- transposed convolution: k2 s2 (U-Net up-sampling), k3 s2 p1 output_padding 1
    for name, (n, c, h, w, o, k, s, p, op) in {
        "deconv_k2_s2": (2, 3, 4, 5, 4, 2, 2, 0, 0),
        "deconv_k3_s2_outpad1": (1, 4, 4, 4, 3, 3, 2, 1, 1),
        "deconv_blocked_k2_s2": (1, 16, 2, 2, 16, 2, 2, 0, 0),
    }.items():
        x, wt, b = rnd(n, c, h, w), rnd(c, o, k, k, lo=-0.5, hi=0.5), rnd(o)
        y = F.conv_transpose2d(x, wt, b, stride=s, padding=p, output_padding=op)
        cs.append(case(name, "conv_transpose2d", {"x": x, "weight": wt, "bias": b}, {"y": y},
                       stride=[s, s], padding=[p, p], output_padding=[op, op]))
    # --- pooling
    x = rnd(2, 3, 7, 8)
    xb = rnd(1, 16, 4, 4)
    cs.append(case("maxpool_k2", "max_pool2d", {"x": x}, {"y": F.max_pool2d(x, 2)}, kernel=[2, 2], stride=[2, 2], padding=[0, 0]))
    cs.append(case("maxpool_k3_s2_p1", "max_pool2d", {"x": x}, {"y": F.max_pool2d(x, 3, 2, 1)}, kernel=[3, 3], stride=[2, 2], padding=[1, 1]))
    cs.append(case("maxpool_blocked", "max_pool2d", {"x": xb}, {"y": F.max_pool2d(xb, 2)}, kernel=[2, 2], stride=[2, 2], padding=[0, 0]))
    for inc in (True, False):
        cs.append(case("avgpool_k3_s2_p1_include%d" % inc, "avg_pool2d", {"x": x},
                       {"y": F.avg_pool2d(x, 3, 2, 1, count_include_pad=inc)},
                       kernel=[3, 3], stride=[2, 2], padding=[1, 1], count_include_pad=int(inc)))
    cs.append(case("avgpool_blocked_k2", "avg_pool2d", {"x": xb}, {"y": F.avg_pool2d(xb, 2)},
                   kernel=[2, 2], stride=[2, 2], padding=[0, 0], count_include_pad=1))
    # --- batch norm: training (batch statistics) and eval (running statistics)
    for name, shape in {"bn_plain": (3, 4, 5, 5), "bn_blocked": (2, 16, 3, 4)}.items():
        x = rnd(*shape, lo=-2, hi=3)
        c = shape[1]
        gamma, beta = rnd(c, lo=0.5, hi=1.5), rnd(c)
        rm, rv = rnd(c, lo=-0.5, hi=0.5), rnd(c, lo=0.5, hi=2)
        ytrain = F.batch_norm(x, None, None, gamma, beta, training=True, eps=1e-5)
        yeval = F.batch_norm(x, rm, rv, gamma, beta, training=False, eps=1e-5)
        cs.append(case(name + "_train", "batch_norm_train", {"x": x, "weight": gamma, "bias": beta},
                       {"y": ytrain, "mean": x.mean(dim=(0, 2, 3)), "var": x.var(dim=(0, 2, 3), unbiased=False)}, eps=1e-5))
        cs.append(case(name + "_eval", "batch_norm_eval",
                       {"x": x, "weight": gamma, "bias": beta, "running_mean": rm, "running_var": rv}, {"y": yeval}, eps=1e-5))
    # --- resize (align_corners=False)
    x = rnd(2, 3, 4, 5)
    for mode in ("bilinear", "nearest"):
        kw = {"align_corners": False} if mode == "bilinear" else {}
        cs.append(case("upsample2_" + mode, "resize", {"x": x},
                       {"y": F.interpolate(x, scale_factor=2, mode=mode, **kw)}, size=[8, 10], mode=int(mode == "bilinear")))
        cs.append(case("resize_5x7_to_8x11_" + ("nearest_exact" if mode == "nearest" else mode), "resize", {"x": rnd(1, 2, 5, 7)}, {}, size=[8, 11], mode=int(mode == "bilinear")))
        last = cs[-1]
        xi = torch.tensor(last["inputs"]["x"]["data"]).reshape(last["inputs"]["x"]["shape"])
        # oneDNN's nearest picks floor((dst + 0.5) · in/out), PyTorch's "nearest-exact"; legacy "nearest"
        # (floor(dst · in/out)) agrees only for integer factors, which the upsample2 cases cover.
        exact = "nearest-exact" if mode == "nearest" else mode
        last["expected"]["y"] = t(F.interpolate(xi, size=(8, 11), mode=exact, **kw))
        cs.append(case("upsample2_blocked_" + mode, "resize", {"x": xb},
                       {"y": F.interpolate(xb, scale_factor=2, mode=mode, **kw)}, size=[8, 8], mode=int(mode == "bilinear")))
    # --- softmax
    x = rnd(2, 3, 4, 5, lo=-4, hi=4)
    cs.append(case("softmax_axis1", "softmax", {"x": x}, {"y": F.softmax(x, dim=1)}, axis=1))
    cs.append(case("log_softmax_last", "log_softmax", {"x": x}, {"y": F.log_softmax(x, dim=-1)}, axis=-1))
    cs.append(case("softmax_blocked_axis1", "softmax", {"x": xb * 3}, {"y": F.softmax(xb * 3, dim=1)}, axis=1))
    logits = rnd(20, 3, lo=-5, hi=5)
    cs.append(case("log_softmax_rows", "log_softmax", {"x": logits}, {"y": F.log_softmax(logits, dim=1)}, axis=1))
    # --- group / instance / layer norm
    x = rnd(2, 16, 3, 4, lo=-2, hi=3)
    gamma, beta = rnd(16, lo=0.5, hi=1.5), rnd(16)
    cs.append(case("group_norm_g4", "group_norm", {"x": x, "weight": gamma, "bias": beta},
                   {"y": F.group_norm(x, 4, gamma, beta, eps=1e-5)}, groups=4, eps=1e-5))
    cs.append(case("instance_norm", "group_norm", {"x": x, "weight": gamma, "bias": beta},
                   {"y": F.instance_norm(x, weight=gamma, bias=beta, eps=1e-5)}, groups=16, eps=1e-5))
    x3 = rnd(2, 6, 5, lo=-1, hi=4)
    g6, b6 = rnd(6, lo=0.5, hi=1.5), rnd(6)
    cs.append(case("group_norm_3d_g3", "group_norm", {"x": x3, "weight": g6, "bias": b6},
                   {"y": F.group_norm(x3, 3, g6, b6, eps=1e-5)}, groups=3, eps=1e-5))
    x = rnd(3, 4, 5, lo=-2, hi=3)
    g, b = rnd(4, 5, lo=0.5, hi=1.5), rnd(4, 5)
    cs.append(case("layer_norm_last2", "layer_norm", {"x": x, "weight": g, "bias": b},
                   {"y": F.layer_norm(x, (4, 5), g, b, eps=1e-5)}, dims=2, eps=1e-5))
    x = rnd(5, 40, lo=-2, hi=3)
    g, b = rnd(40, lo=0.5, hi=1.5), rnd(40)
    cs.append(case("layer_norm_last1", "layer_norm", {"x": x, "weight": g, "bias": b},
                   {"y": F.layer_norm(x, (40,), g, b, eps=1e-5)}, dims=1, eps=1e-5))
    return cs


def loss_case(name, op, logits, fn, extra=None, **params):
    x = logits.clone().requires_grad_(True)
    loss = fn(x)
    loss.backward()
    ins = {"logits": logits}
    ins.update(extra or {})
    return case(name, op, ins, {"loss": loss.reshape(1), "grad": x.grad}, **params)


def soft_dice(x, y, smooth, exclude_empty=False):
    p = torch.sigmoid(x).flatten(1)
    y = y.flatten(1)
    score = (2 * (p * y).sum(1) + smooth) / (p.sum(1) + y.sum(1) + smooth)
    per = 1 - score
    if exclude_empty:
        keep = (y.sum(1) > 0).float()
        return (per * keep).sum() / keep.sum()
    return per.mean()


def tversky(x, y, alpha, beta, smooth):
    p = torch.sigmoid(x).flatten(1)
    y = y.flatten(1)
    tp = (p * y).sum(1)
    fp = (p * (1 - y)).sum(1)
    fn = ((1 - p) * y).sum(1)
    return (1 - (tp + smooth) / (tp + alpha * fp + beta * fn + smooth)).mean()


def focal(x, y, alpha, gamma):
    # torchvision.ops.sigmoid_focal_loss, reduction="mean"
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return loss.mean()


def pixel_kl(logits, target, eps):
    p = F.softmax(logits, dim=1)
    kl = (target * (torch.log(target + eps) - torch.log(p + eps))).sum(1)
    return kl.mean()


def loss_cases():
    cs = []
    x = rnd(3, 1, 6, 7, lo=-4, hi=4)
    y = (torch.rand(3, 1, 6, 7) > 0.6).float()
    y[1] = 0  # an image without lesion
    w = rnd(3, 1, 6, 7, lo=0.5, hi=2)
    m = {"target": y}
    cs.append(loss_case("bce", "bce", x, lambda v: F.binary_cross_entropy_with_logits(v, y), m))
    cs.append(loss_case("bce_weighted_posweight", "bce", x,
                        lambda v: F.binary_cross_entropy_with_logits(v, y, weight=w, pos_weight=torch.tensor(3.0)),
                        {"target": y, "weight": w}, positive_weight=3))
    cs.append(loss_case("dice_smooth1", "dice", x, lambda v: soft_dice(v, y, 1.0), m, smooth=1, exclude=0))
    cs.append(loss_case("dice_exclude_empty", "dice", x, lambda v: soft_dice(v, y, 1.0, True), m, smooth=1, exclude=1))
    cs.append(loss_case("bce_dice", "bce_dice", x,
                        lambda v: 0.5 * F.binary_cross_entropy_with_logits(v, y, pos_weight=torch.tensor(2.0)) + 2 * soft_dice(v, y, 1.0),
                        m, bce_weight=0.5, dice_weight=2, smooth=1, positive_weight=2))
    cs.append(loss_case("tversky", "tversky", x, lambda v: tversky(v, y, 0.3, 0.7, 1.0), m, alpha=0.3, beta=0.7, smooth=1))
    cs.append(loss_case("focal", "focal", x, lambda v: focal(v, y, 0.25, 2.0), m, alpha=0.25, gamma=2))
    soft = torch.rand(3, 1, 6, 7)
    cs.append(loss_case("focal_soft_noalpha", "focal", x, lambda v: focal(v, soft, -1, 1.5), {"target": soft}, alpha=-1, gamma=1.5))
    two = torch.cat([torch.zeros_like(x), x], 1)
    cs.append(loss_case("kld_binary", "kld_binary", x,
                        lambda v: pixel_kl(torch.cat([torch.zeros_like(v), v], 1), torch.cat([1 - y, y], 1), 1e-6), m, epsilon=1e-6))
    logits4 = rnd(2, 2, 5, 6, lo=-3, hi=3)
    target4 = F.softmax(rnd(2, 2, 5, 6, lo=-3, hi=3), dim=1)
    cs.append(loss_case("kld_two_channel", "kld", logits4, lambda v: pixel_kl(v, target4, 1e-6), {"target": target4}, epsilon=1e-6))
    del two
    lk = rnd(6, 4, lo=-3, hi=3)
    cls = torch.tensor([0, 3, 1, 1, 2, 3])
    cw = torch.tensor([1.0, 2.0, 0.5, 3.0])
    cs.append(loss_case("cross_entropy_weighted", "cross_entropy", lk, lambda v: F.cross_entropy(v, cls, weight=cw),
                        {"targets": cls.float(), "class_weights": cw}))
    cls_ign = torch.tensor([0, 3, -100, 1, 2, -100])
    cs.append(loss_case("cross_entropy_ignore", "cross_entropy", lk, lambda v: F.cross_entropy(v, cls_ign, ignore_index=-100),
                        {"targets": cls_ign.float()}, ignore_index=-100))
    lp = rnd(2, 3, 4, 5, lo=-3, hi=3)
    clsp = torch.randint(0, 3, (2, 4, 5))
    cwp = torch.tensor([0.5, 1.0, 2.5])
    cs.append(loss_case("cross_entropy_pixelwise", "cross_entropy", lp, lambda v: F.cross_entropy(v, clsp, weight=cwp),
                        {"targets": clsp.reshape(-1).float(), "class_weights": cwp}))
    pred, tgt = rnd(4, 5), rnd(4, 5)
    cs.append(loss_case("mse", "mse", pred, lambda v: F.mse_loss(v, tgt), {"target": tgt}))
    cs.append(loss_case("l1", "l1", pred, lambda v: F.l1_loss(v, tgt), {"target": tgt}))
    d = rnd(4, 1, lo=-3, hi=3)
    dreal = rnd(4, 1, lo=-3, hi=3)
    cs.append(loss_case("gan_generator", "gan_generator", d, lambda v: -F.logsigmoid(v).mean()))
    cs.append(loss_case("gan_discriminator", "gan_discriminator", d,
                        lambda v: -F.logsigmoid(dreal).mean() - torch.log1p(-torch.sigmoid(v)).mean(), {"real": dreal}))
    # BatchNorm layer: running statistics after one training step (momentum 0.1, unbiased running variance)
    bn = torch.nn.BatchNorm2d(4)
    xb = rnd(3, 4, 5, 5, lo=-2, hi=3)
    ybn = bn(xb)
    cs.append(case("batchnorm_layer_running_stats", "batchnorm_layer", {"x": xb},
                   {"y": ybn, "running_mean": bn.running_mean, "running_var": bn.running_var}))
    return cs


def write(path, cases):
    path = os.path.normpath(os.path.join(ROOT, path))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump({"generator": "scripts/golden/make_golden.py", "torch": torch.__version__, "cases": cases}, f,
                  separators=(",", ":"))
    print("%s: %d cases, %d bytes" % (path, len(cases), os.path.getsize(path)))


if __name__ == "__main__":
    write("Tests/SonoTensorTests/Fixtures/golden_ops.json", ops_cases())
    write("Tests/SonoNNTests/Fixtures/golden_losses.json", loss_cases())

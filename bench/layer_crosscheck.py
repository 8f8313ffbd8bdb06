#!/usr/bin/env python3
"""Cross-check of issue 14's CPU kernels against PyTorch in float64 (outside CI).

    python3 bench/layer_crosscheck.py            # builds and runs bench/LayerCheck, then compares
    python3 bench/layer_crosscheck.py --kiln F   # compares a file LayerCheck already wrote

LayerCheck writes seeded inputs with Kiln's outputs and gradients (float32); this script recomputes each layer with
torch in float64 on the same inputs (gradients by autograd of sum(y * dy)) and prints, per tensor, the largest absolute
difference and the largest difference relative to max|torch|. Keras' formulas are followed where torch differs:
BatchNormalization's moving variance uses the biased batch variance (torch's running_var would use the unbiased one),
and moving = moving * momentum + batch * (1 - momentum) (torch's momentum is 1 - Keras'). Exits 1 when a relative
difference exceeds 1e-5 (forward) or 1e-4 (gradients).
"""
import argparse
import os
import struct
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MOMENTUM, EPSILON = 0.99, 1e-3


def read_records(path):
    records = {}
    with open(path, "rb") as f:
        data = f.read()
    at = 0
    while at < len(data):
        (length,) = struct.unpack_from("<i", data, at)
        at += 4
        name = data[at:at + length].decode("utf-8")
        at += length
        (rank,) = struct.unpack_from("<i", data, at)
        at += 4
        dims = struct.unpack_from(f"<{rank}i", data, at)
        at += 4 * rank
        count = 1
        for d in dims:
            count *= d
        values = struct.unpack_from(f"<{count}f", data, at)
        at += 4 * count
        records[name] = torch.tensor(values, dtype=torch.float64).reshape(dims)
    return records


class Table:
    def __init__(self):
        self.worst = []

    def compare(self, name, kiln, reference, limit):
        reference = reference.detach()
        diff = (kiln - reference).abs().max().item() if kiln.numel() else 0.0
        scale = reference.abs().max().item() if reference.numel() else 0.0
        relative = diff / scale if scale > 0 else diff
        ok = relative <= limit
        self.worst.append(ok)
        print(f"  {'ok  ' if ok else 'FAIL'} {name:34s} max|diff| {diff:9.2e}   relative to max|torch| {relative:9.2e}   (n {kiln.numel()})")


def gradients(y, dy, *inputs):
    return torch.autograd.grad((y * dy).sum(), inputs)


def batch_norm(r, t, name):
    x = r[f"{name}.x"].clone().requires_grad_()
    gamma = r[f"{name}.gamma"].clone().requires_grad_() if r[f"{name}.gamma"].numel() else None
    beta = r[f"{name}.beta"].clone().requires_grad_() if r[f"{name}.beta"].numel() else None
    c = x.shape[-1]
    rows = x.reshape(-1, c)
    y = F.batch_norm(rows, None, None, gamma, beta, training=True, eps=EPSILON).reshape(x.shape)
    mean = rows.mean(0)
    variance = rows.var(0, unbiased=False)
    moving_mean = r[f"{name}.moving_mean_in"] * MOMENTUM + mean * (1 - MOMENTUM)
    moving_variance = r[f"{name}.moving_variance_in"] * MOMENTUM + variance * (1 - MOMENTUM)
    inference = F.batch_norm(rows.detach(), moving_mean.detach(), moving_variance.detach(),
                             None if gamma is None else gamma.detach(), None if beta is None else beta.detach(),
                             training=False, eps=EPSILON).reshape(x.shape)
    named = [(k, v) for k, v in (("x", x), ("gamma", gamma), ("beta", beta)) if v is not None]
    grads = dict(zip([k for k, _ in named], gradients(y, r[f"{name}.dy"], *[v for _, v in named])))
    print(f"{name}: BatchNormalization training, x {tuple(x.shape)}, scale {gamma is not None}, center {beta is not None}")
    t.compare("y", r[f"{name}.y"], y, 1e-5)
    t.compare("moving_mean (Keras update)", r[f"{name}.moving_mean"], moving_mean, 1e-5)
    t.compare("moving_variance (biased, Keras)", r[f"{name}.moving_variance"], moving_variance, 1e-5)
    t.compare("y inference (moving stats)", r[f"{name}.y_inference"], inference, 1e-5)
    t.compare("dx", r[f"{name}.dx"], grads["x"], 1e-4)
    if gamma is not None:
        t.compare("dgamma", r[f"{name}.dgamma"], grads["gamma"], 1e-4)
    if beta is not None:
        t.compare("dbeta", r[f"{name}.dbeta"], grads["beta"], 1e-4)


def avg_pool(r, t, name):
    x = r[f"{name}.x"].clone().requires_grad_()
    pool, stride, top, left = (int(v) for v in r[f"{name}.geometry"].tolist())
    out_h, out_w = r[f"{name}.y"].shape[1:3]
    bottom = max((out_h - 1) * stride + pool - x.shape[1] - top, 0)
    right = max((out_w - 1) * stride + pool - x.shape[2] - left, 0)
    nchw = x.permute(0, 3, 1, 2)
    # Keras' same: the mean of the cells inside the input = sum pool / count pool over the explicitly padded input.
    padded = F.pad(nchw, (left, right, top, bottom))
    ones = F.pad(torch.ones_like(nchw[:, :1]), (left, right, top, bottom))
    sums = F.avg_pool2d(padded, pool, stride) * pool * pool
    counts = F.avg_pool2d(ones, pool, stride) * pool * pool
    y = (sums / counts).permute(0, 2, 3, 1)
    (dx,) = gradients(y, r[f"{name}.dy"], x)
    print(f"{name}: AveragePooling2D pool {pool} stride {stride} padding ({top}, {left} | {bottom}, {right}), x {tuple(x.shape)}")
    t.compare("y", r[f"{name}.y"], y, 1e-5)
    t.compare("dx", r[f"{name}.dx"], dx, 1e-4)


def global_pools(r, t, name):
    x = r[f"{name}.x"].clone().requires_grad_()
    dy = r[f"{name}.dy"]
    print(f"{name}: GlobalAveragePooling2D and GlobalMaxPooling2D, x {tuple(x.shape)}")
    y = x.mean(dim=(1, 2))
    (dx,) = gradients(y, dy, x)
    t.compare("average y", r[f"{name}.avg_y"], y, 1e-5)
    t.compare("average dx", r[f"{name}.avg_dx"], dx, 1e-4)
    y = x.amax(dim=(1, 2))
    (dx,) = gradients(y, dy, x)
    t.compare("max y", r[f"{name}.max_y"], y, 1e-5)
    t.compare("max dx", r[f"{name}.max_dx"], dx, 1e-4)


ACTIVATIONS = {
    "relu": lambda x, a: F.relu(x),
    "sigmoid": lambda x, a: torch.sigmoid(x),
    "tanh": lambda x, a: torch.tanh(x),
    "leakyrelu": lambda x, a: F.leaky_relu(x, a),
    "elu": lambda x, a: F.elu(x, a),
    "gelu": lambda x, a: F.gelu(x),  # exact (erf), Keras' approximate=False
    "swish": lambda x, a: F.silu(x),
    "softplus": lambda x, a: F.softplus(x, threshold=1000.0),  # no linear cut-off: the exact function
}


def activation(r, t, name):
    kind = name.split("_")[1]
    x = r[f"{name}.x"].clone().requires_grad_()
    alpha = r[f"{name}.alpha"].item()
    y = ACTIVATIONS[kind](x, alpha)
    (dx,) = gradients(y, r[f"{name}.dy"], x)
    print(f"{name}: {kind} (alpha {alpha:.3g}) on {x.numel()} values in [-12, 12]")
    t.compare("y", r[f"{name}.y"], y, 1e-5)
    t.compare("dx", r[f"{name}.dx"], dx, 1e-4)


def rescaling(r, t, name):
    x = r[f"{name}.x"].clone().requires_grad_()
    scale, offset = r[f"{name}.scale_offset"].tolist()
    y = x * scale + offset
    (dx,) = gradients(y, r[f"{name}.dy"], x)
    print(f"{name}: Rescaling(scale {scale:.6g}, offset {offset:g})")
    t.compare("y", r[f"{name}.y"], y, 1e-5)
    t.compare("dx", r[f"{name}.dx"], dx, 1e-4)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiln", help="a file bench/LayerCheck wrote (default: build and run it now)")
    args = parser.parse_args()
    path = args.kiln
    if path is None:
        path = os.path.join(tempfile.mkdtemp(), "kiln_layers.bin")
        subprocess.run(["dotnet", "run", "--project", os.path.join(ROOT, "bench", "LayerCheck"), "-c", "Release", "--", path],
                       check=True)
    r = read_records(path)
    t = Table()
    print(f"torch {torch.__version__}, float64 references; Kiln float32 kernels (Kiln.Runtime.Cpu)")
    for name in sorted({k.split(".")[0] for k in r}):
        if name.startswith("bn_"):
            batch_norm(r, t, name)
        elif name.startswith("avgpool"):
            avg_pool(r, t, name)
        elif name == "global":
            global_pools(r, t, name)
        elif name.startswith("act_"):
            activation(r, t, name)
        elif name == "rescaling":
            rescaling(r, t, name)
    failed = t.worst.count(False)
    print(f"{len(t.worst) - failed} of {len(t.worst)} comparisons within tolerance")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The PyTorch peer for Kiln's benchmarks: the same networks, optimizer and batch sizes.

Usage: pytorch_peer.py mnist DIR [--images N] [--threads T] [--device D]   one training epoch of the workshop CNN
       pytorch_peer.py iris [--steps N] [--threads T] [--device D]           Iris Dense 10-10-3 training steps, batch 32
--device cpu (default) or cuda: on cuda the data is resident on the card, a few warm-up steps run first, and the
clock stops after torch.cuda.synchronize().
Prints one line of key=value pairs (no spaces in values) that bench/ parses. Never a dependency of Kiln.
"""
import argparse, gzip, os, resource, struct, sys, time

import torch
import torch.nn as nn


def read_idx(path):
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 0x803:
        rows, cols = struct.unpack(">II", data[8:16])
        return torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8).reshape(count, rows, cols)
    return torch.frombuffer(bytearray(data[8:]), dtype=torch.uint8).long()


def find(directory, stem):
    for name in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(directory, name)):
            return os.path.join(directory, name)
    sys.exit(f"missing {stem} in {directory}")


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def describe(device):
    if device.type != "cuda":
        return f"device={device.type}"
    return f"device={device} gpu={torch.cuda.get_device_name(device).replace(' ', '_')} cuda={torch.version.cuda}"


def mnist(args, device):
    x = read_idx(find(args.dir, "train-images-idx3-ubyte")).float().div(255).unsqueeze(1)
    y = read_idx(find(args.dir, "train-labels-idx1-ubyte"))
    repeat = -(-args.images // len(x))
    x, y = x.repeat(repeat, 1, 1, 1)[: args.images].to(device), y.repeat(repeat)[: args.images].to(device)
    torch.manual_seed(1)
    # Keras 'same' padding for odd kernels and even pools on even sizes is symmetric, so padding=2 / 0 match.
    if args.task == "modern":  # examples/Mnist/ModernCnn.cs: Conv-BN-ReLU blocks, global average pooling
        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout, eps=1e-3, momentum=0.1), nn.ReLU()]
        net = nn.Sequential(*block(1, 16), nn.MaxPool2d(2), *block(16, 32), nn.MaxPool2d(2), *block(32, 64),
                            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)).to(device)
    else:
        net = nn.Sequential(
            nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Flatten(), nn.Linear(1568, 128), nn.ReLU(), nn.Dropout(0.4), nn.Linear(128, 10)).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    perm = torch.randperm(len(x), device=device)

    def step(idx):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x[idx]), y[idx])
        loss.backward()
        opt.step()
        return loss

    if device.type == "cuda":  # CUDA context, cuDNN and allocator warm-up stay outside the clock
        for i in range(0, 5 * args.batch, args.batch):
            step(perm[i : i + args.batch])
        sync(device)
    start = time.perf_counter()
    for i in range(0, len(x), args.batch):
        loss = step(perm[i : i + args.batch])
    sync(device)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peer=pytorch torch={torch.__version__} threads={torch.get_num_threads()} {describe(device)} images={len(x)} "
          f"seconds={seconds:.3f} images_per_second={len(x) / seconds:.0f} peak_mb={peak_mb:.0f} final_loss={loss.item():.4f}")


def iris(args, device):
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(4, 10), nn.ReLU(), nn.Linear(10, 10), nn.ReLU(), nn.Linear(10, 3)).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    x, y = (torch.rand(32, 4) * 7).to(device), torch.randint(0, 3, (32,)).to(device)
    for _ in range(200):  # warm-up
        opt.zero_grad(set_to_none=True); loss_fn(net(x), y).backward(); opt.step()
    sync(device)
    start = time.perf_counter()
    for _ in range(args.steps):
        opt.zero_grad(set_to_none=True); loss_fn(net(x), y).backward(); opt.step()
    sync(device)
    seconds = time.perf_counter() - start
    print(f"peer=pytorch torch={torch.__version__} threads={torch.get_num_threads()} {describe(device)} steps={args.steps} "
          f"us_per_step={seconds / args.steps * 1e6:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("task", choices=["mnist", "modern", "iris"])
    parser.add_argument("dir", nargs="?")
    parser.add_argument("--images", type=int, default=60000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    iris(args, device) if args.task == "iris" else mnist(args, device)

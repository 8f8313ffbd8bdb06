#!/usr/bin/env python3
"""The PyTorch peer for Kiln's benchmarks: the same networks, optimizer and batch sizes.

Usage: pytorch_peer.py mnist DIR [--images N] [--threads T] [--device D]   one training epoch of the workshop CNN
       pytorch_peer.py modern DIR [--images N] [--batch B]                   the same with examples/Mnist/ModernCnn.cs
       pytorch_peer.py net DIR --network NAME [--images N] [--batch B] [--infer-seconds S]
                                                                             one network of NETS (bench/Harness nets):
                                                                             an epoch in order, then inference at batch 128
       pytorch_peer.py iris [--steps N] [--threads T] [--device D]           Iris Dense 10-10-3 training steps, batch 32
--device cpu (default) or cuda: on cuda the data is resident on the card, a few warm-up steps run first, and the
clock stops after torch.cuda.synchronize().
Prints one line of key=value pairs (no spaces in values) that bench/ parses. Never a dependency of Kiln.
"""
import argparse, copy, gzip, os, resource, struct, sys, time

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


class Rescaling(nn.Module):
    """Keras' Rescaling layer: x * scale + offset."""

    def __init__(self, scale, offset=0.0):
        super().__init__()
        self.scale, self.offset = scale, offset

    def forward(self, x):
        return x * self.scale + self.offset


def conv_bn_relu(cin, cout, keras_momentum=0.99):
    # Keras' BatchNormalization: epsilon 1e-3; PyTorch's momentum is the weight of the batch, 1 - Keras' momentum.
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout, eps=1e-3, momentum=1 - keras_momentum),
            nn.ReLU()]


# The networks of bench/Harness/Networks.cs (and the examples' two), layer for layer in the same order. Keras 'same'
# padding for odd kernels at stride 1 is symmetric: padding=k//2. Softmax is left to CrossEntropyLoss.
NETS = {
    "workshop": lambda: nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1568, 128), nn.ReLU(), nn.Dropout(0.4), nn.Linear(128, 10)),
    "modern": lambda: nn.Sequential(
        *conv_bn_relu(1, 16, 0.9), nn.MaxPool2d(2), *conv_bn_relu(16, 32, 0.9), nn.MaxPool2d(2),
        *conv_bn_relu(32, 64, 0.9), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)),
    "keras-mnist-convnet": lambda: nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(1600, 10)),
    "pytorch-mnist": lambda: nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10)),
    "lenet5": lambda: nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10)),
    "tf-classification": lambda: nn.Sequential(
        Rescaling(1 / 255), nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(576, 128), nn.ReLU(), nn.Linear(128, 10)),
    "small-vgg": lambda: nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10)),
    "vgg-bn": lambda: nn.Sequential(
        *conv_bn_relu(1, 32), *conv_bn_relu(32, 32), nn.MaxPool2d(2),
        *conv_bn_relu(32, 64), *conv_bn_relu(64, 64), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10)),
}


# Networks that rescale raw 0-255 pixels themselves, as their tutorial feeds them (bench/Harness's PixelScale).
RAW_PIXELS = {"tf-classification"}


def build(name):
    return NETS[name]()


def keras_count(net):
    """Parameters as Keras counts them: trainable ones plus BatchNorm's moving mean and variance."""
    moving = sum(b.numel() for n, b in net.named_buffers() if n.endswith(("running_mean", "running_var")))
    return sum(p.numel() for p in net.parameters()) + moving


def rss_mb(field):
    with open("/proc/self/status") as status:
        line = next(l for l in status if l.startswith(field + ":"))
    return int(line.split()[1]) / 1024


def one_network(args):
    """One epoch of NETS[args.network] over the training images in order, then predictions at batch 128."""
    images = read_idx(find(args.dir, "train-images-idx3-ubyte"))
    x = images.float().unsqueeze(1)
    if args.network not in RAW_PIXELS:
        x.div_(255)
    del images
    y = read_idx(find(args.dir, "train-labels-idx1-ubyte"))
    data_mb = rss_mb("VmRSS")
    torch.manual_seed(1)
    model = build(args.network)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    b, n = args.batch, len(x) // args.batch * args.batch
    steps = args.images // b

    def step(i):
        start = i * b % n
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[start : start + b]), y[start : start + b])
        loss.backward()
        opt.step()
        return loss.item()

    initial = copy.deepcopy(model.state_dict())
    for i in range(3):  # allocator and oneDNN primitives, outside the clock as Kiln's warm-up is
        step(i)
    model.load_state_dict(initial)  # then the epoch starts from the seed's weights and a fresh Adam, as Kiln's does
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    start = time.perf_counter()
    total = sum(step(i) for i in range(steps))
    seconds = time.perf_counter() - start

    model.eval()
    probe = x[:128]
    with torch.no_grad():
        for _ in range(3):
            model(probe)
        calls, clock = 0, time.perf_counter()
        while time.perf_counter() - clock < args.infer_seconds:
            model(probe)
            calls += 1
        infer = calls * 128 / (time.perf_counter() - clock)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peer=pytorch torch={torch.__version__} threads={torch.get_num_threads()} network={args.network} "
          f"params={keras_count(model)} images={steps * b} seconds={seconds:.3f} images_per_second={steps * b / seconds:.1f} "
          f"infer_images_per_second={infer:.1f} peak_mb={peak_mb:.0f} data_mb={data_mb:.0f} loss={total / steps:.4f}")


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
    net = build("modern" if args.task == "modern" else "workshop").to(device)
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
    parser.add_argument("task", choices=["mnist", "modern", "iris", "net"])
    parser.add_argument("dir", nargs="?")
    parser.add_argument("--images", type=int, default=60000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--network", choices=sorted(NETS))
    parser.add_argument("--infer-seconds", type=float, default=2.0)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.task == "net":
        one_network(args)
    elif args.task == "iris":
        iris(args, device)
    else:
        mnist(args, device)

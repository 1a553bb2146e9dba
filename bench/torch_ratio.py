#!/usr/bin/python3
"""Training and inference speed of focusnet against PyTorch, same machine, same run.

For each model it times `focusnet bench train` (our OpenCL kernels) and the
same network written in plain torch.nn, on random data: training images/s
(forward, cross-entropy, backward, SGD step with momentum and weight decay)
and inference images/s (evaluation-mode forward), and prints a table with the
ratios ours / torch, then both rates as useful GFLOP/s (the forward FLOP per
image focusnet counts, training as 3 forwards) and as a share of the CPU's
FP32 peak (cores x clock x FLOP per cycle from /proc/cpuinfo, or --peak).
Rounds alternate ours and PyTorch so that other load on the machine hits
both alike; every number is a median.

Requirements (Debian 12), from the repository root:

    sh tools/setup.sh                                  # builds build/cli/focusnet
    apt-get install python3-torch libopenblas0-pthread # PyTorch (CPU) and a fast BLAS
    /usr/bin/python3 bench/torch_ratio.py

(Debian's python3-torch is for /usr/bin/python3; a pyenv or venv python may not
have torch.) PyTorch runs in its fast configuration: every core
(torch.set_num_threads(os.cpu_count())), oneDNN convolutions, no autograd in
inference (torch.inference_mode), and for each model the faster of the NCHW
and channels-last memory formats, picked by a short trial.

Options: --models lenet5,mobilenetv2,resnet18  --rounds 3  --device D (ours)
  --focusnet PATH  --quick (fewer steps, for a smoke test)
  --torch-device cuda (PyTorch on the GPU; timings wait for the device)
  --tf32 off|default (CUDA: TF32 off in matmuls and cuDNN, or as shipped)
  --batch N --input CxHxW (instead of each model's default)
  --torch-only (skip focusnet: the PyTorch columns only)
"""
import argparse
import datetime
import os
import platform
import re
import statistics
import subprocess
import sys
import time

import torch
import torch.nn as nn

# name: (batch, input C, H, W, classes, steps per timed run)
DEFAULTS = {
    "lenet5": (128, (1, 28, 28), 10, 20),
    "mobilenetv2": (64, (3, 32, 32), 10, 3),
    "resnet18": (64, (3, 32, 32), 10, 2),
}


# ---- The networks, as lib/nn/arch.c builds them ------------------------------

class LeNet5(nn.Module):
    """conv 6@5x5 pad 2, ReLU, max pool 2; conv 16@5x5, ReLU, max pool 2; fc 120, 84, K."""

    def __init__(self, c, h, w, k):
        super().__init__()
        self.conv1 = nn.Conv2d(c, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * ((h // 2 - 4) // 2) * ((w // 2 - 4) // 2), 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, k)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


class BasicBlock(nn.Module):
    def __init__(self, inp, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inp != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inp, planes, 1, stride, bias=False),
                                            nn.BatchNorm2d(planes))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    """torchvision's BasicBlock ResNet-18 with the small-image stem (3x3 s1, no max pool)."""

    def __init__(self, c, h, w, k):
        super().__init__()
        self.conv1 = nn.Conv2d(c, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        blocks, inp = [], 64
        for s, planes in enumerate((64, 128, 256, 512)):
            for b in range(2):
                blocks.append(BasicBlock(inp, planes, 2 if b == 0 and s > 0 else 1))
                inp = planes
        self.layers = nn.Sequential(*blocks)
        self.fc = nn.Linear(512, k)

    def forward(self, x):
        x = self.layers(torch.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def make_divisible(v, d=8):
    nv = max(d, int(v + d / 2) // d * d)
    return nv + d if nv < 0.9 * v else nv


def conv_bn_relu6(inp, oup, k, stride, groups):
    return [nn.Conv2d(inp, oup, k, stride, (k - 1) // 2, groups=groups, bias=False),
            nn.BatchNorm2d(oup), nn.ReLU6(inplace=True)]


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, t):
        super().__init__()
        hidden = int(round(inp * t))
        layers = conv_bn_relu6(inp, hidden, 1, 1, 1) if t != 1 else []
        layers += conv_bn_relu6(hidden, hidden, 3, stride, hidden)
        layers += [nn.Conv2d(hidden, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and inp == oup

    def forward(self, x):
        return x + self.conv(x) if self.residual else self.conv(x)


class MobileNetV2(nn.Module):
    """torchvision's MobileNetV2, width 0.5, the small-image variant (first
    convolution and first stride-2 block at stride 1), no dropout."""

    def __init__(self, c, h, w, k, width=0.5):
        super().__init__()
        setting = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                   (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
        inp = make_divisible(32 * width)
        features = conv_bn_relu6(c, inp, 3, 1, 1)
        first_stride2 = True
        for t, ch, n, s in setting:
            oup = make_divisible(ch * width)
            for i in range(n):
                stride = s if i == 0 else 1
                if stride == 2 and first_stride2:
                    first_stride2, stride = False, 1
                features.append(InvertedResidual(inp, oup, stride, t))
                inp = oup
        features += conv_bn_relu6(inp, 1280, 1, 1, 1)
        self.features = nn.Sequential(*features)
        self.classifier = nn.Linear(1280, k)

    def forward(self, x):
        x = nn.functional.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


NETS = {"lenet5": LeNet5, "resnet18": ResNet18, "mobilenetv2": MobileNetV2}


# ---- Timing ---------------------------------------------------------------------

class TorchBench:
    def __init__(self, name, batch, shape, k, channels_last, device="cpu"):
        torch.manual_seed(0)
        self.batch = batch
        self.device = device
        self.model = NETS[name](*shape, k).to(device)
        self.x = torch.randn(batch, *shape, device=device)
        self.y = torch.randint(0, k, (batch,), device=device)
        if channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
            self.x = self.x.contiguous(memory_format=torch.channels_last)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9,
                                   weight_decay=1e-4)
        self.loss = nn.CrossEntropyLoss()

    def train_step(self):
        self.opt.zero_grad(set_to_none=True)
        self.loss(self.model(self.x), self.y).backward()
        self.opt.step()

    def infer_step(self):
        with torch.inference_mode():
            self.model(self.x)

    def sync(self):
        if self.device != "cpu":
            torch.cuda.synchronize()

    def rate(self, train, steps, warmup, repeat):
        """Median images/s of `repeat` runs of `steps` steps after `warmup` steps."""
        self.model.train(train)
        step = self.train_step if train else self.infer_step
        for _ in range(warmup):
            step()
        self.sync()
        rates = []
        for _ in range(repeat):
            t = time.perf_counter()
            for _ in range(steps):
                step()
            self.sync()  # CUDA runs asynchronously: time the work, not the enqueueing
            rates.append(self.batch * steps / (time.perf_counter() - t))
        return statistics.median(rates)


def ours(args, name, batch, shape, k, steps, warmup, repeat):
    cmd = [args.focusnet, "bench", "train", "--model", name, "--batch", str(batch),
           "--input", "x".join(map(str, shape)), "--classes", str(k), "--steps", str(steps),
           "--warmup", str(warmup), "--repeat", str(repeat)]
    if args.device:
        cmd += ["--device", args.device]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("focusnet bench train failed:\n%s%s" % (out.stdout, out.stderr))
    rate = {}
    for line in out.stdout.splitlines():
        m = re.match(r"(train|inference)\s+([\d.]+) images/s", line)
        if m:
            rate[m.group(1)] = float(m.group(2))
        m = re.match(r"focusnet bench train: .* on (.*)$", line)
        if m:
            args.our_device = m.group(1)
        m = re.search(r"; ([\d.]+) GFLOP forward per image", line)
        if m:
            args.gflop[name] = float(m.group(1))
    return rate["train"], rate["inference"]


def cpu_peak():
    """FP32 peak GFLOP/s of this machine's cores from /proc/cpuinfo: cores x
    clock x FLOP per cycle (two FMA units: 64 with AVX-512, 32 with AVX2 and
    FMA, else 16), and how it was reached. The clock is the one the kernel
    reports (cpu MHz): base or current, not the turbo limit."""
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        return None, "no /proc/cpuinfo"
    flags = set(re.search(r"^flags\s*:(.*)$", info, re.M).group(1).split())
    mhz = float(re.search(r"^cpu MHz\s*:\s*([\d.]+)", info, re.M).group(1))
    per = 64 if "avx512f" in flags else 32 if {"avx2", "fma"} <= flags else 16
    cores = os.cpu_count()
    return (cores * mhz / 1e3 * per,
            "%d cores x %.0f MHz x %d FLOP/cycle (%s)"
            % (cores, mhz, per, "AVX-512" if per == 64 else "AVX2+FMA" if per == 32 else "SSE"))


def blas_name():
    for path in ("/etc/alternatives/libblas.so.3-x86_64-linux-gnu",
                 "/etc/alternatives/libblas.so.3-aarch64-linux-gnu"):
        if os.path.exists(path):
            return os.path.realpath(path)
    return "unknown"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", default="lenet5,mobilenetv2,resnet18")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    p.add_argument("--device", default=None, help="OpenCL device for focusnet")
    p.add_argument("--focusnet", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "build", "cli", "focusnet"))
    p.add_argument("--quick", action="store_true", help="a smoke test: 1 round, fewer steps")
    p.add_argument("--torch-device", default="cpu", help="cpu (default) or cuda")
    p.add_argument("--tf32", choices=("off", "default"), default="default",
                   help="CUDA: TF32 off in matmuls and cuDNN, or PyTorch's defaults")
    p.add_argument("--batch", type=int, default=0, help="batch for every model")
    p.add_argument("--input", default="", help="CxHxW input for every model")
    p.add_argument("--torch-only", action="store_true", help="time PyTorch only")
    p.add_argument("--peak", type=float, default=0,
                   help="FP32 peak GFLOP/s for the fractions (default: from /proc/cpuinfo)")
    args = p.parse_args()
    args.our_device = "?"
    args.gflop = {}
    if args.torch_device != "cpu":
        if not torch.cuda.is_available():
            sys.exit("--torch-device %s: torch.cuda.is_available() is False" % args.torch_device)
        if args.tf32 == "off":
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = True
    if args.torch_only:
        args.our_device = "(not run)"
    elif not os.access(args.focusnet, os.X_OK):
        sys.exit("%s not found: run 'sh tools/setup.sh' first" % args.focusnet)
    threads = os.cpu_count()
    torch.set_num_threads(threads)
    rounds = 1 if args.quick else args.rounds
    load0 = os.getloadavg()[0]

    rows = []
    for name in args.models.split(","):
        batch, shape, k, steps = DEFAULTS[name]
        if args.batch:
            batch = args.batch
        if args.input:
            shape = tuple(int(v) for v in args.input.split("x"))
        if args.torch_device != "cpu":
            steps = max(steps, 10)  # a GPU step is short: enough of them to time
        if args.quick:
            steps = max(1, steps // 4)
        # The faster memory format for this model, training and inference each.
        fmt = {}
        for train in (True, False):
            trial = {cl: TorchBench(name, batch, shape, k, cl, args.torch_device)
                     .rate(train, steps, 1, 1) for cl in (False, True)}
            fmt[train] = max(trial, key=trial.get)
        benches = {cl: TorchBench(name, batch, shape, k, cl, args.torch_device)
                   for cl in set(fmt.values())}
        r = {"ours_train": [], "ours_infer": [], "torch_train": [], "torch_infer": []}
        for _ in range(rounds):
            t, i = ((float("nan"), float("nan")) if args.torch_only
                    else ours(args, name, batch, shape, k, steps, 1, 3))
            r["ours_train"].append(t)
            r["ours_infer"].append(i)
            r["torch_train"].append(benches[fmt[True]].rate(True, steps, 1, 3))
            r["torch_infer"].append(benches[fmt[False]].rate(False, steps, 1, 3))
        med = {key: statistics.median(v) for key, v in r.items()}
        rows.append((name, batch, "x".join(map(str, shape)), med, fmt))
        print("  %s done: %s" % (name, ", ".join("%s %.1f" % kv for kv in med.items())),
              file=sys.stderr, flush=True)

    print("focusnet vs PyTorch, %s" % datetime.datetime.now().strftime("%Y-%m-%d %H:%M"))
    print("machine: %s, %d cores (%s)" % (platform.machine(), threads, platform.processor() or
                                          platform.platform()))
    print("ours: focusnet bench train on %s" % args.our_device)
    if args.torch_device != "cpu":
        print("PyTorch %s on %s (%s), TF32 %s (matmul %s, cuDNN %s)"
              % (torch.__version__, args.torch_device, torch.cuda.get_device_name(0),
                 args.tf32, torch.backends.cuda.matmul.allow_tf32,
                 torch.backends.cudnn.allow_tf32))
    else:
        print("PyTorch %s, %d threads, BLAS %s, oneDNN convolutions %s"
              % (torch.__version__, torch.get_num_threads(), blas_name(),
                 "on" if torch.backends.mkldnn.is_available() else "off"))
    print("images/s, median of %d alternating rounds (each a median of 3 runs); load average"
          " %.1f before, %.1f after" % (rounds, load0, os.getloadavg()[0]))
    if load0 > threads:
        print("warning: the machine was busy; PyTorch's OpenMP threads suffer most from that")
    print()
    print("%-12s %5s %-8s | %9s %9s %6s | %9s %9s %6s | %s"
          % ("model", "batch", "input", "ours", "torch", "ratio", "ours", "torch", "ratio",
             "torch format"))
    print("%-12s %5s %-8s | %27s | %27s |" % ("", "", "", "training".center(27),
                                              "inference".center(27)))
    for name, batch, shape, m, fmt in rows:
        print("%-12s %5d %-8s | %9.1f %9.1f %6.2f | %9.1f %9.1f %6.2f | %s / %s"
              % (name, batch, shape, m["ours_train"], m["torch_train"],
                 m["ours_train"] / m["torch_train"], m["ours_infer"], m["torch_infer"],
                 m["ours_infer"] / m["torch_infer"],
                 "channels-last" if fmt[True] else "NCHW",
                 "channels-last" if fmt[False] else "NCHW"))
    if not args.gflop:
        return
    # Useful work: the model's forward FLOP per image (focusnet's count, the
    # same layers for both), training counted as 3 forwards (forward, input
    # and weight gradients).
    peak, how = (args.peak, "given") if args.peak else cpu_peak()
    print()
    print("useful GFLOP/s (forward FLOP per image x images/s, training 3x forward) and %% of "
          "the FP32 peak, %s GFLOP/s (%s)" % ("%.0f" % peak if peak else "?", how))
    print("%-12s %9s | %33s | %33s" % ("", "", "training".center(33), "inference".center(33)))
    print("%-12s %9s | %9s %9s %6s %6s | %9s %9s %6s %6s"
          % ("model", "GFLOP/img", "ours", "torch", "ours%", "torch%", "ours", "torch",
             "ours%", "torch%"))
    for name, batch, shape, m, fmt in rows:
        g = args.gflop.get(name)
        if not g:
            continue
        cells = []
        for key, mult in (("train", 3), ("infer", 1)):
            o, t = m["ours_" + key] * g * mult, m["torch_" + key] * g * mult
            cells += [o, t, 100 * o / peak if peak else float("nan"),
                      100 * t / peak if peak else float("nan")]
        print("%-12s %9.5f | %9.1f %9.1f %6.1f %6.1f | %9.1f %9.1f %6.1f %6.1f"
              % ((name, g) + tuple(cells)))


if __name__ == "__main__":
    main()

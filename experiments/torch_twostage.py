#!/usr/bin/python3
"""The two-stage recipe of README "Reproducing the paper" in PyTorch, for the
paired gain of FocusNet over its baseline in the other framework (issue 16:
does our code give less gain than PyTorch's?).

Per seed: a cross-entropy baseline from PyTorch's default initialization
(torch.manual_seed(seed)), then a FocusNet LeNet-5 (paper loss, alpha = beta
= 1, multi-warm rule z_b > 0, one-epoch linear warm-up) guided by that
baseline's last epoch, both 10 epochs of SGD lr 0.1, momentum 0.9, weight
decay 1e-4, batch 128, lr / 10 after epochs 5 and 7, on the first 2,000
images of each class (our --limit-train 20000), no augmentation; both
judged by the last epoch's top-1 on all 10,000 test images. This is
`focusnet compare --limit-train 20000 --seeds 1-5` (experiments/
fashion_mnist.sh, step "ablation": its ce and focus rows). The model, the
loss, the data reading and the SGD loop are experiments/stuck_rate.py's.

Usage: nice experiments/torch_twostage.py [--seeds 1-5] [--threads 2]
       [--out runs/torch-twostage]
Runs already done (OUT/results.jsonl) are reused; prints per seed CE,
FocusNet and their difference, then the mean +- sd and the paired t
statistic, and writes them to OUT/results.md."""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stuck_rate as sr  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=sr.seeds_arg, default=sr.seeds_arg("1-5"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(sr.ROOT, "runs", "torch-twostage"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    sr.torch_setup()
    torch = sr.torch
    torch.set_num_threads(args.threads)
    x, y = sr.read_idx("train-images-idx3-ubyte"), sr.read_idx("train-labels-idx1-ubyte")
    xt, yt = sr.read_idx("t10k-images-idx3-ubyte"), sr.read_idx("t10k-labels-idx1-ubyte")
    per = 2000  # our --limit-train 20000: the first 2,000 of each class, in order
    keep = torch.cat([(y == k).nonzero().flatten()[:per] for k in range(10)]).sort().values
    x, y = x[keep], y[keep]

    res_path = os.path.join(args.out, "results.jsonl")
    done = {}
    if os.path.exists(res_path):
        with open(res_path) as f:
            for line in f:
                r = json.loads(line)
                done[r["seed"]] = r
    t_all = time.time()
    for seed in args.seeds:
        if seed in done:
            continue
        t0 = time.time()
        torch.manual_seed(seed)
        base = sr.lenet5()
        sr.torch_epochs(base, x, y, seed, 10, None, milestones=(5, 7))
        base.eval()
        ce = sr.torch_top1(base, xt, yt)
        torch.manual_seed(seed)
        fnet = sr.lenet5()
        sr.torch_epochs(fnet, x, y, seed, 10, sr.focus_loss, base, warmup=1.0, milestones=(5, 7))
        fo = sr.torch_top1(fnet, xt, yt)
        r = {"seed": seed, "ce": ce, "focus": fo, "seconds": time.time() - t0}
        print(f"seed {seed}: CE {100 * ce:.2f}, FocusNet {100 * fo:.2f}, "
              f"{100 * (fo - ce):+.2f}, {r['seconds']:.0f} s", flush=True)
        with open(res_path, "a") as f:
            f.write(json.dumps(r) + "\n")
        done[seed] = r

    rows = [done[s] for s in args.seeds if s in done]
    ce = [100 * r["ce"] for r in rows]
    fo = [100 * r["focus"] for r in rows]
    d = [b - a for a, b in zip(ce, fo)]
    lines = ["| seed | CE | FocusNet | FocusNet - CE |", "| --- | --- | --- | --- |"]
    lines += [f"| {r['seed']} | {a:.2f} | {b:.2f} | {c:+.2f} |"
              for r, a, b, c in zip(rows, ce, fo, d)]
    if len(rows) >= 2:
        sd = statistics.stdev(d)
        t = statistics.mean(d) / (sd / len(d) ** 0.5) if sd > 0 else float("inf")
        lines.append(f"| mean +- sd | {statistics.mean(ce):.2f} +- {statistics.stdev(ce):.2f} | "
                     f"{statistics.mean(fo):.2f} +- {statistics.stdev(fo):.2f} | "
                     f"{statistics.mean(d):+.2f} +- {sd:.2f} (t = {t:.2f}, "
                     f"{len(d) - 1} df; better on {sum(v > 0 for v in d)}/{len(d)}) |")
    try:
        commit = subprocess.run(["git", "-C", sr.ROOT, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = "?"
    head = (f"PyTorch {torch.__version__}, {args.threads} threads, {platform.machine()}, "
            f"{os.cpu_count()} cores; {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, "
            f"commit {commit}; load average {os.getloadavg()[0]:.1f}; "
            f"this call {time.time() - t_all:.0f} s")
    text = head + "\n\n" + "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()

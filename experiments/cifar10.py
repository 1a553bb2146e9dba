#!/usr/bin/env python3
"""Experiment 2 of the reproduction: CIFAR-10 (the JPEG folders in
../shared/data/cifar10), baseline vs FocusNet for MobileNetV2 x0.5 and
ResNet-18, both with the small-image stem, for as many epochs as the machine
allows (--epochs, --limit-train to use part of the 50,000 images).

Usage: experiments/cifar10.py [--models mobilenetv2,resnet18] [--epochs 2]
       [--limit-train 5000] [--limit-test 2000] [--batch 64] [--seed 1]
       [--data folder:../shared/data/cifar10] [--out runs/exp-cifar10]
Writes results.md in --out with the schedule, the accuracies and the wall time."""
import argparse
import json
import os
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOCUSNET = os.path.join(ROOT, "build", "cli", "focusnet")


def last_log(run_dir):
    with open(os.path.join(run_dir, "log.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()][-1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="mobilenetv2,resnet18")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--limit-train", type=int, default=5000)
    ap.add_argument("--limit-test", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default="folder:" + os.path.join(os.path.dirname(ROOT), "shared",
                                                               "data", "cifar10"))
    ap.add_argument("--out", default=os.path.join(ROOT, "runs", "exp-cifar10"))
    a = ap.parse_args()
    common = ["--data", a.data, "--epochs", str(a.epochs), "--batch", str(a.batch),
              "--seed", str(a.seed), "--limit-train", str(a.limit_train),
              "--limit-test", str(a.limit_test), "--stem", "small"]
    rows = []
    for model in a.models.split(","):
        base = os.path.join(a.out, model, "baseline")
        focus = os.path.join(a.out, model, "focusnet")
        for run_dir, extra in [(base, []), (focus, ["--loss", "focus", "--baseline",
                                                    os.path.join(base, "best.safetensors")])]:
            # A rerun starts over (focusnet refuses a run folder without it).
            cmd = [FOCUSNET, "train", "--model", model, "--out", run_dir,
                   "--overwrite"] + common + extra
            print("$", " ".join(cmd), flush=True)
            t0 = time.time()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            secs = time.time() - t0
            log = last_log(run_dir)
            rows.append((model, "FocusNet" if extra else "baseline", log["test_top1"],
                         log["test_top5"], secs))
    lines = [f"CIFAR-10 ({a.data}), {a.limit_train or 50000} training images, "
             f"{a.limit_test or 10000} test images, {a.epochs} epochs, batch {a.batch}, "
             f"SGD 0.1 / 0.9 / 1e-4, lr / 10 at 50% and 75%, random crop + flip, seed {a.seed}",
             "", "| model | method | top-1 (%) | top-5 (%) | wall time |",
             "| --- | --- | --- | --- | --- |"]
    for m, meth, t1, t5, s in rows:
        lines.append(f"| {m} (small stem) | {meth} | {100 * t1:.2f} | {100 * t5:.2f} | "
                     f"{s / 60:.1f} min |")
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

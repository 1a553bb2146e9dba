#!/usr/bin/python3
"""Stuck rate of the second stage (focus, KD) at lr 0.1, with and without a
linear learning-rate warm-up over the first epoch and a gradient-norm clip, in
our code or PyTorch.

A stage is "stuck" when its training accuracy over its first epoch is at
chance: within 5% of the way from guessing the commonest class to perfect
(below 14.5% on Fashion-MNIST), the rule of lib/train/train.c's at_chance.
A stuck stage stays stuck (training loss flat, issue 16). A stage can also
die later: KD at lr 0.1 with the warm-up alone may train in its first epoch
and be at chance from its second on, so --epochs N (default 1) runs N
epochs of the default 10-epoch recipe (lr / 10 at epochs 5 and 7: the first
N <= 5 epochs at the full rate after the warm-up), and a run "dies" when an
epoch after the first is at chance or diverges (a NaN loss, which our trainer
stops: "training diverged"). --limit-train N trains the stages on the
first N/10 images of each class (our --limit-train; 20000 is the recipe of
README "Reproducing the paper", where an epoch, and so the warm-up, is 157
steps instead of 469).

Recipe (both frameworks): LeNet-5 on Fashion-MNIST, PyTorch's default
initialization from the run's seed, SGD lr 0.1, momentum 0.9, weight decay
1e-4, batch 128, shuffled, no augmentation, inputs normalized with mean
0.286 and std 0.353. The baseline (the frozen focus baseline and the KD
teacher) is a cross-entropy run of 10 epochs, seed 2, lr / 10 at epochs 5 and
7, trained once per framework, or for PyTorch with --baseline CKPT our
baseline's weights (the same frozen model in both frameworks). Each stage then runs 1 epoch per seed with
--warmup-epochs W (W = 0: none; 1: lr grows linearly from lr/469 to lr over
the epoch's 469 steps). The loss is the paper's (focus: Eq. 12 with alpha =
beta = 1, multi-warm rule z_b > 0; KD: T 4, weight 0.9). --clip-norm X
(0: none) clips the global L2 norm of the loss gradient over all parameters
to X before the SGD step (ours: --clip-norm X; PyTorch:
torch.nn.utils.clip_grad_norm_, before SGD adds the weight decay). The
PyTorch runs also record the median and largest gradient norm (before the
clip) of every epoch.

Usage (from the repository root):
  nice experiments/stuck_rate.py --framework ours  [--seeds 1-20] [--stages focus,kd]
                                 [--warmup 0,1] [--clip-norm 0,X] [--epochs N]
                                 [--out runs/stuck-ours]
  nice experiments/stuck_rate.py --framework torch [...]  [--out runs/stuck-torch]
--report-only runs nothing and tabulates what is done. Runs already done are reused (ours: the run folder's log; torch: the line in
OUT/results.jsonl). Prints a table of stuck counts, and writes it to
OUT/results.md with the machine, date and commit.
Needs: build/cli/focusnet (ours), Debian's python3-torch (torch) and Debian's
dataset-fashion-mnist (/usr/share/datasets/fashion-mnist)."""
import argparse
import datetime
import gzip
import json
import os
import platform
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOCUSNET = os.path.join(ROOT, "build", "cli", "focusnet")
DATA = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.286, 0.353
LR, MOMENTUM, WD, BATCH = 0.1, 0.9, 1e-4, 128
BASE_SEED, BASE_EPOCHS = 2, 10


def seeds_arg(s):
    out = []
    for part in s.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b or a) + 1))
    return out


def at_chance(acc, commonest=0.1):
    """NaN (a run that diverged) counts as at chance."""
    return not acc >= commonest + 0.05 * (1 - commonest)


# ---- our code: focusnet train ------------------------------------------------

def log_lines(run_dir):
    path = os.path.join(run_dir, "log.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def diverged(run_dir, log):
    """A run that stopped on a NaN or infinite loss: its completed epochs, then
    one at chance (NaN accuracy); the trainer's message is in DIR/diverged.txt."""
    nan = float("nan")
    return log + [{"train_acc": nan, "train_loss": nan, "test_top1": nan}]


def ours_train(run_dir, epochs, extra, report_only=False):
    log = log_lines(run_dir)
    if len(log) >= epochs and not log[-1].get("partial"):
        return log
    if os.path.exists(os.path.join(run_dir, "diverged.txt")):
        return diverged(run_dir, log)
    if report_only:
        return None
    cmd = [FOCUSNET, "train", "--model", "lenet5", "--data", "fashion-mnist", "--epochs",
           str(epochs), "--out", run_dir] + extra
    print("$", " ".join(cmd), flush=True)
    t0 = time.time()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    rc = p.returncode
    sys.stderr.write(p.stderr)
    print(f"  {time.time() - t0:.0f} s" + (f", exit {rc}" if rc else ""), flush=True)
    log = log_lines(run_dir)
    if rc and "training diverged" in p.stderr:
        with open(os.path.join(run_dir, "diverged.txt"), "w") as f:
            f.write(p.stderr)
        return diverged(run_dir, log)
    if rc or not log:
        return [{"train_acc": float("nan"), "train_loss": float("nan"),
                 "test_top1": float("nan"), "failed": True}]
    return log


def run_name(stage, w, clip, epochs, limit, seed):
    """Folders of 1-epoch runs on all images without a clip keep their old names."""
    tail = (f"-c{clip:g}" if clip else "") + (f"-e{epochs}" if epochs > 1 else "") + \
        (f"-l{limit}" if limit else "")
    return f"{stage}-w{w:g}{tail}-s{seed}"


def row(stage, w, clip, epochs, limit, seed, epoch_log):
    """epoch_log: (train_loss, train_acc, test_top1) per epoch."""
    accs = [a for _, a, _ in epoch_log]
    return {"stage": stage, "warmup": w, "clip": clip, "epochs": epochs, "limit": limit,
            "seed": seed,
            "train_loss": epoch_log[0][0], "train_acc": accs[0], "test_top1": epoch_log[-1][2],
            "epoch_log": epoch_log, "stuck": at_chance(accs[0]),
            "died": not at_chance(accs[0]) and any(at_chance(a) for a in accs[1:])}


def ours(args, out):
    base = os.path.join(out, "baseline")
    ours_train(base, BASE_EPOCHS, ["--seed", str(BASE_SEED)])
    ckpt = os.path.join(base, "last.safetensors")
    for seed in args.seeds:
        for stage in args.stages:
            for w in args.warmup:
                for clip in args.clip_norm:
                    d = os.path.join(out, run_name(stage, w, clip, args.epochs,
                                                   args.limit_train, seed))
                    extra = ["--loss", stage, "--baseline", ckpt, "--seed", str(seed),
                             "--lr", str(LR), "--warmup-epochs", f"{w:g}",
                             "--clip-norm", f"{clip:g}"]
                    if args.epochs > 1:
                        extra += ["--milestones", "5,7"]
                    if args.limit_train:
                        extra += ["--limit-train", str(args.limit_train)]
                    log = ours_train(d, args.epochs, extra, args.report_only)
                    if log is None:
                        continue
                    yield row(stage, w, clip, args.epochs, args.limit_train, seed,
                              [(r["train_loss"], r["train_acc"], r["test_top1"])
                               for r in log[:args.epochs]])


# ---- PyTorch -------------------------------------------------------------------

def torch_setup():
    global torch, nn, F
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.set_num_threads(1)  # the other framework's job gets the other core


def read_idx(name):
    path = os.path.join(DATA, name)
    opener = gzip.open if not os.path.exists(path) else open
    with opener(path if os.path.exists(path) else path + ".gz", "rb") as f:
        data = f.read()
    magic, n = struct.unpack(">II", data[:8])
    if magic == 2051:
        h, w = struct.unpack(">II", data[8:16])
        x = torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8).reshape(n, 1, h, w)
        return (x.float() / 255 - MEAN) / STD
    return torch.frombuffer(bytearray(data[8:]), dtype=torch.uint8).long()


def lenet5():
    """As lib/nn/arch.c builds it, with its tensor names; PyTorch's default
    init (ours uses the same)."""

    class LeNet5(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(400, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2).flatten(1)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    return LeNet5()


def load_safetensors(path):
    """The float32 tensors of one of our checkpoints (8-byte header length,
    JSON header, raw data)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        assert t["dtype"] == "F32", (name, t["dtype"])
        out[name] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(t["shape"])
    return out


def focus_loss(z, zb, y, alpha=1.0, beta=1.0):
    """Paper Eq. 4-12 (as tests/fixtures/make_lenet_fixture.py)."""
    k = z.shape[1]
    onehot = F.one_hot(y, k).to(z.dtype)
    l2 = torch.clamp((zb > 0).to(z.dtype) + onehot, max=1.0)
    lab = l2 / l2.sum(dim=1, keepdim=True)
    p = F.softmax(z, dim=1)
    d = p - F.softmax(zb, dim=1)
    log_q = F.log_softmax(z + d, dim=1)
    log_p = F.log_softmax(z, dim=1)
    l_cls = -(onehot * log_q).sum(dim=1)
    r_att = -(lab * log_p).sum(dim=1)
    r_ent = -(p * log_p).sum(dim=1)
    return (l_cls + alpha * r_att - beta * r_ent).mean()


def kd_loss(z, zt, y, t=4.0, w=0.9):
    kl = F.kl_div(F.log_softmax(z / t, dim=1), F.log_softmax(zt / t, dim=1), log_target=True,
                  reduction="batchmean")
    return (1 - w) * F.cross_entropy(z, y) + w * t * t * kl


def torch_epochs(model, x, y, seed, epochs, loss_fn, teacher=None, warmup=0.0, milestones=(),
                 clip=0.0, norms=None, top1=None):
    """SGD epochs; returns per epoch (train loss, train acc). clip > 0:
    clip_grad_norm_ to it. norms: a list that gets per epoch the (median,
    largest) gradient norm before the clip. top1: a function whose value
    (the test top-1) each epoch's tuple also gets."""
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WD)
    g = torch.Generator().manual_seed(seed)
    n = x.shape[0]
    steps = (n + BATCH - 1) // BATCH
    out, k = [], 0
    for e in range(epochs):
        base_lr = LR * 0.1 ** sum(e >= m for m in milestones)
        perm = torch.randperm(n, generator=g)
        tot_loss = tot_ok = 0.0
        step_norms = []
        for s in range(steps):
            f = min(1.0, (k + 1) / (warmup * steps)) if warmup > 0 else 1.0
            for pg in opt.param_groups:
                pg["lr"] = base_lr * f
            idx = perm[s * BATCH:(s + 1) * BATCH]
            xb, yb = x[idx], y[idx]
            z = model(xb)
            if teacher is None:
                loss = F.cross_entropy(z, yb)
            else:
                with torch.no_grad():
                    zt = teacher(xb)
                loss = loss_fn(z, zt, yb)
            opt.zero_grad()
            loss.backward()
            if norms is not None or clip > 0:
                # max_norm inf: the norm only (the gradients times 1.0).
                step_norms.append(float(torch.nn.utils.clip_grad_norm_(
                    model.parameters(), clip if clip > 0 else float("inf"))))
            opt.step()
            k += 1
            tot_loss += loss.item() * len(idx)
            tot_ok += (z.argmax(1) == yb).sum().item()
        out.append((tot_loss / n, tot_ok / n) + ((top1(),) if top1 else ()))
        if norms is not None:
            step_norms.sort()
            norms.append((step_norms[len(step_norms) // 2], step_norms[-1]))
    return out


def torch_top1(model, x, y):
    with torch.no_grad():
        return sum((model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item()
                   for i in range(0, len(x), 1000)) / len(x)


def torch_runs(args, out):
    torch_setup()
    x, y = read_idx("train-images-idx3-ubyte"), read_idx("train-labels-idx1-ubyte")
    xt, yt = read_idx("t10k-images-idx3-ubyte"), read_idx("t10k-labels-idx1-ubyte")
    base_path = os.path.join(out, "baseline.pt")
    teacher = lenet5()
    if args.baseline:
        # Our baseline's weights: both frameworks then guide their second
        # stage with the very same frozen model.
        teacher.load_state_dict(load_safetensors(args.baseline))
        print(f"torch: baseline {args.baseline}, top-1 {torch_top1(teacher, xt, yt):.4f}",
              flush=True)
    elif os.path.exists(base_path):
        teacher.load_state_dict(torch.load(base_path))
    else:
        torch.manual_seed(BASE_SEED)
        teacher = lenet5()
        t0 = time.time()
        torch_epochs(teacher, x, y, BASE_SEED, BASE_EPOCHS, None,
                     milestones=(BASE_EPOCHS // 2, BASE_EPOCHS * 3 // 4))
        torch.save(teacher.state_dict(), base_path)
        print(f"torch baseline: top-1 {torch_top1(teacher, xt, yt):.4f}, "
              f"{time.time() - t0:.0f} s", flush=True)
    teacher.eval()
    if args.limit_train:
        # Our --limit-train: the first limit/10 images of each class, in the
        # dataset's order (lib/data/dataset.c, fn_dataset_apply_limit).
        per = args.limit_train // 10
        keep = torch.cat([(y == k).nonzero().flatten()[:per] for k in range(10)]).sort().values
        x, y = x[keep], y[keep]
    done = {}
    res_path = os.path.join(out, "results.jsonl")
    if os.path.exists(res_path):
        with open(res_path) as f:
            for line in f:
                r = json.loads(line)
                # Lines from before --clip-norm / --epochs: 1 epoch, no clip.
                r.setdefault("clip", 0.0)
                r.setdefault("epochs", 1)
                r.setdefault("epoch_log", [(r["train_loss"], r["train_acc"], r["test_top1"])])
                r.setdefault("died", False)
                r.setdefault("limit", 0)
                done[(r["stage"], r["warmup"], r["clip"], r["epochs"], r["limit"], r["seed"])] = r
    for seed in args.seeds:
        for stage in args.stages:
            for w in args.warmup:
                for clip in args.clip_norm:
                    key = (stage, w, clip, args.epochs, args.limit_train, seed)
                    if key not in done and args.report_only:
                        continue
                    if key not in done:
                        torch.manual_seed(seed)
                        m = lenet5()
                        t0 = time.time()
                        fn = focus_loss if stage == "focus" else kd_loss
                        epoch_log, norms = [], []
                        opt_epochs = torch_epochs(m, x, y, seed, args.epochs, fn, teacher,
                                                  warmup=w, milestones=(5, 7), clip=clip,
                                                  norms=norms,
                                                  top1=lambda: torch_top1(m, xt, yt))
                        for loss, acc, top1 in opt_epochs:
                            epoch_log.append((loss, acc, top1))
                        r = row(stage, w, clip, args.epochs, args.limit_train, seed, epoch_log)
                        r["grad_norm"] = norms
                        print(f"torch {stage} warmup {w:g} clip {clip:g} seed {seed}: acc "
                              + " ".join(f"{a:.4f}" for _, a, _ in epoch_log)
                              + f", grad norm median/max " + " ".join(
                                  f"{a:.3g}/{b:.3g}" for a, b in norms)
                              + f", {time.time() - t0:.0f} s", flush=True)
                        with open(res_path, "a") as f:
                            f.write(json.dumps(r) + "\n")
                        done[key] = r
                    yield done[key]


# ---- the table -----------------------------------------------------------------

def main():
    global FOCUSNET
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--framework", choices=("ours", "torch"), required=True)
    ap.add_argument("--seeds", type=seeds_arg, default=seeds_arg("1-20"))
    ap.add_argument("--stages", type=lambda s: s.split(","), default=["focus", "kd"])
    ap.add_argument("--warmup", type=lambda s: [float(v) for v in s.split(",")],
                    default=[0.0, 1.0])
    ap.add_argument("--clip-norm", type=lambda s: [float(v) for v in s.split(",")],
                    default=[0.0], help="gradient-norm clips to run (0: none)")
    ap.add_argument("--epochs", type=int, default=1,
                    help="epochs a stage (of the 10-epoch recipe: lr / 10 at 5 and 7)")
    ap.add_argument("--limit-train", type=int, default=0,
                    help="train the stages on the first N/10 images of each class (0: all)")
    ap.add_argument("--out")
    ap.add_argument("--baseline", help="torch: use this checkpoint of ours as the baseline "
                    "instead of training one (a focusnet LeNet-5 safetensors file)")
    ap.add_argument("--report-only", action="store_true",
                    help="run nothing; the table of the runs already done")
    ap.add_argument("--focusnet", default=FOCUSNET, help="our CLI (build/cli/focusnet)")
    args = ap.parse_args()
    FOCUSNET = args.focusnet
    out = args.out or os.path.join(ROOT, "runs", f"stuck-{args.framework}")
    os.makedirs(out, exist_ok=True)
    t0 = time.time()
    rows = list((ours if args.framework == "ours" else torch_runs)(args, out))
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    load = " ".join(f"{v:.1f}" for v in os.getloadavg())
    images = f"{args.limit_train} training images" if args.limit_train else "all training images"
    lines = [f"Stuck at chance after the first epoch, lr 0.1, {args.epochs} epoch(s) a run "
             f"on {images} "
             f"({args.framework}; {platform.node()}, {os.cpu_count()} cores, load {load}, "
             f"{datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, commit {commit}, "
             f"{time.time() - t0:.0f} s)", "",
             "| stage | warm-up epochs | clip | stuck | seeds stuck | died later | seeds died "
             "| epoch-1 train acc of the others: mean, lowest "
             "| last test top-1 (diverged runs left out): mean, lowest |",
             "|---|---|---|---|---|---|---|---|---|"]
    pct = lambda v: f"{100 * sum(v) / len(v):.2f}%, {100 * min(v):.2f}%" if v else "-"
    for stage in args.stages:
        for w in args.warmup:
            for clip in args.clip_norm:
                rs = [r for r in rows if r["stage"] == stage and r["warmup"] == w
                      and r["clip"] == clip and r["epochs"] == args.epochs
                      and r["limit"] == args.limit_train]
                stuck = [r["seed"] for r in rs if r["stuck"]]
                died = [r["seed"] for r in rs if r["died"]]
                ok = [r["train_acc"] for r in rs if not r["stuck"]]
                top1 = [r["test_top1"] for r in rs if r["test_top1"] == r["test_top1"]]
                died_n = f"{len(died)} of {len(rs)}" if args.epochs > 1 else "-"
                lines.append(f"| {stage} | {w:g} | {clip:g} | {len(stuck)} of {len(rs)} | "
                             f"{','.join(map(str, stuck)) or '-'} | {died_n} | "
                             f"{','.join(map(str, died)) or '-'} | {pct(ok)} | {pct(top1)} |")
    text = "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Data-parallel scaling on paper (README "Several devices or machines").

Per step, every rank sends and receives 2(N-1)/N x G bytes in a ring
allreduce of G gradient bytes (reduce-scatter, then all-gather), so at link
bandwidth W the allreduce takes t_comm = 2(N-1)/N x G / W (latency ignored:
2(N-1) messages of ~10-50 us each add under 7 ms at N = 64). Against the
compute time of one step at a per-rank batch b, t_c = b / rate:

  efficiency without overlap  t_c / (t_c + t_s + t_comm) (one fused allreduce
                                                        after backward: what
                                                        focusnet does today;
                                                        t_s: the staging
                                                        through host memory)
  efficiency with full overlap t_c / max(t_c, t_comm)  (bucketed non-blocking
                                                        allreduce during backward)
  b* = t_comm x rate: the per-rank batch below which communication can no
       longer hide behind backward; rate* = b / t_comm: the training speed of
       one device (images/s) above which it shows at batch b.

G: trainable parameters x 4 bytes (`focusnet models`; `focusnet bench
allreduce` prints the same). rate: `focusnet bench train` images/s measured on
this project's machine (POCL on 2 CPU cores of an AMD EPYC, README
"Benchmarks"); pass --rate MODEL=IMG_PER_S for another device.
"""
import argparse

MODELS = {
    # name: (trainable parameters, training images/s measured here, batch of the
    # measurement, staging ms: fn_trainer_grads_read + _write, `focusnet bench
    # allreduce`, load average ~16)
    "LeNet-5": (83126, 20239.0, 128, 0.8),
    "MobileNetV2 x0.5 small": (700490, 269.8, 64, 14.3),
    "ResNet-18 small": (11173962, 38.5, 64, 61.8),
}
BANDWIDTHS_GBIT = (10, 25, 100)
RANKS = (1, 2, 4, 8, 16, 32, 64)


def t_comm(grad_bytes, n, gbit):
    return 2.0 * (n - 1) / n * grad_bytes / (gbit * 1e9 / 8)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=128, help="per-rank batch (128)")
    ap.add_argument("--rate", action="append", default=[],
                    help="MODEL=IMG_PER_S: another device's training speed")
    ap.add_argument("--no-staging", action="store_true",
                    help="leave out the device <-> host copies (a GPU's pinned copies at ~25 GB/s)")
    a = ap.parse_args()
    rates = {k: v[1] for k, v in MODELS.items()}
    staging = {k: v[3] for k, v in MODELS.items()}
    if a.no_staging:
        staging = {k: 0.0 for k in MODELS}
    for r in a.rate:
        k, v = r.split("=")
        rates[k] = float(v)
    for name, (params, _, _, _) in MODELS.items():
        g = params * 4
        tc = a.batch / rates[name]
        ts = staging[name] / 1e3
        print(f"\n{name}: {g / 1e6:.2f} MB of gradients a step; compute {tc * 1e3:.1f} ms a step "
              f"at {a.batch} images a rank ({rates[name]:g} images/s); staging "
              f"{ts * 1e3:.1f} ms\n")
        head = " | ".join(f"{w} Gb/s: allreduce, efficiency (no overlap / overlap)"
                          for w in BANDWIDTHS_GBIT)
        print(f"| N | {head} |")
        print("| --- |" + " --- |" * len(BANDWIDTHS_GBIT))
        for n in RANKS:
            cells = []
            for w in BANDWIDTHS_GBIT:
                c = t_comm(g, n, w)
                s_ = ts if n > 1 else 0.0
                cells.append(f"{c * 1e3:.2f} ms, {100 * tc / (tc + s_ + c):.1f}% / "
                             f"{100 * tc / max(tc, c + s_):.0f}%")
            print(f"| {n} | " + " | ".join(cells) + " |")
        c64 = {w: t_comm(g, 64, w) for w in BANDWIDTHS_GBIT}
        print("\nat N = 64, communication stops hiding below a per-rank batch b* = "
              + ", ".join(f"{c64[w] * rates[name]:.1f} ({w} Gb/s)" for w in BANDWIDTHS_GBIT)
              + f"; at batch {a.batch} it shows once a device trains faster than "
              + ", ".join(f"{a.batch / c64[w]:,.0f}" for w in BANDWIDTHS_GBIT)
              + " images/s")


if __name__ == "__main__":
    main()

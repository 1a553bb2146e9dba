#!/bin/sh
# The paper's ablation (Table 10), its weak-baseline row (Table 9 / Fig. 4)
# and a fair KD row, from `focusnet compare`: LeNet-5 on Fashion-MNIST, one
# recipe for every method, 5 seeds. KD gets a learning rate of its own,
# chosen on 6,000 held-out training images (--holdout, never the test set)
# among KD_LRS (0.1 0.05 0.02) by mean held-out top-1 over HOLDOUT_SEEDS (1-3); then KD at
# that rate on the test set (KD with its default recipe: the one-epoch
# warm-up and the gradient-norm clip of 1). Every step is a compare invocation, so a rerun trains only
# what is missing; each writes its results.md, copied to OUT/results-STEP.md.
#
# usage: experiments/fashion_mnist.sh [OUT] [extra compare options]
#   OUT defaults to runs/fashion; the recipe defaults to 10 epochs on 20,000
#   of the 60,000 training images (RECIPE to change it, e.g. RECIPE="" for all).
#   STEPS: which of "ablation kd weak all" to run (all of them); "all" takes
#   KD's rate from OUT/kd-lr.txt and leaves KD out when there is none yet.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
fn=${FOCUSNET:-$root/build/cli/focusnet}
out=${1:-runs/fashion}
[ $# -gt 0 ] && shift
recipe=${RECIPE---epochs 10 --limit-train 20000}
seeds=${SEEDS:-1-5}
kd_lrs=${KD_LRS:-0.1 0.05 0.02}
holdout_seeds=${HOLDOUT_SEEDS:-1-3}
holdout=${HOLDOUT:-6000}
steps=${STEPS:-ablation kd weak all}
mkdir -p "$out"
want() { case " $steps " in *" $1 "*) return 0 ;; esac; return 1; }
step() { # NAME, then compare options
    name=$1
    shift
    echo "== $name: focusnet compare $recipe $* $(date -u +%H:%M:%S)" >&2
    # shellcheck disable=SC2086
    "$fn" compare $recipe "$@"
    cp "$2/results.md" "$out/results-$name.md"
}
# 1. The ablation: L_cls only, L_cls + R_ent, L_cls + R_att, all three.
want ablation && step ablation --out "$out/test" --seeds "$seeds" --methods no-att,no-ent,cls-only "$@"
# 2. KD's learning rate, on held-out training images.
if want kd; then
    best= best_acc=-1
    for lr in $kd_lrs; do
        step "holdout-kd-lr$lr" --out "$out/holdout" --seeds "$holdout_seeds" --holdout "$holdout" --no-focus --methods kd \
            --kd-lr "$lr" --json "$@" >"$out/holdout-kd-lr$lr.json"
        acc=$(python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); print([m for m in o["methods"] if m["method"]=="kd"][0]["top1_mean"])' \
            "$out/holdout-kd-lr$lr.json")
        echo "KD at lr $lr: held-out top-1 $acc" >&2
        if python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)' \
            "$acc" "$best_acc"; then
            best=$lr best_acc=$acc
        fi
    done
    echo "KD's learning rate: $best (held-out top-1 $best_acc)" | tee "$out/kd-lr.txt" >&2
    # 3. KD at that rate on the test set, beside the other rows.
    step kd --out "$out/test" --seeds "$seeds" --methods kd --kd-lr "$best" "$@"
fi
# 4. The weak baseline (1 epoch, no decay) and FocusNet guided by it.
want weak && step weak --out "$out/test" --seeds "$seeds" --methods weak "$@"
# 5. All rows in one table.
if want all; then
    kd=
    [ -f "$out/kd-lr.txt" ] && kd=$(sed -n 's/^KD.s learning rate: \([^ ]*\) .*/\1/p' "$out/kd-lr.txt")
    step all --out "$out/test" --seeds "$seeds" --methods "no-att,no-ent,cls-only,weak${kd:+,kd}" \
        ${kd:+--kd-lr "$kd"} "$@"
fi

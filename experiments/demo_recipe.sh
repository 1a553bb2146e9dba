#!/bin/sh
# The candidates for focusnet demo's recipe, each over 5 seeds with
# focusnet compare; the demo takes the one with the largest mean paired gain
# of FocusNet over its baseline (README "The demo's recipe").
#   A: 10 epochs on 20,000 training images, lr 0.1, stage-2 warm-up 1 epoch
#      (the default): the runs of experiments/fashion_mnist.sh (OUT/test).
#   B: the same with no stage-2 warm-up (the demo's recipe before).
#      Its baselines are A's: compare's --warmup-epochs 0 leaves the
#      cross-entropy recipe as it is (its warm-up is 0 by default), so
#      OUT/demo-w0/ce-sN are links to OUT/test/ce-sN instead of retrained.
#   C (CANDIDATE_C=1): A at lr 0.05.
# usage: experiments/demo_recipe.sh [OUT]   (OUT as for fashion_mnist.sh)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
fn=${FOCUSNET:-$root/build/cli/focusnet}
out=${1:-runs/fashion}
seeds=${SEEDS:-1-5}
recipe="--epochs 10 --limit-train 20000"
# shellcheck disable=SC2086
"$fn" compare $recipe --seeds "$seeds" --out "$out/test" --json >"$out/demo-A.json"
cp "$out/test/results.md" "$out/results-demo-A.md"
mkdir -p "$out/demo-w0"
for d in "$out"/test/ce-s*; do
    [ -e "$out/demo-w0/$(basename "$d")" ] || ln -s "../test/$(basename "$d")" "$out/demo-w0/"
done
# shellcheck disable=SC2086
"$fn" compare $recipe --seeds "$seeds" --out "$out/demo-w0" --warmup-epochs 0 \
    --json >"$out/demo-B.json"
cp "$out/demo-w0/results.md" "$out/results-demo-B.md"
if [ "${CANDIDATE_C:-0}" = 1 ]; then
    # shellcheck disable=SC2086
    "$fn" compare $recipe --lr 0.05 --seeds "$seeds" --out "$out/demo-lr0.05" \
        --json >"$out/demo-C.json"
    cp "$out/demo-lr0.05/results.md" "$out/results-demo-C.md"
fi
python3 - "$out" <<'PY'
import glob, json, os, sys
rows = []
for path in sorted(glob.glob(os.path.join(sys.argv[1], "demo-?.json"))):
    o = json.load(open(path))
    f = [m for m in o["methods"] if m["method"] == "focus"][0]
    rows.append((f["paired"]["mean"], os.path.basename(path)[5], f["paired"]))
for mean, name, p in rows:
    print("candidate %s: FocusNet - baseline %+.2f +- %.2f points, p %.3g, better on %d of %d" %
          (name, 100 * mean, 100 * p["sd"], p["p"], sum(d > 0 for d in p["diff"]), len(p["diff"])))
print("chosen: candidate %s" % max(rows)[1])
PY

#!/bin/sh
# focusnet compare on a tiny dataset (2 seeds, 2 epochs): the table, JSON and
# results.md have their parts, a rerun reuses the finished runs instead of
# training them again, and another recipe in the same folder is refused; the
# ablation methods, --kd-lr and --holdout.
# Also train's warning for a first epoch at chance (issue 16).
# usage: test_compare.sh PATH/TO/focusnet PATH/TO/test_helper
set -u
fn="$1"
helper="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/kit.sh"

"$helper" mnist "$tmp" || { echo "cannot write the dataset"; exit 1; }
set -- --data "mnist:$tmp" --batch 32 --epochs 2 --lr 0.05 --seeds 1,2 --out "$tmp/cmp"

expect 2 "option '--seeds' takes 2 to" -- "$fn" compare --seeds 1
expect 2 "option '--methods' takes" -- "$fn" compare --methods focus,bogus
"$fn" compare "$@" --methods kd >"$tmp/out1" 2>"$tmp/err1" && ok || bad "compare runs: $(tail -3 "$tmp/err1")"
for want in "baseline (cross-entropy)" "FocusNet (paper rule)" "KD from the baseline" "t-test p" \
    "+- " "s1 " "s2 " "better on" "confusions fixed" "confusions broken" "results.md"; do
    grep -qF -- "$want" "$tmp/out1" && ok || bad "the table lacks '$want'"
done
for m in ce focus kd; do
    for s in 1 2; do
        [ -f "$tmp/cmp/$m-s$s/last.safetensors" ] && ok || bad "no run $m-s$s"
    done
done
[ "$(grep -c 'training ->' "$tmp/err1")" -eq 6 ] && ok || bad "6 runs trained the first time"
grep -q '^| FocusNet (paper rule) ' "$tmp/cmp/results.md" && ok || bad "results.md has the table"
grep -q 'CPU cores, started ' "$tmp/cmp/results.md" && ok || bad "results.md names the machine"

# The rerun trains nothing: every run is reused, the checkpoints stay.
cp "$tmp/cmp/focus-s2/last.safetensors" "$tmp/before"
"$fn" compare "$@" --methods kd --json >"$tmp/out2" 2>"$tmp/err2" && ok || bad "rerun: $(tail -3 "$tmp/err2")"
[ "$(grep -c 'reused' "$tmp/err2")" -eq 6 ] && ok || bad "6 runs reused: $(cat "$tmp/err2")"
grep -q 'training ->' "$tmp/err2" && bad "the rerun trained" || ok
cmp -s "$tmp/before" "$tmp/cmp/focus-s2/last.safetensors" && ok || bad "a reused run changed"
python3 - "$tmp/out2" "$tmp/out1" <<'PY' && ok || bad "the JSON"
import json, sys
o = json.load(open(sys.argv[1]))
ms = {m["method"]: m for m in o["methods"]}
assert list(ms) == ["ce", "focus", "kd"], list(ms)
assert o["seeds"] == [1, 2] and o["epochs"] == 2
for m in ms.values():
    assert len(m["top1"]) == 2 and all(0 <= v <= 1 for v in m["top1"]), m
for name in ("focus", "kd"):
    p = ms[name]["paired"]
    diff = [a - b for a, b in zip(ms[name]["top1"], ms["ce"]["top1"])]
    assert all(abs(x - y) < 1e-12 for x, y in zip(p["diff"], diff)), (p, diff)
    assert abs(p["mean"] - sum(diff) / 2) < 1e-12 and 0 <= p["p"] <= 1, p
assert "confusions_fixed" in ms["focus"] and "confusions_broken" in ms["focus"]
# the table of the first run shows the same mean difference
table = open(sys.argv[2]).read()
assert "%+.2f" % (100 * ms["focus"]["paired"]["mean"]) in table, table
PY

expect 2 "holds runs of another recipe" -- "$fn" compare --data "mnist:$tmp" --batch 32 --epochs 3 \
    --lr 0.05 --seeds 1,2 --out "$tmp/cmp"
# A warm-up given explicitly is part of the recipe: not the runs made with the default.
expect 2 "holds runs of another recipe" -- "$fn" compare "$@" --warmup-epochs 0
# So is a gradient-norm clip.
expect 2 "holds runs of another recipe" -- "$fn" compare "$@" --clip-norm 5

# The paper's ablation as methods, and KD at a rate of its own, in the same
# folder: the baselines and FocusNet runs are reused, 8 new runs trained.
"$fn" compare "$@" --methods no-att,no-ent,cls-only,kd --kd-lr 0.02 >"$tmp/out4" 2>"$tmp/err4" &&
    ok || bad "ablation: $(tail -3 "$tmp/err4")"
for want in "L_cls + R_ent (alpha 0)" "L_cls + R_att (beta 0)" "L_cls only (alpha = beta = 0)" \
    "KD from the baseline (lr 0.02)" "lr 0.05 (kd: 0.02)"; do
    grep -qF -- "$want" "$tmp/out4" && ok || bad "the ablation table lacks '$want'"
done
[ "$(grep -c 'training ->' "$tmp/err4")" -eq 8 ] && ok || bad "8 new runs: $(grep 'training ->' "$tmp/err4")"
[ "$(grep -c 'reused' "$tmp/err4")" -eq 4 ] && ok || bad "ce and focus reused"
python3 - "$tmp/cmp" <<'PY' && ok || bad "the ablation runs' configurations"
import json, struct, sys
def config(run):
    b = open("%s/%s/state.safetensors" % (sys.argv[1], run), "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    return json.loads(json.loads(b[8:8 + n])["__metadata__"]["focusnet.config"])
for s in (1, 2):
    for run, alpha, beta in (("focus", 1, 1), ("no-att", 0, 1), ("no-ent", 1, 0), ("cls-only", 0, 0)):
        c = config("%s-s%d" % (run, s))
        assert c["loss"]["kind"] == "focus" and int(c["seed"]) == s, c
        assert (c["loss"]["alpha"], c["loss"]["beta"]) == (alpha, beta), (run, c["loss"])
        assert abs(c["lr"] - 0.05) < 1e-7, c
    c = config("kd-lr0.02-s%d" % s)
    assert c["loss"]["kind"] == "kd" and abs(c["lr"] - 0.02) < 1e-7, c
    assert c["baseline"].endswith("/ce-s%d/last.safetensors" % s), c["baseline"]
PY
expect 2 "option '--kd-lr'" -- "$fn" compare "$@" --kd-lr 0
expect 2 "option '--holdout'" -- "$fn" compare "$@" --holdout 0

# --holdout: trained without 60 of the 240 training images, evaluated on them.
"$fn" compare --data "mnist:$tmp" --batch 32 --epochs 2 --lr 0.05 --seeds 1,2 --out "$tmp/hold" \
    --holdout 60 --json >"$tmp/out5" 2>"$tmp/err5" && ok || bad "holdout: $(tail -3 "$tmp/err5")"
grep -q '"holdout":[[:space:]]*60' "$tmp/out5" && ok || bad "the JSON names the holdout"
grep -qF "on 60 held-out training images (not the test set)" "$tmp/hold/results.md" && ok ||
    bad "results.md says what it evaluated on"
grep -q '"epoch":1,"steps":6,' "$tmp/hold/ce-s1/log.jsonl" && ok || bad "180 images train (6 steps of 32)"
grep -q '^data holdout:60:mnist:' "$tmp/hold/recipe.txt" && ok || bad "the recipe has the held-out data"
# --no-focus: the baseline and KD only; the baselines are reused.
"$fn" compare --data "mnist:$tmp" --batch 32 --epochs 2 --lr 0.05 --seeds 1,2 --out "$tmp/hold" \
    --holdout 60 --no-focus --methods kd --kd-lr 0.02 >"$tmp/out8" 2>"$tmp/err8" && ok || bad "no-focus"
grep -q "FocusNet (paper rule)" "$tmp/out8" && bad "--no-focus ran FocusNet" || ok
grep -qF "KD from the baseline (lr 0.02)" "$tmp/out8" && ok || bad "--no-focus has the kd row"
[ "$(grep -c 'training ->' "$tmp/err8")" -eq 2 ] && [ "$(grep -c 'reused' "$tmp/err8")" -eq 2 ] && ok ||
    bad "--no-focus trains the 2 kd runs only: $(cat "$tmp/err8")"
expect 1 "holdout" -- "$fn" compare --data "mnist:$tmp" --batch 32 --epochs 1 --seeds 1,2 \
    --out "$tmp/hold2" --holdout 240

# The demo is compare's run of seed 1 (same recipe, guided by the baseline's
# last epoch): the same top-1 for both stages, and words that follow them.
FOCUSNET_FASHION_MNIST_DIR=$tmp "$fn" demo --epochs 2 --batch 32 --out "$tmp/demo" >"$tmp/out6" 2>"$tmp/err6" &&
    ok || bad "demo: $(tail -3 "$tmp/err6")"
FOCUSNET_FASHION_MNIST_DIR=$tmp "$fn" compare --data fashion-mnist --epochs 2 --batch 32 --seeds 1,2 \
    --out "$tmp/cmpd" --json >"$tmp/out7" 2>"$tmp/err7" && ok || bad "compare for the demo"
python3 - "$tmp/out6" "$tmp/out7" <<'PY' && ok || bad "the demo's numbers and words"
import json, re, sys
demo = open(sys.argv[1]).read()
ms = {m["method"]: m for m in json.load(open(sys.argv[2]))["methods"]}
got = dict(re.findall(r"^(baseline|focusnet) +([0-9.]+)%", demo, re.M))
assert got["baseline"] == "%.2f" % (100 * ms["ce"]["top1"][0]), (got, ms["ce"]["top1"])
assert got["focusnet"] == "%.2f" % (100 * ms["focus"]["top1"][0]), (got, ms["focus"]["top1"])
d = float(got["focusnet"]) - float(got["baseline"])
word = "beat its baseline" if d > 0 else "fell short of its baseline" if d < 0 else "the same number"
assert word in demo, (word, demo)
if d:
    assert "%+.2f points top-1" % d in demo, demo
assert "one seed; see `focusnet compare` for several" in demo, demo
assert "last epoch of each" in demo, demo
PY

# A stage that learns nothing in its first epoch says so.
"$fn" train --data "mnist:$tmp" --batch 32 --epochs 1 --lr 0 --out "$tmp/zero" 2>"$tmp/err3" >/dev/null && ok || bad "lr 0 trains"
grep -q 'AT CHANCE' "$tmp/err3" && ok || bad "the progress line says AT CHANCE"
grep -q 'warning: training accuracy .* after the first epoch is at chance' "$tmp/err3" && ok || bad "a warning line"
grep -q '"at_chance":true' "$tmp/zero/log.jsonl" && ok || bad "at_chance in the log"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

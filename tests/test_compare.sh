#!/bin/sh
# focusnet compare on a tiny dataset (2 seeds, 2 epochs): the table, JSON and
# results.md have their parts, a rerun reuses the finished runs instead of
# training them again, and another recipe in the same folder is refused.
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

# A stage that learns nothing in its first epoch says so.
"$fn" train --data "mnist:$tmp" --batch 32 --epochs 1 --lr 0 --out "$tmp/zero" 2>"$tmp/err3" >/dev/null && ok || bad "lr 0 trains"
grep -q 'AT CHANCE' "$tmp/err3" && ok || bad "the progress line says AT CHANCE"
grep -q 'warning: training accuracy .* after the first epoch is at chance' "$tmp/err3" && ok || bad "a warning line"
grep -q '"at_chance":true' "$tmp/zero/log.jsonl" && ok || bad "at_chance in the log"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

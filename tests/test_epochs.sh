#!/bin/sh
# The epoch slider with real models (tests/test_epochs.c) under Xvfb: a run
# folder like focusnet demo's whose runs kept checkpoints along training
# (focusnet train --keep-epochs) in RUN/*/epochs/epoch-NNN.safetensors, the
# baseline every epoch of 3, the FocusNet only epoch 2 of 2 (the runs'
# epochs differ); focusnet demo passes --keep-epochs on.
# Then focusnet-viewer itself: --epoch E draws another window, with the
# epoch marked on the training history (FNV_EPOCH_MARK_RGB, cc3399); the
# history is there without --epoch too, unmarked, and goes with the runs'
# logs; a bad --epoch is a usage error.
# usage: test_epochs.sh TEST_EPOCHS FOCUSNET MAKE_FIXTURE FOCUSNET_VIEWER
# Skips (exit 77) without xvfb-run and xauth.
set -u
exe="$1"
fn="$2"
fixture="$3"
viewer="$4"
src="${FOCUSNET_SOURCE_DIR:-$(dirname "$0")/..}"
if ! command -v xvfb-run >/dev/null 2>&1 || ! command -v xauth >/dev/null 2>&1; then
    echo "SKIP: xvfb-run or xauth not found (tools/setup.sh installs them)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$fixture" mnist "$tmp/data" || { echo "FAIL: cannot write the dataset"; exit 1; }
quiet() { "$@" >"$tmp/log" 2>&1 || { cat "$tmp/log"; echo "FAIL: $*"; exit 1; }; }
# focusnet train --keep-epochs: the baseline every epoch, the FocusNet every
# second one of two (its epoch 2 only).
b="$tmp/run/baseline" f="$tmp/run/focusnet"
quiet "$fn" train --model lenet5 --data "mnist:$tmp/data" --epochs 3 --batch 32 --lr 0.05 \
    --keep-epochs 1 --out "$b"
quiet "$fn" train --model lenet5 --data "mnist:$tmp/data" --epochs 2 --batch 32 --lr 0.05 \
    --loss focus --baseline "$b/best.safetensors" --keep-epochs 2 --out "$f"
. "$(dirname "$0")/kit.sh"
[ "$(ls "$b/epochs")" = "$(printf 'epoch-001.safetensors\nepoch-002.safetensors\nepoch-003.safetensors')" ] &&
    [ "$(ls "$f/epochs")" = "epoch-002.safetensors" ] && ok || bad "kept epochs: $(ls "$b/epochs" "$f/epochs")"
# focusnet demo passes --keep-epochs to both stages.
FOCUSNET_FASHION_MNIST_DIR="$tmp/data" quiet "$fn" demo --epochs 2 --batch 32 --keep-epochs 2 \
    --out "$tmp/demo"
[ "$(ls "$tmp/demo/baseline/epochs" "$tmp/demo/focusnet/epochs" | grep -c '^epoch-002.safetensors$')" = 2 ] &&
    [ ! -e "$tmp/demo/baseline/epochs/epoch-001.safetensors" ] && ok ||
    bad "demo --keep-epochs 2: $(ls "$tmp/demo"/*/epochs)"
export GTK_A11Y=none GSK_RENDERER=cairo NO_AT_BRIDGE=1
# Under AddressSanitizer the viewer needs what tests/test_viewer.sh says (POCL's
# own alternate signal stack on a kernel-building thread); ignored without ASan.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}use_sigaltstack=0"
xvfb() { xvfb-run -a -s "-screen 0 1400x1300x24" "$@"; }
image="$src/assets/samples/fashion-sandal.png"
# The viewer's window first (test_epochs.c writes a corrupt epoch 3).
for e in 0 1 2; do
    xvfb timeout 120 "$viewer" "$tmp/run" "$image" --epoch "$e" --size 1200x1240 \
        --screenshot "$tmp/e$e.png" --quit-after-render >/dev/null 2>"$tmp/err" &&
        [ -s "$tmp/e$e.png" ] && ok || bad "--epoch $e: $(cat "$tmp/err")"
done
! cmp -s "$tmp/e0.png" "$tmp/e1.png" && ! cmp -s "$tmp/e1.png" "$tmp/e2.png" && ok ||
    bad "each epoch draws another window"
m0=$("$fixture" count "$tmp/e0.png" cc3399) m1=$("$fixture" count "$tmp/e1.png" cc3399)
[ "${m0:-1}" -eq 0 ] && [ "${m1:-0}" -gt 100 ] && ok ||
    bad "the history marks epoch 1 only with --epoch 1: $m0 and $m1 pixels"
# The history's curves: without the runs' logs the window lacks them (and
# everything else stays), so the baseline's blue (427ab5) and the FocusNet's
# orange (ed7d0f) are fewer (the bars have those colours too).
cp -r "$tmp/run" "$tmp/nolog" && rm "$tmp/nolog/baseline/log.jsonl" "$tmp/nolog/focusnet/log.jsonl"
xvfb timeout 120 "$viewer" "$tmp/nolog" "$image" --size 1200x1240 --screenshot "$tmp/n0.png" \
    --quit-after-render >/dev/null 2>"$tmp/err" || bad "no logs: $(cat "$tmp/err")"
b0=$("$fixture" count "$tmp/e0.png" 427ab5) f0=$("$fixture" count "$tmp/e0.png" ed7d0f)
bn=$("$fixture" count "$tmp/n0.png" 427ab5) fn0=$("$fixture" count "$tmp/n0.png" ed7d0f)
[ "${b0:-0}" -gt $((${bn:-0} + 100)) ] && [ "${f0:-0}" -gt $((${fn0:-0} + 100)) ] && ok ||
    bad "both runs' curves in the window: blue $b0 vs $bn, orange $f0 vs $fn0 without logs"
# The confusing pair and the presentation mode follow the slider (issue
# 17.1, 17.5): at epoch 1 only the baseline kept a checkpoint, so only its
# row has maps and only it is presented; epoch 2 has both.
for e in 1 2; do
    out=$(xvfb timeout 120 "$viewer" "$tmp/run" "$image" --epoch $e --pair auto --describe \
        --screenshot "$tmp/p$e.png" --quit-after-render 2>"$tmp/err"); rc=$?
    [ "$rc" -eq 0 ] && printf '%s\n' "$out" | grep -q "^describe: pair [0-9]* [0-9]*: Why" &&
        ! grep -q "focusnet-viewer:" "$tmp/err" && ok || bad "--epoch $e --pair auto: exit $rc: $(cat "$tmp/err")"
    out=$(xvfb timeout 120 "$viewer" "$tmp/run" "$image" --epoch $e --present --describe \
        --quit-after-render 2>"$tmp/err")
    printf '%s\n' "$out" | grep -q "^describe: present .* · epoch $e$" &&
        printf '%s\n' "$out" | grep -q "^describe: present Baseline: " && ok ||
        bad "--epoch $e --present: $out"
    n=$(printf '%s\n' "$out" | grep -c "^describe: present FocusNet: ")
    [ "$n" -eq $((e - 1)) ] && ok || bad "--epoch $e: FocusNet presented $n times"
done
! cmp -s "$tmp/p1.png" "$tmp/p2.png" && ok || bad "the pair differs between epochs"
"$viewer" --epoch -3 >/dev/null 2>"$tmp/err"; rc=$?
[ "$rc" -eq 2 ] && grep -q "option --epoch" "$tmp/err" && ok || bad "--epoch -3: exit $rc"
xvfb "$exe" "$tmp/run" "$image" && ok || bad "test_epochs"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

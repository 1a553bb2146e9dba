#!/bin/sh
# focusnet-viewer's window for real, under Xvfb: it renders a run folder and
# an image into a screenshot that is not blank, shows an unreadable image and a
# mismatched checkpoint as errors and goes on, loads a dataset split, and stays
# up until it is told to quit.
# usage: test_viewer.sh PATH/TO/focusnet-viewer PATH/TO/focusnet PATH/TO/make_fixture
# Skips (exit 77) without xvfb-run and xauth (tools/setup.sh installs them).
set -u
viewer="$1"
fn="$2"
fixture="$3"
src="${FOCUSNET_SOURCE_DIR:-$(dirname "$0")/..}"
if ! command -v xvfb-run >/dev/null 2>&1 || ! command -v xauth >/dev/null 2>&1; then
    echo "SKIP: xvfb-run or xauth not found (apt-get install xvfb xauth; tools/setup.sh does)"
    exit 77
fi
tmp=$(mktemp -d)
viewer_pid=""
cleanup() {
    [ -n "$viewer_pid" ] && kill "$viewer_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
. "$(dirname "$0")/kit.sh"

# Quiet and deterministic: no accessibility bus, no GL.
export GTK_A11Y=none GSK_RENDERER=cairo NO_AT_BRIDGE=1
# Under AddressSanitizer (tests/run.sh --sanitize): the OpenCL driver (POCL's
# LLVM) puts its own alternate signal stack on the worker thread that first
# builds kernels, and ASan aborts when it cannot unmap its own as that thread
# ends. Without ASan the option is ignored.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}use_sigaltstack=0"
xvfb() { xvfb-run -a -s "-screen 0 1400x1100x24" "$@"; }

# A tiny run folder like focusnet demo's: a baseline and a FocusNet on a
# synthetic 10-class dataset, a few seconds of training.
"$fixture" mnist "$tmp/data" || { echo "FAIL: cannot write the dataset"; exit 1; }
run="$tmp/run"
"$fn" train --model lenet5 --data "mnist:$tmp/data" --epochs 2 --batch 32 --lr 0.05 \
    --out "$run/baseline" >"$tmp/train.log" 2>&1 || { cat "$tmp/train.log"; echo "FAIL: train"; exit 1; }
"$fn" train --model lenet5 --data "mnist:$tmp/data" --epochs 1 --batch 32 --lr 0.05 --loss focus \
    --baseline "$run/baseline/best.safetensors" --out "$run/focusnet" >"$tmp/train.log" 2>&1 ||
    { cat "$tmp/train.log"; echo "FAIL: train focus"; exit 1; }
image="$src/assets/samples/fashion-sandal.png"

# colors FILE: at least N distinct colours in a screenshot of a sensible size
colors() {
    want="$2"
    # shellcheck disable=SC2046
    set -- $("$fixture" colors "$1")
    [ "${1:-0}" -ge 800 ] && [ "${2:-0}" -ge 600 ] && [ "${3:-0}" -ge "$want" ]
}

# 1. A run folder and an image: the screenshot is written and is not blank;
# the exported view is smaller than the window, and not blank either.
out=$(xvfb timeout 120 "$viewer" "$run" "$image" --screenshot "$tmp/shot.png" \
    --export "$tmp/view.png" --quit-after-render 2>"$tmp/err"); rc=$?
[ "$rc" -eq 0 ] && ok || bad "run folder + image: exit $rc: $(cat "$tmp/err")"
printf '%s\n' "$out" | grep -q "wrote $tmp/shot.png" && ok || bad "says it wrote the screenshot: $out"
[ -s "$tmp/shot.png" ] && ok || bad "screenshot written"
colors "$tmp/shot.png" 200 && ok || bad "screenshot has many colours: $("$fixture" colors "$tmp/shot.png")"
# shellcheck disable=SC2046
set -- $("$fixture" colors "$tmp/shot.png") $("$fixture" colors "$tmp/view.png")
[ "${4:-0}" -gt 300 ] && [ "${4:-0}" -lt "$1" ] && [ "${6:-0}" -ge 100 ] && ok ||
    bad "exported view: $4x$5 with $6 colours, window $1x$2"
grep -q "focusnet-viewer:" "$tmp/err" && bad "no error expected: $(cat "$tmp/err")" || ok
# 1b. A screenshot or export that cannot be written: exit non-zero, the
# file and the reason named, the previous picture kept (issue 12).
xvfb timeout 120 "$viewer" "$run" "$image" --screenshot "$tmp/shot.png/x.png" \
    --quit-after-render >/dev/null 2>"$tmp/err"; rc=$?
[ "$rc" -ne 0 ] && grep -q "$tmp/shot.png/x.png.*not a directory" "$tmp/err" && ok ||
    bad "an unwritable screenshot: exit $rc: $(cat "$tmp/err")"
cp "$tmp/view.png" "$tmp/view.keep"
# shellcheck disable=SC2016
xvfb timeout 120 sh -c 'trap "" XFSZ; ulimit -f 2; exec "$0" "$@"' "$viewer" "$run" "$image" \
    --export "$tmp/view.png" --quit-after-render >/dev/null 2>"$tmp/err"; rc=$?
[ "$rc" -ne 0 ] && grep -q "$tmp/view.png.*File too large" "$tmp/err" && ok ||
    bad "an export cut short: exit $rc: $(cat "$tmp/err")"
cmp -s "$tmp/view.png" "$tmp/view.keep" && ok || bad "the previous export survives"

# 2. Jet, Grad-CAM, a chosen class and a per-model scale draw something else.
xvfb timeout 120 "$viewer" "$run" "$image" --class 3 --grad-cam --colormap jet --opacity 0.8 \
    --per-model-scale --screenshot "$tmp/shot2.png" --quit-after-render >/dev/null 2>&1 &&
    ok || bad "options"
[ -s "$tmp/shot2.png" ] && ! cmp -s "$tmp/shot.png" "$tmp/shot2.png" && ok || bad "options change the picture"

# 3. An unreadable image: an error in the window and on stderr, exit 0.
printf 'not an image' >"$tmp/bad.png"
xvfb timeout 120 "$viewer" "$run" "$tmp/bad.png" /no/such/image.png --screenshot "$tmp/shot3.png" \
    --quit-after-render >/dev/null 2>"$tmp/err"; rc=$?
[ "$rc" -eq 0 ] && ok || bad "bad image: exit $rc"
grep -q "/no/such/image.png" "$tmp/err" && ok || bad "missing image reported: $(cat "$tmp/err")"
[ -s "$tmp/shot3.png" ] && ok || bad "screenshot with the error"

# 4. A mismatched checkpoint (3x16x16, 2 classes) next to the baseline: refused.
"$fixture" folder "$tmp/folder" || bad "folder dataset"
"$fn" train --model lenet5 --data "folder:$tmp/folder" --epochs 1 --batch 4 \
    --out "$tmp/other" >"$tmp/train.log" 2>&1 || { cat "$tmp/train.log"; bad "train other"; }
xvfb timeout 120 "$viewer" --baseline "$run/baseline/best.safetensors" \
    --focusnet "$tmp/other/best.safetensors" "$image" --screenshot "$tmp/shot4.png" \
    --quit-after-render >/dev/null 2>"$tmp/err"; rc=$?
[ "$rc" -eq 0 ] && ok || bad "mismatch: exit $rc"
grep -q "does not match" "$tmp/err" && ok || bad "mismatch reported: $(cat "$tmp/err")"
# ... but a second run folder replaces both models, whatever their classes.
xvfb timeout 120 "$viewer" "$run" "$tmp/other" "$tmp/folder/test/red/0.png" \
    --screenshot "$tmp/shot4b.png" --quit-after-render >/dev/null 2>"$tmp/err"; rc=$?
[ "$rc" -eq 0 ] && ! grep -q "focusnet-viewer:" "$tmp/err" && ok ||
    bad "a second run folder: exit $rc, $(cat "$tmp/err")"
printf 'not a checkpoint' >"$tmp/bad.safetensors"
xvfb timeout 120 "$viewer" "$tmp/bad.safetensors" --screenshot "$tmp/shot5.png" \
    --quit-after-render >/dev/null 2>"$tmp/err"; rc=$?
[ "$rc" -eq 0 ] && grep -q "bad.safetensors" "$tmp/err" && ok || bad "corrupt checkpoint: exit $rc, $(cat "$tmp/err")"

# 4b. The same shapes and class count but other class names (issue 12): a
# pair is refused, and so is a dataset split, both lists shown.
"$fixture" folder "$tmp/folder2" || bad "folder dataset 2"
for s in train test; do mv "$tmp/folder2/$s/red" "$tmp/folder2/$s/green"; done
"$fn" train --model lenet5 --data "folder:$tmp/folder2" --epochs 1 --batch 4 \
    --out "$tmp/other2" >"$tmp/train.log" 2>&1 || { cat "$tmp/train.log"; bad "train other2"; }
xvfb timeout 120 "$viewer" --baseline "$tmp/other/best.safetensors" \
    --focusnet "$tmp/other2/best.safetensors" "$tmp/folder/test/red/0.png" \
    --screenshot "$tmp/shot4c.png" --quit-after-render >/dev/null 2>"$tmp/err"
grep -q "(blue, green).*differ.*(blue, red)" "$tmp/err" && ok || bad "names of a pair compared: $(cat "$tmp/err")"
xvfb timeout 120 "$viewer" --baseline "$tmp/other/best.safetensors" --data "folder:$tmp/folder2" \
    --screenshot "$tmp/shot4d.png" --quit-after-render >/dev/null 2>"$tmp/err"
grep -q "(blue, red).*differ.*(blue, green)" "$tmp/err" && ok || bad "names of a split compared: $(cat "$tmp/err")"

# 5. A dataset split: both models evaluated, the confusion matrices drawn.
out=$(xvfb timeout 120 "$viewer" "$run" --data "mnist:$tmp/data" --index 7 \
    --screenshot "$tmp/shot6.png" --quit-after-render 2>"$tmp/err"); rc=$?
[ "$rc" -eq 0 ] && ok || bad "dataset: exit $rc: $(cat "$tmp/err")"
printf '%s\n' "$out" | grep -q "100 test images: Baseline" && ok || bad "dataset evaluated: $out"
colors "$tmp/shot6.png" 200 && ok || bad "dataset screenshot"
xvfb timeout 120 "$viewer" "$run" --data "mnist:/no/such/dir" --screenshot "$tmp/shot7.png" \
    --quit-after-render >/dev/null 2>"$tmp/err"; rc=$?
[ "$rc" -eq 0 ] && grep -q "/no/such/dir" "$tmp/err" && ok || bad "missing dataset: exit $rc, $(cat "$tmp/err")"

# 6. Without --quit-after-render it stays up after an error until told to quit.
xvfb-run -a -s "-screen 0 1400x1100x24" "$viewer" "$run" /no/such/image.png \
    --screenshot "$tmp/shot8.png" >/dev/null 2>&1 &
viewer_pid=$!
i=0
while [ ! -s "$tmp/shot8.png" ] && [ $i -lt 120 ]; do sleep 0.5; i=$((i + 1)); done
[ -s "$tmp/shot8.png" ] && ok || bad "screenshot while running"
sleep 1
kill -0 "$viewer_pid" 2>/dev/null && ok || bad "still running after the error"
# SIGTERM to the viewer itself (xvfb-run's child): it quits cleanly, exit 0,
# and xvfb-run passes that on.
app=$(ps -o pid=,comm= --ppid "$viewer_pid" | awk '$2 ~ /^focusnet-view/ {print $1}')
[ -n "$app" ] && kill -TERM "$app"
wait "$viewer_pid"; rc=$?
viewer_pid=""
[ -n "$app" ] && [ "$rc" -eq 0 ] && ok || bad "quits on SIGTERM with exit 0: exit $rc"

# 7. Issue 17.6 at the default size: each matrix of a split shows whole
# (--describe says where each view lies inside the scrolled view), and each
# panel maps its own model's top class. "broken" lists images the baseline
# gets right and FocusNet wrong: the two top classes differ there.
describe() { xvfb timeout 120 "$viewer" "$run" --data "mnist:$tmp/data" --describe \
    --quit-after-render "$@" 2>"$tmp/err"; }
out=$(describe --filter broken); rc=$?
[ "$rc" -eq 0 ] && ok || bad "describe: exit $rc: $(cat "$tmp/err")"
printf '%s\n' "$out" | grep -q "^describe: window 1[12][0-9][0-9]x8[0-9][0-9]$" && ok ||
    bad "default window size: $(printf '%s\n' "$out" | grep 'describe: window')"
for v in confusion-baseline confusion-focusnet warm-matrix; do
    printf '%s\n' "$out" | grep -q "^describe: $v .*, all shown$" && ok ||
        bad "$v not cut off at the default size: $(printf '%s\n' "$out" | grep "describe: $v")"
done
own=0
for p in Baseline FocusNet; do
    line=$(printf '%s\n' "$out" | grep "^describe: panel $p: ")
    pred=$(printf '%s\n' "$line" | sed -n 's/.*predicts \(.*\) ([0-9.]*%) · .*/\1/p')
    mapped=$(printf '%s\n' "$line" | sed -n 's/.* of \(.*\)$/\1/p')
    [ -n "$pred" ] && [ "$pred" = "$mapped" ] && ok || bad "$p maps its own top class: '$line'"
    own="$own $pred"
done
if printf '%s\n' "$out" | grep -q "^describe: list 0 images"; then
    echo "note: no image where FocusNet breaks the baseline; the top classes may agree"
else
    set -- $own
    [ "$2" != "$3" ] && ok || bad "a broken image: the two models' top classes differ ($own)"
fi

# 8. The confusing pair (issue 17.1): the true class and the baseline's next
# most probable, or the class asked for; drawn (the picture changes).
out=$(describe --index 3 --pair auto --screenshot "$tmp/pair.png"); rc=$?
line=$(printf '%s\n' "$out" | grep "^describe: pair ")
[ "$rc" -eq 0 ] && printf '%s\n' "$line" | grep -q "^describe: pair 3 [0-9]*: Why 3, not " && ok ||
    bad "--pair auto: A is the true class 3: exit $rc, '$line'"
printf '%s\n' "$line" | grep -q "^describe: pair 3 3:" && bad "B is not A" || ok
out=$(describe --index 3 --pair 5 --screenshot "$tmp/pair5.png")
printf '%s\n' "$out" | grep -q "^describe: pair 3 5: Why 3, not 5?" && ok ||
    bad "--pair 5: $(printf '%s\n' "$out" | grep 'describe: pair')"
describe --index 3 --screenshot "$tmp/nopair.png" >/dev/null
colors "$tmp/pair.png" 200 && ! cmp -s "$tmp/pair.png" "$tmp/pair5.png" &&
    ! cmp -s "$tmp/pair.png" "$tmp/nopair.png" && ok || bad "the pair drawn, B's maps differ"
"$viewer" --pair x >/dev/null 2>"$tmp/err"; rc=$?
[ "$rc" -eq 2 ] && grep -q "option --pair" "$tmp/err" && ok || bad "bad --pair: exit $rc"

# 9. The multi-warm matrix (issue 17.2): the diagonal counts each class's
# images (10 of 100 here), and --warm-cell lists as many images as its cell.
out=$(describe --warm-cell 3,2 --screenshot "$tmp/warm.png"); rc=$?
diag=1
for i in 0 1 2 3 4 5 6 7 8 9; do
    v=$(printf '%s\n' "$out" | grep "^describe: warm row $i:" | cut -d: -f3 | awk -v c=$((i + 1)) '{print $c}')
    [ "$v" = 10 ] || diag=0
done
[ "$rc" -eq 0 ] && [ "$diag" = 1 ] && ok || bad "warm matrix diagonal: $(printf '%s\n' "$out" | grep 'warm row')"
cell=$(printf '%s\n' "$out" | grep "^describe: warm row 3:" | cut -d: -f3 | awk '{print $3}')
printf '%s\n' "$out" | grep -q "^describe: list $cell images listed in the chosen multi-warm cell" &&
    ok || bad "--warm-cell 3,2 lists $cell images: $(printf '%s\n' "$out" | grep 'describe: list')"
"$viewer" --warm-cell 3 >/dev/null 2>"$tmp/err"; rc=$?
[ "$rc" -eq 2 ] && grep -q "option --warm-cell" "$tmp/err" && ok || bad "bad --warm-cell: exit $rc"

# 10. Presentation mode (issue 17.5): the present page fills the window, the
# predictions and the multi-warm label are in it, and it is drawn big.
out=$(describe --index 4 --present --screenshot "$tmp/present.png" --export "$tmp/present-view.png"); rc=$?
[ "$rc" -eq 0 ] && printf '%s\n' "$out" | grep -q "^describe: present Baseline: .* of " &&
    printf '%s\n' "$out" | grep -q "^describe: present FocusNet: .* of " &&
    printf '%s\n' "$out" | grep -q "^describe: present multi-warm:.* 4 0\.[0-9]*" && ok ||
    bad "--present: exit $rc: $out"
pv=$(printf '%s\n' "$out" | sed -n 's/^describe: present-view [0-9]*,[0-9]* \([0-9]*\)x\([0-9]*\), all shown$/\1 \2/p')
set -- $pv
[ "${1:-0}" -ge 1000 ] && [ "${2:-0}" -ge 700 ] && ok || bad "the present page fills the window: '$pv'"
colors "$tmp/present.png" 50 && ! cmp -s "$tmp/present.png" "$tmp/nopair.png" && ok ||
    bad "present screenshot: $("$fixture" colors "$tmp/present.png")"
# shellcheck disable=SC2046
set -- $("$fixture" colors "$tmp/present-view.png")
[ "${1:-0}" -ge 1000 ] && [ "${3:-0}" -ge 50 ] && ok ||
    bad "--export in the presentation mode writes the presentation: $*"

# Options are checked before any window opens.
"$viewer" --colormap hot >/dev/null 2>"$tmp/err"; rc=$?
[ "$rc" -eq 2 ] && grep -q "viridis" "$tmp/err" && ok || bad "bad --colormap: exit $rc"
"$viewer" --version | grep -q '^focusnet-viewer ' && ok || bad "--version"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

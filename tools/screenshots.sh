#!/bin/sh
# The README's pictures of the viewer (issue 17, items 1-5), made from the
# current demo's runs: each is one focusnet-viewer (or focusnet plot) command
# under Xvfb, printed before it runs, so the README can show the command
# next to its picture.
#
# usage: tools/screenshots.sh [BUILD_DIR [RUNS_DIR [ASSETS_DIR]]]
#   BUILD_DIR   the meson build folder (build)
#   RUNS_DIR    the demo's runs (runs/demo); made with
#               `focusnet demo --keep-epochs 1` when RUNS_DIR/*/ have no
#               last.safetensors (minutes on 2 CPU cores)
#   ASSETS_DIR  where the PNGs go (assets)
# Needs xvfb-run and xauth (tools/setup.sh installs them); pngquant, when
# installed, makes the PNGs smaller (apt-get install pngquant). A picture
# whose viewer option is not in this build is skipped with a line saying so.
set -eu
build="${1:-build}"
runs="${2:-runs/demo}"
assets="${3:-assets}"
fn="$build/cli/focusnet"
viewer="$build/viewer/focusnet-viewer"
for p in "$fn" "$viewer"; do
    [ -x "$p" ] || { echo "screenshots.sh: $p not built (meson compile -C $build)" >&2; exit 2; }
done
for p in xvfb-run xauth; do
    command -v "$p" >/dev/null 2>&1 || { echo "screenshots.sh: needs $p (tools/setup.sh)" >&2; exit 2; }
done
mkdir -p "$assets"

if [ ! -f "$runs/baseline/last.safetensors" ] || [ ! -f "$runs/focusnet/last.safetensors" ]; then
    keep=""
    "$fn" demo --help 2>&1 | grep -q -- "--keep-epochs" && keep="--keep-epochs 1"
    [ -n "$keep" ] || echo "screenshots.sh: focusnet demo has no --keep-epochs: no epoch slider picture" >&2
    echo "+ focusnet demo --out $runs $keep"
    # shellcheck disable=SC2086
    "$fn" demo --out "$runs" $keep
fi

# Quiet, deterministic drawing: the cairo renderer, no accessibility bus.
export GTK_A11Y=none GSK_RENDERER=cairo NO_AT_BRIDGE=1
has() { "$viewer" --help-all 2>&1 | grep -q -- "--$1"; }
small() { if command -v pngquant >/dev/null 2>&1; then pngquant --force --skip-if-larger --output "$1" -- "$1" || true; fi; }

# shot NAME OPTION... : assets/NAME.png of `focusnet-viewer OPTION...`
# (run folder and image options as the README shows them).
shot() {
    name="$1"
    shift
    echo "+ focusnet-viewer $* --screenshot $assets/$name.png"
    xvfb-run -a -s "-screen 0 1600x1600x24" timeout 600 "$viewer" "$@" \
        --screenshot "$assets/$name.png" --quit-after-render >/dev/null
    small "$assets/$name.png"
}

# The demo reports (and FocusNet is guided by) each stage's last epoch, so
# the pictures open those checkpoints: their numbers are the demo's. A run
# folder alone would open its best.safetensors.
models="--baseline $runs/baseline/last.safetensors --focusnet $runs/focusnet/last.safetensors"
data="--data fashion-mnist"
# The window as it opens on a split, an image the baseline gets wrong and
# FocusNet right: the picture at the top of the viewer's section.
# shellcheck disable=SC2086
shot screenshot $models $data --filter fixed --size 1280x1060

# 1. Confusing pairs: the true class and the one that confuses the model
# most, in both models, and the contrast map.
if has pair; then
    # shellcheck disable=SC2086
    shot pairs $models $data --filter fixed --pair auto --size 1280x1240
else
    echo "screenshots.sh: this viewer has no --pair (issue 17.1): no pairs.png" >&2
fi

# 2. The baseline's multi-warm matrix over the split beside the confusion
# matrices, a cell's images listed.
if has warm-cell; then
    # shellcheck disable=SC2086
    shot warm-matrix $models $data --warm-cell 6,0 --size 1280x1240
else
    echo "screenshots.sh: this viewer has no --warm-cell (issue 17.2): no warm-matrix.png" >&2
fi

# 3. The epoch slider: the same image through the checkpoints of epoch 2.
if [ -d "$runs/baseline/epochs" ] || [ -d "$runs/focusnet/epochs" ]; then
    # shellcheck disable=SC2086
    shot epochs $models $data --filter fixed --epoch 2 --per-model-scale --size 1280x1060
else
    echo "screenshots.sh: $runs kept no epochs (focusnet demo --keep-epochs): no epochs.png" >&2
fi

# 4. Training curves: in the viewer (under the matrices, the epoch marked)
# and as focusnet plot draws them.
# shellcheck disable=SC2086
shot history $models $data --filter fixed --epoch 2 --size 1280x1560
echo "+ focusnet plot $runs --out $assets/curves.png"
"$fn" plot "$runs" --out "$assets/curves.png" >/dev/null
small "$assets/curves.png"

# 5. The presentation mode.
if has present; then
    # shellcheck disable=SC2086
    shot present $models $data --filter fixed --present --size 1280x860
else
    echo "screenshots.sh: this viewer has no --present (issue 17.5): no present.png" >&2
fi
ls -l "$assets"/*.png

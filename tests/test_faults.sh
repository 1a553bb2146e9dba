#!/bin/sh
# OpenCL failures end `focusnet train` cleanly: exit code 1, a message (one
# line for allocations), no crash, and no partial files.
#  - FOCUSNET_FAIL_ALLOC=N makes the Nth device allocation fail; N runs from 1
#    until a run succeeds, so every allocation of a run is hit: a stage-1 run
#    (cross-entropy) and a stage-2 run (focus loss against a frozen baseline,
#    which allocates through the evaluation-only model's shared buffers).
#  - FOCUSNET_KERNEL_DIR with a broken kernel source: the build fails.
# usage: test_faults.sh PATH/TO/focusnet PATH/TO/test_helper
set -u
fn="$1"
helper="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/kit.sh"

"$helper" mnist "$tmp" || { echo "cannot write the dataset"; exit 1; }
# POCL's kernel cache is not safe for processes building at once
# (pocl/pocl#1480), and this test starts (and kills) many while other tests
# run: it works on a private copy of the cache.
pocl_cache="${POCL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pocl/kcache}"
mkdir -p "$tmp/pocl"
if [ -d "$pocl_cache" ]; then
    tar -C "$pocl_cache" --exclude='tempfile*' -cf - . 2>/dev/null | tar -C "$tmp/pocl" -xf - 2>/dev/null
fi
export POCL_CACHE_DIR="$tmp/pocl"
base="--data mnist:$tmp --batch 64 --limit-train 160 --limit-test 60 --epochs 2"
# shellcheck disable=SC2086
"$fn" train $base --out "$tmp/base" >/dev/null 2>&1 && ok || bad "the baseline run"

# Whatever a failed run leaves must be complete: no temporary files, and
# every checkpoint there loads.
check_left() {
    dir="$1"
    [ -d "$dir" ] || return 0
    if ls "$dir" | grep -q '\.tmp-'; then bad "$2: temporary files left: $(ls "$dir")"; fi
    for f in "$dir"/*.safetensors; do
        [ -e "$f" ] || continue
        "$helper" tensors "$f" >/dev/null || bad "$2: $f does not load"
    done
}

sweep() { # NAME OPTIONS...
    name="$1"
    shift
    n=1
    while [ "$n" -le 1000 ]; do
        out="$tmp/$name-$n"
        FOCUSNET_FAIL_ALLOC=$n "$fn" train "$@" --out "$out" >/dev/null 2>"$tmp/err"
        rc=$?
        if [ "$rc" -eq 0 ]; then
            echo "$name: every one of $((n - 1)) device allocations failed cleanly"
            ok
            return
        fi
        lines=$(wc -l <"$tmp/err")
        if [ "$rc" -ne 1 ]; then
            bad "$name, allocation $n: exit $rc (a crash?): $(cat "$tmp/err")"
        elif [ "$lines" -ne 1 ] || ! grep -q "FOCUSNET_FAIL_ALLOC=$n)" "$tmp/err"; then
            bad "$name, allocation $n: not one line naming the failure: $(cat "$tmp/err")"
        else
            ok
        fi
        check_left "$out" "$name, allocation $n"
        rm -rf "$out"
        n=$((n + 1))
    done
    bad "$name: still failing after 1000 allocations"
}

# shellcheck disable=SC2086
sweep ce $base
# shellcheck disable=SC2086
sweep focus $base --loss focus --baseline "$tmp/base/best.safetensors"

# A kernel that does not compile.
mkdir "$tmp/kernels" "$tmp/empty"
cp "${FOCUSNET_SOURCE_DIR:-.}"/kernels/*.cl "${FOCUSNET_SOURCE_DIR:-.}"/kernels/*.clh "$tmp/kernels/"
echo "this is not OpenCL C" >>"$tmp/kernels/relu.cl"
# shellcheck disable=SC2086
FOCUSNET_KERNEL_DIR="$tmp/kernels" "$fn" train $base --out "$tmp/k" >/dev/null 2>"$tmp/err"
rc=$?
# (The OpenCL compiler may print its own diagnostics to stderr first; ours is
# the line that names the program, followed by the build log.)
[ "$rc" -eq 1 ] && grep -q "^focusnet train: kernel program 'relu' failed to build" "$tmp/err" && ok ||
    bad "a broken kernel: exit $rc: $(head -3 "$tmp/err")"
[ ! -e "$tmp/k" ] && ok || bad "a broken kernel leaves no run folder: $(ls "$tmp/k")"
# A kernel that is not there.
# shellcheck disable=SC2086
FOCUSNET_KERNEL_DIR="$tmp/empty" "$fn" train $base --out "$tmp/k" >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "cannot read kernel source" "$tmp/err" &&
    ok || bad "a missing kernel: exit $rc: $(cat "$tmp/err")"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

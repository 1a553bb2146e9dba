#!/bin/bash
# focusnet on a real GPU in one call (issue 14), results into RESULTS_DIR:
#   bench/gpu/run.sh RESULTS_DIR            on a GPU machine (no network needed)
#   bench/gpu/run.sh --dry-run RESULTS_DIR  the same steps on POCL at tiny sizes,
#                                           PyTorch CUDA skipped (CI runs this)
# Bring along bench/gpu/carry/ (bench/gpu/pack.sh makes it: the programs, the
# .debs of their libraries, Fashion-MNIST). Steps, each into its own file:
#   1. libraries: the ICD loader, CLBlast and the rest from the carried .debs
#      (dpkg -x, LD_LIBRARY_PATH) where the system lacks them
#   2. the vendor's OpenCL library (NVIDIA: libnvidia-opencl.so.1 near the
#      driver; AMD, Intel likewise), named in an .icd file of a vendors folder
#      of our own (OCL_ICD_VENDORS; /etc is never touched); dry run: POCL's
#   3. focusnet devices                                      devices.txt
#   4. the C test suite on that device                       suite.txt
#   5. focusnet bench train: LeNet-5 (batch 128), MobileNetV2 x0.5 small and
#      ResNet-18 small (batch 128, 32x32)                    bench-MODEL.txt
#   6. the same models in PyTorch on CUDA, TF32 off then as shipped, beside
#      ours (bench/torch_ratio.py --torch-device cuda)       torch-tf32-*.txt
#   7. ResNet-18 profiled (--profile)                        profile-resnet18.txt
#   8. a short two-stage LeNet-5 on Fashion-MNIST            two-stage.txt
# and summary.txt (what ran, how long, what failed). Exit 1 if a step failed.
set -u
dry=0
if [ "${1:-}" = "--dry-run" ]; then dry=1; shift; fi
[ $# -eq 1 ] || { echo "usage: bench/gpu/run.sh [--dry-run] RESULTS_DIR" >&2; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
carry="$root/bench/gpu/carry"
mkdir -p "$1" || { echo "bench/gpu/run.sh: cannot create $1" >&2; exit 1; }
out=$(cd "$1" && pwd)
summary="$out/summary.txt"
: >"$summary"
failed=0
t_start=$(date +%s)
note() { echo "$*" | tee -a "$summary"; }
# step NAME FILE TIMEOUT COMMAND...: runs it with its output in FILE.
step() {
    local name=$1 file=$2 limit=$3 t0 rc
    shift 3
    t0=$(date +%s)
    [ $dry = 1 ] && limit=$((limit * 4)) # POCL on a small, busy machine compiles slowly
    if [ "$(type -t "$1")" = function ]; then
        # timeout(1) runs programs only: a function gets a watchdog instead.
        "$@" >"$out/$file" 2>&1 &
        local pid=$!
        # Its stderr goes nowhere: the shell inside says "Terminated" when its
        # sleep is ended below.
        (sleep "$limit" && kill -TERM "$pid") 2>/dev/null &
        local dog=$!
        wait "$pid"
        rc=$?
        pkill -P "$dog" 2>/dev/null # its sleep
        kill "$dog" 2>/dev/null
        wait "$dog" 2>/dev/null
    else
        timeout "$limit" "$@" >"$out/$file" 2>&1
        rc=$?
    fi
    if [ $rc -eq 0 ]; then
        note "ok   $name ($(( $(date +%s) - t0 ))s) -> $file"
    else
        failed=1
        note "FAIL $name (exit $rc, $(( $(date +%s) - t0 ))s) -> $file"
        tail -5 "$out/$file" | sed 's/^/     /' | tee -a "$summary"
    fi
    return $rc
}
note "focusnet GPU run $(date -u '+%Y-%m-%d %H:%M UTC') on $(hostname)$([ $dry = 1 ] && echo ', dry run (POCL, tiny sizes)')"
note "commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"

# ---- programs -----------------------------------------------------------------
if [ -x "$carry/bin/focusnet" ]; then
    bin="$carry/bin" tests_bin="$carry/bin"
else
    bin="$root/build/cli" tests_bin="$root/build/tests"
fi
fn="$bin/focusnet"
[ -x "$fn" ] || { note "FAIL no focusnet program: run bench/gpu/pack.sh (or tools/setup.sh) first"; exit 1; }

# ---- 1. libraries the system lacks, from the carried .debs ----------------------
libdir="$out/lib"
mkdir -p "$libdir"
have() { ldconfig -p 2>/dev/null | grep -q "^[[:space:]]*$1 " || [ -e "/usr/lib/x86_64-linux-gnu/$1" ] || [ -e "/usr/lib64/$1" ]; }
missing=$(for f in "$fn" "$tests_bin"/test_*; do [ -x "$f" ] && LD_LIBRARY_PATH="$carry/lib" ldd "$f" 2>/dev/null; done |
    awk '/not found/{print $1}' | sort -u)
if [ -n "$missing" ] && ls "$carry"/debs/*.deb >/dev/null 2>&1; then
    unpacked="$out/debroot"
    for d in "$carry"/debs/*.deb; do dpkg -x "$d" "$unpacked"; done
    for lib in $missing; do
        found=$(find "$unpacked" -name "$lib" | head -1)
        if [ -n "$found" ]; then ln -sf "$found" "$libdir/$lib"; note "library $lib from $(basename "$(dirname "$found")") of the carried .debs"; fi
    done
fi
export LD_LIBRARY_PATH="$libdir:$carry/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
still=$(ldd "$fn" 2>/dev/null | awk '/not found/{print $1}')
[ -z "$still" ] || { note "FAIL libraries still missing: $still"; exit 1; }

# ---- 2. the vendor's OpenCL library in a vendors folder of our own ----------------
find_lib() { # the first path of a library by name: the loader's cache, then the usual folders
    local name=$1 p
    p=$(ldconfig -p 2>/dev/null | awk -v n="$name" '$1 == n {print $NF; exit}')
    if [ -n "$p" ]; then echo "$p"; return; fi
    for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/local/nvidia/lib64 /usr/local/nvidia/lib \
        /usr/lib/nvidia /usr/lib64/nvidia /usr/local/cuda/lib64 /run/nvidia/driver/usr/lib/x86_64-linux-gnu \
        /opt/rocm/lib /opt/rocm/opencl/lib "$unpacked_dir"; do
        [ -e "$d/$name" ] && { echo "$d/$name"; return; }
    done
    find / -xdev -name "$name" 2>/dev/null | head -1
}
unpacked_dir="$out/debroot/usr/lib/x86_64-linux-gnu"
vendors="$out/vendors"
mkdir -p "$vendors"
if [ $dry = 1 ]; then
    candidates="libpocl.so.2"
else
    candidates="libnvidia-opencl.so.1 libamdocl64.so libigdrcl.so"
fi
vendor_lib=""
for c in $candidates; do
    p=$(find_lib "$c")
    if [ -n "$p" ]; then vendor_lib=$p; break; fi
done
[ -n "$vendor_lib" ] || { note "FAIL no vendor OpenCL library found (looked for: $candidates)"; exit 1; }
echo "$vendor_lib" >"$vendors/focusnet-run.icd"
export OCL_ICD_VENDORS="$vendors"
note "vendor library $vendor_lib (OCL_ICD_VENDORS=$vendors)"

# ---- 3. devices ---------------------------------------------------------------------
# Compiled kernels go to focusnet's usual cache (FOCUSNET_CACHE_DIR, else
# ~/.cache/focusnet): the first run compiles, a second one reuses them.
export FOCUSNET_SOURCE_DIR="$root" FOCUSNET_BUILD_DIR="$root/build"
step "focusnet devices" devices.txt 60 "$fn" devices || { note "no device: stopping"; exit 1; }
# The device: the first GPU, else (dry run) the default.
if [ $dry = 1 ]; then
    spec=""
else
    spec=$(awk '/^  \[[0-9]+\]/{idx=$1; gsub(/[\[\]]/, "", idx)} /type GPU/{print idx; exit}' "$out/devices.txt")
    [ -n "$spec" ] || { note "FAIL focusnet devices lists no GPU"; exit 1; }
fi
export FOCUSNET_DEVICE="$spec"
dev_args=()
[ -n "$spec" ] && dev_args=(--device "$spec")
note "device: ${spec:-default} ($(grep -A1 "^  \[${spec:-0}\]" "$out/devices.txt" | tail -1 | sed 's/^ *//'))"

# ---- 4. the C tests on that device ----------------------------------------------------
suite() {
    local pass=0 fail=0 t
    for t in "$tests_bin"/test_*; do
        [ -x "$t" ] && [ -f "$t" ] || continue
        case "$(basename "$t")" in test_helper | *.sh) continue ;; esac
        if [ $dry = 1 ]; then
            case "$(basename "$t")" in test_runtime | test_relu | test_softmax | test_gpu_step) ;; *) continue ;; esac
        fi
        local t0
        t0=$(date +%s)
        if timeout 300 "$t" >"$out/suite-$(basename "$t").log" 2>&1; then
            pass=$((pass + 1)); echo "ok   $(basename "$t") ($(( $(date +%s) - t0 ))s)"
        else
            fail=$((fail + 1)); echo "FAIL $(basename "$t") ($(( $(date +%s) - t0 ))s)"; tail -5 "$out/suite-$(basename "$t").log"
        fi
    done
    echo "$pass passed, $fail failed"
    [ $fail -eq 0 ]
}
[ $dry = 1 ] && export FOCUSNET_TEST_SMALL=1
step "test suite" suite.txt 420 suite
unset FOCUSNET_TEST_SMALL

# ---- 5. focusnet bench train ------------------------------------------------------------
if [ $dry = 1 ]; then b=4 in32=3x16x16 steps="--steps 1 --warmup 0 --repeat 1"; else b=128 in32=3x32x32 steps="--steps 10 --warmup 2 --repeat 3"; fi
# shellcheck disable=SC2086
step "bench train lenet5" bench-lenet5.txt 120 "$fn" bench train "${dev_args[@]}" --model lenet5 --batch $b $steps
# shellcheck disable=SC2086
step "bench train mobilenetv2" bench-mobilenetv2.txt 180 "$fn" bench train "${dev_args[@]}" --model mobilenetv2 --width 0.5 --stem small --input $in32 --batch $b $steps
# shellcheck disable=SC2086
step "bench train resnet18" bench-resnet18.txt 180 "$fn" bench train "${dev_args[@]}" --model resnet18 --stem small --input $in32 --batch $b $steps

# ---- 6. PyTorch on CUDA, beside ours ------------------------------------------------------
py=$(command -v python3 || true)
if [ $dry = 1 ]; then
    note "skip PyTorch CUDA (dry run)"
elif [ -z "$py" ] || ! "$py" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    note "skip PyTorch CUDA: no python3 with torch and CUDA here"
else
    for tf in off default; do
        step "PyTorch CUDA, TF32 $tf" "torch-tf32-$tf.txt" 240 "$py" "$root/bench/torch_ratio.py" \
            --focusnet "$fn" "${dev_args[@]}" --torch-device cuda --tf32 $tf --batch 128 --rounds 1
    done
fi

# ---- 7. the ResNet-18 profile ----------------------------------------------------------------
# shellcheck disable=SC2086
step "profile resnet18" profile-resnet18.txt 180 "$fn" bench train "${dev_args[@]}" --model resnet18 --stem small --input $in32 --batch $b $steps --profile

# ---- 8. two stages of LeNet-5 on Fashion-MNIST --------------------------------------------------
data=""
if [ -f "$carry/fashion-mnist/train-images-idx3-ubyte.gz" ]; then data="fashion-mnist:$carry/fashion-mnist"
elif [ -d /usr/share/datasets/fashion-mnist ]; then data=fashion-mnist; fi
two_stage() {
    local runs="$out/runs" lim ep elim
    if [ $dry = 1 ]; then lim="--limit-train 512 --limit-test 256" ep=1 elim="--limit 256"; else lim="" ep=2 elim=""; fi
    rm -rf "$runs"
    # shellcheck disable=SC2086
    "$fn" train "${dev_args[@]}" --model lenet5 --data "$data" --epochs $ep $lim --out "$runs/baseline" &&
        "$fn" train "${dev_args[@]}" --model lenet5 --data "$data" --epochs $ep $lim --loss focus \
            --baseline "$runs/baseline/best.safetensors" --out "$runs/focusnet" &&
        "$fn" eval "${dev_args[@]}" "$runs/baseline/best.safetensors" --data "$data" $elim &&
        "$fn" eval "${dev_args[@]}" "$runs/focusnet/best.safetensors" --data "$data" $elim
}
if [ -n "$data" ]; then
    step "two-stage LeNet-5 on Fashion-MNIST" two-stage.txt 240 two_stage
else
    failed=1
    note "FAIL two-stage run: no Fashion-MNIST (bench/gpu/pack.sh carries it)"
fi

note "total $(( $(date +%s) - t_start ))s"
exit $failed

#!/bin/sh
# The GPU code path on a strict simulated GPU (issue 14): oclgrind reports
# itself as a GPU, so focusnet takes its GPU path there (dev->long_runs == 0,
# CLBlast GEMM). Runs the op tests in small-shape mode (FOCUSNET_TEST_SMALL=1)
# and whole-model steps (tests/test_gpu_step.c, compared with the same step
# on the default device, POCL), first with --data-races --check-api, then
# again on a smaller device (--max-wgsize 256 --local-mem-size 32768, the
# limits of many AMD and Intel GPUs). Any oclgrind report (its log, which
# otherwise goes to stderr) fails the test, as does a failed check.
#   tests/oclgrind.sh [TEST...]   (names as in tests/meson.build; default all)
# Time: the model steps dominate (the simulator's cost is per launch, and a
# MobileNetV2 step launches ~700 kernels). By default the first pass steps
# LeNet-5, MobileNetV2 and ResNet-18 and the second LeNet-5 and ResNet-18:
# the second device differs from the first only in its work-group limit
# (oclgrind's local memory is 32 KiB already), which no launch of ours
# reaches (fn_launch_auto aims at 64 items, the row kernels stop at 256).
# The ResNet-18 step is the small-stem architecture with its channels / 16
# (every layer kind: stem, residual blocks, stride-2 1x1 projection
# shortcuts, batch norm, global pooling; 68 s under load 8): at its real
# widths (11.2M parameters whatever the input) one step at 4x4, batch 1 had
# not finished after 9 minutes. OCLGRIND_FULL=1 adds that one
# (resnet18-full) and runs every step in both passes.
# Ends with "N passed, N failed". oclgrind is an interpreter, thousands of
# times slower than POCL: CI gives this its own step (.ci/run).
set -u
cd "$(dirname "$0")/.."
command -v oclgrind >/dev/null || { echo "oclgrind is not installed (apt-get install oclgrind)"; echo "0 passed, 1 failed"; exit 1; }
if [ ! -f build/build.ninja ]; then
    meson setup build -Dwerror=true >/dev/null || { echo "meson setup failed"; echo "0 passed, 1 failed"; exit 1; }
fi
meson compile -C build >/dev/null || { meson compile -C build 2>&1 | tail -30; echo "0 passed, 1 failed"; exit 1; }

tests="${*:-runtime axpy add relu softmax reduce batchnorm pool linear gemm sgd loss focus conv conv_implicit conv_depthwise conv_winograd gpu_step}"
export FOCUSNET_TEST_SMALL=1 FOCUSNET_SOURCE_DIR="$PWD" FOCUSNET_BUILD_DIR="$PWD/build"
# Its own kernel cache: binaries for the simulator only.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export FOCUSNET_CACHE_DIR="$tmp/cache"
unset FOCUSNET_DEVICE FOCUSNET_GEMM
pass=0 fail=0
start=$(date +%s)

# The model steps on the default device first (POCL here), one file per
# model, for the simulated runs to be compared with.
if [ "${OCLGRIND_FULL:-0}" = 1 ]; then
    models="lenet5 mobilenetv2 resnet18 resnet18-full" models2=$models
else
    models="lenet5 mobilenetv2 resnet18" models2="lenet5 resnet18"
fi
case " $tests " in *" gpu_step "*)
    for m in $models; do
        if ! FOCUSNET_STEP_MODELS=$m build/tests/test_gpu_step --save "$tmp/step-$m.txt" >"$tmp/out" 2>&1; then
            cat "$tmp/out"; echo "FAIL gpu_step $m on the default device"; fail=$((fail + 1))
        fi
    done ;;
esac

run() { # label, oclgrind options..., -- command...
    label=$1; shift
    t0=$(date +%s)
    # shellcheck disable=SC2068
    oclgrind "$@" >"$tmp/out" 2>&1
    rc=$?
    secs=$(( $(date +%s) - t0 ))
    if [ "$rc" -eq 0 ] && [ ! -s "$tmp/log" ]; then
        pass=$((pass + 1)); echo "ok   $label (${secs}s)"
    else
        fail=$((fail + 1)); echo "FAIL $label (${secs}s, exit $rc)"
        tail -20 "$tmp/out"; head -40 "$tmp/log" 2>/dev/null
    fi
    rm -f "$tmp/log"
}

# The harness itself: an out-of-bounds read planted in relu_forward (through
# FOCUSNET_KERNEL_DIR) must show in oclgrind's log, or a clean log would
# prove nothing.
rm -rf "$tmp/planted" "$tmp/log"
cp -r kernels "$tmp/planted"
sed -i 's/const float v = x\[i\];/const float v = x[i + n];/' "$tmp/planted/relu.cl"
if grep -q 'x\[i + n\]' "$tmp/planted/relu.cl"; then
    FOCUSNET_KERNEL_DIR="$tmp/planted" FOCUSNET_NO_CACHE=1 oclgrind --log "$tmp/log" \
        build/tests/test_relu >/dev/null 2>&1
fi
if grep -q 'Invalid read' "$tmp/log" 2>/dev/null; then
    pass=$((pass + 1)); echo "ok   a planted out-of-bounds read is reported"
else
    fail=$((fail + 1)); echo "FAIL a planted out-of-bounds read was not reported"
fi
rm -f "$tmp/log"

for shape in "" "--max-wgsize 256 --local-mem-size 32768"; do
    echo "== oclgrind --data-races --check-api $shape"
    step_models=$models
    [ -n "$shape" ] && step_models=$models2
    for t in $tests; do
        if [ "$t" = gpu_step ]; then
            for m in $step_models; do
                # shellcheck disable=SC2086
                FOCUSNET_STEP_MODELS=$m run "gpu_step $m $shape" --data-races --check-api $shape \
                    --log "$tmp/log" build/tests/test_gpu_step --compare "$tmp/step-$m.txt"
            done
        else
            # shellcheck disable=SC2086
            run "$t $shape" --data-races --check-api $shape --log "$tmp/log" "build/tests/test_$t"
        fi
    done
done
echo "== oclgrind suite: $(( $(date +%s) - start ))s"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/bin/sh
# valgrind memcheck over the host-only tests (corpus, dataset, dataset_fashion,
# dataset_cifar10, image, loader, safetensors, options) and a short session of the
# focusnet command on a tiny dataset (train stopped mid-epoch, --resume, eval,
# predict, a corrupt checkpoint, an injected allocation failure, a diverging
# run). Fails on a crash or unexpected exit code, and on any memory error or
# definitely lost block whose stack is in focusnet code (tests/valgrind_check.py);
# what POCL, LLVM and the ICD loader keep is in tests/valgrind.supp. Programs
# run on POCL under valgrind take seconds each, so the shapes are tiny.
# Run by `tests/run.sh --valgrind`; logs in build-valgrind/.
set -u
cd "$(dirname "$0")/.."
root=$PWD
if [ ! -f build/build.ninja ]; then
    meson setup build -Dwerror=true >/dev/null || { echo "meson setup failed"; exit 1; }
fi
meson compile -C build >/dev/null || { echo "build failed"; exit 1; }
out=build-valgrind
rm -rf "$out"
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export FOCUSNET_SOURCE_DIR="$root"
pass=0
fail=0

# run NAME EXPECTED_EXIT COMMAND...: one program under memcheck.
run() {
    name="$1"
    want="$2"
    shift 2
    start=$(date +%s)
    valgrind --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
        --fullpath-after= --num-callers=40 --suppressions=tests/valgrind.supp \
        --log-file="$out/$name.log" "$@" >"$out/$name.out" 2>&1
    rc=$?
    case " $want " in
    *" $rc "*)
        pass=$((pass + 1))
        echo "$name: exit $rc in $(($(date +%s) - start)) s"
        ;;
    *)
        fail=$((fail + 1))
        echo "FAIL: $name: exit $rc, expected $want; $out/$name.out ends:"
        tail -5 "$out/$name.out"
        ;;
    esac
}

for t in corpus dataset dataset_fashion dataset_cifar10 image loader safetensors options; do
    run "test_$t" "0 77" "build/tests/test_$t" # 77: skipped, its data is not here
done

fn=build/cli/focusnet
build/tests/test_helper mnist "$tmp"
tiny="--data mnist:$tmp --batch 4 --limit-train 8 --limit-test 4 --epochs 2"
# shellcheck disable=SC2086
run train 0 "$fn" train $tiny --max-steps 3 --out "$tmp/run"
run resume 0 "$fn" train --resume "$tmp/run"
run eval 0 "$fn" eval "$tmp/run/last.safetensors" --data "mnist:$tmp" --limit 4
run predict 0 "$fn" predict "$tmp/run/last.safetensors" tests/corpus/image/ok-gray.png --top 2
run bad_checkpoint 1 "$fn" eval tests/corpus/checkpoint/bad-ckpt-std.safetensors
# shellcheck disable=SC2086
FOCUSNET_FAIL_ALLOC=20 run alloc_failure 1 "$fn" train $tiny --out "$tmp/fail"
# shellcheck disable=SC2086
run diverged 1 "$fn" train $tiny --lr 1e6 --out "$tmp/nan"

python3 tests/valgrind_check.py "$root" "$out"/*.log || fail=$((fail + 1))
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

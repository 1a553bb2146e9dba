#!/bin/sh
# Builds (if needed) and runs the whole test suite; ends with "N passed, N failed".
#   tests/run.sh              the normal build in build/
#   tests/run.sh --sanitize   AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/
#   tests/run.sh --mpi        the data-parallel tests under mpirun (suite "mpi", about 2
#                             minutes; left out of the other runs)
#   tests/run.sh --valgrind   valgrind memcheck over the host-only tests and a short CLI
#                             session (tests/valgrind.sh; about 2 minutes)
#   tests/run.sh --oclgrind   the GPU path on oclgrind's simulated GPU (tests/oclgrind.sh;
#                             op tests in small-shape mode and model steps, twice)
# Extra arguments after these go to meson test (e.g. a test name).
set -u
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--valgrind" ]; then
    exec tests/valgrind.sh
fi
if [ "${1:-}" = "--oclgrind" ]; then
    shift
    exec tests/oclgrind.sh "$@"
fi
builddir=build
setup_args="-Dwerror=true"
suite="--no-suite mpi"
if [ "${1:-}" = "--mpi" ]; then
    shift
    suite="--suite mpi"
fi
if [ "${1:-}" = "--sanitize" ]; then
    shift
    builddir=build-asan
    setup_args="$setup_args -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug"
    # OpenCL drivers (POCL's LLVM) keep allocations for the life of the process:
    # leak checking is left to valgrind (issue 8), the rest of ASan/UBSan stays on.
    export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi
if [ ! -f "$builddir/build.ninja" ]; then
    # shellcheck disable=SC2086
    meson setup "$builddir" $setup_args >/dev/null || { echo "meson setup failed"; echo "0 passed, 1 failed"; exit 1; }
fi
meson compile -C "$builddir" >/dev/null || { meson compile -C "$builddir" 2>&1 | tail -30; echo "0 passed, 1 failed"; exit 1; }
# One test at a time by default: POCL's kernel cache is not safe when several
# processes build the same kernel at once (pocl#1480). FOCUSNET_TEST_JOBS=N for more.
log=$(mktemp)
# shellcheck disable=SC2086
meson test -C "$builddir" --print-errorlogs --num-processes "${FOCUSNET_TEST_JOBS:-1}" $suite "$@" 2>&1 | tee "$log"
passed=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$log" | tail -1)
failed=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$log" | tail -1)
timeout=$(sed -n 's/^Timeout: *\([0-9]*\).*/\1/p' "$log" | tail -1)
rm -f "$log"
passed=${passed:-0}
failed=$(( ${failed:-0} + ${timeout:-0} ))
[ "$passed" -gt 0 ] || failed=$((failed + 1))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/bin/sh
# Fuzzes every file reader with libFuzzer for a bounded time and fails on any
# crash, sanitizer report, leak, timeout or oversized allocation.
#   tests/fuzz/run.sh [SECONDS] [TARGET...]
# SECONDS per target (default 30; FUZZ_SECONDS also works); TARGETs are the
# NAMEs of tests/fuzz/fuzz_NAME.c (default: all of them). Seeds come from
# tests/corpus/NAME/ (read-only); what the fuzzer learns goes to
# build-fuzz/corpus/NAME/, crashes to build-fuzz/artifacts/. A crash input
# belongs in tests/corpus/NAME/ as a bad-* regression seed once it is fixed.
#
# The targets link the library's own sources (the list meson builds, taken
# from the normal build in build/, which this configures if needed), compiled
# with clang -fsanitize=fuzzer-no-link,address,undefined. No OpenCL device is
# opened: the readers are host code, and checkpoints are checked against
# shapes-only models.
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-${FUZZ_SECONDS:-30}}
[ $# -gt 0 ] && shift
targets=${*:-idx cifar image safetensors checkpoint}
out=build-fuzz
CC=${FUZZ_CC:-clang}

if [ ! -f build/build.ninja ]; then
    meson setup build -Dwerror=true >/dev/null
fi
meson compile -C build >/dev/null # generates build/lib/kernels_embedded.c
# The library's sources, and the compile and link arguments of its
# dependencies (the viewer's GTK aside), as the normal build has them.
sources=$(meson introspect build --targets | python3 -c '
import json, sys
seen = set()
# both_libraries: the shared library lists the sources, the static one reuses its objects.
for t in json.load(sys.stdin):
    if t["name"] == "focusnet" and t["type"] in ("shared library", "static library"):
        for s in t["target_sources"]:
            for f in s["sources"] + s.get("generated_sources", []):
                if f not in seen:
                    seen.add(f)
                    print(f)
')
[ -n "$sources" ] || { echo "fuzz: cannot list the library's sources"; exit 1; }
dep_args() { # compile_args | link_args
    meson introspect build --dependencies | python3 -c '
import json, sys
seen = []
for d in json.load(sys.stdin):
    if d["name"] in ("gtk4",):
        continue
    for a in d[sys.argv[1]]:
        if a not in seen:
            seen.append(a)
print(" ".join(seen))
' "$1"
}
cflags="-g -O1 -std=c11 -D_GNU_SOURCE -DCL_TARGET_OPENCL_VERSION=120 -Ilib $(dep_args compile_args)"
san="-fsanitize=address,undefined -fno-sanitize-recover=all"
libs="$(dep_args link_args) -lm -lpthread"

mkdir -p "$out/obj" "$out/artifacts"
echo "== fuzz: compiling $(echo "$sources" | wc -l) library sources with $CC"
# One object per source, rebuilt when it or any header of lib/ is newer.
for src in $sources; do
    obj="$out/obj/$(echo "$src" | sed 's|/|_|g').o"
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find lib -name '*.h' -newer "$obj" | head -1)" ]; then
        echo "$src $obj"
    fi
done | xargs -r -P "$(nproc)" -n 2 sh -c "$CC $cflags $san -fsanitize=fuzzer-no-link -c \"\$0\" -o \"\$1\" || exit 255"
objs=$(for src in $sources; do echo "$out/obj/$(echo "$src" | sed 's|/|_|g').o"; done)
rm -f "$out/libfuzzlib.a"
# shellcheck disable=SC2086
ar rcs "$out/libfuzzlib.a" $objs

fail=0
for t in $targets; do
    exe="$out/fuzz_$t"
    $CC $cflags $san -fsanitize=fuzzer "tests/fuzz/fuzz_$t.c" "$out/libfuzzlib.a" $libs -o "$exe"
    mkdir -p "$out/corpus/$t"
    # Inputs up to 64 KB, 128 KB for files whose valid examples are larger.
    case $t in
        cifar) max_len=16384 ;;
        checkpoint) max_len=131072 ;;
        *) max_len=65536 ;;
    esac
    echo "== fuzz: $t for ${secs}s"
    log="$out/fuzz_$t.log"
    # -malloc_limit_mb: no single allocation past 512 MB, however large a file
    # claims to be (the readers allocate what the input really holds).
    if ASAN_OPTIONS="allocator_may_return_null=1:detect_leaks=1" \
        UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
        "$exe" -max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=20 \
        -max_len="$max_len" -print_final_stats=1 -artifact_prefix="$out/artifacts/$t-" \
        "$out/corpus/$t" "tests/corpus/$t" >"$log" 2>&1; then
        grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$log" | tail -1
    else
        fail=$((fail + 1))
        echo "FAIL: fuzz_$t; the end of $log:"
        tail -40 "$log"
    fi
done
echo "fuzz: $(echo $targets | wc -w) targets, $fail failed"
[ "$fail" -eq 0 ]

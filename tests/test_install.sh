#!/bin/sh
# The library as others use it: `meson install` of build/ into a staging
# directory (DESTDIR), then examples/ built against the installed header,
# libfocusnet.so and focusnet.pc through pkg-config, and run on 256
# Fashion-MNIST images: it must train and print a prediction. Also checks the
# versioned soname, that the shared library exports only focusnet.h's API, and
# that the installed commands start. Run by .ci/run (a few minutes on 2 cores).
set -eu
cd "$(dirname "$0")/.."
root=$PWD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -f build/build.ninja ] || meson setup build -Dwerror=true >/dev/null
meson compile -C build >/dev/null
DESTDIR="$tmp/dest" meson install -C build --no-rebuild --quiet
prefix=$(meson introspect build --buildoptions |
    python3 -c 'import json,sys; print({o["name"]: o["value"] for o in json.load(sys.stdin)}["prefix"])')
libdir=$(meson introspect build --buildoptions |
    python3 -c 'import json,sys; print({o["name"]: o["value"] for o in json.load(sys.stdin)}["libdir"])')
case $libdir in /*) ;; *) libdir="$prefix/$libdir" ;; esac
stage="$tmp/dest$libdir"
fail() { echo "FAIL install: $*"; exit 1; }
[ -f "$tmp/dest$prefix/include/focusnet.h" ] || fail "focusnet.h not installed"
[ -f "$stage/pkgconfig/focusnet.pc" ] || fail "focusnet.pc not installed in $libdir/pkgconfig"
soname=$(readelf -d "$stage/libfocusnet.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libfocusnet.so.0" ] || fail "soname is '$soname', not libfocusnet.so.0"
# Exported: the functions focusnet.h declares, and nothing else of ours.
python3 tools/export_map.py lib/focusnet.h "$tmp/api.map"
nm -D --defined-only "$stage/libfocusnet.so" | awk '$2 == "T" {print $3}' | sed 's/@.*//' |
    sort >"$tmp/exported"
grep -o 'fn_[A-Za-z0-9_]*' "$tmp/api.map" | sort >"$tmp/declared"
extra=$(comm -23 "$tmp/exported" "$tmp/declared")
[ -z "$extra" ] || fail "exported but not in focusnet.h: $extra"
grep -qx fn_train "$tmp/exported" || fail "fn_train is not exported"

# The example, through pkg-config, as a program outside the tree would build it.
export PKG_CONFIG_PATH="$stage/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$tmp/dest"
cflags=$(pkg-config --cflags focusnet)
libs=$(pkg-config --libs focusnet)
echo "pkg-config: $cflags $libs"
mkdir "$tmp/example"
cp examples/train_predict.c "$tmp/example/"
(cd "$tmp/example" &&
    # shellcheck disable=SC2086
    cc -std=c11 -Wall -Wextra -Werror train_predict.c $cflags $libs -o train_predict) ||
    fail "the example does not build against the installed library"
readelf -d "$tmp/example/train_predict" | grep -q 'NEEDED.*libfocusnet.so.0' ||
    fail "the example is not linked to libfocusnet.so.0"
out=$(cd "$tmp/example" && LD_LIBRARY_PATH="$stage" ./train_predict 256 run 2>&1) ||
    fail "the example failed: $out"
echo "$out"
echo "$out" | grep -q '^prediction: .*, true class: ' || fail "the example printed no prediction"
[ -f "$tmp/example/run/best.safetensors" ] || fail "the example wrote no checkpoint"

# The installed commands: found and started from the staging directory.
LD_LIBRARY_PATH="$stage" "$tmp/dest$prefix/bin/focusnet" models >/dev/null ||
    fail "the installed focusnet does not run"
if [ -x "$tmp/dest$prefix/bin/focusnet-viewer" ]; then
    readelf -d "$tmp/dest$prefix/bin/focusnet-viewer" | grep -q "R.*PATH.*\[$libdir\]" ||
        fail "the installed viewer has no run path to $libdir"
    LD_LIBRARY_PATH="$stage" "$tmp/dest$prefix/bin/focusnet-viewer" --help >/dev/null ||
        fail "the installed viewer does not start"
fi
echo "install: ok (prefix $prefix, $root)"

#!/bin/sh
# Prepares what bench/gpu/run.sh needs on a GPU machine without network, in
# bench/gpu/carry/ (git-ignored; carry that one folder along with the tree):
#   bin/       focusnet and the C test programs, stripped (built here first)
#   lib/       libfocusnet.so.* (focusnet's RUNPATH, $ORIGIN/../lib, finds it)
#   debs/      the .debs of every shared library they load (apt-get download),
#              for machines that lack some: run.sh unpacks only what is missing
#   fashion-mnist/  the dataset of the two-stage run (Debian's copy, 30 MB)
# usage: bench/gpu/pack.sh [BUILD_DIR]   (default build/; Debian 12 with tools/setup.sh done)
set -eu
cd "$(dirname "$0")/../.."
carry=bench/gpu/carry
build=${1:-build}
[ -f "$build/build.ninja" ] || meson setup "$build" -Dwerror=true >/dev/null
meson compile -C "$build" >/dev/null
rm -rf "$carry"
mkdir -p "$carry/bin" "$carry/lib" "$carry/debs" "$carry/fashion-mnist"
for f in "$build"/lib/libfocusnet.so*; do [ -d "$f" ] || cp -P "$f" "$carry/lib/"; done
for f in "$build"/cli/focusnet "$build"/tests/test_*; do
    [ -f "$f" ] && [ -x "$f" ] || continue
    case "$f" in *.p|*.sh) continue ;; esac
    strip -o "$carry/bin/$(basename "$f")" "$f"
done
# The packages that own the libraries these programs load, less the C
# library itself (a machine without a compatible glibc cannot run them anyway).
pkgs=$(for f in "$carry"/bin/*; do LD_LIBRARY_PATH="$carry/lib" ldd "$f"; done | awk '/=> \//{print $3}' | sort -u |
    while read -r lib; do dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null; done |
    cut -d: -f1 | sort -u | grep -v '^libc6$')
echo "packages: ocl-icd-libopencl1 libclblast1 $pkgs" | tr '\n' ' '; echo
(cd "$carry/debs" && apt-get download ocl-icd-libopencl1 libclblast1 $pkgs >/dev/null)
cp /usr/share/datasets/fashion-mnist/*.gz "$carry/fashion-mnist/" 2>/dev/null ||
    echo "no /usr/share/datasets/fashion-mnist (apt-get install fashion-mnist): the two-stage run will be skipped"
du -sh "$carry"
echo "carry: [\"$carry\"]"

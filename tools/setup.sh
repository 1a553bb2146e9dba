#!/bin/sh
# Installs what focusnet needs from Debian 12's packages and builds it in build/.
# Run as root (or with sudo). Safe to run again.
set -eu
cd "$(dirname "$0")/.."
packages="gcc libc6-dev meson ninja-build pkg-config python3
  ocl-icd-opencl-dev opencl-headers ocl-icd-libopencl1 pocl-opencl-icd clinfo
  libclblast-dev libstb-dev zlib1g-dev libcjson-dev libcairo2-dev
  dataset-fashion-mnist"
if [ "${FOCUSNET_MPI:-1}" = 1 ]; then
    # Data-parallel training under mpirun (meson -Dmpi=auto finds it) and its
    # tests (tests/run.sh --mpi).
    packages="$packages libopenmpi-dev openmpi-bin"
fi
if [ "${FOCUSNET_VIEWER:-1}" = 1 ]; then
    # xvfb and xauth: tests/test_viewer.sh runs the viewer's window under xvfb-run.
    packages="$packages libgtk-4-dev xvfb xauth"
fi
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
fi
[ -f build/build.ninja ] || meson setup build -Dwerror=true
meson compile -C build

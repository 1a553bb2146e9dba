#!/bin/sh
# Runs tests/test_window.c under Xvfb; skips (exit 77) without xvfb-run.
if ! command -v xvfb-run >/dev/null 2>&1 || ! command -v xauth >/dev/null 2>&1; then
    echo "SKIP: xvfb-run or xauth not found (tools/setup.sh installs them)"
    exit 77
fi
export GTK_A11Y=none GSK_RENDERER=cairo NO_AT_BRIDGE=1
exec xvfb-run -a -s "-screen 0 1400x1100x24" "$@"

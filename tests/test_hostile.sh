#!/bin/sh
# A hostile user's run folders, signals and paths (issue 12): a fresh run
# never destroys a run, two runs never share a folder, a stopped run exits
# 128 + signal after saving, and no path that is not a regular file is read.
# usage: test_hostile.sh PATH/TO/focusnet PATH/TO/test_helper
set -u
fn="$1"
helper="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/kit.sh"

"$helper" mnist "$tmp" || { echo "cannot write the dataset"; exit 1; }
base="--data mnist:$tmp --batch 64 --limit-train 160 --limit-test 60"
sums() { (cd "$1" && cksum state.safetensors log.jsonl last.safetensors best.safetensors 2>&1); }

# --- a fresh run into a folder that holds a run is refused, nothing touched
# shellcheck disable=SC2086
"$fn" train $base --epochs 1 --out "$tmp/run" >/dev/null 2>&1 && ok || bad "the first run"
before=$(sums "$tmp/run")
# shellcheck disable=SC2086
expect 2 "already holds a run.*--resume $tmp/run.*--overwrite" -- "$fn" train $base --epochs 1 --out "$tmp/run"
[ "$(sums "$tmp/run")" = "$before" ] && ok || bad "a refused run touched the folder"
# shellcheck disable=SC2086
"$fn" train $base --epochs 1 --out "$tmp/run" 2>&1 >/dev/null | grep -c . | grep -qx 1 && ok ||
    bad "the refusal is one line"
expect 2 "cannot go with --resume" -- "$fn" train --resume "$tmp/run" --overwrite
# --overwrite starts over.
# shellcheck disable=SC2086
"$fn" train $base --epochs 1 --seed 7 --out "$tmp/run" --overwrite >/dev/null 2>&1 && ok ||
    bad "--overwrite runs"
[ "$(sums "$tmp/run")" != "$before" ] && ok || bad "--overwrite replaced the run"

# --- paths that run through a file, or are not regular files
printf x >"$tmp/afile"
# shellcheck disable=SC2086
expect 1 "$tmp/afile/sub.*not a directory" -- "$fn" train $base --out "$tmp/afile/sub"
# shellcheck disable=SC2086
expect 1 "$tmp/afile.*not a directory" -- "$fn" train $base --out "$tmp/afile"
mkfifo "$tmp/fifo"
expect 1 "$tmp/fifo.*FIFO" -- timeout 60 "$fn" eval "$tmp/fifo"
expect 1 "$tmp/fifo.*FIFO" -- timeout 60 "$fn" predict "$tmp/run/last.safetensors" "$tmp/fifo"
# shellcheck disable=SC2086
expect 1 "$tmp/fifo.*FIFO" -- timeout 60 "$fn" train $base --init "$tmp/fifo" --out "$tmp/f1"
# shellcheck disable=SC2086
expect 1 "$tmp/fifo.*FIFO" -- timeout 60 "$fn" train $base --loss focus --baseline "$tmp/fifo" --out "$tmp/f2"
ln -s "$tmp/loop" "$tmp/loop"
expect 1 "$tmp/loop" -- timeout 60 "$fn" eval "$tmp/loop"
expect 1 "$tmp.*directory" -- timeout 60 "$fn" eval "$tmp"
expect 1 "/dev/zero.*device" -- timeout 60 "$fn" eval /dev/zero

# --- usage errors before any data is read
expect 2 "option '--milestones' takes increasing" -- "$fn" train --milestones 5,2 --data mnist:/no-such-dir --out "$tmp/m"
expect 2 "option '--milestones' takes increasing" -- "$fn" train --milestones 3,3 --data mnist:/no-such-dir --out "$tmp/m"
"$fn" train --help | grep -q '130 / 143' && ok || bad "train --help gives the exit codes"

# --- a run stopped before its first epoch names only what exists
# shellcheck disable=SC2086
out=$("$fn" train $base --epochs 1 --max-steps 1 --out "$tmp/short" 2>/dev/null) && ok || bad "a short run exits 0"
printf '%s\n' "$out" | grep -q 'best.safetensors' && bad "names best.safetensors: $out" || ok
[ ! -e "$tmp/short/best.safetensors" ] && ok || bad "no best checkpoint expected"

# --- the run lock, and exit codes 130 / 143 after the save
long() { # DIR: a run that lasts until it is stopped
    # shellcheck disable=SC2086
    "$fn" train $base --epochs 100000 --out "$1" >/dev/null 2>"$1.err" &
    pid=$!
    n=0
    while [ "$n" -lt 600 ] && ! grep -q "^$pid\$" "$1/run.lock" 2>/dev/null; do
        sleep 0.1
        n=$((n + 1))
    done
}
long "$tmp/lk"
# shellcheck disable=SC2086
expect 1 "$tmp/lk is in use by another run (PID $pid)" -- "$fn" train $base --epochs 1 --out "$tmp/lk" --overwrite
kill -0 "$pid" 2>/dev/null && ok || bad "the first run goes on"
sleep 1
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 130 ] && ok || bad "SIGINT: exit $rc, want 130 ($(cat "$tmp/lk.err"))"
[ -f "$tmp/lk/state.safetensors" ] && ok || bad "SIGINT: the state was saved"
# The lock file stays, with a dead PID and no flock: it does not block.
[ -f "$tmp/lk/run.lock" ] && ok || bad "the lock file stays"
"$fn" train --resume "$tmp/lk" --max-steps 1 >/dev/null 2>&1 && ok || bad "resume after a stopped run"
echo 999999 >"$tmp/lk/run.lock"
"$fn" train --resume "$tmp/lk" --max-steps 1 >/dev/null 2>&1 && ok || bad "a stale lock does not block"

long "$tmp/term"
sleep 1
kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 143 ] && ok || bad "SIGTERM: exit $rc, want 143 ($(cat "$tmp/term.err"))"
[ -f "$tmp/term/state.safetensors" ] && ok || bad "SIGTERM: the state was saved"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

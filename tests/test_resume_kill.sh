#!/bin/sh
# A training run killed with SIGKILL at random moments (and once stopped with
# SIGINT, as Ctrl-C does) and resumed with `focusnet train --resume DIR` ends
# with the same weights, bit for bit, the same best checkpoint and the same
# log as an uninterrupted run with the same seed.
# usage: test_resume_kill.sh PATH/TO/focusnet PATH/TO/test_helper
set -u
fn="$1"
helper="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/kit.sh"
rand() { od -An -N2 -tu2 /dev/urandom | tr -d ' '; } # 0..65535

"$helper" mnist "$tmp" || { echo "cannot write the dataset"; exit 1; }
# POCL's kernel cache is not safe for processes building at once
# (pocl/pocl#1480), and this test starts (and kills) many while other tests
# run: it works on a private copy of the cache.
pocl_cache="${POCL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pocl/kcache}"
mkdir -p "$tmp/pocl"
if [ -d "$pocl_cache" ]; then
    tar -C "$pocl_cache" --exclude='tempfile*' -cf - . 2>/dev/null | tar -C "$tmp/pocl" -xf - 2>/dev/null
fi
export POCL_CACHE_DIR="$tmp/pocl"
# 15 steps an epoch, 600 in all (long enough that a kill lands mid-run even
# with fast kernels); a resume point every 4 steps.
set -- --data "mnist:$tmp" --batch 16 --epochs 40 --lr 0.05 --augment --seed 3 --save-every 4
"$fn" train "$@" --out "$tmp/ref" >/dev/null 2>&1 && ok || bad "the reference run"

# Up to four interruptions, each at a random moment after a resume point
# exists: three SIGKILLs and one SIGINT.
killed=0
for round in 1 2 3 4; do
    if [ "$round" -eq 1 ]; then
        "$fn" train "$@" --out "$tmp/run" >"$tmp/out" 2>&1 &
    else
        "$fn" train --resume "$tmp/run" >"$tmp/out" 2>&1 &
    fi
    pid=$!
    while [ ! -f "$tmp/run/state.safetensors" ] && kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
    delay_ms=$(( $(rand) % 700 ))
    sig=KILL
    [ "$round" -eq 3 ] && sig=INT
    sleep "$(printf '0.%03d' "$delay_ms")"
    kill -s "$sig" "$pid" 2>/dev/null
    wait "$pid"
    rc=$?
    if [ "$sig" = KILL ] && [ "$rc" -eq 137 ]; then
        killed=$((killed + 1))
        echo "round $round: SIGKILL after ${delay_ms} ms"
    elif [ "$sig" = INT ] && [ "$rc" -eq 130 ]; then
        # 130 = 128 + SIGINT, after the save (issue 12).
        echo "round $round: SIGINT after ${delay_ms} ms: $(grep -c 'stopped early' "$tmp/out") stop"
    elif [ "$rc" -ne 0 ]; then
        bad "round $round: exit $rc: $(cat "$tmp/out")"
    else
        echo "round $round: the run ended before the signal"
    fi
done
[ "$killed" -ge 1 ] && ok || bad "no SIGKILL landed while training"

"$fn" train --resume "$tmp/run" >"$tmp/out" 2>&1 && ok || bad "final resume: $(cat "$tmp/out")"
"$helper" same "$tmp/ref/last.safetensors" "$tmp/run/last.safetensors" && ok ||
    bad "last.safetensors differs from the uninterrupted run"
"$helper" same "$tmp/ref/best.safetensors" "$tmp/run/best.safetensors" && ok ||
    bad "best.safetensors differs from the uninterrupted run"
"$helper" same "$tmp/ref/state.safetensors" "$tmp/run/state.safetensors" && ok ||
    bad "the final state (momentum) differs from the uninterrupted run"
# The log: epochs 1..40 once each, with the uninterrupted run's losses.
strip() { sed 's/"seconds":[^,]*,"images_per_s":[^,]*,//' "$1"; }
[ "$(strip "$tmp/ref/log.jsonl")" = "$(strip "$tmp/run/log.jsonl")" ] && ok ||
    bad "log.jsonl differs: $(cat "$tmp/run/log.jsonl")"
[ "$(grep -c '"partial":false' "$tmp/run/log.jsonl")" -eq 40 ] && ok || bad "40 complete log lines"
ls "$tmp/run" | grep -q '\.tmp-' && bad "temporary files left: $(ls "$tmp/run")" || ok

# --resume keeps the run's configuration: only where and how far may change.
err=$("$fn" train --resume "$tmp/run" --lr 0.5 2>&1 >/dev/null)
[ $? -eq 2 ] && printf '%s' "$err" | grep -q "option '--lr' cannot go with --resume" && ok ||
    bad "--resume with --lr: $err"
err=$("$fn" train --resume "$tmp/nothing" 2>&1 >/dev/null)
[ $? -eq 1 ] && printf '%s' "$err" | grep -q "$tmp/nothing: no state.safetensors" && ok ||
    bad "--resume of a folder without a state: $err"
"$fn" train --resume "$tmp/run" --epochs 41 >/dev/null 2>&1 && ok || bad "--resume --epochs 41"
[ "$(grep -c '"partial":false' "$tmp/run/log.jsonl")" -eq 41 ] && ok || bad "--epochs 41 adds a line"

# A diverging run names the step and leaves nothing behind.
err=$("$fn" train --data "mnist:$tmp" --batch 16 --epochs 2 --lr 1e6 --out "$tmp/nan" 2>&1 >/dev/null)
[ $? -eq 1 ] && printf '%s' "$err" | grep -q "training diverged: .* by step [0-9]" && ok ||
    bad "--lr 1e6: $err"
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && ok || bad "one line: $err"
[ ! -e "$tmp/nan" ] && ok || bad "a run that saved nothing leaves no folder: $(ls "$tmp/nan")"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

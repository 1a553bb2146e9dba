#!/bin/sh
# A hostile user's run folders, signals and paths (issue 12): a fresh run
# never destroys a run, two runs never share a folder, a stopped run exits
# 128 + signal after saving, and no path that is not a regular file is read.
# usage: test_hostile.sh PATH/TO/focusnet PATH/TO/test_helper PATH/TO/make_fixture
set -u
fn="$1"
helper="$2"
fixture="$3"
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

# --- JSON: quotes, backslashes, control characters and bytes that are not
# UTF-8 in class names (folder names) and paths still give valid JSON.
weird=$(printf 'q"uo\\te\nline\001x\377end')
"$fixture" folder "$tmp/fold" || bad "folder dataset"
for s in train test; do mv "$tmp/fold/$s/red" "$tmp/fold/$s/$weird"; done
cp "$tmp/fold/test/blue/0.png" "$tmp/img$weird.png"
"$fn" train --data "folder:$tmp/fold" --epochs 1 --batch 4 --out "$tmp/wrun" >/dev/null 2>&1 &&
    ok || bad "train on the folder with odd class names"
"$fn" predict "$tmp/wrun/last.safetensors" "$tmp/img$weird.png" --json --top 2 >"$tmp/pred.json" &&
    ok || bad "predict --json runs"
python3 -m json.tool "$tmp/pred.json" >/dev/null && ok || bad "predict --json is valid JSON: $(cat -v "$tmp/pred.json")"
python3 - "$tmp" <<'PY' && ok || bad "the JSON holds the names, escaped and repaired"
import json, struct, sys
tmp = sys.argv[1]
want = 'q"uo\\te\nline\x01x\ufffdend'
p = json.loads(open(tmp + "/pred.json", "rb").read().decode("utf-8"))
assert p["image"] == tmp + "/img" + want + ".png", p["image"]
assert want in [t["name"] for t in p["top"]], p["top"]
for name in ["last.safetensors", "best.safetensors", "state.safetensors"]:
    b = open(tmp + "/wrun/" + name, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n].decode("utf-8"))
    names = json.loads(h["__metadata__"]["focusnet.class_names"])
    assert want in names, names
for line in open(tmp + "/wrun/log.jsonl", "rb"):
    json.loads(line.decode("utf-8"))
PY

# --- class names are compared, not only counted: (blue, red) against
# (blue, green); index names ("0", "1") match any names.
"$fixture" folder "$tmp/ca" && "$fixture" folder "$tmp/cb" && "$fixture" folder "$tmp/cn" || bad "folders"
for s in train test; do
    mv "$tmp/cb/$s/red" "$tmp/cb/$s/green"
    mv "$tmp/cn/$s/blue" "$tmp/cn/$s/0"
    mv "$tmp/cn/$s/red" "$tmp/cn/$s/1"
done
fold="--epochs 1 --batch 4"
for d in ca cb cn; do
    # shellcheck disable=SC2086
    "$fn" train --data "folder:$tmp/$d" $fold --out "$tmp/run-$d" >/dev/null 2>&1 || bad "train on $d"
done
a="$tmp/run-ca/last.safetensors"
lists="(blue, red).*(blue, green)"
expect 1 "$lists" -- "$fn" eval "$a" --data "folder:$tmp/cb"
# shellcheck disable=SC2086
expect 1 "$a.*$lists" -- "$fn" train --data "folder:$tmp/cb" $fold --init "$a" --out "$tmp/x1"
# shellcheck disable=SC2086
expect 1 "$a.*$lists" -- "$fn" train --data "folder:$tmp/cb" $fold --loss focus --baseline "$a" --out "$tmp/x2"
# shellcheck disable=SC2086
expect 1 "$a.*$lists" -- "$fn" train --data "folder:$tmp/cb" $fold --loss kd --baseline "$a" --out "$tmp/x3"
expect 1 "$a.*(blue, red).*run-cb.*(blue, green)" -- "$fn" cam "$a" "$tmp/cb/test/blue/0.png" \
    --compare "$tmp/run-cb/last.safetensors" --out "$tmp/c.png"
[ "$("$fn" eval "$a" --data "folder:$tmp/cb" 2>&1 >/dev/null | wc -l)" -eq 1 ] && ok || bad "one line"
"$fn" eval "$tmp/run-cn/last.safetensors" --data "folder:$tmp/ca" >/dev/null 2>&1 && ok ||
    bad "index names match any names"
"$fn" eval "$a" --data "folder:$tmp/ca" >/dev/null 2>&1 && ok || bad "the same names match"

# --- --resume refuses a replaced --baseline or --init, by name
cp "$tmp/run-ca/last.safetensors" "$tmp/bl.safetensors"
cp "$tmp/run-ca/last.safetensors" "$tmp/in.safetensors"
# shellcheck disable=SC2086
"$fn" train --data "folder:$tmp/ca" --epochs 3 --batch 4 --loss focus --baseline "$tmp/bl.safetensors" \
    --max-steps 1 --out "$tmp/fr" >/dev/null 2>&1 && ok || bad "a focus run"
# shellcheck disable=SC2086
"$fn" train --data "folder:$tmp/ca" --epochs 3 --batch 4 --init "$tmp/in.safetensors" \
    --max-steps 1 --out "$tmp/ir" >/dev/null 2>&1 && ok || bad "a run from --init"
cp "$tmp/bl.safetensors" "$tmp/bl.keep"
cp "$tmp/run-cn/last.safetensors" "$tmp/bl.safetensors"
cp "$tmp/run-cn/last.safetensors" "$tmp/in.safetensors"
expect 1 "--baseline $tmp/bl.safetensors has changed" -- "$fn" train --resume "$tmp/fr" --max-steps 1
expect 1 "--init $tmp/in.safetensors has changed" -- "$fn" train --resume "$tmp/ir" --max-steps 1
cp "$tmp/bl.keep" "$tmp/bl.safetensors"
"$fn" train --resume "$tmp/fr" --max-steps 1 >/dev/null 2>&1 && ok || bad "resume with the original baseline"
rm "$tmp/in.safetensors"
"$fn" train --resume "$tmp/ir" --max-steps 1 >/dev/null 2>&1 && ok || bad "resume without the --init file"
# A state written before the fingerprints (no focusnet.baseline_hash) still resumes.
python3 - "$tmp/fr/state.safetensors" <<'PY' && ok || bad "strip the fingerprint"
import json, struct, sys
p = sys.argv[1]
b = open(p, "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
assert "focusnet.baseline_hash" in h["__metadata__"]
del h["__metadata__"]["focusnet.baseline_hash"]
t = json.dumps(h, separators=(",", ":")).encode()
t += b" " * (-len(t) % 8)
open(p, "wb").write(struct.pack("<Q", len(t)) + t + b[8 + n:])
PY
"$fn" train --resume "$tmp/fr" --max-steps 1 >/dev/null 2>&1 && ok || bad "an older state resumes"

# --- a NaN in a resume state or a checkpoint is refused at load, by tensor
python3 - "$tmp/ir/state.safetensors" "$tmp/ir/last.safetensors" <<'PY' && ok || bad "poison"
import json, struct, sys
for p in sys.argv[1:]:
    b = bytearray(open(p, "rb").read())
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    name = [k for k in h if k.endswith("conv1.weight")][-1]
    at = 8 + n + h[name]["data_offsets"][0] + 4
    b[at:at + 4] = struct.pack("<f", float("nan"))
    open(p, "wb").write(bytes(b))
PY
expect 1 "state.safetensors: tensor momentum.conv1.weight holds a NaN" -- "$fn" train --resume "$tmp/ir" --max-steps 1
expect 1 "last.safetensors: tensor conv1.weight holds a NaN" -- "$fn" eval "$tmp/ir/last.safetensors" --data "folder:$tmp/ca"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

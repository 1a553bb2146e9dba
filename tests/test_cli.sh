#!/bin/sh
# The focusnet command's error paths and its plain outputs.
# usage: test_cli.sh PATH/TO/focusnet
set -u
fn="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/kit.sh"

"$fn" --version | grep -q '^focusnet [0-9]' && ok || bad "--version"
"$fn" --help | grep -q 'devices' && ok || bad "--help lists commands"
"$fn" devices --help | grep -q 'usage: focusnet devices' && ok || bad "devices --help"
expect 2 "unknown command 'frobnicate'" -- "$fn" frobnicate
expect 2 "unknown option '--bogus'" -- "$fn" devices --bogus
expect 2 "unexpected argument 'extra'" -- "$fn" devices extra
# The parser (getopt_long underneath): whole names only, values where they belong.
expect 2 "unknown option '--epoch' (see 'focusnet train --help')" -- "$fn" train --epoch 3
expect 2 "unknown option '-x'" -- "$fn" train -x
expect 2 "unknown option '-xy'" -- "$fn" train -xy
expect 2 "unknown option '--he'" -- "$fn" train --he
expect 2 "option '--epochs' needs a value (N)" -- "$fn" train --epochs
expect 2 "option '--nesterov' takes no value" -- "$fn" train --nesterov=1
expect 2 "option '--lr' needs a number from 0" -- "$fn" train --lr=-1
expect 2 "unexpected argument 'a'" -- "$fn" devices -- a
[ "$(FOCUSNET_DEVICE= "$fn" devices --bogus 2>&1 | wc -l)" -eq 1 ] && ok || bad "usage error is one line"

out=$("$fn" devices) && ok || bad "devices runs"
printf '%s\n' "$out" | grep -q '(default)' && ok || bad "devices marks the default"
printf '%s\n' "$out" | grep -q 'compute units' && ok || bad "devices shows compute units"

# models: the paper's Table 4 counts (200 classes, small stem, 64x64)
out=$("$fn" models --classes 200 --input 3x64x64) && ok || bad "models runs"
printf '%s\n' "$out" | grep -q 'resnet18 *small *11271432' && ok || bad "models: resnet18 11271432"
printf '%s\n' "$out" | grep -q 'mobilenetv2 *small *0.5 *943880' && ok || bad "models: mobilenetv2 943880"
expect 2 "option '--input'" -- "$fn" models --input 3x32
expect 2 "option '--classes'" -- "$fn" models --classes zero

# train / eval / predict / demo: usage errors name the option, runtime errors the file
expect 2 "option '--loss' takes ce, ls, kd or focus, not 'bogus'" -- "$fn" train --loss bogus
expect 2 "option '--epochs' needs a whole number" -- "$fn" train --epochs many
expect 2 "option '--milestones'" -- "$fn" train --milestones 3,x
expect 2 "option '--stem'" -- "$fn" train --stem tiny
expect 2 "option '--authors' goes with --loss focus" -- "$fn" train --authors
expect 2 "option '--warmup-epochs'" -- "$fn" train --warmup-epochs -1
# --clip-norm: its range (0: off; -1, the stage's default, is not for the command line),
# not with --resume (a recipe change), in compare's --help too.
expect 2 "option '--clip-norm' needs a number from 0 to 1e+09, not '-1'" -- "$fn" train --clip-norm -1
expect 2 "option '--clip-norm' needs a number from 0 to 1e+09, not 'nan'" -- "$fn" train --clip-norm nan
expect 2 "option '--clip-norm' cannot go with --resume" -- "$fn" train --resume "$tmp/r" --clip-norm 1
"$fn" compare --help | grep -q -- '--clip-norm X  *clip the gradients' && ok || bad "compare --help lists --clip-norm"
expect 2 "unknown option '--frobnicate'" -- "$fn" demo --frobnicate
# --keep-epochs (the options table): its range, a value it needs, not with --resume.
expect 2 "option '--keep-epochs' needs a whole number from 0 to 100000, not '-1'" -- "$fn" train --keep-epochs -1
expect 2 "option '--keep-epochs' needs a whole number from 0 to 100000, not '2x'" -- "$fn" train --keep-epochs 2x
expect 2 "option '--keep-epochs' needs a value (E)" -- "$fn" train --keep-epochs
expect 2 "option '--keep-epochs' cannot go with --resume" -- "$fn" train --resume "$tmp/r" --keep-epochs 2
"$fn" train --help | grep -q -- '--keep-epochs E  *keep every E-th epoch' && ok || bad "train --help lists --keep-epochs"
# The table's lines in --help, in its order (a few of them).
"$fn" train --help | awk '$1 ~ /^--/ {print $1}' | tr '\n' ' ' |
    grep -q -- '--model .*--epochs .*--lr .*--keep-epochs .*--device .*--cls-smoothing --out --resume --overwrite --help' &&
    ok || bad "train --help order"
expect 1 "needs --baseline" -- "$fn" train --loss focus --out "$tmp/x"
expect 1 "no-such-dir" -- "$fn" train --data mnist:/no-such-dir --out "$tmp/x"
expect 1 "unknown model 'vgg16'" -- "$fn" train --model vgg16 --data mnist:/no-such-dir --out "$tmp/x"
expect 2 "needs a checkpoint" -- "$fn" eval
expect 1 "/no/such.safetensors" -- "$fn" eval /no/such.safetensors
expect 2 "needs a checkpoint and at least one image" -- "$fn" predict x.safetensors
expect 1 "/no/such.safetensors" -- "$fn" predict /no/such.safetensors a.png
printf 'not a checkpoint' > "$tmp/bad.safetensors"
expect 1 "$tmp/bad.safetensors" -- "$fn" eval "$tmp/bad.safetensors"
# bench layers: a tiny run still prints its header and the total row.
out=$("$fn" bench layers --batch 2 --repeat 1 --warmup 0) && ok || bad "bench layers runs"
printf '%s\n' "$out" | grep -q '^focusnet bench layers: resnet18, batch 2' && ok || bad "bench header"
printf '%s\n' "$out" | grep -q '^timed with ' && ok || bad "bench says how it times"
printf '%s\n' "$out" | grep -q '^layer .*fwd ms' && ok || bad "bench column header"
printf '%s\n' "$out" | grep -q '^layer4.0.conv2 ' && ok || bad "bench has a layer4 row"
printf '%s\n' "$out" | grep -Eq '^total .* [0-9]+\.[0-9]{3} +[0-9]+\.[0-9]{3}' && ok || bad "bench total line"
printf '%s\n' "$out" | grep -Eq '^  conv bwd +[0-9.]+ ms +[0-9.]+%' && ok || bad "bench time by type"
expect 2 "unknown mode 'frob'" -- "$fn" bench frob
expect 2 "which benchmark" -- "$fn" bench
expect 2 "unknown model 'foo'" -- "$fn" bench layers --model foo
expect 2 "'--batch' needs a whole number" -- "$fn" bench layers --batch 0

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

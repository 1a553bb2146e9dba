#!/bin/sh
# focusnet cam: its usage and runtime errors, and the pictures it writes, on
# the committed PyTorch-written LeNet-5 (Fashion-MNIST) and a sample image.
# usage: test_cam_cli.sh PATH/TO/focusnet PATH/TO/make_fixture
set -u
fn="$1"
fixture="$2"
src="${FOCUSNET_SOURCE_DIR:-$(dirname "$0")/..}"
ckpt="$src/tests/fixtures/torch_lenet5.safetensors"
image="$src/assets/samples/fashion-sandal.png"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/kit.sh"

# png_size FILE: "WIDTH HEIGHT" from the IHDR chunk
png_size() {
    od -An -tu1 -j16 -N8 "$1" | awk '{print $1*16777216+$2*65536+$3*256+$4, $5*16777216+$6*65536+$7*256+$8}'
}
is_png() { [ "$(od -An -c -j1 -N3 "$1" | tr -d ' ')" = "PNG" ]; }

"$fn" --help | grep -q ' cam ' && ok || bad "cam is listed in --help"
"$fn" cam --help | grep -q -- '--colormap' && ok || bad "cam --help"
expect 2 "needs a checkpoint and an image" -- "$fn" cam "$ckpt"
expect 2 "needs --out" -- "$fn" cam "$ckpt" "$image"
expect 2 "unknown colormap 'hot'" -- "$fn" cam "$ckpt" "$image" --colormap hot --out "$tmp/x.png"
expect 2 "not both" -- "$fn" cam "$ckpt" "$image" --class 1 --top 2 --out "$tmp/x.png"
expect 2 "option '--opacity'" -- "$fn" cam "$ckpt" "$image" --opacity 2 --out "$tmp/x.png"
expect 2 "option '--class' needs" -- "$fn" cam "$ckpt" "$image" --class Hat --out "$tmp/x.png"
expect 1 "/no/such.safetensors" -- "$fn" cam /no/such.safetensors "$image" --out "$tmp/x.png"
expect 1 "/no/such.png" -- "$fn" cam "$ckpt" /no/such.png --out "$tmp/x.png"
printf 'not an image' >"$tmp/bad.png"
expect 1 "$tmp/bad.png" -- "$fn" cam "$ckpt" "$tmp/bad.png" --out "$tmp/x.png"
expect 1 "cannot write" -- "$fn" cam "$ckpt" "$image" --out /no/such/dir/x.png
[ ! -e "$tmp/x.png" ] && ok || bad "no picture after an error"

# One model, the top class (LeNet-5 takes Grad-CAM).
"$fn" cam "$ckpt" "$image" --out "$tmp/one.png" >/dev/null && ok || bad "cam runs"
is_png "$tmp/one.png" && ok || bad "writes a PNG"
set -- $(png_size "$tmp/one.png")
w1=$1 h1=$2
[ "$w1" -ge 224 ] && [ "$h1" -ge 224 ] && ok || bad "picture of ${w1}x$h1"
# The picture is written atomically: a write cut short (the file size limit
# stands in for a full disk) keeps the previous picture whole and says why; a
# path through a file or a device is refused (issue 12).
cp "$tmp/one.png" "$tmp/keep.png"
err=$( (trap '' XFSZ; ulimit -f 4; "$fn" cam "$ckpt" "$image" --size 512 --out "$tmp/one.png") 2>&1 >/dev/null); rc=$?
[ "$rc" -eq 1 ] && printf '%s\n' "$err" | grep -q "$tmp/one.png.*File too large" && ok ||
    bad "a cut-short write: exit $rc: $err"
cmp -s "$tmp/one.png" "$tmp/keep.png" && ok || bad "the previous picture survives a failed write"
ls "$tmp" | grep -q '\.tmp-' && bad "temporary file left: $(ls "$tmp")" || ok
expect 1 "$tmp/one.png/x.png.*not a directory" -- "$fn" cam "$ckpt" "$image" --out "$tmp/one.png/x.png"
expect 1 "/dev/full.*not a regular file" -- "$fn" cam "$ckpt" "$image" --out /dev/full
# Two models side by side, three classes in rows: wider and taller.
"$fn" cam "$ckpt" "$image" --compare "$ckpt" --top 3 --colormap jet --opacity 0.7 --grad-cam \
    --out "$tmp/two.png" >/dev/null && ok || bad "cam --compare --top 3"
set -- $(png_size "$tmp/two.png")
[ "$1" -gt "$w1" ] && [ "$2" -gt $((h1 * 2)) ] && ok || bad "compare picture of $1x$2 vs ${w1}x$h1"
# --contrast A,B: why A and not B (issue 17.1), classes by name or index.
expect 2 "option '--contrast' takes A,B" -- "$fn" cam "$ckpt" "$image" --contrast 5 --out "$tmp/x.png"
expect 2 "option '--contrast' needs indices from 0 to 9 or class names, not 'Hat'" -- "$fn" cam "$ckpt" "$image" --contrast 5,Hat --out "$tmp/x.png"
expect 2 "two different classes" -- "$fn" cam "$ckpt" "$image" --contrast Sandal,5 --out "$tmp/x.png"
expect 2 "not both" -- "$fn" cam "$ckpt" "$image" --contrast 5,7 --class 5 --out "$tmp/x.png"
"$fn" cam "$ckpt" "$image" --contrast Sandal,Sneaker --size 64 --out "$tmp/ct1.png" >/dev/null &&
    "$fn" cam "$ckpt" "$image" --contrast 5,7 --size 64 --out "$tmp/ct2.png" >/dev/null &&
    "$fn" cam "$ckpt" "$image" --contrast 7,5 --size 64 --out "$tmp/ct3.png" >/dev/null &&
    "$fn" cam "$ckpt" "$image" --class 5 --size 64 --out "$tmp/ct4.png" >/dev/null && ok ||
    bad "cam --contrast"
cmp -s "$tmp/ct1.png" "$tmp/ct2.png" && ok || bad "--contrast by name = by index"
cmp -s "$tmp/ct2.png" "$tmp/ct3.png" && bad "--contrast 7,5 draws 5,7" || ok
cmp -s "$tmp/ct2.png" "$tmp/ct4.png" && bad "--contrast 5,7 draws --class 5" || ok
# --scale per-model: a colour bar beside each model's map, so a wider picture;
# --scale shared is the default picture (issue 17.6).
expect 2 "option '--scale' takes shared or per-model" -- "$fn" cam "$ckpt" "$image" --compare "$ckpt" --scale both --out "$tmp/x.png"
expect 2 "option '--scale' goes with --compare" -- "$fn" cam "$ckpt" "$image" --scale per-model --out "$tmp/x.png"
"$fn" cam "$ckpt" "$image" --compare "$ckpt" --size 64 --out "$tmp/sh.png" >/dev/null &&
    "$fn" cam "$ckpt" "$image" --compare "$ckpt" --size 64 --scale shared --out "$tmp/sh2.png" >/dev/null &&
    "$fn" cam "$ckpt" "$image" --compare "$ckpt" --size 64 --scale per-model --out "$tmp/pm.png" >/dev/null &&
    ok || bad "cam --scale"
cmp -s "$tmp/sh.png" "$tmp/sh2.png" && ok || bad "--scale shared is the default"
set -- $(png_size "$tmp/sh.png")
ws=$1
set -- $(png_size "$tmp/pm.png")
[ "$1" -gt "$ws" ] && ok || bad "per-model picture $1 wide, shared $ws"
# A class by name and by index draw the same picture; another class differs.
"$fn" cam "$ckpt" "$image" --class Sandal --size 64 --out "$tmp/a.png" >/dev/null &&
    "$fn" cam "$ckpt" "$image" --class 5 --size 64 --out "$tmp/b.png" >/dev/null &&
    "$fn" cam "$ckpt" "$image" --class 9 --size 64 --out "$tmp/c.png" >/dev/null && ok ||
    bad "cam --class"
cmp -s "$tmp/a.png" "$tmp/b.png" && ok || bad "--class Sandal = --class 5"
cmp -s "$tmp/a.png" "$tmp/c.png" && bad "--class 9 draws the same as 5" || ok

# Plain CAM: a ResNet-18 (global average pooling, then a linear layer) trained
# for one epoch on eight 16x16 images, with and without --grad-cam.
mkdir -p "$tmp/folder"
"$fixture" folder "$tmp/folder" &&
    "$fn" train --model resnet18 --data "folder:$tmp/folder" --epochs 1 --batch 4 \
        --out "$tmp/r18" >"$tmp/train.log" 2>&1 && ok || bad "train resnet18: $(tail -3 "$tmp/train.log")"
"$fn" cam "$tmp/r18/best.safetensors" "$src/assets/samples/cifar10-cat.jpg" --top 2 \
    --out "$tmp/r18.png" >/dev/null && is_png "$tmp/r18.png" && ok || bad "cam on resnet18"
"$fn" cam "$tmp/r18/best.safetensors" "$src/assets/samples/cifar10-cat.jpg" --top 2 --grad-cam \
    --out "$tmp/r18g.png" >/dev/null && ! cmp -s "$tmp/r18.png" "$tmp/r18g.png" && ok ||
    bad "grad-cam on resnet18 differs from cam"
# train's summary names the classes the checkpoint holds (issue 17.6).
grep -q -- '-> ' "$tmp/train.log" && ! grep -Eq '^ +[0-9]+ +-> +[0-9]' "$tmp/train.log" && ok ||
    bad "train summary prints class numbers: $(grep -- '->' "$tmp/train.log")"
# The checkpoint keeps where its data was (an absolute path), so eval needs no
# --data from another directory; --data still overrides; --json is one object.
case "$fn" in /*) fn_abs="$fn" ;; *) fn_abs="$PWD/$fn" ;; esac
out=$(cd / && "$fn_abs" eval "$tmp/r18/best.safetensors" --json) && ok || bad "eval without --data"
printf '%s\n' "$out" | grep -q "\"data\":\"folder:$tmp/folder\"" && ok || bad "eval --json data: $out"
printf '%s\n' "$out" | grep -q '"classes":\["blue","red"\]' && ok || bad "eval --json classes: $out"
printf '%s\n' "$out" | grep -q '"confusion":\[\[[0-9]*,[0-9]*\],\[[0-9]*,[0-9]*\]\]' && ok ||
    bad "eval --json confusion: $out"
printf '%s\n' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["images"]==sum(map(sum,d["confusion"]))' &&
    ok || bad "eval --json: the matrix sums to the images"
expect 1 "no-such-dir" -- "$fn" eval "$tmp/r18/best.safetensors" --data folder:/no-such-dir
"$fn" cam "$tmp/r18/best.safetensors" "$src/assets/samples/cifar10-cat.jpg" --contrast red,blue \
    --compare "$tmp/r18/best.safetensors" --out "$tmp/r18c.png" >/dev/null && is_png "$tmp/r18c.png" &&
    ok || bad "cam --contrast on resnet18 (plain CAM)"
# --scale per-model gives each model its own scale (issue 17.6): at opacity 1
# each map's maximum is viridis(1) (yellow) in both models, where a shared
# scale reaches it in one of two models whose maps differ. A second
# ResNet-18 of the same classes, another seed. Maps lie at y 62, x 16 plus
# 80 (shared) or 174 (per-model, its bar between) per model, 64 px square.
"$fn" train --model resnet18 --data "folder:$tmp/folder" --epochs 1 --batch 4 --seed 7 \
    --out "$tmp/r18b" >"$tmp/train.log" 2>&1 && ok || bad "train resnet18 b: $(tail -3 "$tmp/train.log")"
for sc in shared per-model; do
    "$fn" cam "$tmp/r18/best.safetensors" "$src/assets/samples/cifar10-cat.jpg" --opacity 1 --size 64 \
        --compare "$tmp/r18b/best.safetensors" --scale $sc --out "$tmp/sc-$sc.png" >/dev/null ||
        bad "cam --scale $sc"
done
y1() { "$fixture" count-in "$1" "$2" 62 64 64 253 231 37; }
a=$(y1 "$tmp/sc-per-model.png" 16) b=$(y1 "$tmp/sc-per-model.png" 190)
[ "${a:-0}" -gt 0 ] && [ "${b:-0}" -gt 0 ] && ok || bad "per-model: both maps reach the top ($a, $b)"
a=$(y1 "$tmp/sc-shared.png" 16) b=$(y1 "$tmp/sc-shared.png" 96)
{ [ "${a:-0}" -gt 0 ] && [ "${b:-1}" -eq 0 ]; } || { [ "${a:-1}" -eq 0 ] && [ "${b:-0}" -gt 0 ]; } && ok ||
    bad "shared: one map reaches the top ($a, $b)"

# focusnet plot (issue 17.4): curves of runs, a demo folder standing for both.
expect 2 "needs at least one run folder" -- "$fn" plot --out "$tmp/c.png"
expect 2 "needs --out" -- "$fn" plot "$tmp/r18"
expect 1 "$tmp/none/log.jsonl" -- "$fn" plot "$tmp/none" --out "$tmp/c.png"
mkdir -p "$tmp/demo/baseline" "$tmp/demo/focusnet"
cp "$tmp/r18/log.jsonl" "$tmp/demo/baseline/" && cp "$tmp/r18/log.jsonl" "$tmp/demo/focusnet/"
"$fn" plot "$tmp/r18" --out "$tmp/c1.png" >/dev/null && is_png "$tmp/c1.png" && ok || bad "plot one run"
"$fn" plot "$tmp/demo" --width 640 --height 240 --out "$tmp/c2.png" >/dev/null && ok || bad "plot a demo folder"
[ "$(png_size "$tmp/c2.png")" = "640 240" ] && ok || bad "plot size $(png_size "$tmp/c2.png")"
printf '{"epoch":1,"train_loss":1,"test_top1":0.5}\nnot json\n' >"$tmp/demo/focusnet/log.jsonl"
expect 1 "$tmp/demo/focusnet/log.jsonl line 2" -- "$fn" plot "$tmp/demo" --out "$tmp/c2.png"
[ "$(png_size "$tmp/c2.png")" = "640 240" ] && ok || bad "a failed plot keeps the previous picture"
expect 1 "/dev/full.*not a regular file" -- "$fn" plot "$tmp/r18" --out /dev/full
expect 1 "has 2 classes but" -- "$fn" cam "$tmp/r18/best.safetensors" "$image" --compare "$ckpt" \
    --out "$tmp/x.png"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

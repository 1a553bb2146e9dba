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
expect 1 "has 2 classes but" -- "$fn" cam "$tmp/r18/best.safetensors" "$image" --compare "$ckpt" \
    --out "$tmp/x.png"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/bin/sh
# focusnet bench train: the rates it prints, the per-kernel profile, and its errors;
# focusnet bench cam: the viewer's time per map.
# usage: test_bench.sh PATH/TO/focusnet
set -u
fn="$1"
. "$(dirname "$0")/kit.sh"

"$fn" bench --help | grep -q '^  train ' && ok || bad "bench --help lists train"

# LeNet-5 on its default input; every timed line carries a number.
out=$("$fn" bench train --batch 8 --steps 2 --warmup 1 --repeat 3 --profile) && ok || bad "bench train runs"
printf '%s\n' "$out" | grep -q '^focusnet bench train: lenet5, batch 8, input 1x28x28, 10 classes' && ok || bad "train header: $out"
printf '%s\n' "$out" | grep -q '^median of 3 runs of 2 steps after 1 warm-up steps' && ok || bad "train says how it times"
printf '%s\n' "$out" | grep -Eq '^train +[0-9]+\.[0-9] images/s +[0-9]+\.[0-9]{2} ms/step' && ok || bad "train rate"
printf '%s\n' "$out" | grep -Eq '^inference +[0-9]+\.[0-9] images/s' && ok || bad "inference rate"
# The profile names the kernels a step runs, with their calls per step.
printf '%s\n' "$out" | grep -q '^train profile: device time per step by kernel' && ok || bad "train profile"
printf '%s\n' "$out" | grep -q '^inference profile: ' && ok || bad "inference profile"
printf '%s\n' "$out" | grep -Eq '^  sgd_step +[0-9.]+ +[0-9.]+% +10\.0$' && ok || bad "10 SGD updates per step (LeNet's tensors)"
printf '%s\n' "$out" | grep -Eq '^  (conv_igemm|gemm)_mr[0-9]+ ' && ok || bad "a GEMM kernel in the profile"
printf '%s\n' "$out" | grep -Eq '^  loss_ce +[0-9.]+ +[0-9.]+% +1\.0$' && ok || bad "one loss per step"

# Another model, input and class count; the small stem's name.
out=$("$fn" bench train --model resnet18 --batch 2 --input 3x16x16 --classes 7 --steps 1 \
    --warmup 0 --repeat 1) && ok || bad "bench train resnet18 runs"
printf '%s\n' "$out" | grep -q '^focusnet bench train: resnet18 (small stem), batch 2, input 3x16x16, 7 classes' && ok || bad "resnet18 header"
out=$("$fn" bench train --model mobilenetv2 --width 0.25 --stem imagenet --batch 2 --input 3x32x32 \
    --steps 1 --warmup 0 --repeat 1) && ok || bad "bench train mobilenetv2 runs"
printf '%s\n' "$out" | grep -q 'mobilenetv2 (imagenet stem)' && ok || bad "mobilenetv2 header"

# The viewer's wait for one map: LeNet-5 gets Grad-CAM (no global pooling), ResNet-18 CAM.
out=$("$fn" bench cam --images 3 --warmup 1) && ok || bad "bench cam runs"
printf '%s\n' "$out" | grep -q '^focusnet bench cam: lenet5, input 1x28x28, Grad-CAM, on ' && ok || bad "cam header: $out"
printf '%s\n' "$out" | grep -Eq '^map +[0-9]+\.[0-9]{2} ms  \(the viewer' && ok || bad "cam time: $out"
printf '%s\n' "$out" | grep -Eq '^forward +[0-9]+\.[0-9]{2} ms' && ok || bad "forward time: $out"
out=$("$fn" bench cam --model resnet18 --images 1 --warmup 0) && ok || bad "bench cam resnet18 runs"
printf '%s\n' "$out" | grep -q '^focusnet bench cam: resnet18, input 3x32x32, CAM, on ' && ok || bad "resnet18 cam header: $out"
out=$("$fn" bench cam --model resnet18 --images 1 --warmup 0 --grad-cam) && ok || bad "bench cam --grad-cam runs"
printf '%s\n' "$out" | grep -q ', Grad-CAM, on ' && ok || bad "--grad-cam: $out"
expect 2 "unknown model 'frob'" -- "$fn" bench cam --model frob
expect 2 "option '--images'" -- "$fn" bench cam --images 0
expect 1 "nothing.ckpt" -- "$fn" bench cam --checkpoint /nonexistent/nothing.ckpt

expect 2 "unknown model 'frob'" -- "$fn" bench train --model frob
expect 2 "option '--input'" -- "$fn" bench train --input 3x32
expect 2 "option '--stem'" -- "$fn" bench train --stem tiny
expect 2 "option '--batch'" -- "$fn" bench train --batch 0

echo "test_bench.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

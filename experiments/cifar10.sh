#!/bin/sh
# Experiment 2 of the reproduction: CIFAR-10 (the JPEG folders of
# ../shared/data/cifar10, or DATA), baseline vs FocusNet for MobileNetV2 x0.5
# and ResNet-18 (the small-image stem, the default for 32-pixel images, and
# random crop + flip, the default for colour data), through focusnet compare:
# one compare per model, OUT/MODEL/results.md each. This replaces
# experiments/cifar10.py (one seed, its own table), which compare covers.
# usage: experiments/cifar10.sh [OUT] [extra compare options]
#   defaults: 2 epochs on 5,000 training images, 2,000 test images, batch 64,
#   seeds 1,2 (RECIPE and SEEDS to change them; on a GPU: RECIPE="--epochs 200")
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
fn=${FOCUSNET:-$root/build/cli/focusnet}
out=${1:-runs/cifar10}
[ $# -gt 0 ] && shift
data=${DATA:-folder:$root/../shared/data/cifar10}
recipe=${RECIPE---epochs 2 --limit-train 5000 --limit-test 2000 --batch 64}
for model in ${MODELS:-mobilenetv2 resnet18}; do
    # shellcheck disable=SC2086
    "$fn" compare --model "$model" --data "$data" $recipe --seeds "${SEEDS:-1,2}" \
        --out "$out/$model" "$@"
done

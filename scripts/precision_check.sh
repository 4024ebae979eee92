#!/usr/bin/env bash
# bf16 against float32 at equal images seen: VGG with its chosen recipe for 10 epochs,
# seeds 0-2 of each precision, trained alternately (bf16 s0, float32 s0, bf16 s1, ...)
# so that a busy machine slows both alike, then recorded in results/.
# bf16 becomes the CPU default (fmnist_lib/hardware.py) only if its mean test accuracy
# is within 0.2 points of float32's.  Usage: scripts/precision_check.sh [EPOCHS]
# Runs go to runs/precision (or $PRECISION_DIR); an interrupted run resumes.
set -euo pipefail
epochs=${1:-10}
fmnist=${FMNIST:-.venv/bin/fmnist}
python=${PYTHON:-.venv/bin/python}
out=${PRECISION_DIR:-runs/precision}
recipe=$("$python" -c \
  'from fmnist_lib.results import recipe_searches; print(recipe_searches()["vgg"]["chosen"])')
source "$(dirname "$0")/train_or_resume.sh"
declare -A POLICY=([bf16]=mixed_bfloat16 [float32]=float32)
runs=()
for seed in 0 1 2; do
  for precision in bf16 float32; do
    dir="$out/vgg-$recipe-${epochs}ep-$precision-s$seed"
    train_or_resume "$dir" --arch vgg --recipe "$recipe" --epochs "$epochs" --seed "$seed" \
      --precision "${POLICY[$precision]}"
    runs+=("$dir")
  done
done
"$fmnist" results add "${runs[@]}"
"$fmnist" results readme

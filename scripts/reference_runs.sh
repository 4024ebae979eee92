#!/usr/bin/env bash
# Train the reference runs behind the README's results table, record them in
# results/ and regenerate the table.  Usage: scripts/reference_runs.sh [RUN...]
#
# A run is ARCH-full-sSEED (the original's budget of images seen, or resnet's
# one-hour budget and recipe, under `--profile full`) or one of the longer
# schedules: vgg-long-s0/-s1 (VGG at 8x the original's budget: its 80 epochs over
# the 144,000-image augmented set), vgg-80ep-s0/-s1 and vgg-RECIPE-80ep-s0/-s1 for each
# of VGG's candidate recipes (80 epochs of the 54,000 training images, 4.32 M images
# seen: the equal-epochs reading of the original's 80-epoch run) and vgg-RECIPE-long-s0/-s1
# (the recipe at vgg-long-s0's budget: equal images seen with the original's run),
# vgg-cosine-flip-ls-2x-s0 and -s1 (that recipe at 2x), arch1-cosine-4x-s0 (arch1's
# cosine recipe at 4x its budget: its learning curve beyond the original's) and
# resnet-2x-s0 (resnet at 2x its one-hour budget; recorded from a GPU run,
# KERAS_BACKEND=jax), and the runs for a fixed training time on this machine (each
# fits its epochs to the rate it measures first): resnet-15min-s0 and
# vgg-cosine-modern-tta-15min-s0 (the candidates for the own model's hour, compared
# on validation), resnet-1h-sSEED and vgg-cosine-modern-tta-1h-sSEED (seeds 0-2), and
# a second screen on an AMD EPYC, resnet-15min-epyc-s0 beside its wider versions
# resnet64-15min-epyc-s0 and resnet96-15min-epyc-s0, with their hours resnet64-1h-sSEED
# and resnet96-1h-sSEED (the own model's recipe, from the profile), and resnet64's hour
# with weight decay, CutMix or both: resnet64-RECIPE-1h-sSEED for RECIPE
# cosine-modern-wd-tta, cosine-modern-cutmix-tta and cosine-modern-wd-cutmix-tta, and the
# last with a moving average of the weights (cosine-modern-wd-cutmix-ema-tta) or CutMix on
# every image (cosine-modern-wd-cutmix1-tta).  With no
# arguments: the ARCH-full runs and vgg-long-s0, about 13 h on a 2-core CPU.  Each
# run trains into runs/reference/NAME (or $REFERENCE_DIR/NAME); one that was
# interrupted resumes from its last epoch, one that completed is left alone.
set -euo pipefail
fmnist=${FMNIST:-.venv/bin/fmnist}
python=${PYTHON:-.venv/bin/python}
out=${REFERENCE_DIR:-runs/reference}
# The original's 80 VGG epochs in its two readings: equal images seen (over its
# 144,000-image augmented set) and equal epochs (over the 54,000 training images).
equal_images=11520000
equal_epochs=4320000
# Longer schedules: the settings besides --profile full, --arch and --seed.
declare -A LONGER=(
  [vgg-long-s0]="--budget-images $equal_images"
  [vgg-long-s1]="--budget-images $equal_images"
  [vgg-80ep-s0]="--budget-images $equal_epochs"
  [vgg-80ep-s1]="--budget-images $equal_epochs"
  [vgg-cosine-flip-ls-2x-s0]="--recipe cosine-flip-ls --budget-images 2880000"
  [vgg-cosine-flip-ls-2x-s1]="--recipe cosine-flip-ls --budget-images 2880000"
  [arch1-cosine-4x-s0]="--recipe cosine --budget-images 1944000"  # 4 x its 9 epochs of 54,000
  [resnet-2x-s0]="--budget-images 2592000 --precision float32"
  [resnet-15min-s0]="--budget-seconds 900"
  [vgg-cosine-modern-tta-15min-s0]="--recipe cosine-modern-tta --budget-seconds 900"
  # The second screen for the hour, on an AMD EPYC: resnet beside its wider versions.
  [resnet-15min-epyc-s0]="--budget-seconds 900"
  [resnet64-15min-epyc-s0]="--budget-seconds 900"
  [resnet96-15min-epyc-s0]="--budget-seconds 900"
)
# The 80-epoch comparison, in both readings, for whichever recipe VGG's search chooses.
read -ra vgg_recipes <<<"$("$python" -c "from fmnist_lib.recipes import CANDIDATES; print(*CANDIDATES['vgg'])")"
for recipe in "${vgg_recipes[@]}"; do
  for seed in 0 1; do
    LONGER[vgg-$recipe-80ep-s$seed]="--recipe $recipe --budget-images $equal_epochs"
    LONGER[vgg-$recipe-long-s$seed]="--recipe $recipe --budget-images $equal_images"
  done
done
for seed in 0 1 2; do
  LONGER[resnet-1h-s$seed]="--budget-seconds 3600"
  LONGER[vgg-cosine-modern-tta-1h-s$seed]="--recipe cosine-modern-tta --budget-seconds 3600"
  for wide in resnet64 resnet96; do
    LONGER[$wide-1h-s$seed]="--budget-seconds 3600"
  done
  # resnet64's hour with a regulariser added: weight decay, CutMix, or both; then the
  # chosen one with a moving average of the weights, or CutMix on every image
  for recipe in cosine-modern-wd-tta cosine-modern-cutmix-tta cosine-modern-wd-cutmix-tta \
    cosine-modern-wd-cutmix-ema-tta cosine-modern-wd-cutmix1-tta; do
    LONGER[resnet64-$recipe-1h-s$seed]="--recipe $recipe --budget-seconds 3600"
  done
done

default=()
for arch in arch1 arch2 vgg resnet; do
  for seed in 0 1 2; do default+=("$arch-full-s$seed"); done
done
default+=(vgg-long-s0)
all=("${default[@]}")
for name in "${!LONGER[@]}"; do  # the longer runs beyond the default set
  [[ " ${default[*]} " == *" $name "* ]] || all+=("$name")
done
names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${default[@]}")

for name in "${names[@]}"; do
  [[ " ${all[*]} " == *" $name "* ]] || { echo "unknown run $name; valid: ${all[*]}" >&2; exit 2; }
done

source "$(dirname "$0")/train_or_resume.sh"
for name in "${names[@]}"; do
  arch=${name%%-*}
  seed=${name##*-s}
  # shellcheck disable=SC2086  # the settings are a list of options
  train_or_resume "$out/$name" --profile full --arch "$arch" --seed "$seed" ${LONGER[$name]:-}
  "$fmnist" results add "$out/$name"  # recorded at once: run directories may not outlive the session
done
"$fmnist" results readme

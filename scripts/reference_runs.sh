#!/usr/bin/env bash
# Train the reference runs behind the README's results table, record them in
# results/ and regenerate the table.  Usage: scripts/reference_runs.sh [RUN...]
#
# A run is ARCH-full-sSEED (the original's budget of images seen, or resnet's
# one-hour budget and recipe, under `--profile full`) or vgg-long-s0 (VGG at 8x the
# original's budget, as its 80-epoch run).  With no arguments: every one of them,
# about 13 h on a 2-core CPU.  Each run trains into runs/reference/NAME (or
# $REFERENCE_DIR/NAME); one that was interrupted resumes from its last epoch, one
# that completed is left alone.
set -euo pipefail
fmnist=${FMNIST:-.venv/bin/fmnist}
out=${REFERENCE_DIR:-runs/reference}
LONG_VGG_BUDGET=11520000  # the original's 80 epochs over 144,000 augmented images

all=()
for arch in arch1 arch2 vgg resnet; do
  for seed in 0 1 2; do all+=("$arch-full-s$seed"); done
done
all+=(vgg-long-s0)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${all[@]}")

for name in "${names[@]}"; do
  [[ " ${all[*]} " == *" $name "* ]] || { echo "unknown run $name; valid: ${all[*]}" >&2; exit 2; }
done

for name in "${names[@]}"; do
  dir="$out/$name"
  if [ -d "$dir" ]; then
    "$fmnist" train --resume "$dir" --quiet
    continue
  fi
  arch=${name%%-*}
  seed=${name##*-s}
  budget=()
  [[ $name == vgg-long-* ]] && budget=(--budget-images "$LONG_VGG_BUDGET")
  "$fmnist" train --profile full --arch "$arch" --seed "$seed" "${budget[@]}" \
    --out "$out" --run-name "$name" --quiet
done
for name in "${names[@]}"; do "$fmnist" results add "$out/$name"; done
"$fmnist" results readme

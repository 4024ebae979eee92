#!/usr/bin/env bash
# Choose a training recipe for one architecture at the original's budget on the
# validation split only, then train two more seeds of the winner and record all
# runs in results/.  Usage: scripts/recipe_search.sh ARCH [RECIPE...]
#
# Every candidate trains with seed 0 under `--profile full` (the original's budget
# of images seen); the winner is the highest validation accuracy of the checkpoint
# that training kept (lowest validation loss). train() still evaluates each run on
# the test set once, and those numbers are recorded, but none of them chooses anything.
# Without RECIPE names, arch1 (which the original trained without augmentation)
# tries cosine, cosine-flip and cosine-flip-ls; the augmented architectures try
# cosine-rotflip (the original's rotate+flip), cosine-flip-ls and cosine-modern
# (resnet's recipe without test-time augmentation).  Runs go to runs/recipes (or
# $RECIPE_DIR), the choice to results/recipe-search/ARCH.json (or $RECIPE_SEARCH_DIR).
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: scripts/recipe_search.sh ARCH [RECIPE...]" >&2; exit 2; }
arch=$1
shift
fmnist=${FMNIST:-.venv/bin/fmnist}
python=${PYTHON:-.venv/bin/python}
out=${RECIPE_DIR:-runs/recipes}
search_dir=${RECIPE_SEARCH_DIR:-results/recipe-search}

declare -A RECIPES=(
  [cosine]="--lr-schedule cosine --augment none"
  [cosine-flip]="--lr-schedule cosine --augment flip"
  [cosine-flip-ls]="--lr-schedule cosine --lr 0.002 --augment flip --label-smoothing 0.1"
  [cosine-rotflip]="--lr-schedule cosine --augment rotate,flip"
  [cosine-modern]="--lr-schedule cosine --lr 0.002 --warmup-epochs 1 --augment flip,translate,erase --label-smoothing 0.1"
)
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  if [ "$arch" = arch1 ]; then
    names=(cosine cosine-flip cosine-flip-ls)
  else
    names=(cosine-rotflip cosine-flip-ls cosine-modern)
  fi
fi

train() {  # train NAME SEED: train (or resume, or skip when complete) one run
  local dir="$out/$arch-$1-s$2"
  if [ -d "$dir" ]; then
    "$fmnist" train --resume "$dir" --quiet
  else
    # shellcheck disable=SC2086  # the recipe is a list of options
    "$fmnist" train --profile full --arch "$arch" --seed "$2" ${RECIPES[$1]} \
      --out "$out" --run-name "$arch-$1-s$2" --quiet
  fi
}

for name in "${names[@]}"; do  # all names checked before hours of training start
  [ -n "${RECIPES[$name]:-}" ] || { echo "unknown recipe $name; valid: ${!RECIPES[*]}" >&2; exit 2; }
done
for name in "${names[@]}"; do train "$name" 0; done

winner=$("$python" - "$out" "$search_dir" "$arch" "${names[@]}" <<'PY'
import sys
from fmnist_lib.runs import read_json, write_json
out, search_dir, arch, *names = sys.argv[1:]
scores = {n: read_json(f"{out}/{arch}-{n}-s0/metrics.json")["best_val_accuracy"] for n in names}
for n, v in sorted(scores.items(), key=lambda kv: -kv[1]):
    print(f"  {n:<16} validation accuracy {v:.4f}", file=sys.stderr)
winner = max(scores, key=scores.get)
write_json(f"{search_dir}/{arch}.json", {
    "rule": "highest validation accuracy of the kept checkpoint (lowest val_loss), seed 0",
    "validation_accuracy": scores, "runs": {n: f"{arch}-{n}-s0" for n in names}, "chosen": winner,
})
print(winner)
PY
)
echo "chosen on validation: $winner"
train "$winner" 1
train "$winner" 2
for name in "${names[@]}"; do "$fmnist" results add "$out/$arch-$name-s0"; done
"$fmnist" results add "$out/$arch-$winner-s1" "$out/$arch-$winner-s2"
"$fmnist" results readme

#!/usr/bin/env bash
# Choose a training recipe for one architecture at the original's budget on the
# validation split only, then train two more seeds of the winner and record all
# runs in results/.  Usage: scripts/recipe_search.sh ARCH [RECIPE...]
#
# Every candidate trains with seed 0 under `--profile full` (the original's budget
# of images seen); the winner is the highest validation accuracy of the checkpoint
# that training kept (lowest validation loss). train() still evaluates each run on
# the test set once, and those numbers are recorded, but none of them chooses anything.
set -euo pipefail
arch=${1:?usage: scripts/recipe_search.sh ARCH [RECIPE...]}
shift
fmnist=${FMNIST:-.venv/bin/fmnist}
out=runs/recipes

declare -A RECIPES=(
  [cosine]="--lr-schedule cosine --augment none"
  [cosine-flip]="--lr-schedule cosine --augment flip"
  [cosine-flip-ls]="--lr-schedule cosine --lr 0.002 --augment flip --label-smoothing 0.1"
)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(cosine cosine-flip cosine-flip-ls)

train() {  # train NAME SEED: train (or resume, or skip when complete) one run
  local dir="$out/$arch-$1-s$2"
  if [ -d "$dir" ]; then
    "$fmnist" train --resume "$dir"
  else
    # shellcheck disable=SC2086  # the recipe is a list of options
    "$fmnist" train --profile full --arch "$arch" --seed "$2" ${RECIPES[$1]} \
      --out "$out" --run-name "$arch-$1-s$2" --quiet
  fi
}

for name in "${names[@]}"; do
  [ -n "${RECIPES[$name]:-}" ] || { echo "unknown recipe $name; valid: ${!RECIPES[*]}" >&2; exit 2; }
  train "$name" 0
done

winner=$(.venv/bin/python - "$out" "$arch" "${names[@]}" <<'PY'
import json, sys
from fmnist_lib.runs import write_json
out, arch, *names = sys.argv[1:]
scores = {n: json.load(open(f"{out}/{arch}-{n}-s0/metrics.json"))["best_val_accuracy"] for n in names}
for n, v in sorted(scores.items(), key=lambda kv: -kv[1]):
    print(f"  {n:<16} validation accuracy {v:.4f}", file=sys.stderr)
winner = max(scores, key=scores.get)
write_json(f"results/recipe-search/{arch}.json", {
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

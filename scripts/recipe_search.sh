#!/usr/bin/env bash
# Choose a training recipe for one architecture at the original's budget on the
# validation split only, then train the winner with more seeds and record all
# runs in results/.  Usage: scripts/recipe_search.sh ARCH [RECIPE...]
#
# Every candidate trains with seed 0 under `--profile full` (the original's budget
# of images seen); the winner is the highest validation accuracy of the checkpoint
# that training kept (lowest validation loss). train() still evaluates each run on
# the test set once, and those numbers are recorded, but none of them chooses anything.
# The recipes, each architecture's default candidates and the seeds that confirm
# the winner are in fmnist_lib/recipes.py.  Runs go to runs/recipes (or $RECIPE_DIR),
# the choice to results/recipe-search/ARCH.json (or $RECIPE_SEARCH_DIR).
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: scripts/recipe_search.sh ARCH [RECIPE...]" >&2; exit 2; }
arch=$1
shift
fmnist=${FMNIST:-.venv/bin/fmnist}
python=${PYTHON:-.venv/bin/python}
out=${RECIPE_DIR:-runs/recipes}
search_dir=${RECIPE_SEARCH_DIR:-results/recipe-search}

recipes() {  # recipes WHAT: names from fmnist_lib.recipes, one line
  "$python" -c "from fmnist_lib import recipes as r; print(*$1)"
}
valid=$(recipes "r.RECIPES")
names=("$@")
[ ${#names[@]} -gt 0 ] || read -ra names <<<"$(recipes "r.CANDIDATES.get('$arch', ())")"
read -ra confirm_seeds <<<"$(recipes "r.CONFIRM_SEEDS")"
[ ${#names[@]} -gt 0 ] || { echo "no default candidates for $arch; name the recipes" >&2; exit 2; }

source "$(dirname "$0")/train_or_resume.sh"
train() {  # train NAME SEED: train (or resume, or skip when complete) one run
  train_or_resume "$out/$arch-$1-s$2" --profile full --arch "$arch" --seed "$2" --recipe "$1"
}

for name in "${names[@]}"; do  # all names checked before hours of training start
  [[ " $valid " == *" $name "* ]] || { echo "unknown recipe $name; valid: $valid" >&2; exit 2; }
done
for name in "${names[@]}"; do train "$name" 0; done

winner=$("$python" - "$out" "$search_dir" "$arch" "${names[@]}" <<'PY'
import sys
from fmnist_lib.recipes import CONFIRM_SEEDS
from fmnist_lib.runs import read_json, write_json
out, search_dir, arch, *names = sys.argv[1:]
scores = {n: read_json(f"{out}/{arch}-{n}-s0/metrics.json")["best_val_accuracy"] for n in names}
for n, v in sorted(scores.items(), key=lambda kv: -kv[1]):
    print(f"  {n:<16} validation accuracy {v:.4f}", file=sys.stderr)
winner = max(scores, key=scores.get)
write_json(f"{search_dir}/{arch}.json", {
    "rule": "highest validation accuracy of the kept checkpoint (lowest val_loss), seed 0",
    "validation_accuracy": scores, "runs": {n: f"{arch}-{n}-s0" for n in names}, "chosen": winner,
    "confirm_seeds": list(CONFIRM_SEEDS),
})
print(winner)
PY
)
echo "chosen on validation: $winner"
confirm_runs=()
for seed in "${confirm_seeds[@]}"; do
  train "$winner" "$seed"
  confirm_runs+=("$out/$arch-$winner-s$seed")
done
for name in "${names[@]}"; do "$fmnist" results add "$out/$arch-$name-s0"; done
"$fmnist" results add "${confirm_runs[@]}"
"$fmnist" results readme

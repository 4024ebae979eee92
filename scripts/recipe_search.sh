#!/usr/bin/env bash
# Choose a training recipe for one architecture at the original's budget on the
# validation split only, then train the winner with more seeds and record all
# runs in results/.  Usage: scripts/recipe_search.sh ARCH [RECIPE...]
#
# Every candidate trains with seed 0 under `--profile full` (the original's budget
# of images seen); the winner is the highest validation accuracy of the checkpoint
# that training kept (lowest validation loss), scored as the run scores its test set
# (with flip TTA where the recipe uses it). train() still evaluates each run on the
# test set once, and those numbers are recorded, but none of them chooses anything.
# The search extends the one already recorded: its candidates compete with the named
# ones, and a candidate recorded in results/runs is not trained again (nor are
# confirming seeds already recorded). The recipes, each architecture's default
# candidates and the seeds that confirm the winner are in fmnist_lib/recipes.py.
# Runs go to runs/recipes (or $RECIPE_DIR), the choice to
# results/recipe-search/ARCH.json (or $RECIPE_SEARCH_DIR), records are looked up in
# results/runs (or $RECORDS_DIR).
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: scripts/recipe_search.sh ARCH [RECIPE...]" >&2; exit 2; }
arch=$1
shift
fmnist=${FMNIST:-.venv/bin/fmnist}
python=${PYTHON:-.venv/bin/python}
out=${RECIPE_DIR:-runs/recipes}
search_dir=${RECIPE_SEARCH_DIR:-results/recipe-search}
records=${RECORDS_DIR:-results/runs}

recipes() {  # recipes WHAT: names from fmnist_lib.recipes, one line
  "$python" -c "from fmnist_lib import recipes as r; print(*$1)"
}
valid=$(recipes "r.RECIPES")
names=("$@")
[ ${#names[@]} -gt 0 ] || read -ra names <<<"$(recipes "r.CANDIDATES.get('$arch', ())")"
read -ra confirm_seeds <<<"$(recipes "r.CONFIRM_SEEDS")"
[ ${#names[@]} -gt 0 ] || { echo "no default candidates for $arch; name the recipes" >&2; exit 2; }

source "$(dirname "$0")/train_or_resume.sh"
train() {  # train NAME SEED: train (or resume, or skip when complete or recorded) one run
  local run=$arch-$1-s$2
  if [ -f "$records/$run.json" ] && [ ! -d "$out/$run" ]; then
    echo "$run: recorded in $records; not trained again" >&2
    return
  fi
  train_or_resume "$out/$run" --profile full --arch "$arch" --seed "$2" --recipe "$1"
  trained+=("$out/$run")
}
trained=()

for name in "${names[@]}"; do  # all names checked before hours of training start
  [[ " $valid " == *" $name "* ]] || { echo "unknown recipe $name; valid: $valid" >&2; exit 2; }
done
for name in "${names[@]}"; do train "$name" 0; done

winner=$("$python" - "$out" "$records" "$search_dir" "$arch" "${names[@]}" <<'PY'
import sys
from pathlib import Path
from fmnist_lib.recipes import CONFIRM_SEEDS
from fmnist_lib.runs import read_json, selection_val_accuracy, write_json
out, records, search_dir, arch, *names = sys.argv[1:]
search_path = Path(search_dir) / f"{arch}.json"
prior = read_json(search_path) if search_path.exists() else {"runs": {}}
runs = {**prior["runs"], **{n: f"{arch}-{n}-s0" for n in names}}

def metrics(run):  # the run directory where it still exists, else its record
    path = Path(out) / run / "metrics.json"
    return read_json(path) if path.exists() else read_json(Path(records) / f"{run}.json")["metrics"]

scores = {n: selection_val_accuracy(metrics(run)) for n, run in runs.items()}
for n, v in sorted(scores.items(), key=lambda kv: -kv[1]):
    print(f"  {n:<20} validation accuracy {v:.4f}", file=sys.stderr)
winner = max(scores, key=scores.get)  # max keeps the first of equals: the earlier candidate
write_json(search_path, {
    "rule": "highest validation accuracy of the kept checkpoint (lowest val_loss), "
            "scored as the run scores its test set (flip TTA where the recipe uses it), seed 0; "
            "a tie keeps the candidate searched first",
    "validation_accuracy": scores, "runs": runs, "chosen": winner,
    "confirm_seeds": list(CONFIRM_SEEDS),
})
print(winner)
PY
)
echo "chosen on validation: $winner"
for seed in "${confirm_seeds[@]}"; do train "$winner" "$seed"; done
[ ${#trained[@]} -eq 0 ] || "$fmnist" results add "${trained[@]}"
"$fmnist" results readme

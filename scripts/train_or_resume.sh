# Sourced by the run scripts: train_or_resume RUN_DIR [TRAIN OPTION...]
# resumes RUN_DIR if it exists (a completed run is left as it is), else trains into it
# with the options given.  Uses $fmnist, which the sourcing script sets.
train_or_resume() {
  local dir=$1
  shift
  if [ -d "$dir" ]; then
    "$fmnist" train --resume "$dir" --quiet
  else
    "$fmnist" train "$@" --out "$(dirname "$dir")" --run-name "$(basename "$dir")" --quiet
  fi
}

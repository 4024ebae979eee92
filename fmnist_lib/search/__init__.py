"""Recipe search on Optuna: spaces as data, studies shared by workers, pruning, confirmation."""

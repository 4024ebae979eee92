"""Train, resume and record the declared experiments (``fmnist experiment run``).

Each run trains into ``runs/experiments/<run id>`` under the full profile; an
interrupted one resumes from its last epoch, a completed one is recorded at once
(run directories may not outlive a session; records in ``results/`` do), and a
recorded one is left alone. ``states`` tells each run's state for
``fmnist experiment list``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .config import TrainConfig
from .experiments import EXPERIMENTS, Experiment, get_experiment
from .paths import PROJECT_ROOT, RESULTS_DIR
from .readme import update_readme
from .results import add_run, load_results
from .runs import read_json, read_status
from .training import train
from .verdict import spread

RUNS_DIR = PROJECT_ROOT / "runs" / "experiments"
README = PROJECT_ROOT / "README.md"
NOT_STARTED, RECORDED = "not started", "recorded"


def run_state(run_id: str, recorded: set[str], runs_dir=RUNS_DIR) -> str:
    """recorded, not started, or the run directory's state (running, interrupted, ...)."""
    if run_id in recorded:
        return RECORDED
    run_dir = Path(runs_dir) / run_id
    return read_status(run_dir)["state"] if run_dir.is_dir() else NOT_STARTED


def states(results_dir=RESULTS_DIR, runs_dir=RUNS_DIR) -> pd.DataFrame:
    """One row per experiment: role, model, recipe, budget, each seed's state, and the
    recorded seeds' test accuracy (mean ± sd)."""
    records = load_results(results_dir)
    recorded = {r["name"] for r in records}
    rows = []
    for e in EXPERIMENTS.values():
        seed_states = {seed: run_state(e.run_id(seed), recorded, runs_dir) for seed in e.seeds}
        tests = [r["metrics"]["test"]["accuracy"] for r in records if r["experiment"] == e.id]
        rows.append(
            {
                "experiment": e.id,
                "role": e.role,
                "model": e.model,
                "recipe": e.recipe,
                "budget": e.budget.describe(),
                "state": ", ".join(f"s{seed} {state}" for seed, state in seed_states.items()),
                "test accuracy": spread(tests).describe(),
            }
        )
    return pd.DataFrame(rows)


def _train_or_resume(experiment: Experiment, seed: int, runs_dir: Path) -> Path:
    """``training.train`` with resume: a new run starts, an interrupted one continues, a
    completed one is left as it is. A run that started keeps its saved settings (a time
    budget's fitted epochs among them)."""
    run_dir = runs_dir / experiment.run_id(seed)
    saved = run_dir / "config.json"
    if saved.exists():
        config = TrainConfig.from_dict(read_json(saved))
    else:
        config = experiment.config(seed, out_dir=str(runs_dir), run_name=run_dir.name)
    return train(config, run_dir=run_dir, resume=True)


def run_experiments(
    ids: list[str],
    seeds: list[int] | None = None,
    results_dir=RESULTS_DIR,
    runs_dir=RUNS_DIR,
    readme: Path | None = README,
) -> list[Path]:
    """Train (or resume) and record every unrecorded run of the named experiments, in
    order; ``seeds`` limits them to those seeds. The README's tables are regenerated
    (``readme`` None: not). Returns the records written."""
    experiments = [get_experiment(exp_id) for exp_id in ids]  # all checked before training
    recorded = {r["name"] for r in load_results(results_dir)}
    written = []
    for experiment in experiments:
        for seed in experiment.seeds:
            if (seeds is not None and seed not in seeds) or experiment.run_id(seed) in recorded:
                continue
            run_dir = _train_or_resume(experiment, seed, Path(runs_dir))
            written.append(add_run(run_dir, results_dir))
    if written and readme is not None:
        update_readme(readme, results_dir)
    return written

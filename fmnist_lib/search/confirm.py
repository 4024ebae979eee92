"""Confirming a search: the best trial's settings trained with every reference seed, recorded."""

from __future__ import annotations

from pathlib import Path

from ..experiments import SEEDS
from ..paths import RESULTS_DIR
from ..results import add_run, load_results
from ..runs import COMPLETED, read_status
from ..training import score_test_set, train
from .study import SearchPlan, best_settings, open_study


def confirmation_names(plan: SearchPlan, number: int) -> tuple[str, str]:
    """(experiment, recipe) of a confirmed trial: ``<study>-t<N>`` and ``search:<study>#<N>``."""
    return f"{plan.study_name}-t{number}", f"search:{plan.study_name}#{number}"


def run_name(plan: SearchPlan, experiment: str, seed: int) -> str:
    """A confirmation run's record name, ``MODEL-...-sSEED`` as every record's: the
    experiment, led by the model unless the study's name already is."""
    stem = experiment if experiment.startswith(f"{plan.model}-") else f"{plan.model}-{experiment}"
    return f"{stem}-s{seed}"


def confirm(plan: SearchPlan, results_dir=RESULTS_DIR, seeds=SEEDS) -> list[Path]:
    """Train the best trial with each of ``seeds`` not yet recorded, and record every run.

    The trial's own seed-0 run is recorded from its run directory when that survives;
    a best trial that is an already recorded run names its record and trains nothing.
    """
    study = open_study(plan)
    best, settings = best_settings(study)
    if "record" in best.user_attrs:
        print(
            f"the best trial is the recorded run {best.user_attrs['record']} "
            f"(recipe {best.user_attrs['recipe']}): train its other seeds with "
            "`fmnist experiment run`"
        )
        return []
    experiment, recipe = confirmation_names(plan, best.number)
    recorded = {r["name"] for r in load_results(results_dir)}
    written = []
    for seed in seeds:
        name = run_name(plan, experiment, seed)
        if name in recorded:
            continue
        config = plan.base.replace(
            **settings,
            seed=seed,
            run_name=name,
            out_dir=str(Path(plan.runs_dir) / plan.study_name),
        )
        run_dir = Path(best.user_attrs.get("run_dir", "")) if seed == plan.base.seed else None
        if run_dir is None or read_status(run_dir).get("state") != COMPLETED:
            run_dir = train(config, run_dir=Path(config.out_dir) / name, resume=True)
        score_test_set(run_dir)  # the trial's own run: scored now, after the search
        written.append(add_run(run_dir, results_dir, name, experiment, recipe))
    return written

"""Confirming a search: the best trial's settings trained with every reference seed, recorded."""

from __future__ import annotations

from pathlib import Path

from ..config import TRAINING_LENGTHS, TrainConfig
from ..errors import ConfigError
from ..experiments import SEEDS, Budget
from ..paths import RESULTS_DIR
from ..recipes import study_recipe, study_trial
from ..records import record_group
from ..results import add_run, load_results
from ..runs import COMPLETED, read_status
from ..training import score_test_set, train
from .space import settings_from_params
from .study import SEARCH_DIR, SearchPlan, budget_label, config_budget, open_study


def confirmation_names(plan: SearchPlan, number: int) -> tuple[str, str]:
    """(experiment, recipe) of a confirmed trial: ``<study>-t<N>`` and ``search:<study>#<N>``."""
    return f"{plan.study_name}-t{number}", study_recipe(plan.study_name, number)


def run_name(plan: SearchPlan, experiment: str, seed: int) -> str:
    """A confirmation run's record name, ``MODEL-...-sSEED`` as every record's: the
    experiment, led by the model unless the study's name already is."""
    stem = experiment if experiment.startswith(f"{plan.model}-") else f"{plan.model}-{experiment}"
    return f"{stem}-s{seed}"


def lengths_of(budget: Budget) -> dict:
    """The training-length settings of ``budget``: its one set, the others cleared."""
    return {length: None for length in TRAINING_LENGTHS} | budget.settings()


def confirm(
    plan: SearchPlan,
    results_dir=RESULTS_DIR,
    seeds=SEEDS,
    budget: Budget | None = None,
    top: int = 1,
) -> list[Path]:
    """Train a study's winner with each of ``seeds`` not yet recorded, and record every run.

    At the study's own budget (``budget`` None) the winner is its best trial: the trial's
    own seed-0 run is recorded from its run directory when that survives, and a best
    trial that is an already recorded run names its record and trains nothing. At
    another budget (a proxy study's trials at the full one), the ``top`` best trials
    first train the first seed there; the one best on validation at that budget then
    trains the other seeds. Runs already recorded are never trained again, so an
    interrupted confirmation resumes where it stopped.
    """
    if top < 1:
        raise ConfigError(f"confirm top: {top!r} must be at least 1")
    study = open_study(plan)
    if budget is None:
        if top != 1:
            raise ConfigError("confirm top > 1 needs a budget other than the study's own")
        return _confirm_best(plan, study, results_dir, seeds)
    ranked = ranked_trials(study)[:top]
    if not ranked:
        raise ConfigError(f"study {plan.study_name} has no completed trial to confirm")
    first, rest = seeds[0], tuple(seeds[1:])
    written = [
        _train_and_record(plan, t, _experiment(plan, t, budget), first, results_dir, budget)
        for t in ranked
    ]
    recorded = {r["name"]: r for r in load_results(results_dir)}
    scores = {
        t.number: recorded[run_name(plan, _experiment(plan, t, budget), first)]["metrics"][
            "selection_val_accuracy"
        ]
        for t in ranked
    }
    winner = next(t for t in ranked if t.number == max(scores, key=scores.get))
    print(
        f"at {budget.describe()}: "
        + ", ".join(f"trial {n} {100 * v:.2f}%" for n, v in scores.items())
        + f" on validation; trial {winner.number} trains seeds {list(rest)}"
    )
    experiment = _experiment(plan, winner, budget)
    written += [
        _train_and_record(plan, winner, experiment, seed, results_dir, budget) for seed in rest
    ]
    return [path for path in written if path is not None]


def ranked_trials(study) -> list:
    """The study's completed trials, best first."""
    import optuna

    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return sorted(done, key=lambda t: -t.value)


def _experiment(plan: SearchPlan, trial, budget: Budget) -> str:
    experiment, _ = confirmation_names(plan, trial.number)
    return f"{experiment}-{budget_label(budget)}"


def _train_and_record(
    plan, trial, experiment: str, seed: int, results_dir, budget: Budget | None = None
) -> Path | None:
    """One trial's settings trained with ``seed`` at ``budget`` (None: the study's own)
    and recorded; None when that run is recorded already. At the study's budget the
    trial's own run is recorded where its run directory survives."""
    name = run_name(plan, experiment, seed)
    if name in {r["name"] for r in load_results(results_dir)}:
        return None
    config = plan.base.replace(
        **settings_from_params(trial.params),
        **(lengths_of(budget) if budget is not None else {}),
        seed=seed,
        run_name=name,
        out_dir=str(Path(plan.runs_dir) / plan.study_name),
    )
    own = budget is None and seed == plan.base.seed
    run_dir = Path(trial.user_attrs.get("run_dir", "")) if own else None
    if run_dir is None or read_status(run_dir).get("state") != COMPLETED:
        run_dir = train(config, run_dir=Path(config.out_dir) / name, resume=True)
    score_test_set(run_dir)  # scored once trained: every choice before read validation only
    recipe = study_recipe(plan.study_name, trial.number)
    return add_run(run_dir, results_dir, name, experiment, recipe)


def _confirm_best(plan: SearchPlan, study, results_dir, seeds) -> list[Path]:
    """The best trial at the study's own budget, with every seed."""
    best = study.best_trial
    if "record" in best.user_attrs:
        print(
            f"the best trial is the recorded run {best.user_attrs['record']} "
            f"(recipe {best.user_attrs['recipe']}): train its other seeds with "
            "`fmnist experiment run`"
        )
        return []
    experiment, _ = confirmation_names(plan, best.number)
    written = [_train_and_record(plan, best, experiment, seed, results_dir) for seed in seeds]
    return [path for path in written if path is not None]


def confirmation_problems(record: dict, storage: str | None = None) -> list[str]:
    """How a record of a confirmed study trial departs from that trial; empty when it
    matches. Its recipe names the study and trial (``search:<study>#<N>``); its
    experiment is ``<study>-t<N>`` at the study's budget or ``<study>-t<N>-<budget>`` at
    another; its settings are the study's base with the trial's parameters, at the
    record's budget and seed. ``storage``: the model's study file in results/search."""
    import optuna

    name = record["name"]
    study_name, number = study_trial(record["recipe"])
    if storage is None:
        path = SEARCH_DIR / f"{record['model']}.db"
        if not path.is_file():
            return [f"{name}: no study storage {path.name} in results/search"]
        storage = f"sqlite:///{path.resolve()}"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        return [f"{name}: its storage holds no study {study_name}"]
    trial = next((t for t in study.get_trials(deepcopy=False) if t.number == number), None)
    if trial is None or trial.state.name != "COMPLETE":
        return [f"{name}: study {study_name} has no completed trial {number}"]
    base = study.user_attrs["protocol"]["base"]
    budget = config_budget(TrainConfig.from_dict(record["config"]))
    experiment = f"{study_name}-t{number}"
    if budget != config_budget(TrainConfig.from_dict(base)):
        experiment += f"-{budget_label(budget)}"
    found = []
    if record["experiment"] != experiment:
        found.append(f"experiment {record['experiment']}, the trial's is {experiment}")
    expected = TrainConfig.from_dict(
        {
            **base,
            **settings_from_params(trial.params),
            **lengths_of(budget),
            "seed": record["config"]["seed"],
        }
    )
    if record_group(expected.to_dict(), record["metrics"]) != record["group"]:
        found.append(f"its settings differ from trial {number}'s")
    return [f"{name}: {problem}" for problem in found]

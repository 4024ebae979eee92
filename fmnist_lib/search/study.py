"""A recipe search on Optuna: one study per model and budget, shared by any number of workers.

The objective is the kept checkpoint's validation accuracy (``selection_val_accuracy``,
scored as the run scores its test set), never the test set. The storage is an SQLite
file under ``results/search/`` by default, or any Optuna storage URL. Heartbeats mark
a trial whose worker died as failed, and a retry of it (same params) resumes its run
directory from its last epoch; runs already recorded for the model enter the study as
completed trials, once.
"""

from __future__ import annotations

import random
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .. import hardware
from ..config import COMPACT, TrainConfig
from ..errors import ConfigError, TrainingError
from ..experiments import Budget
from ..paths import RESULTS_DIR
from ..recipes import is_study_recipe, recipe_settings
from ..records import machine_kind
from ..reference import same_budget
from ..runs import load_run, read_json
from ..specs import get_spec
from ..training import train
from .pruning import PERCENT_STEPS, PRUNERS, PruningReporter, make_pruner, report_steps
from .space import check_space, distributions, params_from_config, settings_from_params, suggest

SEARCH_DIR = RESULTS_DIR / "search"
RUNS_DIR = Path("runs") / "search"
# A worker's pulse; a trial silent for GRACE_SECONDS lost its worker and is retried
# (at most MAX_RETRY times), resuming its run directory.
HEARTBEAT_SECONDS = 60
GRACE_SECONDS = 180
MAX_RETRY = 3
STORAGE_ATTEMPTS = 5
SEARCH_SEED = 0  # the seed every trial trains with; confirmation adds the others
# The pruner `fmnist search --compare-pruners` chose on the recorded VGG curves
# (results/search/pruners-vgg-1440000img.json).
DEFAULT_PRUNER = "median-half"


@dataclass(frozen=True)
class SearchPlan:
    """One search: the model, the fixed part of its config, the space and the storage."""

    model: str
    base: TrainConfig
    space: dict
    study_name: str
    storage_url: str
    trials: int
    sampler_seed: int = 0
    pruner: str = DEFAULT_PRUNER
    runs_dir: Path = RUNS_DIR
    heartbeat: tuple[int, int] = (HEARTBEAT_SECONDS, GRACE_SECONDS)
    verbose: bool = True
    notes: list = field(default_factory=list)
    # Seconds after which this worker starts no new trial (its current one finishes),
    # as Optuna's ``optimize(timeout=...)``: for sessions and jobs with a wall-time limit.
    timeout: float | None = None
    # Trials trained before the sampled ones (a declared study's ``SeedTrial``s), each
    # as (description, params); ``make_plan`` checks that they lie in the space.
    seed_trials: tuple[tuple[str, dict], ...] = ()


def default_storage(model: str, search_dir: Path = SEARCH_DIR) -> str:
    """The embedded storage of a model's studies: ``results/search/<model>.db``."""
    Path(search_dir).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(search_dir).resolve() / f'{model}.db'}"


def base_config(arch: str, budget: Budget | None, subset: int | None, verbose: int) -> TrainConfig:
    """The settings a search does not vary: model, budget, data; the recipe's defaults."""
    probe = TrainConfig(arch=arch)
    budget = budget or Budget(images=get_spec(probe.arch).budget_images)
    return TrainConfig(
        arch=arch,
        seed=SEARCH_SEED,
        subset=subset,
        verbose=verbose,
        **budget.settings(),
    )


def budget_label(budget: Budget) -> str:
    """A budget as a name part: ``3600s``, ``1440000img`` or ``27ep``."""
    if budget.seconds is not None:
        return f"{budget.seconds:g}s"
    return f"{budget.images}img" if budget.images is not None else f"{budget.epochs}ep"


def config_budget(config: TrainConfig) -> Budget:
    """The budget a config trains for: its seconds or images where set, else its epochs
    (a time budget's run also fixes its fitted epochs; the seconds are its budget)."""
    if config.budget_seconds is not None:
        return Budget(seconds=config.budget_seconds)
    if config.budget_images is not None:
        return Budget(images=config.budget_images)
    return Budget(epochs=config.epochs)


def default_study_name(base: TrainConfig) -> str:
    """``<model>-<budget>``, with the subset when there is one: e.g. vgg-1440000img."""
    subset = f"-subset{base.subset}" if base.subset else ""
    return f"{base.arch}-{budget_label(config_budget(base))}{subset}"


def make_plan(
    arch: str,
    trials: int,
    budget: Budget | None = None,
    subset: int | None = None,
    storage: str | None = None,
    study: str | None = None,
    **options,
) -> SearchPlan:
    """A validated plan; a bad space, budget or setting fails here, before anything trains."""
    if not isinstance(trials, int) or trials < 1:
        raise ConfigError(f"trials: {trials!r} must be a positive integer")
    timeout = options.get("timeout")
    if timeout is not None and not (isinstance(timeout, int | float) and timeout >= 0):
        raise ConfigError(f"timeout: {timeout!r} must be a number of seconds >= 0")
    base = base_config(arch, budget, subset, COMPACT if options.get("verbose", True) else 0)
    from .space import space_for

    space = options.pop("space", None) or space_for(base.arch)
    check_space(space, base.arch)
    if options.get("pruner", DEFAULT_PRUNER) not in PRUNERS:
        raise ConfigError(f"pruner: unknown {options.get('pruner')!r}; valid: {list(PRUNERS)}")
    options["seed_trials"] = tuple(
        (seed.describe(), seed_params(seed, space, base.arch))
        for seed in options.get("seed_trials", ())
    )
    return SearchPlan(
        model=base.arch,
        base=base,
        space=space,
        study_name=study or default_study_name(base),
        storage_url=storage or default_storage(base.arch),
        trials=trials,
        **options,
    )


def seed_params(seed, space: dict, model: str) -> dict:
    """A ``SeedTrial``'s recipe and model options as params of the space; ConfigError
    when a setting lies outside it (the trial would not be the recipe it names)."""
    settings = recipe_settings(seed.recipe)
    config = TrainConfig(arch=model, model_options=dict(seed.model_options), **settings)
    params = params_from_config(config.to_dict(), space, model)
    if params is None:
        raise ConfigError(
            f"seed trial {seed.describe()!r}: its settings lie outside the search space "
            f"of {model} (fmnist_lib/search/space.py)"
        )
    return params


def open_storage(plan: SearchPlan):
    """The study's storage with heartbeats and retries of trials whose worker died."""
    import optuna
    import sqlalchemy
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    # Heartbeats and retries are marked experimental in Optuna: said once here, not per trial.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    interval, grace = plan.heartbeat
    engine = {"connect_args": {"timeout": 120}} if plan.storage_url.startswith("sqlite") else {}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for attempt in range(STORAGE_ATTEMPTS):
        try:
            return RDBStorage(
                plan.storage_url,
                engine_kwargs=engine,
                heartbeat_interval=interval,
                grace_period=grace,
                heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(
                    max_retry=MAX_RETRY
                ),
            )
        except sqlalchemy.exc.SQLAlchemyError:
            # Workers started together race to create a new database's tables; the
            # loser finds them made when it tries again.
            if attempt == STORAGE_ATTEMPTS - 1:
                raise
            time.sleep(1 + random.random())


def open_study(plan: SearchPlan, storage=None):
    """Create or load the plan's study; one whose protocol differs is a ConfigError."""
    import optuna

    storage = storage or open_storage(plan)
    protocol = _protocol(plan)
    probe = optuna.create_study(
        study_name=plan.study_name, storage=storage, direction="maximize", load_if_exists=True
    )
    saved = probe.user_attrs.get("protocol")
    if saved is None:
        probe.set_user_attr("protocol", protocol)
    elif saved != protocol:
        changed = sorted(k for k in protocol if protocol[k] != saved.get(k))
        if changed == ["machine"]:
            raise ConfigError(
                f"study {plan.study_name}: its time-budgeted trials ran on "
                f"{saved.get('machine')}, this machine is {protocol['machine']}; a time "
                "budget buys each kind of machine its own number of images, so run its "
                "workers on that kind, or name another study with --study"
            )
        raise ConfigError(
            f"study {plan.study_name}: its protocol differs in {changed}; "
            "name another study with --study"
        )
    # Seeded, and offset by the trials already there: a resumed or second worker
    # does not replay the first one's samples.
    seed = plan.sampler_seed + len(probe.trials)
    sampler = optuna.samplers.TPESampler(
        seed=seed, multivariate=True, constant_liar=True, n_startup_trials=8
    )
    return optuna.load_study(
        study_name=plan.study_name,
        storage=storage,
        sampler=sampler,
        pruner=make_pruner(plan.pruner, plan.base.epochs or PERCENT_STEPS),
    )


def _protocol(plan: SearchPlan) -> dict:
    """What every trial of a study shares: the base config but its seed and verbosity,
    and under a time budget the kind of machine and its cores, which set the images
    a trial's seconds buy."""
    base = {k: v for k, v in plan.base.to_dict().items() if k not in ("verbose", "seed")}
    base["augmentation"] = list(plan.base.augmentation)
    protocol = {"model": plan.model, "base": base, "space": sorted(plan.space)}
    if plan.base.budget_seconds is not None:
        machine = hardware.describe()
        protocol["machine"] = f"{machine_kind(machine)}, {machine['cores']} cores"
    return protocol


def matching_records(plan: SearchPlan, records, any_seed: bool = False) -> list[tuple[dict, dict]]:
    """(record, params) of recorded runs of the plan's model and protocol, seed 0 unless any.
    A confirmation run of a study trial (recipe ``search:...``) is that trial's, never
    a trial of its own."""
    found = []
    for record in records:
        config = record["config"]
        if record["model"] != plan.model or (config.get("seed") != SEARCH_SEED and not any_seed):
            continue
        if is_study_recipe(record["recipe"]):
            continue
        if config.get("subset") != plan.base.subset or config.get("budget_seconds") is not None:
            continue
        images = record["metrics"].get("images_seen", 0)
        if plan.base.budget_images is None or not same_budget(images, plan.base.budget_images):
            continue
        params = params_from_config(config, plan.space, plan.model)
        if params is not None:
            found.append((record, params))
    return found


def add_recorded_trials(study, plan: SearchPlan, records: list[dict]) -> int:
    """Enter the recorded runs that fit the study as completed trials, each once."""
    import optuna

    known = {t.user_attrs.get("record") for t in study.get_trials(deepcopy=False)}
    added = 0
    for record, params in matching_records(plan, records):
        if record["name"] in known:
            continue
        history = record.get("history") or []
        study.add_trial(
            optuna.trial.create_trial(
                params=params,
                distributions={k: distributions(plan.space)[k] for k in params},
                value=record["metrics"]["selection_val_accuracy"],
                intermediate_values={r["epoch"]: r["val_accuracy"] for r in history},
                user_attrs={"record": record["name"], "recipe": record["recipe"]},
            )
        )
        added += 1
    return added


def enqueue_seed_trials(study, plan: SearchPlan) -> int:
    """Queue the plan's seed trials the study has not met yet, while it wants trials;
    each is queued once (again if its trial was declared void), and the next worker to
    ask for a trial trains it."""
    if not plan.seed_trials or _enough(study, plan.trials):
        return 0
    met = {
        t.user_attrs.get("seeded")
        for t in study.get_trials(deepcopy=False)
        if "void" not in t.user_attrs
    }
    queued = 0
    for description, params in plan.seed_trials:
        if description not in met:
            study.enqueue_trial(params, user_attrs={"seeded": description})
            queued += 1
    return queued


def trial_config(plan: SearchPlan, params: dict, number: int) -> TrainConfig:
    """The config a trial trains: the plan's base with the trial's settings."""
    run_dir = Path(plan.runs_dir) / plan.study_name
    return plan.base.replace(
        **settings_from_params(params), run_name=f"trial-{number:04d}", out_dir=str(run_dir)
    )


def objective(plan: SearchPlan):
    """The function Optuna calls per trial: train (or resume), return validation accuracy."""
    from optuna.storages import RetryHeartbeatStaleTrialCallback

    def run(trial) -> float:
        frozen = next(t for t in trial.study.get_trials(deepcopy=False) if t.number == trial.number)
        original = RetryHeartbeatStaleTrialCallback.retried_trial_number(frozen)
        number = trial.number if original is None else original
        config = trial_config(plan, suggest(trial, plan.space), number)
        run_dir = Path(config.out_dir) / config.run_name
        history_path = run_dir / "history.json"
        by_share = plan.base.budget_seconds is not None
        if history_path.exists():  # a retried trial: its finished epochs count again
            epochs = read_json(run_dir / "config.json")["epochs"]
            for row in read_json(history_path):
                for step in report_steps(row["epoch"], epochs, by_share):
                    trial.report(row["val_accuracy"], step)
        trial.set_user_attr("run_dir", str(run_dir))
        reporter = PruningReporter(trial, by_share)
        train(config, run_dir=run_dir, resume=True, extra_callbacks=[reporter], score_test=False)
        metrics = load_run(run_dir)["metrics"]
        trial.set_user_attr("train_seconds", metrics["train_seconds"])
        trial.set_user_attr("images_seen", metrics["images_seen"])
        return metrics["selection_val_accuracy"]

    return run


def counts(study) -> dict[str, int]:
    """Trials by state name."""
    tally: dict[str, int] = {}
    for trial in study.get_trials(deepcopy=False):
        tally[trial.state.name] = tally.get(trial.state.name, 0) + 1
    return tally


def _enough(study, target: int) -> bool:
    """Whether finished and running trials reach ``target``, with no retry waiting."""
    tally = counts(study)
    if tally.get("WAITING"):
        return False
    return tally.get("COMPLETE", 0) + tally.get("PRUNED", 0) + tally.get("RUNNING", 0) >= target


def run_search(plan: SearchPlan, records: list[dict] = ()) -> object:
    """Run trials until the study holds ``plan.trials`` finished ones; return the study.

    Any number of workers may run this on one storage at once: each checks the
    count before it starts a trial. A trial whose training fails (a NaN loss) is
    marked failed and does not count. With ``plan.timeout``, the worker starts no
    trial once that many seconds have passed.
    """
    import optuna
    from optuna.storages import fail_stale_trials

    started = time.monotonic()
    study = open_study(plan)
    added = add_recorded_trials(study, plan, list(records))
    seeded = enqueue_seed_trials(study, plan)
    _say(
        plan,
        f"study {plan.study_name} ({plan.storage_url}): {counts(study)}; added {added}"
        + (f"; queued {seeded} seed trial(s)" if seeded else ""),
    )
    failures = 0
    # This worker's trials, as Optuna hands each to a callback once it ends: the
    # study's last trial may be another worker's.
    ended: list = []
    while failures <= plan.trials:
        fail_stale_trials(study)
        if _enough(study, plan.trials):
            break
        if plan.timeout is not None and time.monotonic() - started >= plan.timeout:
            _say(plan, f"timeout: {plan.timeout:g} s passed; this worker starts no new trial")
            break
        study.optimize(
            objective(plan),
            n_trials=1,
            catch=(TrainingError,),
            gc_after_trial=True,
            callbacks=[lambda _, trial: ended.append(trial)],
        )
        failures += ended[-1].state == optuna.trial.TrialState.FAIL
        _say(plan, _trial_line(ended[-1], plan.base.budget_seconds is not None))
    if optuna.trial.TrialState.COMPLETE in {t.state for t in study.trials}:
        _say(plan, f"best: trial {study.best_trial.number}, validation {study.best_value:.4f}")
    return study


def _trial_line(trial, by_share: bool) -> str:
    value = "" if trial.value is None else f" validation {trial.value:.4f}"
    steps = trial.last_step
    where = (
        ""
        if steps is None
        else f" at {steps}% of its training"
        if by_share
        else f" after epoch {steps}"
    )
    return f"trial {trial.number}: {trial.state.name.lower()}{where}{value}"


def _say(plan: SearchPlan, text: str) -> None:
    if plan.verbose:
        print(text, flush=True)

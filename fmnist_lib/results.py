"""Committed results: records of finished runs, and the tables read from them.

``results/runs/<run>.json`` is a record (``fmnist_lib.records``): config, per-epoch
history and test metrics, its experiment, recipe and group; ``<run>.npz`` holds its
test-set probabilities (float16); ``embeddings/<run>.npz`` a 2-D t-SNE map. Seeds
group by ``record["group"]``; spreads and verdicts come from ``fmnist_lib.verdict``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from .config import DEFAULT_LEARNING_RATES, TrainConfig
from .errors import RunError
from .experiments import (
    EXPERIMENTS,
    REPRODUCTION,
    declaration_problems,
    get_experiment,
    run_index,
)
from .paths import RESULTS_DIR
from .recipes import is_study_recipe
from .records import machine_kind, make_record, validate
from .reference import TARGET_SEEDS, same_budget
from .runs import load_run, read_json, write_json, write_npz
from .selection import recipe_search
from .specs import SPECS, get_spec
from .verdict import spread

ORIGINAL_RECIPE = "original"  # the reproduction's recipe, whatever its name per model
_DEFAULTS = {field.name: field.default for field in dataclasses.fields(TrainConfig)}


def add_run(
    run_dir,
    results_dir=RESULTS_DIR,
    name: str | None = None,
    experiment: str | None = None,
    recipe_name: str = "custom",
) -> Path:
    """Record a completed run in ``results_dir/runs``.

    A run of a declared experiment (its name is one of the registry's run ids) is
    checked against its declaration; any other run needs ``experiment`` named (a study
    of one's own, say) and is recorded with ``recipe_name``.
    """
    name = name or Path(run_dir).name
    declared = run_index().get(name)
    if declared is None and experiment is None:
        raise RunError(
            f"{name}: not a run of a declared experiment; declare it in "
            "fmnist_lib/experiments.py and train it with `fmnist experiment run`"
        )
    if declared is not None:
        experiment, recipe_name = declared[0].id, declared[0].recipe
    run = load_run(run_dir)
    if run["metrics"]["test"] is None:
        raise RunError(
            f"{run_dir}: a search trial, its test set not scored; `fmnist search --confirm` "
            "scores and records the best one"
        )
    record = make_record(name, experiment, recipe_name, run)
    problems = declaration_problems(record) if declared is not None else []
    if problems:
        raise RunError("; ".join(problems))
    target = Path(results_dir) / "runs"
    write_json(target / f"{name}.json", record)
    predictions = np.load(Path(run_dir) / "test_predictions.npz")
    write_npz(target / f"{name}.npz", probs=predictions["probs"], y_true=predictions["y_true"])
    return target / f"{name}.json"


def load_results(results_dir=RESULTS_DIR) -> list[dict]:
    """Every record in ``results_dir/runs``, validated (RunError names what is wrong)."""
    records = [read_json(p) for p in sorted((Path(results_dir) / "runs").glob("*.json"))]
    for record in records:
        validate(record)
    return records


def load_probabilities(record: dict, results_dir=RESULTS_DIR) -> np.ndarray:
    """A recorded run's test-set probabilities (float32, 10,000 x 10)."""
    with np.load(Path(results_dir) / "runs" / f"{record['name']}.npz") as arrays:
        return arrays["probs"].astype(np.float32)


def embedding_path(name: str, results_dir=RESULTS_DIR) -> Path:
    return Path(results_dir) / "embeddings" / f"{name}.npz"


def recipe(config: dict) -> str:
    """A run's training recipe in a few words, for display (groups use the record's key);
    settings a config leaves out read as TrainConfig's defaults. Numbers keep three
    significant digits: a study samples them to many more."""
    config = {**_DEFAULTS, **config}
    optimizer = config["optimizer"]
    if config["learning_rate"] and config["learning_rate"] != DEFAULT_LEARNING_RATES[optimizer]:
        optimizer += f" lr {config['learning_rate']:.3g}"
    schedule = f"{config['lr_schedule']} lr"
    if config["warmup_epochs"]:
        warmup = config["warmup_epochs"]
        schedule += f" (warm-up {warmup:.3g} epoch{'' if warmup == 1 else 's'})"
    augmentation = "+".join(config["augmentation"]) or "no augmentation"
    if config["augmentation"] and config["augment_strength"] != 1:
        augmentation += f" (strength {config['augment_strength']:.3g})"
    parts = [optimizer, schedule, augmentation]
    words = {
        "cutmix": "CutMix {:.3g}",
        "label_smoothing": "label smoothing {:.3g}",
        "weight_decay": "weight decay {:.3g}",
        "ema_momentum": "weight EMA {:.3g}",
    }
    parts += [text.format(config[key]) for key, text in words.items() if config[key]]
    if config["batch_size"] != 250:
        parts.append(f"batch {config['batch_size']}")
    if config["tta_flip"]:
        parts.append("flip TTA")
    if config["precision"] != "auto":
        parts.append(config["precision"])
    # A study may size the network too: the same model name then stands for another one.
    options = config["model_options"] if isinstance(config["model_options"], dict) else {}
    if options:
        parts.insert(0, "network " + ", ".join(f"{k} {v}" for k, v in sorted(options.items())))
    return ", ".join(parts)


def on_gpu(record: dict) -> bool:
    """Whether a run trained on a GPU (its time and target mean other things then)."""
    return bool(record["metrics"]["hardware"]["gpus"])


def machine(record: dict) -> str:
    """The machine a run trained on, in words."""
    hw = record["metrics"]["hardware"]
    words = f"{machine_kind(hw)}, {hw['cores']} cores, GPUs: {', '.join(hw['gpus']) or 'none'}"
    return words + (f" ({hw['keras_backend']} backend)" if hw["gpus"] else "")


def machines(records: list[dict]) -> list[str]:
    """The machines the recorded runs trained on, in the order they were first used."""
    first_use: dict[str, int] = {}
    for r in sorted(records, key=lambda r: r["metrics"]["finished"]):
        first_use.setdefault(machine(r), len(first_use))
    return sorted(first_use, key=first_use.get)


def _role(record: dict) -> str:
    """The record's experiment role; "" for an experiment the registry does not declare."""
    experiment = EXPERIMENTS.get(record["experiment"])
    return experiment.role if experiment else ""


def _row(r: dict) -> dict:
    m = r["metrics"]
    return {
        "group": r["group"],
        "model": r["model"],
        "experiment": r["experiment"],
        "recipe name": r["recipe"],
        "role": _role(r),
        "budget_seconds": r["config"]["budget_seconds"] or 0.0,
        "name": r["name"],
        "seed": m["seed"],
        "recipe": recipe(r["config"]),
        "images_seen": m["images_seen"],
        "epochs": m["epochs"],
        "params": m["params"]["trainable"],
        "seconds": m["train_seconds"],
        "test": m["test"]["accuracy"],
        "val": m["selection_val_accuracy"],
        "gpu": on_gpu(r),
        "machine": machine(r),
    }


def _group_row(runs: pd.DataFrame) -> pd.Series:
    fewest = runs.loc[runs["images_seen"].idxmin()]  # images and epochs of one seed
    test = spread(runs["test"])
    return pd.Series(
        {
            **fewest[["model", "experiment", "recipe name", "role", "budget_seconds"]],
            **{"recipe": fewest["recipe"], "params": fewest["params"]},
            "images_seen": fewest["images_seen"],
            "epochs": fewest["epochs"],
            "images_most": runs["images_seen"].max(),
            "seeds": test.n,
            "spread": test,
            "seconds": runs["seconds"].mean(),
            "mean": test.mean,
            "std": test.sd,
            "val_mean": runs["val"].mean(),
            "names": sorted(runs["name"]),
            "gpu": runs["gpu"].any(),
            "machines": sorted(set(runs["machine"])),
        }
    )


def summary(records: list[dict]) -> pd.DataFrame:
    """One row per group of seeds: mean and spread of test accuracy, the mean validation
    accuracy of the kept checkpoints (``val_mean``, the only column choices use).

    ``images_seen``/``epochs`` are those of the group's seed with the fewest images
    (a time budget's seeds fit their own epochs); ``images_most`` the most.
    """
    if not records:
        return pd.DataFrame()
    frame = pd.DataFrame([_row(r) for r in records])
    rows = [_group_row(runs).rename(group) for group, runs in frame.groupby("group")]
    table = pd.DataFrame(rows).rename_axis("group").reset_index()
    return table.sort_values(["model", "budget_seconds", "images_seen", "experiment"]).reset_index(
        drop=True
    )


def by_validation(records: list[dict]) -> dict:
    """The run with the best validation accuracy; the lowest seed among equals."""
    return min(
        records,
        key=lambda r: (-r["metrics"]["selection_val_accuracy"], r["metrics"]["seed"], r["name"]),
    )


def may_stand(table: pd.DataFrame, by: list[str]) -> pd.Series:
    """Which summary rows may compete within each group of ``by`` columns.

    A mean over fewer seeds than the targets ask for is not compared with a full one
    (a single lucky seed would win): where a group has rows with all seeds only those
    compete; a group with none of those is represented by its partial rows.
    """
    complete = table["seeds"] >= TARGET_SEEDS
    return complete | ~complete.groupby([table[column] for column in by]).transform("any")


def _standing(records: list[dict], table: pd.DataFrame) -> dict[str, dict]:
    table = table[may_stand(table, ["model"])]
    chosen = {}
    for model, rows in table.groupby("model", sort=True):
        group = rows.loc[rows["val_mean"].idxmax(), "group"]
        chosen[model] = by_validation([r for r in records if r["group"] == group])
    return chosen


def representatives(records: list[dict]) -> dict[str, dict]:
    """One run per model, chosen on validation only: the group with the best mean
    validation accuracy (groups with all seeds first), and its best seed on validation."""
    return _standing(records, summary(records))


def best_record(records: list[dict]) -> dict:
    """The run standing for the best model: the best mean validation accuracy, among
    models measured over all seeds while any are."""
    if not records:
        raise ValueError("no runs in results/: record some with `fmnist experiment run`")
    table = summary(records)
    complete = table[table["seeds"] >= TARGET_SEEDS]
    competing = table if complete.empty else complete
    return _standing(records, table)[competing.loc[competing["val_mean"].idxmax(), "model"]]


def _seed0_validation(runs: list[dict]) -> float | None:
    seed0 = [r for r in runs if r["metrics"]["seed"] == 0]
    return seed0[0]["metrics"]["selection_val_accuracy"] if seed0 else None


def confirmed_study_winner(records: list[dict], model: str, declared: list[dict]) -> list[dict]:
    """The runs of a study's trial confirmed with all seeds at the declared improvement's
    budget that beats it on seed 0's validation accuracy, the rule the recipe search
    chose by; the best such, or [] when none does."""
    bar = _seed0_validation(declared)
    if bar is None:
        return []
    images = declared[0]["metrics"]["images_seen"]
    groups: dict[str, list[dict]] = {}
    for record in records:
        if record["model"] == model and is_study_recipe(record["recipe"]):
            groups.setdefault(record["group"], []).append(record)
    better = [
        runs
        for runs in groups.values()
        if len(runs) >= TARGET_SEEDS
        and same_budget(runs[0]["metrics"]["images_seen"], images)
        and (_seed0_validation(runs) or 0) > bar
    ]
    return max(better, key=_seed0_validation, default=[])


def recipe_searches(results_dir=RESULTS_DIR, records: list[dict] | None = None) -> dict:
    """Each model's recipe choice on validation (``selection.recipe_search``), with the
    runs of the seeds that confirm the choice (``confirm_runs``). A study's trial
    confirmed with every seed that beats the choice by the same rule
    (``confirmed_study_winner``) is chosen in its place."""
    records = load_results(results_dir) if records is None else records
    searches = {}
    for model in SPECS:
        search = recipe_search(model, records)
        if search:
            improvement = get_experiment(search["experiments"][search["chosen"]])
            declared = [r for r in records if r["experiment"] == improvement.id]
            winner = confirmed_study_winner(records, model, declared)
            if winner:
                searches[model] = _with_study_winner(search, winner)
                continue
            confirm = [seed for seed in improvement.seeds if seed != 0]
            searches[model] = {
                **search,
                "confirm_seeds": confirm,
                "confirm_runs": [improvement.run_id(seed) for seed in confirm],
            }
    return searches


def _with_study_winner(search: dict, winner: list[dict]) -> dict:
    """A recipe search whose choice is a study's confirmed trial (its runs ``winner``)."""
    name = winner[0]["recipe"]
    seed0 = next(r for r in winner if r["metrics"]["seed"] == 0)
    others = sorted((r for r in winner if r is not seed0), key=lambda r: r["metrics"]["seed"])
    score = seed0["metrics"]["selection_val_accuracy"]
    bar = search["validation_accuracy"][search["chosen"]]
    return {
        **search,
        "rule": f"{search['rule']}; then {name}, a trial of the Optuna study confirmed with "
        f"{len(winner)} seeds, beat {search['chosen']} on validation ({100 * score:.2f}% "
        f"against {100 * bar:.2f}%) and was chosen",
        "validation_accuracy": {**search["validation_accuracy"], name: score},
        "experiments": {**search["experiments"], name: seed0["experiment"]},
        "runs": {**search["runs"], name: seed0["name"]},
        "chosen": name,
        "confirm_seeds": [r["metrics"]["seed"] for r in others],
        "confirm_runs": [r["name"] for r in others],
    }


def recipe_search_for(model: str, records: list[dict] | None = None) -> dict:
    """A model's recipe search (``recipe_searches``), or for a model without one its
    spec's recipe, with a rule that says so."""
    searches = recipe_searches(records=records)
    if model in searches:
        return searches[model]
    recipe = get_spec(model).recipe
    return {
        "rule": f"{model} has no recorded recipe search: it trains with {recipe!r}, the "
        "recipe its spec declares (`fmnist search` finds a better one)",
        "chosen": recipe,
        "validation_accuracy": {},
        "experiments": {},
        "runs": {},
        "confirm_seeds": [],
        "confirm_runs": [],
    }


def not_chosen(searches: dict[str, dict]) -> set[str]:
    """Names of the candidate runs that a recipe search did not choose."""
    return {
        run for s in searches.values() for name, run in s["runs"].items() if name != s["chosen"]
    }


def recipe_group(records: list[dict], arch: str, recipe_name: str | None) -> list[dict]:
    """The runs of ``arch`` under a named recipe at its budget; None or ``"original"``:
    its reproduction."""
    if recipe_name in (None, ORIGINAL_RECIPE):
        wanted = [e.id for e in EXPERIMENTS.values() if e.model == arch and e.role == REPRODUCTION]
    elif is_study_recipe(recipe_name):  # a study's confirmed trial, at the model's budget
        budget = get_spec(arch).budget_images
        return [
            r
            for r in records
            if (r["model"], r["recipe"]) == (arch, recipe_name)
            and (budget is None or same_budget(r["metrics"]["images_seen"], budget))
        ]
    else:
        budget = get_spec(arch).budget_images
        wanted = [
            e.id
            for e in EXPERIMENTS.values()
            if (e.model, e.recipe, e.budget.images) == (arch, recipe_name, budget)
        ]
    return [r for r in records if r["experiment"] in wanted]


def recipe_representative(records: list[dict], arch: str, recipe_name: str | None) -> dict:
    """The seed standing for ``arch`` under a named recipe: best on validation."""
    return by_validation(recipe_group(records, arch, recipe_name))

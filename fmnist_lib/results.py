"""Committed results: compact copies of finished runs, and the summaries read from them.

``results/runs/<name>.json`` holds a run's config, per-epoch history and test
metrics (with hardware, versions and git commit); ``<name>.npz`` its test-set
probabilities (float16) for analysis without the weights; ``embeddings/<name>.npz``
a 2-D t-SNE map of a run's penultimate features. ``fmnist_lib.readme`` generates
the README's tables from them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .config import DEFAULT_LEARNING_RATES
from .paths import RESULTS_DIR
from .reference import (
    TARGET_SEEDS,
    original_run,
)
from .runs import load_run, read_json, write_json, write_npz


def add_run(run_dir, results_dir=RESULTS_DIR, name: str | None = None) -> Path:
    """Copy a completed run's record into ``results_dir/runs``; return the JSON path."""
    run = load_run(run_dir)
    name = name or Path(run_dir).name
    target = Path(results_dir) / "runs"
    record = {
        "name": name,
        "config": run["config"],
        "history": run["history"],
        "metrics": run["metrics"],
    }
    write_json(target / f"{name}.json", record)
    predictions = np.load(Path(run_dir) / "test_predictions.npz")
    write_npz(target / f"{name}.npz", probs=predictions["probs"], y_true=predictions["y_true"])
    return target / f"{name}.json"


def load_results(results_dir=RESULTS_DIR) -> list[dict]:
    return [read_json(p) for p in sorted((Path(results_dir) / "runs").glob("*.json"))]


def load_probabilities(record: dict, results_dir=RESULTS_DIR) -> np.ndarray:
    """A recorded run's test-set probabilities (float32, 10,000 x 10)."""
    with np.load(Path(results_dir) / "runs" / f"{record['name']}.npz") as arrays:
        return arrays["probs"].astype(np.float32)


def embedding_path(name: str, results_dir=RESULTS_DIR) -> Path:
    return Path(results_dir) / "embeddings" / f"{name}.npz"


def recipe(config: dict) -> str:
    """A run's training recipe in a few words (what it varies besides model and budget)."""
    optimizer = config["optimizer"]
    learning_rate = config.get("learning_rate")
    if learning_rate and learning_rate != DEFAULT_LEARNING_RATES[optimizer]:
        optimizer += f" lr {learning_rate:g}"
    schedule = f"{config['lr_schedule']} lr"
    if config.get("warmup_epochs"):
        warmup = config["warmup_epochs"]
        schedule += f" (warm-up {warmup:g} epoch{'' if warmup == 1 else 's'})"
    parts = [optimizer, schedule, "+".join(config["augmentation"]) or "no augmentation"]
    if config.get("label_smoothing"):
        parts.append(f"label smoothing {config['label_smoothing']:g}")
    if config.get("batch_size", 250) != 250:
        parts.append(f"batch {config['batch_size']}")
    if config.get("tta_flip"):
        parts.append("flip TTA")
    if config.get("precision", "auto") != "auto":
        parts.append(config["precision"])
    return ", ".join(parts)


def group_key(record: dict) -> tuple:
    return record["metrics"]["arch"], record["metrics"]["images_seen"], recipe(record["config"])


def on_gpu(record: dict) -> bool:
    """Whether a run trained on a GPU (the time and target columns mean other things then)."""
    return bool(record["metrics"].get("hardware", {}).get("gpus"))


def _lowest_seed(records: list[dict]) -> dict:
    return min(records, key=lambda r: (r["metrics"]["seed"], r["name"]))


def _standing_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Summary rows that may stand for their model.

    A mean over fewer seeds than the targets ask for is not comparable with a full one (a
    single lucky seed would win), so a model's groups with all seeds stand for it; a model
    with none of those is still shown by its best partial group.
    """
    complete = table["seeds"] >= TARGET_SEEDS
    model_has_complete = complete.groupby(table["model"]).transform("any")
    return table[complete | ~model_has_complete]


def representatives(records: list[dict]) -> dict[str, dict]:
    """One run per architecture: its best (budget, recipe) by mean over seeds, lowest seed.

    Only groups with all seeds compete where the model has one (see ``_standing_rows``).
    The lowest seed stands for the group rather than the luckiest, so no single run is
    picked on the test set.
    """
    table = _standing_rows(summary(records))
    chosen = {}
    for model, rows in table.groupby("model", sort=True):
        top = rows.loc[rows["mean"].idxmax()]
        key = (model, top["images_seen"], top["recipe"])
        chosen[model] = _lowest_seed([r for r in records if group_key(r) == key])
    return chosen


def best_record(records: list[dict]) -> dict:
    """The run that stands for the best model: the best mean over seeds, its lowest seed.

    Models measured over all seeds compete only with each other while any exist.
    """
    if not records:
        raise ValueError("no runs in results/: add some with `fmnist results add RUN_DIR`")
    table = summary(records)
    complete = table[table["seeds"] >= TARGET_SEEDS]
    if not complete.empty:
        table = complete
    return representatives(records)[table.loc[table["mean"].idxmax(), "model"]]


def summary(records: list[dict]) -> pd.DataFrame:
    """One row per (architecture, training budget, recipe): mean and spread over seeds."""
    rows = [
        {
            "model": r["metrics"]["arch"],
            "images_seen": r["metrics"]["images_seen"],
            "recipe": recipe(r["config"]),
            "name": r["name"],
            "epochs": r["metrics"]["epochs"],
            "trainable params": r["metrics"]["params"]["trainable"],
            "seed": r["metrics"]["seed"],
            "train seconds": r["metrics"]["train_seconds"],
            "test accuracy": r["metrics"]["test"]["accuracy"],
            "gpu": on_gpu(r),
            "machine": machine(r),
        }
        for r in records
    ]
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows)
    grouped = frame.groupby(["model", "images_seen", "recipe"], sort=True)
    table = grouped.agg(
        epochs=("epochs", "first"),
        params=("trainable params", "first"),
        seeds=("seed", "count"),
        seconds=("train seconds", "mean"),
        mean=("test accuracy", "mean"),
        std=("test accuracy", "std"),
        names=("name", sorted),
        gpu=("gpu", "any"),
        machines=("machine", lambda names: sorted(set(names))),
    )
    return table.reset_index()


def comparison(records: list[dict]) -> pd.DataFrame:
    """The summary as a readable table, with the original's single run beside each model."""
    table = summary(records)
    if table.empty:
        return table
    original = pd.Series(
        [
            original_run(model, seen).get("test_accuracy")
            for model, seen in zip(table["model"], table["images_seen"], strict=True)
        ],
        index=table.index,
        dtype=float,
    )
    return pd.DataFrame(
        {
            "model": table["model"],
            "trainable params": table["params"],
            "images seen": table["images_seen"],
            "epochs": table["epochs"],
            "recipe": table["recipe"],
            "seeds": table["seeds"],
            "training time (s)": table["seconds"].round(0),
            "test accuracy (mean)": table["mean"].round(4),
            "std": table["std"].round(4),
            "original: test accuracy": original,
            "difference": (table["mean"] - original.astype(float)).round(4),
        }
    ).set_index("model")


def machine(record: dict) -> str:
    """The machine a run trained on, in words."""
    hw = record["metrics"].get("hardware", {})
    if not hw:
        return "unknown machine"
    # Machines of one CPU name differ: the bf16 flag tells this project's two apart.
    return (
        f"{hw['cpu']}{' (AVX-512 BF16)' if hw.get('bf16') else ''}, {hw['cores']} cores, "
        f"GPUs: {', '.join(hw['gpus']) or 'none'}"
        + (f" ({hw['keras_backend']} backend)" if hw.get("gpus") else "")
    )


def machines(records: list[dict]) -> list[str]:
    """The machines the recorded runs trained on, in the order they were first used."""
    first_use = {}
    for r in sorted(records, key=lambda r: r["metrics"].get("finished", "")):
        first_use.setdefault(machine(r), len(first_use))
    return sorted(first_use, key=first_use.get)


def recipe_searches(results_dir=RESULTS_DIR) -> dict[str, dict]:
    """``results/recipe-search/<arch>.json`` as written by scripts/recipe_search.sh."""
    folder = Path(results_dir) / "recipe-search"
    return {path.stem: read_json(path) for path in sorted(folder.glob("*.json"))}


def not_chosen(searches: dict[str, dict]) -> set[str]:
    """Names of the candidate runs that a recipe search did not choose."""
    return {
        run
        for search in searches.values()
        for name, run in search["runs"].items()
        if name != search["chosen"]
    }

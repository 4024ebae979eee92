"""What the training notebooks (01-03) show, beside the original's numbers.

Each of the three notebooks tells one architecture's story in the same steps: its
training budget, its parameter counts, its history and its test metrics. The text
and tables of those steps are made here, once, with the original's figures taken
from ``reference`` rather than typed into each notebook.
"""

from __future__ import annotations

import pandas as pd

from .config import TrainConfig
from .reference import ORIGINAL_RESULTS

HISTORY_COLUMNS = [
    "loss",
    "accuracy",
    "val_loss",
    "val_accuracy",
    "train_seconds",
    "images_per_second",
]


def budget(config: TrainConfig, profile: str) -> str:
    """One line: epochs, training images and images seen, augmentation, and the
    original's budget for the same architecture."""
    original = ORIGINAL_RESULTS.get(config.arch)
    beside = f" (the original: {original['images_seen']:,})" if original else ""
    return (
        f"{config.arch}, profile {profile}: {config.epochs} epoch(s) over "
        f"{config.n_train:,} training images = {config.images_seen:,} images seen{beside}; "
        f"augmentation: {', '.join(config.augmentation) or 'none'}"
    )


def parameter_counts(model) -> str:
    """A model's trainable and total parameters, each beside the original's count
    where the original had the architecture (the registry names a model after it)."""
    from .models import count_params

    counts = count_params(model)
    original = ORIGINAL_RESULTS.get(model.name, {})
    lines = []
    for label, key in (("trainable parameters:", "trainable"), ("total parameters:", "total")):
        line = f"{label:<21} {counts[key]:,}"
        if f"{key}_params" in original:
            line += f" (the original: {original[f'{key}_params']:,})"
        lines.append(line)
    return "\n".join(lines)


def history_table(history: list[dict]) -> pd.DataFrame:
    """A run's history.json, one row per epoch: losses, accuracies and speed."""
    return pd.DataFrame(history).set_index("epoch")[HISTORY_COLUMNS].round(4)


def run_table(metrics: dict) -> pd.DataFrame:
    """A finished run's headline numbers (its metrics.json), and the original's
    single run of the same architecture beside them where there is one.

    The original's times are on a laptop GPU, so its speed does not compare with a
    CPU's; where it published no figure the cell is left empty.
    """
    arch = metrics["arch"]
    rows = {
        "test accuracy": round(metrics["test"]["accuracy"], 4),
        "best epoch (by validation loss)": metrics["best_epoch"],
        "epochs": metrics["epochs"],
        "images seen": metrics["images_seen"],
        "training time (s)": round(metrics["train_seconds"], 1),
        "images per second": round(metrics["images_per_second"]),
        "precision policy": metrics["precision"],
    }
    table = pd.DataFrame({arch: rows})
    original = ORIGINAL_RESULTS.get(arch)
    if original:
        published = {
            "test accuracy": original["test_accuracy"],
            "images seen": original["images_seen"],
            "training time (s)": original["train_seconds"],
            "images per second": round(original["images_seen"] / original["train_seconds"]),
        }
        table["the original"] = [published.get(row, "") for row in rows]
    return table


def model_summary(model) -> str:
    """Keras' layer table as plain text, for ``print`` in a notebook.

    ``model.summary(print_fn=print)`` also leaves an empty ``<pre>`` text/html
    output in a notebook (Keras 3 renders through rich); collecting the lines
    through ``print_fn`` gives the same table with nothing else.
    """
    lines = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    return "\n".join(lines).rstrip("\n")

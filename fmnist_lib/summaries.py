"""What the training notebooks (01-03) show, beside the original's numbers.

Each of the three notebooks tells one architecture's story in the same steps: its
training budget, its parameter counts, its history and its test metrics. The text
and tables of those steps are made here, once, with the original's figures taken
from ``reference`` rather than typed into each notebook.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd

from .config import TrainConfig
from .experiments import EXPERIMENTS, IMPROVEMENT
from .metrics import percent
from .models import count_params
from .reference import ORIGINAL_RESULTS
from .specs import SPECS
from .tables import headline
from .verdict import format_spread

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
    """A finished run's headline numbers (its metrics.json), formatted to read, and the
    original's single run of the same architecture beside them where there is one.

    The original's times are on a laptop GPU, so its speed does not compare with a
    CPU's; where it published no figure the cell is left empty.
    """
    arch = metrics["arch"]
    rows = {
        "test accuracy": percent(metrics["test"]["accuracy"]),
        "best epoch (by validation loss)": str(metrics["best_epoch"]),
        "epochs": str(metrics["epochs"]),
        "images seen": f"{metrics['images_seen']:,}",
        "training time": f"{metrics['train_seconds']:,.0f} s",
        "images per second": f"{metrics['images_per_second']:,.0f}",
        "precision policy": metrics["precision"],
    }
    table = pd.DataFrame({arch: rows})
    original = ORIGINAL_RESULTS.get(arch)
    if original:
        published = {
            "test accuracy": percent(original["test_accuracy"]),
            "images seen": f"{original['images_seen']:,}",
            "training time": f"{original['train_seconds']:,.0f} s (laptop GPU)",
            "images per second": f"{original['images_seen'] / original['train_seconds']:,.0f}",
        }
        table["the original"] = [published.get(row, "") for row in rows]
    return table


def findings(records: list[dict]) -> str:
    """The evaluation's conclusions in markdown, every number and verdict read from
    results/ through ``tables.headline`` (which takes them from ``fmnist_lib.verdict``)."""
    declared = {e.model: e.id for e in EXPERIMENTS.values() if e.role == IMPROVEMENT}
    recorded = {r["experiment"] for r in records}
    lines = []
    for model, row in headline(records).iterrows():
        if row["reproduction seeds"]:
            result = format_spread(
                row["reproduction"], row["reproduction sd"], row["reproduction seeds"]
            )
            lines.append(
                f"* {model}, reproduction (original recipe): {result} against the "
                f"original's {percent(row['original'])}, "
                f"{100 * (row['reproduction'] - row['original']):+.2f} points: "
                f"{row['reproduction verdict']}."
            )
        # Before its declared improvement is recorded, a model has only its reproduction,
        # and the improvement's target is not the reproduction's to meet or miss.
        if row["improvement seeds"] and declared.get(model, "") in recorded | {""}:
            hours = f", {row['improvement seconds'] / 3600:.2f} h of training per run"
            target = SPECS[model].target if model in SPECS else None  # a user's model has none
            lines.append(
                f"* {model}, {row['improvement recipe']} ({row['improvement seeds']} seeds): "
                f"{percent(row['improvement'])}"
                + (hours if target and target.max_train_seconds else "")
                + (f"; target {row['target']}." if target else ".")
            )
    return "\n".join(lines)


def robustness_findings(scored: dict[str, dict]) -> str:
    """What the robustness scores say, generated from them: augmentation and calibration.

    ``scored`` maps a label ("arch · recipe") to a ``robustness.score_run`` record. Mirror
    images and rotations are read against each run's training augmentation; calibration
    under shift (mean ECE over the corruption families) against its label smoothing.
    """
    lines = []
    for label, record in scored.items():
        config = record["config"]
        augmentation = "+".join(config["augmentation"]) or "no augmentation"
        drop = record["relative_drop"]
        lines.append(
            f"* {label} (trained with {augmentation}): clean {percent(record['clean_accuracy'])}; "
            f"mirror images cost {100 * drop['flip']:.1f}% of it, rotations "
            f"{100 * drop['rotate']:.1f}%."
        )
    for family in ("flip", "rotate"):
        trained = [r for r in scored.values() if family in r["config"]["augmentation"]]
        untrained = [r for r in scored.values() if family not in r["config"]["augmentation"]]
        if trained and untrained:
            with_, without = (
                float(np.mean([r["relative_drop"][family] for r in group]))
                for group in (trained, untrained)
            )
            verdict = "buys" if with_ < without else "does not buy"
            lines.append(
                f"* Training on `{family}` {verdict} robustness to it: a mean drop of "
                f"{100 * with_:.1f}% with it ({len(trained)} runs) against {100 * without:.1f}% "
                f"without ({len(untrained)} runs)."
            )
    calibrated = {k: r for k, r in scored.items() if "family_ece" in r}
    smoothed = [r for r in calibrated.values() if r["config"].get("label_smoothing")]
    plain = [r for r in calibrated.values() if not r["config"].get("label_smoothing")]
    if smoothed and plain:

        def shifted(group):
            return float(np.mean([np.mean(list(r["family_ece"].values())) for r in group]))

        def clean(group):
            return float(np.mean([r["clean_ece"] for r in group]))

        lines.append(
            f"* Label smoothing and calibration: mean ECE {clean(smoothed):.3f} clean and "
            f"{shifted(smoothed):.3f} under shift with it ({len(smoothed)} runs), against "
            f"{clean(plain):.3f} and {shifted(plain):.3f} without ({len(plain)} runs)."
        )
    return "\n".join(lines)


def model_summary(model) -> str:
    """Keras' layer table as plain text, for ``print`` in a notebook.

    ``model.summary(print_fn=print)`` also leaves an empty ``<pre>`` text/html
    output in a notebook (Keras 3 renders through rich); collecting the lines
    through ``print_fn`` gives the same table with nothing else.
    """
    lines = []
    with _no_display():
        model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    return "\n".join(lines).rstrip("\n")


@contextlib.contextmanager
def _no_display():
    """Swallow IPython display outputs: rich, which Keras 3's summary renders through,
    still emits an empty ``<pre>`` in a notebook when ``print_fn`` collects the text."""
    try:
        from IPython.utils.capture import capture_output
    except ImportError:  # no IPython, so no display to keep clean
        yield
        return
    with capture_output(stdout=False, stderr=False, display=True):
        yield

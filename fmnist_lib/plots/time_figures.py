"""Figures of cost: test accuracy against training time, every recorded run."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

_RUN_COLUMNS = {"model", "kind", "train seconds", "test accuracy", "gpu"}


def _draw_runs(ax, runs: pd.DataFrame) -> None:
    """One point per run: colour the model, marker the kind, hollow when trained on a GPU."""
    models = list(dict.fromkeys(runs["model"]))
    palette = dict(zip(models, sns.color_palette("deep", len(models)), strict=True))
    kinds = list(dict.fromkeys(runs["kind"]))
    markers = dict(zip(kinds, "os^DvPX", strict=False))
    for (model, kind, gpu), group in runs.groupby(["model", "kind", "gpu"], sort=False):
        color = palette[model]
        ax.scatter(
            group["train seconds"],
            100 * group["test accuracy"],
            marker=markers.get(kind, "o"),
            s=45,
            facecolors="none" if gpu else color,
            edgecolors=color,
            linewidths=1.3,
            label=f"{model}: {kind}" + (" (GPU)" if gpu else ""),
            zorder=3,
        )


def _draw_originals(ax, originals: pd.DataFrame) -> None:
    """The original's published runs as labelled black stars."""
    for model, row in originals.iterrows():
        ax.scatter(
            row["train seconds"], 100 * row["test accuracy"], marker="*", s=160,
            color="black", zorder=4,
        )  # fmt: skip
        ax.annotate(
            f"original {model}",
            (row["train seconds"], 100 * row["test accuracy"]),
            textcoords="offset points",
            xytext=(6, -10),
            fontsize=8,
        )
    ax.scatter([], [], marker="*", s=160, color="black", label="the original (laptop GPU)")


def _draw_references(ax, references: Mapping[str, float]) -> None:
    """External accuracies as grey horizontal lines, each labelled as external."""
    for label, accuracy in references.items():
        ax.axhline(100 * accuracy, color="grey", linestyle=":", linewidth=1)
        ax.annotate(
            f"external: {label}",
            (0.01, 100 * accuracy),
            xycoords=("axes fraction", "data"),
            textcoords="offset points",
            xytext=(0, 3),
            fontsize=8,
            color="dimgrey",
        )


def accuracy_vs_time(
    runs: pd.DataFrame,
    originals: pd.DataFrame | None = None,
    references: Mapping[str, float] | None = None,
    title=None,
) -> Figure:
    """Test accuracy against training time, one point per run.

    ``runs`` has one row per run with columns ``model``, ``kind`` (e.g. the original's
    recipe, the chosen one), ``train seconds``, ``test accuracy`` and ``gpu``; colour
    is the model, the marker the kind, and GPU runs are drawn hollow because their
    seconds are not CPU seconds. ``originals`` (columns ``model``, ``train seconds``,
    ``test accuracy``) are the original's published runs, drawn as labelled black stars:
    laptop-GPU times. ``references`` are external accuracies (label -> accuracy) drawn
    as horizontal lines, labelled as external.
    """
    missing = _RUN_COLUMNS - set(runs.columns)
    if runs.empty or missing:
        raise ValueError(f"accuracy_vs_time: need runs with columns {sorted(_RUN_COLUMNS)}")
    fig = Figure(figsize=(11, 5.5))
    ax = fig.subplots()
    _draw_runs(ax, runs)
    if originals is not None:
        _draw_originals(ax, originals)
    _draw_references(ax, references or {})
    ax.set_xscale("log")
    ax.set_xlabel("training time (s, log scale; each run on its own machine)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title or "Test accuracy against training time, every recorded run")
    ax.grid(alpha=0.3, which="both")
    # Outside the axes: inside, it would cover the low reference lines' labels.
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
    return fig

"""Figures of cost: test accuracy against training time, one panel per kind of machine."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

_RUN_COLUMNS = {"model", "kind", "train seconds", "test accuracy", "machine"}
ORIGINAL_PANEL = "the original (laptop GPU, Quadro 3000)"
# A recipe kind's marker: the recipes that stand for a model filled, the rest hollow.
_KINDS = {
    "original recipe": dict(marker="o", s=46, hollow=False),
    "chosen recipe": dict(marker="s", s=46, hollow=False),
    "own model's recipe": dict(marker="s", s=46, hollow=False),
    "other candidate": dict(marker="o", s=26, hollow=True),
}
# Seconds as plain numbers, at 1, 2 and 5 of each decade: log ticks would overlap.
_TICKS = FuncFormatter(lambda v, _: f"{v:g}" if f"{v:g}"[0] in "125" else "")
# A time axis spans at least this factor, so that two labelled ticks (of 1, 2 and 5)
# always fall inside it, however close a panel's runs are.
_MIN_SPAN = 3.0
_KIND_LEGEND = {
    "original recipe": "original's recipe",
    "chosen recipe": "chosen / own recipe",
    "other candidate": "other candidate",
}


def _draw_runs(ax, runs: pd.DataFrame, palette: dict) -> None:
    """One point per run: colour the model, marker the kind of recipe."""
    for (model, kind), group in runs.groupby(["model", "kind"], sort=False):
        style = _KINDS.get(kind, _KINDS["other candidate"])
        colour = palette[model]
        ax.scatter(
            group["train seconds"],
            100 * group["test accuracy"],
            marker=style["marker"],
            s=style["s"],
            facecolors="none" if style["hollow"] else colour,
            edgecolors=colour,
            linewidths=1.2,
            zorder=3,
        )


def _draw_originals(ax, originals: pd.DataFrame) -> None:
    """The original's published runs as black stars, each labelled beside it."""
    for model, row in originals.iterrows():
        x, y = row["train seconds"], 100 * row["test accuracy"]
        ax.scatter(x, y, marker="*", s=160, color="black", zorder=4)
        ax.annotate(model, (x, y), textcoords="offset points", xytext=(6, -3), fontsize=8)


def _references(axes, references: Mapping[str, float], low: float, high: float) -> str:
    """Reference accuracies inside the y range as dotted lines, labelled on the first
    panel; the rest are returned as a note, so that they do not stretch the axis."""
    outside = []
    for label, accuracy in references.items():
        value = 100 * accuracy
        if not low <= value <= high:
            outside.append(f"{label}: {value:.1f}%")
            continue
        for ax in axes:
            ax.axhline(value, color="grey", linestyle=":", linewidth=1)
        axes[0].annotate(
            f"external: {label}",
            (0.02, value),
            xycoords=("axes fraction", "data"),
            textcoords="offset points",
            xytext=(0, 3),
            fontsize=7,
            color="dimgrey",
        )
    return "Below the axis, external: " + "; ".join(outside) if outside else ""


def _style(ax, used: bool, limits: tuple[float, float], first_column: bool) -> None:
    """A panel's log time axis with plain tick labels, the shared accuracy range; an
    unused grid cell is switched off."""
    if not used:
        ax.set_axis_off()
        return
    ax.set_xscale("log")
    low, high = ax.get_xlim()
    if high / low < _MIN_SPAN:
        centre, half = np.sqrt(low * high), np.sqrt(_MIN_SPAN)
        ax.set_xlim(centre / half, centre * half)
    ax.xaxis.set_major_formatter(_TICKS)
    ax.xaxis.set_minor_formatter(_TICKS)
    ax.tick_params(axis="x", which="both", labelsize=8)
    ax.set_ylim(*limits)
    ax.grid(alpha=0.3, which="both")
    ax.set_xlabel("training time (s, log scale)")
    if first_column:
        ax.set_ylabel("test accuracy (%)")


def _legend(fig, models: list[str], palette: dict, bottom: float) -> None:
    """Below the panels, ``bottom`` (a share of the figure's height) above its foot."""
    handles = [Line2D([], [], marker="o", linestyle="", color=palette[m]) for m in models]
    names = list(models)
    for kind, name in _KIND_LEGEND.items():
        style = _KINDS[kind]
        handles.append(
            Line2D([], [], marker=style["marker"], linestyle="", color="dimgrey",
                   markerfacecolor="none" if style["hollow"] else "dimgrey")
        )  # fmt: skip
        names.append(name)
    handles.append(Line2D([], [], marker="*", linestyle="", color="black", markersize=11))
    names.append("the original's runs")
    fig.legend(
        handles, names, loc="lower center", bbox_to_anchor=(0.5, bottom), ncol=5, fontsize=8,
        frameon=False,
    )  # fmt: skip


def accuracy_vs_time(
    runs: pd.DataFrame,
    originals: pd.DataFrame | None = None,
    references: Mapping[str, float] | None = None,
    title=None,
) -> Figure:
    """Test accuracy against training time, one point per run, one panel per machine kind.

    ``runs`` has one row per run with columns ``model``, ``kind`` (the original's
    recipe, the chosen one, the own model's, another candidate), ``train seconds``,
    ``test accuracy`` and ``machine``: seconds compare only within one kind of machine,
    so each kind gets its own panel (a shared accuracy axis, its own time axis).
    ``originals`` (``train seconds``, ``test accuracy``, indexed by model) are the
    original's published runs, in a panel of their own (laptop GPU). ``references``
    (label -> accuracy) are external accuracies: dotted lines where they fall within
    the runs' range, else a note under the figure.
    """
    missing = _RUN_COLUMNS - set(runs.columns)
    if runs.empty or missing:
        raise ValueError(f"accuracy_vs_time: need runs with columns {sorted(_RUN_COLUMNS)}")
    machines = list(runs["machine"].value_counts().index)
    panels = machines + ([ORIGINAL_PANEL] if originals is not None else [])
    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    fig = Figure(figsize=(4.6 * cols, 3.6 * rows + 1.0))
    axes = fig.subplots(rows, cols, squeeze=False, sharey=True).ravel()
    models = list(dict.fromkeys(runs["model"]))
    palette = dict(zip(models, sns.color_palette("deep", len(models)), strict=True))
    for ax, machine in zip(axes, machines, strict=False):
        _draw_runs(ax, runs[runs["machine"] == machine], palette)
        ax.set_title(machine, fontsize=9)
    if originals is not None:
        _draw_originals(axes[len(machines)], originals)
        axes[len(machines)].set_title(ORIGINAL_PANEL, fontsize=9)
    accuracies = [
        *runs["test accuracy"],
        *([] if originals is None else originals["test accuracy"]),
    ]
    low, high = 100 * np.min(accuracies), 100 * np.max(accuracies)
    pad = 0.06 * (high - low)
    low, high = low - pad, high + pad
    note = _references(axes[: len(panels)], references or {}, low, high)
    for i, ax in enumerate(axes):
        _style(ax, i < len(panels), (low, high), i % cols == 0)
    fig.suptitle(title or "Test accuracy against training time, every recorded run")
    bottom = 0.9 + (0.25 if note else 0)
    fig.tight_layout(rect=(0, bottom / fig.get_figheight(), 1, 1))
    _legend(fig, models, palette, (0.25 if note else 0) / fig.get_figheight())
    if note:
        fig.text(0.5, 0.05 / fig.get_figheight(), note, ha="center", fontsize=8, color="dimgrey")
    return fig

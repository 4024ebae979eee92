"""Learning curves of groups of seeds: the mean per epoch with a band from the lowest to
the highest seed, one column of panels per group of groups (a model, a machine)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .training_figures import later_epochs, robust_limits

_METRICS = (("loss", "loss"), ("accuracy", "accuracy"))
_LINES = {"train": "-", "val": "--"}  # solid: training images; dashed: validation


def _seed_frame(histories) -> pd.DataFrame:
    """Every seed's epochs, one row per (seed, epoch)."""
    frames = [pd.DataFrame(list(h)).assign(seed=i) for i, h in enumerate(histories) if h]
    if not frames:
        raise ValueError("curve_bands: a group has no history")
    return pd.concat(frames, ignore_index=True)


def _draw_group(axes, frame: pd.DataFrame, colour, values: dict) -> None:
    """A group's mean and min-max band per epoch on both rows; its values go into
    ``values`` (per metric: the early and the later epochs) for the axis limits."""
    later = later_epochs(frame["epoch"])
    for (key, _), ax in zip(_METRICS, axes, strict=True):
        for part, style in _LINES.items():
            column = key if part == "train" else f"val_{key}"
            stats = frame.groupby("epoch")[column].agg(["mean", "min", "max"])
            ax.plot(stats.index, stats["mean"], style, color=colour, linewidth=1.4)
            if frame["seed"].nunique() > 1:
                ax.fill_between(stats.index, stats["min"], stats["max"], color=colour, alpha=0.15)
            values[key]["later"].append(frame.loc[later, column].to_numpy())
            values[key]["early"].append(frame.loc[~later, column].to_numpy())


def _legend(fig, labels: list[str], palette) -> None:
    """Below the panels: one entry per group, then the two line styles."""
    handles = [Line2D([], [], color=c, linewidth=2) for c in palette]
    handles += [Line2D([], [], color="grey", linestyle=s) for s in _LINES.values()]
    names = [*labels, "training (mean, band: min–max over seeds)", "validation"]
    fig.legend(
        handles, names, loc="lower center", ncol=min(3, len(names)), fontsize=8, frameon=False
    )


def _fit_rows(axes_grid, values: dict) -> None:
    """One y range per row, from the later epochs of every group; say what it leaves out."""
    for row, (key, label) in enumerate(_METRICS):
        later = np.concatenate(values[key]["later"] or [np.array([])])
        if not later.size:
            continue
        early = np.concatenate(values[key]["early"] or [np.array([])])
        low, high, clipped = robust_limits(early, later)
        for ax in axes_grid[row]:
            ax.set_ylim(low, high)
            ax.grid(alpha=0.3)
        note = ""
        if clipped.any():  # named under the row's label, off the curves
            far = early[clipped].max() if key == "loss" else early[clipped].min()
            note = f"\n(early epochs off scale: {far:.3g})"
        axes_grid[row][0].set_ylabel(label + note, fontsize=9)


def curve_bands(panels: Mapping[str, Mapping[str, list]], title=None) -> Figure:
    """Loss (top) and accuracy (bottom) per epoch for groups of seeds, one column per panel.

    ``panels`` maps a panel's title (a model, a machine) to its groups: a short label ->
    the seeds' histories (lists of per-epoch dicts). Each group is its mean over the
    seeds at each epoch, solid for training and dashed for validation, with a band from
    the lowest to the highest seed. Both rows take their y range from the later epochs
    (after the first tenth) of every group, so an early spike is left off and said to be.
    """
    if not panels or not all(panels.values()):
        raise ValueError("curve_bands: give at least one panel, each with a group")
    labels = list(dict.fromkeys(label for groups in panels.values() for label in groups))
    palette = sns.color_palette("deep", len(labels))
    colours = dict(zip(labels, palette, strict=True))
    legend_rows = -(-(len(labels) + 2) // 3)
    fig = Figure(figsize=(max(5.0, 4.2 * len(panels)), 6.0 + 0.22 * legend_rows))
    axes_grid = fig.subplots(2, len(panels), squeeze=False, sharex="col")
    values = {key: {"early": [], "later": []} for key, _ in _METRICS}
    for col, (panel, groups) in enumerate(panels.items()):
        axes = axes_grid[:, col]
        for label, histories in groups.items():
            _draw_group(axes, _seed_frame(histories), colours[label], values)
        axes[0].set_title(panel, fontsize=10)
        axes[1].set_xlabel("epoch")
    _fit_rows(axes_grid, values)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, (0.3 + 0.22 * legend_rows) / fig.get_figheight(), 1, 1))
    _legend(fig, labels, palette)
    return fig

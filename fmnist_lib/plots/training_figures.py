"""Figures of training: loss and accuracy per epoch, one run or several overlaid."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

_KEYS = ("loss", "accuracy")
_COLUMNS = {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"}


@dataclass
class _EarlyEpochs:
    """Per metric, the values of the first epochs (with their labels) and of the later ones."""

    first: dict = field(default_factory=lambda: {key: [] for key in _KEYS})
    labels: dict = field(default_factory=lambda: {key: [] for key in _KEYS})
    later: dict = field(default_factory=lambda: {key: [] for key in _KEYS})


def later_epochs(epochs: pd.Series) -> pd.Series:
    """Which epochs are past the first tenth of the run (at least the first epoch)."""
    return epochs >= epochs.min() + max(1, int(epochs.max()) // 10)


def robust_limits(first: np.ndarray, later: np.ndarray, pad: float = 0.05):
    """Axis limits from the later epochs alone, the same rule for loss and accuracy.

    The range runs from the 1st to the 99th percentile of the later epochs' values
    (all of them for short runs), padded by ``pad`` of its span. Returns ``(low, high,
    clipped)``: ``clipped`` marks the early values left outside, which the caller names.
    """
    low, high = (float(v) for v in np.quantile(later, [0.01, 0.99]))
    span = max(high - low, 1e-3)
    low, high = low - pad * span, high + pad * span
    return low, high, (first < low) | (first > high)


def _history_frame(name, records) -> pd.DataFrame:
    """One run's history as a DataFrame, checked for the columns the figure draws."""
    if not records:
        raise ValueError(f"learning_curves: the history of {name or 'the run'} is empty")
    frame = pd.DataFrame(list(records))
    missing = _COLUMNS - set(frame)
    if missing:
        raise ValueError(f"learning_curves: history lacks {sorted(missing)}")
    return frame


def _draw_run(axes: dict, frame: pd.DataFrame, name, colour, early: _EarlyEpochs) -> None:
    """One run's curves and best-epoch line on both axes; its values go into ``early``.

    The first epochs are the first tenth of the run, at least the first epoch.
    """
    prefix = f"{name} " if name else ""
    is_first = ~later_epochs(frame.epoch)
    for key, ax in axes.items():
        ax.plot(frame.epoch, frame[key], "-o", color=colour, label=f"{prefix}train", ms=4)
        ax.plot(frame.epoch, frame[f"val_{key}"], "--s", color=colour, label=f"{prefix}val", ms=4)
        values = frame[[key, f"val_{key}"]]
        early.first[key].append(values[is_first].to_numpy().ravel())
        early.labels[key] += [
            (f"{prefix}{part}", epoch)
            for epoch in frame.epoch[is_first]
            for part in ("train", "val")
        ]
        early.later[key].append(values[~is_first].to_numpy().ravel())
    best = int(frame.epoch[frame.val_loss.idxmin()])
    for ax in axes.values():
        ax.axvline(
            best, color=colour, linestyle=":", linewidth=1.5, label=f"{prefix}best epoch {best}"
        )


def _style_axis(ax, key: str, last_epoch: int) -> None:
    """Labels, title, grid and integer epoch ticks."""
    ax.set_xlabel("epoch")
    ax.set_ylabel(key)
    ax.set_title(f"{key.capitalize()} per epoch")
    ax.grid(alpha=0.3)
    if last_epoch <= 20:
        ax.set_xticks(range(1, last_epoch + 1))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0.5, last_epoch + 0.5)


def _off_scale_note(out: list) -> str:
    """What the axis leaves out: each value at epoch 1, else the runs of a longer spike."""
    last = max(epoch for _, epoch, _ in out)
    if last == 1:
        shown = ", ".join(f"{label} {value:.3g}" for label, _, value in out)
        shown = f"off scale at epoch 1: {shown}"
    else:  # a longer spike: the runs and epochs, not every value
        names = ", ".join(dict.fromkeys(label for label, _, _ in out))
        shown = f"off scale in epochs 1-{last}: {names}"
    return textwrap.fill(f"({shown})", width=60)


def _fit_axis(ax, key: str, early: _EarlyEpochs) -> None:
    """Y limits robust to a spike in the first epochs; the title names what is off scale."""
    later_values = np.concatenate(early.later[key])
    if not len(later_values):  # with one epoch there is nothing to be robust against
        return
    first_values = np.concatenate(early.first[key])
    low, high, clipped = robust_limits(first_values, later_values)
    ax.set_ylim(low, high)
    out = [(label, int(epoch), value) for (label, epoch), value, off in zip(
        early.labels[key], first_values, clipped, strict=True
    ) if off]  # fmt: skip
    if out:  # say what the axis leaves out, in the title out of the way
        ax.set_title(f"{key.capitalize()} per epoch\n{_off_scale_note(out)}", fontsize=8)


def learning_curves(history, title=None) -> Figure:
    """Loss and accuracy per epoch, training (solid) and validation (dashed).

    ``history`` is a run's history list (one dict per epoch with loss, accuracy,
    val_loss, val_accuracy), or a mapping of run names to such lists to overlay.
    A dotted vertical line marks each run's best epoch (lowest val_loss: the
    checkpoint training keeps). ``title`` (e.g. the model and recipe) heads the figure.
    Both axes take their range from the later epochs (``robust_limits``): a value of
    the first tenth of the run outside it (a first epoch far off, a moving average of
    the weights starting far off) is left off the axis and named in its title;
    with three runs or more the legend goes below the axes.
    """
    runs = history if isinstance(history, Mapping) else {None: history}
    if not runs:
        raise ValueError("learning_curves: no history given")
    overlay = len(runs) > 2
    legend_height = 0.15 * (3 * len(runs) + 1) / 2 + 0.3 if overlay else 0.0  # 2 columns
    height = (4.2 if title else 3.8) + legend_height
    fig = Figure(figsize=(10, height))
    ax_loss, ax_acc = fig.subplots(1, 2)
    axes = {"loss": ax_loss, "accuracy": ax_acc}
    palette = sns.color_palette(n_colors=max(len(runs), 1))
    last_epoch = 1
    early = _EarlyEpochs()
    for (name, records), colour in zip(runs.items(), palette, strict=True):
        frame = _history_frame(name, records)
        last_epoch = max(last_epoch, int(frame.epoch.max()))
        _draw_run(axes, frame, name, colour, early)
    for key, ax in axes.items():
        _style_axis(ax, key, last_epoch)
        _fit_axis(ax, key, early)
    if title:
        fig.suptitle(title)
    if overlay:  # below the axes: inside, the entries would cover the curves
        handles, labels = ax_acc.get_legend_handles_labels()
        fig.tight_layout(rect=(0, legend_height / height, 1, 1))
        fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=7, frameon=False)
    else:
        ax_acc.legend(fontsize=8)
        fig.tight_layout()
    return fig

"""Figures of robustness: accuracy by corruption and severity, and what each corruption does."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from ..corruptions import FAMILIES, SEVERITIES, check_images, corrupt
from .images import IMAGE_CMAP


def robustness_heatmap(record: Mapping, title=None) -> Figure:
    """Accuracy by corruption family (rows) and severity (columns), from a robustness record."""
    accuracy, severities = record.get("accuracy"), [str(s) for s in record.get("severities", [])]
    if not accuracy or not severities:
        raise ValueError("robustness_heatmap: the record has no accuracy table")
    missing = sorted(f for f, cells in accuracy.items() if set(severities) - set(cells))
    if missing:
        raise ValueError(f"robustness_heatmap: families {missing} lack some of {severities}")
    frame = pd.DataFrame.from_dict(accuracy, orient="index")[severities]
    fig = Figure(figsize=(0.9 * len(severities) + 3.6, 0.42 * len(frame) + 1.4))
    ax = fig.subplots()
    sns.heatmap(
        frame,
        annot=True,
        fmt=".2f",
        cmap="viridis",
        vmin=0.0,  # one fixed scale, so that two models' maps compare by colour
        vmax=1.0,
        cbar_kws={"label": "accuracy"},
        annot_kws={"fontsize": 8},
        ax=ax,
    )
    ax.set_xlabel("severity (0 = clean)" if "0" in severities else "severity")
    ax.set_ylabel("corruption")
    ax.set_title(
        title
        or f"{record['name']}: accuracy under corruption "
        f"(clean {100 * record['clean_accuracy']:.1f}%, {record['test_size']:,} test images)"
    )
    fig.tight_layout()
    return fig


def robustness_by_family(frame: pd.DataFrame, clean: Mapping[str, float], title=None) -> Figure:
    """Accuracy of several models (rows: ``model · recipe``) on each corruption family
    (columns: the mean over its severities), with each model's clean accuracy first."""
    if frame.empty:
        raise ValueError("robustness_by_family: no models given")
    shown = pd.concat([pd.Series(clean, name="clean").reindex(frame.index), frame], axis=1)
    fig = Figure(figsize=(0.75 * shown.shape[1] + 4.2, 0.45 * len(shown) + 1.8))
    ax = fig.subplots()
    sns.heatmap(
        100 * shown,
        annot=True,
        fmt=".0f",
        cmap="viridis",
        vmin=0,  # the scale of robustness_heatmap, so that the figures compare by colour
        vmax=100,
        cbar_kws={"label": "accuracy (%)"},
        annot_kws={"fontsize": 8},
        ax=ax,
    )
    ax.set_xlabel("corruption family (mean over severities)")
    ax.set_ylabel("")
    ax.tick_params(axis="x", rotation=35)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.set_title(title or "Accuracy under corruption, by family")
    fig.tight_layout()
    return fig


def corruption_examples(images, families=None, severities=None, index: int = 0, seed: int = 0):
    """One row per family, one column per severity: ``images[index]`` as each corrupts it.

    The whole of ``images`` is corrupted and one item shown, so the cell holds the
    pixels a model scored when ``images`` is the test set (same seed); pass a few
    images for a quick figure. Defaults: every family, severities 0 to 5.
    """
    images = np.asarray(images)
    images = check_images(images[None] if images.ndim == 2 else images)
    families = list(FAMILIES if families is None else families)
    severities = list(SEVERITIES if severities is None else severities)
    if not families or not severities:
        raise ValueError("corruption_examples: give at least one family and one severity")
    if not 0 <= index < len(images):
        raise ValueError(f"index: {index} is out of range 0..{len(images) - 1}")
    fig = Figure(figsize=(1.05 * len(severities) + 1.3, 1.05 * len(families) + 0.5))
    axes = fig.subplots(len(families), len(severities), squeeze=False)
    for row, family in enumerate(families):
        for col, severity in enumerate(severities):
            ax = axes[row, col]
            shown = corrupt(images, family, severity, seed)[index]
            # A fixed 0..255 scale: brightness and contrast changes must show.
            ax.imshow(shown, cmap=IMAGE_CMAP, vmin=0, vmax=255, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if row == 0:
                ax.set_title("clean" if severity == 0 else f"severity {severity}", fontsize=9)
            if col == 0:
                ax.set_ylabel(family, fontsize=9, rotation=0, ha="right", va="center")
    fig.suptitle(f"Corruptions of one test image (seed {seed})", fontsize=10)
    fig.tight_layout()
    return fig

"""Figures of a trained model on the test set: confusion, per-class scores, mistakes,
calibration and the embedding of its features."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from ..data import CLASS_NAMES
from .images import IMAGE_CMAP, check_images


def _draw_confusion(ax, matrix: np.ndarray, class_names, normalize: bool):
    """The errors on their own colour scale, the diagonal grey; returns the errors' mesh."""
    diagonal = np.eye(len(class_names), dtype=bool)
    errors = matrix[~diagonal]
    top = float(errors.max()) if errors.size and errors.max() > 0 else 1.0
    ticks = {"xticklabels": class_names, "yticklabels": class_names}
    sns.heatmap(
        matrix,
        mask=diagonal,
        cmap="Reds",
        vmin=0,
        vmax=top,
        square=True,
        cbar_kws={
            "label": "share of the true class, off the diagonal"
            if normalize
            else "misclassified images, off the diagonal"
        },
        ax=ax,
        **ticks,
    )
    errors_mesh = ax.collections[0]
    sns.heatmap(
        matrix,
        mask=~diagonal,
        cmap=ListedColormap(["#d9d9d9"]),
        square=True,
        cbar=False,
        ax=ax,
        **ticks,
    )
    return errors_mesh


def _annotate_confusion(ax, matrix: np.ndarray, errors_mesh, normalize: bool) -> None:
    """Every cell's value, row by row, in one style; the text turns white on dark
    cells, as seaborn's own annotation does."""
    for row, col in np.ndindex(matrix.shape):
        value = matrix[row, col]
        if row == col:
            colour, weight = "black", "bold"
        elif value == 0:
            colour, weight = "#bbbbbb", "normal"  # an empty cell should not draw the eye
        else:
            r, g, b, _ = errors_mesh.cmap(errors_mesh.norm(value))
            colour = "white" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.45 else "black"
            weight = "normal"
        ax.text(
            col + 0.5,
            row + 0.5,
            f"{value:.2f}" if normalize else f"{int(value)}",
            ha="center",
            va="center",
            fontsize=8,
            color=colour,
            fontweight=weight,
        )


def confusion_heatmap(
    confusion, class_names: Sequence[str] = CLASS_NAMES, normalize: bool = False, title=None
) -> Figure:
    """Seaborn heatmap of a confusion matrix (rows: true class, columns: predicted).

    The errors get the colour scale and the colour bar to themselves; the
    diagonal (correct predictions, annotated) is grey, since it is ten to a
    hundred times larger and would otherwise leave every error pale.
    ``normalize`` divides each row by its true-class count (diagonal = recall).
    """
    matrix = np.asarray(confusion)
    if matrix.shape != (len(class_names), len(class_names)):
        raise ValueError(
            f"expected a {len(class_names)}x{len(class_names)} confusion matrix, got {matrix.shape}"
        )
    if normalize:
        totals = matrix.sum(axis=1, keepdims=True)
        matrix = np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
    fig = Figure(figsize=(9.5, 7))
    ax = fig.subplots()
    errors_mesh = _draw_confusion(ax, matrix, class_names, normalize)
    _annotate_confusion(ax, matrix, errors_mesh, normalize)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    default_title = "Confusion matrix (row-normalised)" if normalize else "Confusion matrix"
    ax.set_title(title or default_title)
    ax.tick_params(axis="x", rotation=45)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    fig.tight_layout()
    return fig


def per_class_scores(per_class: Mapping[str, Mapping[str, float]], title=None) -> Figure:
    """Precision, recall and F1 per class from ``metrics["test"]["per_class"]``, as dots.

    Dots, not bars: a bar's length reads as the value, so bars cut off at 0.77
    exaggerate every gap, and bars from 0 squeeze the 0.6..1.0 range where the
    classes differ into a sliver. A dot's position is read against the axis, whose
    range (from a tenth, at least 0.05 below the lowest score, to 1) the x label states.
    """
    if not per_class:
        raise ValueError("per_class_scores: no classes given")
    rows = []
    for name, scores in per_class.items():
        for key, label in (("precision", "precision"), ("recall", "recall"), ("f1-score", "F1")):
            if key not in scores:
                raise ValueError(f"per_class_scores: class {name!r} has no {key!r}")
            rows.append({"class": name, "metric": label, "score": float(scores[key])})
    frame = pd.DataFrame(rows)
    low = max(0.0, np.floor(10 * float(frame.score.min()) - 0.5) / 10)
    fig = Figure(figsize=(7.5, 0.42 * len(per_class) + 1.4))
    ax = fig.subplots()
    sns.stripplot(
        data=frame,
        y="class",
        x="score",
        hue="metric",
        dodge=True,
        jitter=False,
        size=6,
        marker="o",
        ax=ax,
        orient="h",
    )
    ax.set_xlim(low, 1.0)
    ax.set_xlabel(f"score (axis from {low:.1f} to 1.0, not from 0)")
    ax.set_ylabel("")
    ax.set_title(title or "Per-class precision, recall and F1 (test set)")
    sns.move_legend(ax, "upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def misclassified_gallery(
    images,
    y_true,
    y_pred,
    probs=None,
    n: int = 24,
    seed: int = 0,
    cols: int = 8,
    class_names: Sequence[str] = CLASS_NAMES,
) -> Figure:
    """A random sample of misclassified images, titled true -> predicted (and confidence)."""
    images, y_true = check_images(images, y_true)
    y_pred = np.asarray(y_pred)
    if y_pred.shape != y_true.shape:
        raise ValueError(f"expected {len(y_true)} predictions, got shape {y_pred.shape}")
    wrong = np.flatnonzero(y_pred != y_true)
    if n < 1:
        raise ValueError(f"n: expected at least 1, got {n}")
    fig_cols = max(1, min(cols, n))
    if not len(wrong):
        fig = Figure(figsize=(4, 1))
        fig.text(0.5, 0.5, "no misclassified images", ha="center", va="center")
        return fig
    shown = np.sort(np.random.default_rng(seed).choice(wrong, min(n, len(wrong)), replace=False))
    nrows = -(-len(shown) // fig_cols)
    fig = Figure(figsize=(1.45 * fig_cols, 1.75 * nrows))
    axes = fig.subplots(nrows, fig_cols, squeeze=False).ravel()
    for ax, index in zip(axes, shown, strict=False):
        ax.imshow(images[index], cmap=IMAGE_CMAP, interpolation="nearest")
        title = f"{class_names[y_true[index]]}\n→ {class_names[y_pred[index]]}"
        if probs is not None:
            title += f" {float(np.asarray(probs)[index, y_pred[index]]):.2f}"
        ax.set_title(title, fontsize=7, color="firebrick")
    for ax in axes:
        ax.set_axis_off()
    fig.suptitle(
        f"{len(shown)} of {len(wrong):,} misclassified test images (true → predicted)", fontsize=10
    )
    fig.tight_layout()
    return fig


def reliability_diagram(calibrations: Mapping[str, Mapping], title=None) -> Figure:
    """Accuracy against confidence per bin, one line per model, from ``metrics.calibration``.

    A panel below draws each model's ``bin_count`` (log scale): most test images
    sit in the top bin, so the wild points of the sparse low-confidence bins
    rest on a few images and weigh little in the ECE. The legend sits right of the
    axes: inside, it would cover some bins, and the top ones hold most images.
    """
    if not calibrations:
        raise ValueError("reliability_diagram: no models given")
    fig = Figure(figsize=(6, 7))
    ax, ax_count = fig.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1], "hspace": 0.08}
    )
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
    for name, result in calibrations.items():
        counts = np.asarray(result["bin_count"])
        used = counts > 0
        (line,) = ax.plot(
            np.asarray(result["bin_confidence"])[used],
            np.asarray(result["bin_accuracy"])[used],
            marker="o",
            label=f"{name} (ECE {result['ece']:.3f})",
        )
        ax_count.stairs(
            counts, np.asarray(result["bin_edges"]), color=line.get_color(), linewidth=1.5
        )
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title or "Reliability diagram (test set)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    ax_count.set_yscale("log")
    ax_count.set_ylim(bottom=0.8)  # a bin of one image still shows; empty bins drop out
    ax_count.set_xlabel("confidence (top-class probability)")
    ax_count.set_ylabel("images per bin")
    ax_count.grid(alpha=0.3)
    return fig


def embedding_map(
    coords, y_true, y_pred=None, class_names: Sequence[str] = CLASS_NAMES, title=None
) -> Figure:
    """A 2-D embedding (t-SNE) coloured by true class; misclassified points ringed in black."""
    coords = np.asarray(coords, dtype=np.float32)
    y_true = np.asarray(y_true)
    if coords.ndim != 2 or coords.shape[1] != 2 or len(coords) != len(y_true):
        raise ValueError(
            f"expected coords shaped (N, 2) with N labels, got {coords.shape} and {y_true.shape}"
        )
    frame = pd.DataFrame(
        {
            "x": coords[:, 0],
            "y": coords[:, 1],
            "class": pd.Categorical(np.asarray(class_names)[y_true], categories=class_names),
        }
    )
    fig = Figure(figsize=(8.5, 7))
    ax = fig.subplots()
    sns.scatterplot(
        data=frame, x="x", y="y", hue="class", palette="tab10", s=4, linewidth=0, alpha=0.7, ax=ax
    )
    if y_pred is not None:
        wrong = np.asarray(y_pred) != y_true
        ax.scatter(
            coords[wrong, 0],
            coords[wrong, 1],
            s=9,
            facecolors="none",
            edgecolors="black",
            linewidths=0.4,
            label=f"misclassified ({int(wrong.sum()):,})",
        )
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, markerscale=2.5)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("t-SNE 1")
    ax.set_ylabel("t-SNE 2")
    ax.set_title(title or f"t-SNE of penultimate-layer features ({len(coords):,} test images)")
    fig.tight_layout()
    return fig

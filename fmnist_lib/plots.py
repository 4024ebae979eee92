"""Figures for the notebooks: seaborn/matplotlib, one ``save_fig``.

Every function returns a :class:`matplotlib.figure.Figure` built with the
object-oriented API, not through pyplot: no global figure state piles up in
long batch runs, and no display is needed (PNG files render with Agg). In a
notebook, run ``%matplotlib inline`` once and end a cell with ``fig`` to show it.

``save_fig(fig, name)`` writes ``figures/<name>.png`` under the repository root
at a fixed dpi; ``$FMNIST_FIGURES_DIR`` sends the files elsewhere (tests use it
so that the committed figures stay untouched).
"""

from __future__ import annotations

import io
import os
import re
import textwrap
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import MatplotlibDeprecationWarning
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .data import CLASS_NAMES
from .paths import FIGURES_DIR
from .runs import atomic_write_bytes

DPI = 120
FIGURES_ENV = "FMNIST_FIGURES_DIR"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_IMAGE_CMAP = "binary"  # dark garments on white paper, as handson-ml3 draws MNIST


def figures_dir() -> Path:
    """``$FMNIST_FIGURES_DIR`` when set, else ``figures/`` under the repository root."""
    override = os.environ.get(FIGURES_ENV)
    return Path(override) if override else FIGURES_DIR


def save_fig(fig: Figure, name: str) -> Path:
    """Write ``fig`` as ``<figures_dir>/<name>.png`` at the fixed dpi; return the path.

    The file is written atomically, and without the matplotlib version in its
    metadata, so the same figure gives the same bytes on another install.
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"save_fig: expected a matplotlib Figure, got {type(fig).__name__}")
    name = name[:-4] if name.endswith(".png") else name
    if not _NAME.match(name):
        raise ValueError(
            f"save_fig: {name!r} is not a plain file name (letters, digits, '_', '-', '.')"
        )
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    path = figures_dir() / f"{name}.png"
    atomic_write_bytes(path, buffer.getvalue())
    return path


# --- helpers ------------------------------------------------------------------


def _check_images(images, labels) -> tuple[np.ndarray, np.ndarray]:
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3:
        raise ValueError(f"expected images of shape (N, H, W), got {images.shape}")
    if labels.shape != (len(images),):
        raise ValueError(f"expected {len(images)} labels, got an array of shape {labels.shape}")
    return images, labels


def _class_indices(classes, class_names) -> list[int]:
    if classes is None:
        return list(range(len(class_names)))
    indices = []
    for c in classes:
        if isinstance(c, str):
            if c not in class_names:
                raise ValueError(f"unknown class {c!r}; valid names are {list(class_names)}")
            indices.append(list(class_names).index(c))
        elif 0 <= int(c) < len(class_names):
            indices.append(int(c))
        else:
            raise ValueError(f"class index {c} is out of range 0..{len(class_names) - 1}")
    return indices


# --- data ---------------------------------------------------------------------


def class_sprite(
    images,
    labels,
    per_class: int = 10,
    seed: int = 0,
    classes=None,
    class_names: Sequence[str] = CLASS_NAMES,
) -> Figure:
    """One row per class of ``per_class`` random samples, tiled with skimage's montage."""
    from skimage.util import montage

    images, labels = _check_images(images, labels)
    rows = _class_indices(classes, class_names)
    if per_class < 1:
        raise ValueError(f"per_class: expected at least 1, got {per_class}")
    rng = np.random.default_rng(seed)
    picked = []
    for c in rows:
        pool = np.flatnonzero(labels == c)
        if len(pool) < per_class:
            raise ValueError(
                f"class {class_names[c]!r} has {len(pool)} images; cannot draw {per_class}"
            )
        picked.extend(np.sort(rng.choice(pool, per_class, replace=False)))
    pad = 2
    sheet = montage(
        images[np.array(picked)],
        grid_shape=(len(rows), per_class),
        padding_width=pad,
        fill=0,
    )
    height = images.shape[1]
    fig = Figure(figsize=(0.55 * per_class + 1.6, 0.55 * len(rows) + 0.4))
    ax = fig.subplots()
    ax.imshow(sheet, cmap=_IMAGE_CMAP, interpolation="nearest")
    ax.set_yticks([pad + r * (height + pad) + height / 2 for r in range(len(rows))])
    ax.set_yticklabels([class_names[c] for c in rows])
    ax.set_xticks([])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(f"{per_class} random images per class (seed {seed})")
    return fig


def mean_images(
    images, labels, classes=None, class_names: Sequence[str] = CLASS_NAMES, cols: int = 5
) -> Figure:
    """The average image of each class, on one shared grey scale."""
    images, labels = _check_images(images, labels)
    chosen = _class_indices(classes, class_names)
    means = []
    for c in chosen:
        members = images[labels == c]
        if not len(members):
            raise ValueError(f"class {class_names[c]!r} has no images")
        means.append(members.mean(axis=0))
    cols = min(cols, len(chosen))
    nrows = -(-len(chosen) // cols)
    fig = Figure(figsize=(1.9 * cols, 2.1 * nrows))
    axes = fig.subplots(nrows, cols, squeeze=False).ravel()
    top = max(float(m.max()) for m in means)
    for ax, c, mean in zip(axes, chosen, means, strict=False):
        ax.imshow(mean, cmap=_IMAGE_CMAP, vmin=0, vmax=top, interpolation="nearest")
        ax.set_title(class_names[c], fontsize=10)
    for ax in axes:
        ax.set_axis_off()
    fig.suptitle("Mean image per class")
    return fig


def intensity_profiles(images, labels, n_classes: int = len(CLASS_NAMES)) -> dict:
    """Per class, the mean intensity (0..1) of each image row and column, and each image's mean.

    Returns ``{"rows": (C, H), "columns": (C, W), "brightness": (N,)}``.
    """
    images, labels = _check_images(images, labels)
    rows, columns = [], []
    for c in range(n_classes):
        members = images[labels == c]
        if not len(members):
            raise ValueError(f"class {c} has no images")
        mean = members.mean(axis=0, dtype=np.float64) / 255
        rows.append(mean.mean(axis=1))
        columns.append(mean.mean(axis=0))
    brightness = images.reshape(len(images), -1).mean(axis=1, dtype=np.float64) / 255
    return {"rows": np.stack(rows), "columns": np.stack(columns), "brightness": brightness}


def pixel_intensity_profiles(images, labels, class_names: Sequence[str] = CLASS_NAMES) -> Figure:
    """Where each class puts its ink: mean intensity per image row and column, and brightness.

    The row profile shows height (footwear fills only the middle rows), the
    column profile width and gaps (the two legs of trousers), and the box plot
    of each image's mean brightness how much ink a class carries (sandals little).
    """
    profiles = intensity_profiles(images, labels, len(class_names))
    palette = dict(zip(class_names, sns.color_palette("tab10", len(class_names)), strict=True))
    fig = Figure(figsize=(15, 5))
    ax_rows, ax_cols, ax_box = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1.3, 1.3]})
    height, width = profiles["rows"].shape[1], profiles["columns"].shape[1]
    for name, row_profile, column_profile in zip(
        class_names, profiles["rows"], profiles["columns"], strict=True
    ):
        ax_rows.plot(row_profile, np.arange(height), color=palette[name], label=name)
        ax_cols.plot(np.arange(width), column_profile, color=palette[name], label=name)
    ax_rows.invert_yaxis()  # image row 0 is the top of the picture
    ax_rows.set_ylim(height - 0.5, -0.5)
    ax_rows.set_xlabel("mean intensity (0..1)")
    ax_rows.set_ylabel("image row (top to bottom)")
    ax_rows.set_title("Ink per row")
    ax_cols.set_xlim(-0.5, width - 0.5)
    ax_cols.set_xlabel("image column (left to right)")
    ax_cols.set_ylabel("mean intensity (0..1)")
    ax_cols.set_title("Ink per column")
    # Below the panel: inside it would cover the profiles, which fill the frame.
    ax_cols.legend(fontsize=8, ncols=5, loc="upper center", bbox_to_anchor=(0.5, -0.13))
    for ax in (ax_rows, ax_cols):
        ax.grid(alpha=0.3)
    frame = pd.DataFrame(
        {
            "class": pd.Categorical(
                np.asarray(class_names)[np.asarray(labels)], categories=class_names
            ),
            "brightness": profiles["brightness"],
        }
    )
    with warnings.catch_warnings():
        # seaborn 0.13.2 passes matplotlib 3.11 the deprecated ``vert``; nothing to act on.
        warnings.filterwarnings("ignore", "vert: bool", MatplotlibDeprecationWarning)
        # No fliers: with 6,000 images a class they would bury the boxes in dots.
        sns.boxplot(
            data=frame,
            y="class",
            x="brightness",
            hue="class",
            palette=palette,
            showfliers=False,
            legend=False,
            ax=ax_box,
        )
    ax_box.set_xlabel("mean intensity of an image (0..1)")
    ax_box.set_ylabel("")
    ax_box.set_title("Brightness of each image")
    ax_box.grid(axis="x", alpha=0.3)
    fig.suptitle(f"Pixel intensity by class ({len(frame):,} images)")
    fig.tight_layout()
    return fig


# --- training -----------------------------------------------------------------


def _robust_limits(first: np.ndarray, later: np.ndarray, pad: float = 0.05):
    """Axis limits from the later epochs, widened to take in epoch 1 unless it is a spike.

    Returns ``(low, high, clipped)``: ``clipped`` marks the epoch-1 values left
    outside the limits. A spike is a value more than 1.5 spans of the later
    epochs beyond them: an ordinary first epoch stays in view, one huge value
    no longer squashes the curves that matter.
    """
    low, high = float(later.min()), float(later.max())
    span = max(high - low, 1e-3)
    reach_low, reach_high = low - 1.5 * span, high + 1.5 * span
    clipped = (first < reach_low) | (first > reach_high)
    kept = first[~clipped]
    if len(kept):
        low, high = min(low, float(kept.min())), max(high, float(kept.max()))
    span = max(high - low, 1e-3)
    return low - pad * span, high + pad * span, clipped


def learning_curves(history, title=None) -> Figure:
    """Loss and accuracy per epoch, training (solid) and validation (dashed).

    ``history`` is a run's history list (one dict per epoch with loss, accuracy,
    val_loss, val_accuracy), or a mapping of run names to such lists to overlay.
    A dotted vertical line marks each run's best epoch (lowest val_loss: the
    checkpoint training keeps). ``title`` (e.g. the model and recipe) heads the figure.
    A spike in a run's first epochs (its first tenth, at least the first epoch; a moving
    average of the weights starts far off) is left off the axis and named in its title;
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
    palette = sns.color_palette(n_colors=max(len(runs), 1))
    last_epoch = 1
    first = {"loss": [], "accuracy": []}
    first_labels = {"loss": [], "accuracy": []}
    later = {"loss": [], "accuracy": []}
    for (name, records), colour in zip(runs.items(), palette, strict=True):
        if not records:
            raise ValueError(f"learning_curves: the history of {name or 'the run'} is empty")
        frame = pd.DataFrame(list(records))
        missing = {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"} - set(frame)
        if missing:
            raise ValueError(f"learning_curves: history lacks {sorted(missing)}")
        prefix = f"{name} " if name else ""
        last_epoch = max(last_epoch, int(frame.epoch.max()))
        is_first = frame.epoch < frame.epoch.min() + max(1, int(frame.epoch.max()) // 10)
        for ax, key in ((ax_loss, "loss"), (ax_acc, "accuracy")):
            ax.plot(frame.epoch, frame[key], "-o", color=colour, label=f"{prefix}train", ms=4)
            ax.plot(
                frame.epoch, frame[f"val_{key}"], "--s", color=colour, label=f"{prefix}val", ms=4
            )
            values = frame[[key, f"val_{key}"]]
            first[key].append(values[is_first].to_numpy().ravel())
            first_labels[key] += [
                (f"{prefix}{part}", epoch)
                for epoch in frame.epoch[is_first]
                for part in ("train", "val")
            ]
            later[key].append(values[~is_first].to_numpy().ravel())
        best = int(frame.epoch[frame.val_loss.idxmin()])
        for ax in (ax_loss, ax_acc):
            ax.axvline(
                best, color=colour, linestyle=":", linewidth=1.5, label=f"{prefix}best epoch {best}"
            )
    for ax, key in ((ax_loss, "loss"), (ax_acc, "accuracy")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.set_title(f"{key.capitalize()} per epoch")
        ax.grid(alpha=0.3)
        if last_epoch <= 20:
            ax.set_xticks(range(1, last_epoch + 1))
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(0.5, last_epoch + 0.5)
        later_values = np.concatenate(later[key])
        if len(later_values):  # with one epoch there is nothing to be robust against
            first_values = np.concatenate(first[key])
            low, high, clipped = _robust_limits(first_values, later_values)
            ax.set_ylim(low, high)
            out = [(label, int(epoch), value) for (label, epoch), value, off in zip(
                first_labels[key], first_values, clipped, strict=True
            ) if off]  # fmt: skip
            if out:  # say what the axis leaves out, in the title out of the way
                last = max(epoch for _, epoch, _ in out)
                if last == 1:
                    shown = ", ".join(f"{label} {value:.3g}" for label, _, value in out)
                    shown = f"off scale at epoch 1: {shown}"
                else:  # a longer spike: the runs and epochs, not every value
                    names = ", ".join(dict.fromkeys(label for label, _, _ in out))
                    shown = f"off scale in epochs 1-{last}: {names}"
                shown = textwrap.fill(f"({shown})", width=60)
                ax.set_title(f"{key.capitalize()} per epoch\n{shown}", fontsize=8)
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


# --- evaluation ---------------------------------------------------------------


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
    diagonal = np.eye(len(class_names), dtype=bool)
    errors = matrix[~diagonal]
    top = float(errors.max()) if errors.size and errors.max() > 0 else 1.0
    fig = Figure(figsize=(9.5, 7))
    ax = fig.subplots()
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
    # Annotated by hand, row by row, so that every cell reads in one style and
    # the text turns white on dark cells, as seaborn's own annotation does.
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
    images, y_true = _check_images(images, y_true)
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
        ax.imshow(images[index], cmap=_IMAGE_CMAP, interpolation="nearest")
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
    rest on a few images and weigh little in the ECE.
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
    ax.legend(loc="upper left", fontsize=8)
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


# --- robustness -----------------------------------------------------------------


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


def corruption_examples(images, families=None, severities=None, index: int = 0, seed: int = 0):
    """One row per family, one column per severity: ``images[index]`` as each corrupts it.

    The whole of ``images`` is corrupted and one item shown, so the cell holds the
    pixels a model scored when ``images`` is the test set (same seed); pass a few
    images for a quick figure. Defaults: every family, severities 0 to 5.
    """
    from .corruptions import FAMILIES, SEVERITIES, check_images, corrupt

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
            ax.imshow(shown, cmap=_IMAGE_CMAP, vmin=0, vmax=255, interpolation="nearest")
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
    needed = {"model", "kind", "train seconds", "test accuracy", "gpu"}
    missing = needed - set(runs.columns)
    if runs.empty or missing:
        raise ValueError(f"accuracy_vs_time: need runs with columns {sorted(needed)}")
    fig = Figure(figsize=(11, 5.5))
    ax = fig.subplots()
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
    if originals is not None:
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
    for label, accuracy in (references or {}).items():
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
    ax.set_xscale("log")
    ax.set_xlabel("training time (s, log scale; each run on its own machine)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title or "Test accuracy against training time, every recorded run")
    ax.grid(alpha=0.3, which="both")
    # Outside the axes: inside, it would cover the low reference lines' labels.
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
    return fig

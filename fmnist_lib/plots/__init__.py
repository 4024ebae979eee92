"""Figures for the notebooks: seaborn/matplotlib, one ``save_fig``.

Every function returns a :class:`matplotlib.figure.Figure` built with the
object-oriented API, not through pyplot: no global figure state piles up in
long batch runs, and no display is needed (PNG files render with Agg). In a
notebook, run ``%matplotlib inline`` once and end a cell with ``fig`` to show it.

``save_fig(fig, name)`` writes ``<name>.png`` at a fixed dpi into
``$FMNIST_FIGURES_DIR``, else into ``runs/figures/`` (ignored by git). The batch
runner sets the variable: ``figures/`` for ``--in-place`` (``make reproduce``),
else the folder of its executed copies, so only a publishing run touches the
committed figures.

The modules, each importing only ``save``/``images`` of this package and the
modules below it (data, corruptions, paths, runs; never results or readme, which
hand their numbers in as DataFrames and dicts):

* ``save``: ``figures_dir``, ``save_fig``;
* ``images``: the grey scale and input checks the image figures share;
* ``data_figures``: the dataset (sprites, mean images, intensity profiles);
* ``training_figures``: learning curves of one run or a few;
* ``curve_figures``: learning curves of groups of seeds (mean and band), in panels;
* ``evaluation_figures``: confusion, per-class scores, mistakes, calibration, t-SNE;
* ``robustness_figures``: accuracy under corruption, corrupted examples;
* ``time_figures``: accuracy against training time, one panel per kind of machine.
"""

from ..data import CLASS_NAMES
from .curve_figures import curve_bands
from .data_figures import class_sprite, intensity_profiles, mean_images, pixel_intensity_profiles
from .evaluation_figures import (
    confusion_heatmap,
    embedding_map,
    misclassified_gallery,
    per_class_scores,
    reliability_diagram,
)
from .robustness_figures import corruption_examples, robustness_by_family, robustness_heatmap
from .save import DPI, FIGURES_ENV, figures_dir, save_fig
from .time_figures import accuracy_vs_time
from .training_figures import learning_curves

__all__ = [
    "CLASS_NAMES",
    "DPI",
    "FIGURES_ENV",
    "accuracy_vs_time",
    "class_sprite",
    "confusion_heatmap",
    "curve_bands",
    "corruption_examples",
    "embedding_map",
    "figures_dir",
    "intensity_profiles",
    "learning_curves",
    "mean_images",
    "misclassified_gallery",
    "per_class_scores",
    "pixel_intensity_profiles",
    "reliability_diagram",
    "robustness_by_family",
    "robustness_heatmap",
    "save_fig",
]

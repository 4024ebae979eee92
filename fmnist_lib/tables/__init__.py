"""The tables read from the records, in three modules:

* ``core``: the tables with numbers (headline, longer and fixed-time runs, McNemar
  tests, the points of the accuracy-against-time figure), which the README reads;
* ``views``: the same for a reader, formatted, at most about twenty rows each;
* ``curves``: learning curves grouped by seeds for ``plots.curve_bands``.
"""

from .core import (
    budget_text,
    comparison,
    external_references,
    fewest_images,
    headline,
    improvement_runs,
    like_with_like_pairs,
    longer_runs,
    mcnemar_comparisons,
    models_shown,
    original_points,
    run_label,
    standing_runs,
    time_accuracy_runs,
    time_budget_histories,
    time_budget_runs,
)
from .curves import recipe_curves, time_budget_curves
from .views import (
    baselines_view,
    bootstrap_view,
    calibration_runs,
    f1_view,
    groups_view,
    headline_view,
    longer_view,
    machine_numbers,
    machines_note,
    mcnemar_view,
    original_view,
    references_view,
    robustness_families,
    robustness_label,
    robustness_shown,
    robustness_view,
    suite_view,
)

__all__ = [
    "baselines_view",
    "bootstrap_view",
    "budget_text",
    "calibration_runs",
    "comparison",
    "external_references",
    "f1_view",
    "fewest_images",
    "groups_view",
    "headline",
    "headline_view",
    "improvement_runs",
    "like_with_like_pairs",
    "longer_runs",
    "longer_view",
    "machine_numbers",
    "machines_note",
    "mcnemar_comparisons",
    "mcnemar_view",
    "models_shown",
    "original_points",
    "original_view",
    "recipe_curves",
    "references_view",
    "robustness_families",
    "robustness_label",
    "robustness_shown",
    "robustness_view",
    "run_label",
    "standing_runs",
    "suite_view",
    "time_accuracy_runs",
    "time_budget_curves",
    "time_budget_histories",
    "time_budget_runs",
]

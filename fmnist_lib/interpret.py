"""What a training notebook (01-03) concludes from its own two runs.

Each of those notebooks trains one architecture twice at the same budget: with the
original's recipe (the reproduction) and with the recipe chosen on the validation
split (the improvement). This module sets both beside the original's published test
accuracy and beside the committed runs in ``results/`` that share the recipe and the
budget, and writes the notebook's closing interpretation from those numbers, so the
text always says what the outputs above it show.
"""

from __future__ import annotations

import math

import pandas as pd

from . import verdict
from .metrics import percent
from .records import record_group
from .reference import ORIGINAL_RESULTS, same_budget
from .results import recipe
from .specs import get_spec

LABELS = ("reproduction", "improvement")


def committed_accuracies(run: dict, records: list[dict]) -> list[float]:
    """Test accuracies of the committed runs in this run's group (same settings as run)."""
    group = record_group(run["config"], run["metrics"])
    return [r["metrics"]["test"]["accuracy"] for r in records if r["group"] == group]


def _spread(values: list[float]) -> dict:
    result = verdict.spread(values)
    return {
        "seeds": result.n,
        "mean": result.mean if result.n else None,
        "std": None if math.isnan(result.sd) else result.sd,
        "low": result.low,
        "high": result.high,
    }


def _placement(value: float, spread: dict) -> str:
    if not spread["seeds"]:
        return "no committed runs to compare with"
    if spread["low"] <= value <= spread["high"]:
        return "inside the committed range"
    return "above the committed range" if value > spread["high"] else "below the committed range"


def side_by_side(runs: dict[str, dict], records: list[dict]) -> pd.DataFrame:
    """One row per run (``runs``: label -> ``runs.load_run`` output): its recipe, test
    accuracy, training time, the original's figure and the committed seeds of the same
    recipe and budget.
    """
    rows = {}
    for label, run in runs.items():
        metrics = run["metrics"]
        accuracy = metrics["test"]["accuracy"]
        original = ORIGINAL_RESULTS[metrics["arch"]]["test_accuracy"]
        spread = _spread(committed_accuracies(run, records))
        rows[label] = {
            "recipe": recipe(run["config"]),
            "images seen": metrics["images_seen"],
            "test accuracy": round(accuracy, 4),
            "training time (s)": round(metrics["train_seconds"]),
            "the original": original,
            "vs the original (points)": round(100 * (accuracy - original), 2),
            "committed seeds": spread["seeds"],
            "committed mean": None if spread["mean"] is None else round(spread["mean"], 4),
            "committed sd": None if spread["std"] is None else round(spread["std"], 4),
            "this run": _placement(accuracy, spread),
        }
    return pd.DataFrame(rows).T


def interpretation(runs: dict[str, dict], records: list[dict], profile: str) -> str:
    """The notebook's conclusion in a few markdown bullets, generated from its runs."""
    first = next(iter(runs.values()))["metrics"]
    arch = first["arch"]
    original = ORIGINAL_RESULTS[arch]
    at_budget = same_budget(first["images_seen"], original["images_seen"])
    lines = []
    if not at_budget:
        lines.append(
            f"- **Profile `{profile}`: {first['images_seen']:,} images seen, the original "
            f"saw {original['images_seen']:,}.** These runs show the pipeline and the "
            "trend between the recipes, not the comparison with the original, which "
            'needs its budget (`PROFILE = "full"`).'
        )
    for label, run in runs.items():
        accuracy = run["metrics"]["test"]["accuracy"]
        diff = 100 * (accuracy - original["test_accuracy"])
        line = (
            f"- **The {label}** (`{recipe(run['config'])}`): {percent(accuracy)} test "
            f"accuracy, {diff:+.2f} points against the original's "
            f"{percent(original['test_accuracy'])}"
        )
        spread = _spread(committed_accuracies(run, records))
        if spread["seeds"]:
            sd = f" ± {100 * spread['std']:.2f}" if spread["std"] is not None else ""
            line += (
                f". The {spread['seeds']} committed run(s) of this recipe at this budget: "
                f"{percent(spread['mean'])}{sd} (range {percent(spread['low'])} to "
                f"{percent(spread['high'])}); this run is {_placement(accuracy, spread)}"
            )
            if label == "reproduction" and at_budget:
                where = _placement(original["test_accuracy"], spread).replace("committed ", "")
                line += f", and the original's single run is {where}"
        lines.append(line + ".")
    if set(LABELS) <= set(runs):
        gain = 100 * (
            runs["improvement"]["metrics"]["test"]["accuracy"]
            - runs["reproduction"]["metrics"]["test"]["accuracy"]
        )
        lines.append(
            f"- **The recipe chosen on validation** changes test accuracy by {gain:+.2f} "
            "points in this pair of runs (one seed each: read it against the committed spread)."
        )
        committed = verdict.spread(committed_accuracies(runs["improvement"], records))
        spec = get_spec(arch)
        if at_budget and committed.n and spec.target:
            target = verdict.target_verdict(spec.target, committed)
            lines.append(
                f"- **This project's target for {arch}**: the chosen recipe's {committed.n} "
                f"committed runs in this run's group average {percent(committed.mean)}; "
                f"target {target.text}."
            )
    return "\n".join(lines)

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


def _committed(run: dict, records: list[dict]) -> verdict.Spread:
    return verdict.spread(committed_accuracies(run, records))


def _placement(value: float, committed: verdict.Spread) -> str:
    if not committed.n:
        return "no committed runs to compare with"
    if committed.low <= value <= committed.high:
        return "inside the committed range"
    return "above the committed range" if value > committed.high else "below the committed range"


def original_for(arch: str) -> dict:
    """The original's run a model is set against: its own, or for a model the original
    did not have, its best network's (vgg), whose budget a user's model trains at."""
    return ORIGINAL_RESULTS.get(arch, ORIGINAL_RESULTS["vgg"])


def side_by_side(runs: dict[str, dict], records: list[dict]) -> pd.DataFrame:
    """One row per run (``runs``: label -> ``runs.load_run`` output), formatted to read:
    its recipe, test accuracy and training time, the original's figure, and the
    committed seeds of the same recipe and budget (mean ± sd (seeds)).
    """
    rows = {}
    for label, run in runs.items():
        metrics = run["metrics"]
        accuracy = metrics["test"]["accuracy"]
        original = original_for(metrics["arch"])["test_accuracy"]
        committed = _committed(run, records)
        rows[label] = {
            "recipe": recipe(run["config"]),
            "images seen": f"{metrics['images_seen']:,}",
            "test accuracy": percent(accuracy),
            "training time": f"{metrics['train_seconds']:,.0f} s",
            "the original": percent(original),
            "against the original": f"{100 * (accuracy - original):+.2f} points",
            "committed seeds": verdict.format_spread(committed.mean, committed.sd, committed.n),
            "this run": _placement(accuracy, committed),
        }
    return pd.DataFrame(rows).T


def search_table(search: dict) -> pd.DataFrame:
    """A recipe search's candidates (``results.recipe_search_for``) in the order they
    were tried: validation accuracy of seed 0, and which one was chosen."""
    scores = search["validation_accuracy"]
    return pd.DataFrame(
        {
            "validation accuracy": [percent(v) for v in scores.values()],
            "chosen": ["✓" if name == search["chosen"] else "" for name in scores],
        },
        index=pd.Index(list(scores), name="recipe"),
    )


def interpretation(runs: dict[str, dict], records: list[dict], profile: str) -> str:
    """The notebook's conclusion in a few markdown bullets, generated from its runs."""
    first = next(iter(runs.values()))["metrics"]
    arch = first["arch"]
    original = original_for(arch)
    at_budget = same_budget(first["images_seen"], original["images_seen"])
    committed = {label: _committed(run, records) for label, run in runs.items()}
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
        group = committed[label]
        if group.n:
            sd = "" if math.isnan(group.sd) else f" ± {100 * group.sd:.2f}"
            line += (
                f". The {group.n} committed run(s) of this recipe at this budget: "
                f"{percent(group.mean)}{sd} (range {percent(group.low)} to "
                f"{percent(group.high)}); this run is {_placement(accuracy, group)}"
            )
            if label == "reproduction" and at_budget:
                where = _placement(original["test_accuracy"], group).replace("committed ", "")
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
        chosen = committed["improvement"]
        spec = get_spec(arch)
        if at_budget and chosen.n and spec.target:
            target = verdict.target_verdict(spec.target, chosen)
            lines.append(
                f"- **This project's target for {arch}**: the chosen recipe's {chosen.n} "
                f"committed runs in this run's group average {percent(chosen.mean)}; "
                f"target {target.text}."
            )
    return "\n".join(lines)

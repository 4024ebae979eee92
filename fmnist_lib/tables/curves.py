"""The learning curves the evaluation draws, grouped for ``plots.curve_bands``: panels of
groups of seeds, each group a list of per-epoch histories."""

from __future__ import annotations

from ..records import machine_kind
from ..results import ORIGINAL_RECIPE, recipe_group
from .core import headline, models_shown

Panels = dict[str, dict[str, list[list[dict]]]]


def _seeds(runs: list[dict]) -> str:
    return f"{len(runs)} seed{'' if len(runs) == 1 else 's'}"


def time_budget_curves(records: list[dict], budget_seconds: float = 3600) -> Panels:
    """The groups trained for ``budget_seconds``, one panel per kind of machine (a budget
    buys each kind its own epochs), each group labelled ``model · recipe (seeds)``."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in sorted(records, key=lambda r: r["name"]):
        if r["config"]["budget_seconds"] == budget_seconds:
            kind = machine_kind(r["metrics"]["hardware"])
            groups.setdefault((kind, r["group"]), []).append(r)
    panels: Panels = {}
    for (kind, _), runs in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[1][0]["name"])):
        label = f"{runs[0]['model']} · {runs[0]['recipe']} ({_seeds(runs)})"
        panels.setdefault(kind, {})[label] = [r["history"] for r in runs]
    return panels


def recipe_curves(records: list[dict]) -> Panels:
    """Each model's reproduction beside its improvement (the headline's groups), one panel
    per model with a reproduction or of a user's; groups labelled ``recipe (seeds)``."""
    table = headline(records)
    panels: Panels = {}
    for model in models_shown(records):
        if model not in table.index:
            continue
        row = table.loc[model]
        reproduction = recipe_group(records, model, None)
        improvement = [r for r in records if r["group"] == row["improvement group"]]
        if not reproduction and row["role"] != "user":
            continue
        panel = {}
        for name, runs in (
            (ORIGINAL_RECIPE, reproduction),
            (row["improvement recipe"], improvement),
        ):
            if runs:
                panel[f"{name} ({_seeds(runs)})"] = [r["history"] for r in runs]
        panels[model] = panel
    return panels

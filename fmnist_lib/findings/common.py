"""Shared pieces of the findings: table lines, point differences, spreads, reproductions."""

from __future__ import annotations

import re

import pandas as pd

from .. import results
from ..experiments import EXPERIMENTS, IMPROVEMENT
from ..specs import SPECS
from ..verdict import format_spread, reproduction_match, spread

# bf16 becomes a recipe's precision only within this many points of float32's mean.
PRECISION_TOLERANCE_POINTS = 0.2
# Candidates this close to the chosen recipe on validation form its plateau.
PLATEAU = 0.0015
RECIPES_LINK = "README.md#recipes"  # the recipe table, inside results/
SEARCH_TITLE = "What does the search on Optuna add?"


def anchor(title: str) -> str:
    """The link anchor GitHub gives a heading: lower case, punctuation dropped, spaces
    as hyphens."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def markdown(table: pd.DataFrame) -> list[str]:
    """A table's lines, written by pandas (numbers already formatted as text)."""
    return table.to_markdown(index=False, tablefmt="github", disable_numparse=True).split("\n")


def points(value: float) -> str:
    return "—" if pd.isna(value) else f"{100 * value:+.2f} points"


def spreads(table: pd.DataFrame, columns: list[str]) -> list[str]:
    return [format_spread(*row) for row in table[columns].values]


def tests(runs: list[dict]) -> list[float]:
    return [r["metrics"]["test"]["accuracy"] for r in runs]


def reproductions(records: list[dict]) -> dict:
    """Each original architecture's reproduction: (its spread, ``verdict.Match``)."""
    found = {}
    for spec in SPECS.values():
        runs = results.recipe_group(records, spec.name, None) if spec.original else []
        if runs:
            result = spread(tests(runs))
            machines = sorted({results.machine(r) for r in runs})
            match = reproduction_match(spec.original["test_accuracy"], result, machines)
            found[spec.name] = (result, match)
    return found


def group_runs(records: list[dict], group: str) -> list[dict]:
    return sorted((r for r in records if r["group"] == group), key=lambda r: r["metrics"]["seed"])


def kept_epochs(runs: list[dict]) -> str:
    """Each seed's kept checkpoint (lowest validation loss): ``63 of 214, 56 of 214``."""
    return ", ".join(f"{r['metrics']['best_epoch']} of {r['metrics']['epochs']}" for r in runs)


def improved(head: pd.DataFrame, records: list[dict]) -> pd.Series:
    """Which headline rows have an improvement of their own. A model with a declared
    improvement has one only once that experiment is recorded: before, its group best on
    validation is its reproduction, and the improvement's target is not theirs to meet."""
    declared = {e.model: e.id for e in EXPERIMENTS.values() if e.role == IMPROVEMENT}
    recorded = {r["experiment"] for r in records}
    return pd.Series(
        [
            seeds > 0 and (model not in declared or declared[model] in recorded)
            for model, seeds in head.get("improvement seeds", pd.Series(dtype=int)).items()
        ],
        index=head.index,
        dtype=bool,
    )

"""The README's findings: at most six bullets, each generated from results/."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import tables
from ..metrics import percent
from ..reference import TARGET_SEEDS
from ..specs import OWN, SPECS
from ..verdict import format_spread
from .common import improved, points, reproductions
from .longer import eighty_epochs
from .speed import robustness_sentence, speed_sentence


def _reproduction_bullet(records: list[dict]) -> str:
    found = reproductions(records)
    if not found:
        return ""
    matched = [name for name, (_, match) in found.items() if match.matched]
    each = "; ".join(
        f"{name} {result.describe()} against {percent(SPECS[name].original['test_accuracy'])}"
        + ("" if match.matched else " (**not matched**)")
        for name, (result, match) in found.items()
    )
    return (
        f"**Reproduction**: {len(matched)} of {len(found)} reproductions match the original's "
        f"single run (within two spreads of the mean over seeds): {each}."
    )


def _improvement_bullet(head: pd.DataFrame, records: list[dict]) -> str:
    rows = head[(head["role"] != OWN) & improved(head, records)]
    if rows.empty:
        return ""
    each = "; ".join(
        f"{model} {points(row['improvement − original'])} ({row['target']})"
        for model, row in rows.iterrows()
    )
    return (
        "**Improvement** at the original's budget, the recipe chosen on validation against "
        f"the original (target: a full point above it, mean of {TARGET_SEEDS} seeds): {each}."
    )


def _hour_bullet(head: pd.DataFrame, records: list[dict]) -> str:
    own = head[(head["role"] == OWN) & improved(head, records)]
    if own.empty:
        return ""
    full = own[own["improvement seeds"] >= TARGET_SEEDS]
    best = (full if not full.empty else own)["improvement"].idxmax()
    columns = ["improvement", "improvement sd", "improvement seeds"]
    others = ", ".join(
        f"{model} {format_spread(*row[columns])} in {row['improvement seconds'] / 60:.0f} min"
        for model, row in own.drop(index=best).iterrows()
    )
    row = own.loc[best]
    return (
        f"**Own model, one hour of training on 2 CPU cores**: {best} with "
        f"{row['improvement recipe']} scores "
        f"{format_spread(row['improvement'], row['improvement sd'], row['improvement seeds'])}, "
        f"target {row['target']}" + (f"; {others}." if others else ".")
    )


def abstract(records: list[dict], results_dir) -> list[str]:
    """The README's findings in at most six bullets, each generated from results/."""
    results_dir = Path(results_dir)
    head = tables.headline(records) if records else pd.DataFrame()
    speed = speed_sentence(results_dir)
    bullets = [
        _reproduction_bullet(records),
        _improvement_bullet(head, records) if not head.empty else "",
        eighty_epochs(records),
        _hour_bullet(head, records) if not head.empty else "",
        f"**Speed** against the original's pipeline rebuilt on tf.keras 2, {speed}."
        if speed
        else "",
        robustness_sentence(results_dir),
    ]
    return [f"* {bullet}" for bullet in bullets if bullet]

"""The one place that decides: the spread over seeds, targets met or missed, and
whether a reproduction matches the original.

Every table and text (README, results/README.md, the notebooks' findings and
interpretations) reads its verdicts from here.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from .specs import Target

MET, MISSED, OPEN, NOT_APPLICABLE = "met", "missed", "open", "n/a"
# The least spread a reproduction is judged with, in accuracy: one seed of arch1's
# original recipe scored from 90.2% to 90.9% across this project's machines, so the
# seeds' spread on one machine understates how far a rerun elsewhere may land.
MACHINE_SPREAD = 0.003


@dataclass(frozen=True)
class Spread:
    """Mean, sample standard deviation (nan with one value), count, low and high."""

    mean: float
    sd: float
    n: int
    low: float
    high: float

    def describe(self) -> str:
        return format_spread(self.mean, self.sd, self.n)


def format_spread(mean: float, sd: float, n: int) -> str:
    """``93.27% ± 0.25 (3)``; one seed has no ± part, none is a dash."""
    if not n:
        return "—"
    spread_text = "" if math.isnan(sd) else f" ± {100 * sd:.2f}"
    return f"{100 * mean:.2f}%{spread_text} ({int(n)})"


def spread(values) -> Spread:
    """The spread of accuracies over seeds: the one place it is computed."""
    values = [float(v) for v in values]
    if not values:
        return Spread(math.nan, math.nan, 0, math.nan, math.nan)
    sd = statistics.stdev(values) if len(values) > 1 else math.nan
    return Spread(statistics.fmean(values), sd, len(values), min(values), max(values))


@dataclass(frozen=True)
class Verdict:
    state: str  # MET, MISSED, OPEN or NOT_APPLICABLE
    text: str  # the target and the state in words, for a table cell


def target_verdict(
    target: Target, result: Spread, train_seconds: float | None = None, on_gpu: bool = False
) -> Verdict:
    """Where a group of seeds stands against its model's target.

    Open while fewer seeds than the target asks for are recorded; a time target is for
    the 2-core CPU, so a GPU run neither meets nor misses it, and a run over the time
    misses it.
    """
    goal = target.describe()
    if target.max_train_seconds and on_gpu:
        return Verdict(NOT_APPLICABLE, f"{goal}: n/a (a GPU run; the target is for the CPU)")
    if result.n < target.seeds:
        return Verdict(OPEN, f"{goal}: open ({result.n} of {target.seeds} seeds)")
    in_time = not target.max_train_seconds or (
        train_seconds is not None and train_seconds <= target.max_train_seconds
    )
    state = MET if in_time and result.mean >= target.accuracy else MISSED
    return Verdict(state, f"{goal}: **{state}**")


@dataclass(frozen=True)
class Match:
    matched: bool
    low: float
    high: float
    text: str


def reproduction_match(original: float, result: Spread, machines: list[str]) -> Match:
    """Whether the original's single run lies within two spreads of the seeds' mean.

    The spread is the seeds' standard deviation, at least ``MACHINE_SPREAD``; the text
    names the interval and the machines the seeds trained on.
    """
    sd = result.sd if not math.isnan(result.sd) else 0.0
    half = 2 * max(sd, MACHINE_SPREAD)
    low, high = result.mean - half, result.mean + half
    matched = low <= original <= high
    text = (
        f"{'**matched**' if matched else '**not matched**'}: the original's "
        f"{100 * original:.2f}% is {'inside' if matched else 'outside'} "
        f"{100 * low:.2f}–{100 * high:.2f}% (mean ± 2 × max(sd, "
        f"{100 * MACHINE_SPREAD:.1f} points) over {result.n} seeds on "
        f"{'; '.join(machines) or 'unknown machines'})"
    )
    return Match(matched, low, high, text)

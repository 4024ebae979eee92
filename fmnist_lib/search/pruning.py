"""Pruning: stop a trial whose per-epoch validation accuracy trails the study's.

``PRUNERS`` are the candidates, as data; ``compare_pruners`` replays recorded
learning curves through each of them, in the order they were recorded and in
shuffled orders, and measures what each would have saved in training time and
whether it would have stopped the eventual winner.
"""

from __future__ import annotations

import random
import statistics

import keras

STARTUP_TRIALS = 5
# name: (Optuna pruner, its arguments, the share of a trial's epochs before it may
# act). Cosine schedules gain most of their accuracy late, so early epochs say
# little about the end: the later a pruner starts, the safer and the less it saves.
PRUNERS: dict[str, tuple[str, dict, float]] = {
    "none": ("NopPruner", {}, 0.0),
    "median-third": ("MedianPruner", {"n_startup_trials": STARTUP_TRIALS}, 1 / 3),
    "median-half": ("MedianPruner", {"n_startup_trials": STARTUP_TRIALS}, 1 / 2),
    "median-two-thirds": ("MedianPruner", {"n_startup_trials": STARTUP_TRIALS}, 2 / 3),
    "percentile75-half": (
        "PercentilePruner",
        {"percentile": 75.0, "n_startup_trials": STARTUP_TRIALS},
        1 / 2,
    ),
    "halving-third": ("SuccessiveHalvingPruner", {"reduction_factor": 3}, 1 / 3),
    "hyperband-third": ("HyperbandPruner", {"reduction_factor": 3}, 1 / 3),
}


def make_pruner(name: str, epochs: int):
    """An Optuna pruner by its name in ``PRUNERS``, for trials of ``epochs`` epochs."""
    import optuna

    class_name, kwargs, share = PRUNERS[name]
    start = max(1, round(share * epochs))
    if class_name in ("MedianPruner", "PercentilePruner"):
        kwargs = {**kwargs, "n_warmup_steps": start}
    elif class_name == "SuccessiveHalvingPruner":
        kwargs = {**kwargs, "min_resource": start}
    elif class_name == "HyperbandPruner":
        kwargs = {**kwargs, "min_resource": start, "max_resource": epochs}
    return getattr(optuna.pruners, class_name)(**kwargs)


# A time budget fits each trial its own number of epochs, so its trials report on a
# common scale: the share of their training done, in percent. The median pruner
# compares a trial only with finished trials that reported the very same step, so
# every trial reports every percent: an epoch's accuracy stands for each share
# after the previous epoch's, up to its own (rounded down).
PERCENT_STEPS = 100


def report_steps(epoch: int, epochs: int, by_share: bool) -> range:
    """The steps a trial reports after ``epoch`` (1-based) of ``epochs``: the epoch itself,
    or by share the percents since the previous epoch's (empty when none has passed)."""
    if not by_share:
        return range(epoch, epoch + 1)
    return range(PERCENT_STEPS * (epoch - 1) // epochs + 1, PERCENT_STEPS * epoch // epochs + 1)


class PruningReporter(keras.callbacks.Callback):
    """Report each epoch's validation accuracy to the trial; stop it when told to prune."""

    def __init__(self, trial, by_share: bool = False):
        super().__init__()
        self.trial = trial
        self.by_share = by_share

    def on_epoch_end(self, epoch, logs=None):
        import optuna

        steps = report_steps(epoch + 1, self.params["epochs"], self.by_share)
        for step in steps:
            self.trial.report(float(logs["val_accuracy"]), step)
        if steps and self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned after epoch {epoch + 1}")


def replay(pruner_name: str, curves: list[dict]) -> dict:
    """One pass of ``curves`` (dicts of val_accuracy per epoch, final value, epoch seconds)
    through a pruner in a fresh in-memory study."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    longest = max(len(curve["val_accuracy"]) for curve in curves)
    study = optuna.create_study(direction="maximize", pruner=make_pruner(pruner_name, longest))
    saved = total = 0.0
    pruned = []
    for index, curve in enumerate(curves):
        trial = study.ask()
        epochs = len(curve["val_accuracy"])
        total += epochs * curve["epoch_seconds"]
        for step, value in enumerate(curve["val_accuracy"], start=1):
            trial.report(value, step)
            if trial.should_prune():
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                saved += (epochs - step) * curve["epoch_seconds"]
                pruned.append(index)
                break
        else:
            study.tell(trial, curve["value"])
    winner = max(range(len(curves)), key=lambda i: curves[i]["value"])
    kept = max(c["value"] for i, c in enumerate(curves) if i not in pruned)
    return {
        "regret": curves[winner]["value"] - kept,
        "pruned": len(pruned),
        "saved_share": saved / total if total else 0.0,
        "saved_seconds": saved,
        "winner_pruned": winner in pruned,
    }


def compare_pruners(curves: list[dict], shuffles: int = 20, seed: int = 0) -> list[dict]:
    """Each pruner over the recorded order and ``shuffles`` shuffled orders of ``curves``.

    Returns a row per pruner: trials pruned and CPU time saved (median over orders),
    whether it pruned the winner in the recorded order, and in how many orders it did.
    """
    rng = random.Random(seed)
    orders = [list(curves)] + [rng.sample(curves, len(curves)) for _ in range(shuffles)]
    rows = []
    for name in PRUNERS:
        passes = [replay(name, order) for order in orders]
        rows.append(
            {
                "pruner": name,
                "curves": len(curves),
                "pruned": statistics.median(p["pruned"] for p in passes),
                "saved_share": statistics.median(p["saved_share"] for p in passes),
                "saved_hours": statistics.median(p["saved_seconds"] for p in passes) / 3600,
                "regret_points": 100 * statistics.median(p["regret"] for p in passes),
                "worst_regret_points": 100 * max(p["regret"] for p in passes),
                "winner_pruned_recorded_order": passes[0]["winner_pruned"],
                "winner_pruned_orders": sum(p["winner_pruned"] for p in passes),
                "orders": len(passes),
            }
        )
    return rows


# Validation accuracy on 6,000 images moves by 0.28 points (one binomial sd at 95%)
# between two draws of the same run; a pruner that costs more than a third of that
# in the worst order, or anything in the median order, is not worth its saving.
MAX_WORST_REGRET_POINTS = 0.1


def choose_pruner(rows: list[dict]) -> str:
    """The pruner saving the most time (median over orders) among those that lose
    nothing in the median order and at most MAX_WORST_REGRET_POINTS in the worst."""
    safe = [
        row
        for row in rows
        if row["regret_points"] == 0 and row["worst_regret_points"] <= MAX_WORST_REGRET_POINTS
    ]
    return max(safe, key=lambda row: row["saved_share"])["pruner"]


def curves_from_records(records: list[dict]) -> list[dict]:
    """The learning curves of recorded runs, in the order given."""
    curves = []
    for record in records:
        history = record.get("history") or []
        if not history:
            continue
        curves.append(
            {
                "name": record["name"],
                "val_accuracy": [row["val_accuracy"] for row in history],
                "value": record["metrics"]["selection_val_accuracy"],
                "epoch_seconds": statistics.mean(row["train_seconds"] for row in history),
            }
        )
    return curves


def pruner_table(rows: list[dict]) -> str:
    """The comparison as a Markdown table."""
    import pandas as pd

    table = pd.DataFrame(rows).set_index("pruner")
    table["saved_share"] = (100 * table["saved_share"]).round(0).astype(int).astype(str) + "%"
    return table.round(3).to_markdown()

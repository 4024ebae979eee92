"""The findings page's section on the Optuna searches: the pruner's choice and each study."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..config import TrainConfig
from ..recipes import STUDY_RECIPE_PREFIX, study_trial
from ..reference import TARGET_SEEDS
from ..results import on_gpu
from ..search.figures import (
    best_trials,
    load_model_study,
    settings_text,
    shared_settings,
    trial_source,
)
from ..search.pruning import MAX_WORST_REGRET_POINTS
from ..search.studies import declared
from ..search.study import SEARCH_DIR, config_budget, counts
from ..specs import SPECS
from ..verdict import format_spread, spread, target_verdict
from .common import SEARCH_TITLE, markdown, tests


def pruner_table(comparison: dict) -> pd.DataFrame:
    """A pruner comparison (``fmnist search --compare-pruners``) for reading."""
    table = pd.DataFrame(comparison["rows"])
    orders = int(table["orders"].iloc[0])
    shown = pd.DataFrame(
        {
            "pruner": table["pruner"],
            "pruned (median)": table["pruned"].map(lambda n: f"{n:g} of {table['curves'][0]}"),
            "training time saved": table["saved_share"].map(lambda s: f"{100 * s:.0f}%"),
            "loss, median order": table["regret_points"].map(lambda p: f"{p:.2f} points"),
            "loss, worst order": table["worst_regret_points"].map(lambda p: f"{p:.2f} points"),
            "winner pruned in": table["winner_pruned_orders"].map(
                lambda n: f"{n} of {orders} orders"
            ),
        }
    )
    return shown.set_index("pruner")


def _pruner_lines(search_dir: Path) -> list[str]:
    lines = []
    for path in sorted(search_dir.glob("pruners-*.json")):
        comparison = pd.read_json(path, typ="series")
        study = comparison["study"]
        lines += [
            f"**Choosing the pruner** ({study}). The recorded learning curves of the model at "
            "its budget were replayed through each candidate, in the recorded order and in "
            "shuffled ones; a pruner may cost nothing in the median order and at most "
            f"{MAX_WORST_REGRET_POINTS} points of validation accuracy in the worst (the "
            f"loss: the best run kept against the best run there was). Chosen: "
            f"**{comparison['chosen']}**.",
            "",
            *markdown(pruner_table(comparison).reset_index()),
            "",
        ]
    return lines


def confirmations(study, records: list[dict]) -> pd.DataFrame:
    """The study's confirmed trials, one row per experiment: the runs recorded under a
    study recipe (``search:<study>#<N>``, at any budget) and, when the best trial is a
    recorded run, that run's group, whose seeds were trained by the hand search."""
    prefix = f"{STUDY_RECIPE_PREFIX}{study.study_name}#"
    groups: dict[str, list[dict]] = {}
    for record in records:
        if record["recipe"].startswith(prefix):
            groups.setdefault(record["experiment"], []).append(record)
    best = study.best_trial if counts(study).get("COMPLETE") else None
    trial_of = {e: study_trial(runs[0]["recipe"])[1] for e, runs in groups.items()}
    if best is not None and best.user_attrs.get("record"):
        named = [r for r in records if r["name"] == best.user_attrs["record"]]
        if named:
            group = [r for r in records if r["group"] == named[0]["group"]]
            groups[named[0]["experiment"]] = group
            trial_of[named[0]["experiment"]] = best.number
    spec = SPECS.get(study.user_attrs.get("protocol", {}).get("model"))
    # At one budget, the trial that trained every seed won on validation over the others.
    winners = {
        _budget_of(runs[0]): trial_of[experiment]
        for experiment, runs in groups.items()
        if len({r["metrics"]["seed"] for r in runs}) >= TARGET_SEEDS
    }
    rows = []
    for experiment, runs in sorted(groups.items(), key=lambda item: trial_of[item[0]]):
        runs = sorted(runs, key=lambda r: r["metrics"]["seed"])
        result = spread(tests(runs))
        seconds = sum(r["metrics"]["train_seconds"] for r in runs) / len(runs)
        target = spec.target if spec is not None else None
        gpu = any(map(on_gpu, runs))
        winner = winners.get(_budget_of(runs[0]), trial_of[experiment])
        if winner != trial_of[experiment]:
            verdict = f"not chosen: trial {winner} was better on validation"
        else:
            verdict = target_verdict(target, result, seconds, gpu).text if target else "—"
        rows.append(
            {
                "trial": str(trial_of[experiment]),
                "experiment": experiment,
                "validation, seed 0": f"{100 * runs[0]['metrics']['selection_val_accuracy']:.2f}%"
                if runs[0]["metrics"]["seed"] == 0
                else "—",
                "test accuracy": format_spread(result.mean, result.sd, result.n),
                "training per run": f"{seconds / 60:.0f} min",
                "target": verdict,
            }
        )
    return pd.DataFrame(rows)


def _budget_of(record: dict):
    """The budget a recorded run trained for (``search.study.config_budget``)."""
    return config_budget(TrainConfig.from_dict(record["config"]))


def _trained_here(trial) -> bool:
    """Whether the study trained the trial (sampled or seeded), not a recorded run's."""
    source = trial_source(trial)
    return source == "sampled" or source.startswith("seeded")


def pruning_saved(study) -> str:
    """What pruning saved in the trials the study trained, in training steps (epochs, or
    percent of a time budget): the steps they trained against all of them to the end;
    empty until it has stopped one."""
    finished = [
        t
        for t in study.get_trials(deepcopy=False)
        if _trained_here(t) and t.state.name in ("COMPLETE", "PRUNED")
    ]
    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    if not finished or not complete:
        return ""
    full = max(_last_step(t) for t in complete)
    trained = sum(_last_step(t) for t in finished)
    pruned = [t for t in finished if t.state.name == "PRUNED"]
    if not pruned:
        return ""
    timed = study.user_attrs.get("protocol", {}).get("base", {}).get("budget_seconds")
    unit = "of the time budgets" if timed else "of the epochs"
    share = trained / (full * len(finished))
    stops = sorted(round(100 * _last_step(t) / full) for t in pruned)
    where = f"{stops[0]}%" if stops[0] == stops[-1] else f"{stops[0]}–{stops[-1]}%"
    return (
        f"Pruning stopped {len(pruned)} of the {len(finished)} trials the study trained, at "
        f"{where} of their training; all {len(finished)} together ran {100 * share:.0f}% "
        f"{unit} they would have run to the end, saving {100 * (1 - share):.0f}% of the "
        "study's training."
    )


def _last_step(trial) -> int:
    """The last step (epoch, or percent of a time budget) a trial reported; 0 if none."""
    return trial.last_step or 0


def failures(study) -> str:
    """Why the study's failed trials failed: killed workers, whose trials were retried,
    and trials declared void; empty when none failed."""
    failed = [t for t in study.get_trials(deepcopy=False) if t.state.name == "FAIL"]
    if not failed:
        return ""
    retried = {
        t.system_attrs["failed_trial"]
        for t in study.get_trials(deepcopy=False)
        if "failed_trial" in t.system_attrs
    }
    killed = [t.number for t in failed if t.number in retried]
    void = [t for t in failed if "void" in t.user_attrs]
    other = len(failed) - len(killed) - len(void)
    parts = []
    if killed:
        parts.append(
            f"{len(killed)} stopped when a worker was killed mid-trial, and "
            f"{'each was' if len(killed) > 1 else 'was'} retried with the same settings"
        )
    parts += [f"trial {t.number} is void ({t.user_attrs['void']})" for t in void]
    if other:
        parts.append(f"{other} failed and {'were' if other > 1 else 'was'} not retried")
    if len(failed) > 1:
        return f"Of its {len(failed)} failed trials, " + "; ".join(parts) + "."
    if void:
        return (
            f"Its one failed trial, trial {void[0].number}, is void ({void[0].user_attrs['void']})."
        )
    if killed:
        return (
            "Its one failed trial stopped when a worker was killed mid-trial, and was retried "
            "with the same settings."
        )
    return "Its one failed trial was not retried."


def _confirmation_lines(study, records: list[dict]) -> list[str]:
    table = confirmations(study, records)
    if table.empty:
        plan = declared(study.study_name)
        what = (
            f"trains its {plan.confirm_top} best trials for {plan.confirm_budget.describe()} "
            "with the first seed, then the best of them with the other seeds"
            if plan is not None and plan.confirm_budget is not None
            else "trains the best with the other seeds"
        )
        return [
            "No trial of it is confirmed yet: `fmnist search --study "
            f"{study.study_name} --confirm` {what}.",
            "",
        ]
    return [
        "Its confirmed trials, each scored once on the test set. The one best on "
        "validation trains the reference seeds; at a budget other than the study's, its "
        "best trials first train seed 0 there, and the best of them on validation trains "
        "the other seeds:",
        "",
        *markdown(table),
        "",
    ]


def _study_lines(model: str, search_dir: Path, records: list[dict]) -> list[str]:
    study = load_model_study(model, search_dir)
    if study is None:
        return []
    trials = study.get_trials(deepcopy=False)
    # Most frequent state first; equals in the order they first occur.
    tallied = counts(study)
    states = sorted(tallied.items(), key=lambda item: -item[1])
    recorded = [t for t in trials if trial_source(t).startswith("recorded")]
    sampled = [t for t in trials if trial_source(t) == "sampled" and t.value is not None]
    tally = ", ".join(f"{n} {state.lower()}" for state, n in states)
    protocol = study.user_attrs.get("protocol", {})
    seconds = protocol.get("base", {}).get("budget_seconds")
    lines = [
        f"**The study of {model}** ({study.study_name}): {len(trials)} "
        f"trial{'s' if len(trials) != 1 else ''} ({tally})"
        + (f"; {len(recorded)} are the recorded runs of the hand search." if recorded else ".")
    ]
    if seconds:
        lines[-1] += (
            f" Each trial trains for {seconds / 60:g} minutes on "
            f"{protocol.get('machine', 'one kind of machine')}."
        )
    # What a study's keeper wrote into it (user attribute "notes"), e.g. how the
    # machine of trials older than a protocol field was established.
    for note in study.user_attrs.get("notes", []):
        lines[-1] += f" {note}"
    seeded = [t for t in trials if trial_source(t).startswith("seeded")]
    if seeded:
        *others, last = [str(t.number) for t in seeded]
        numbers = f"{', '.join(others)} and {last}" if others else last
        recipes = "; ".join(t.user_attrs["seeded"] for t in seeded)
        lines[-1] += (
            f" Trial{'s' if len(seeded) > 1 else ''} {numbers} "
            f"{'are' if len(seeded) > 1 else 'is'} seeded with the hand search's recipe "
            f"({recipes}), trained under the same protocol."
        )
    completed = [t for t in sampled if t.state.name == "COMPLETE"]
    if completed:
        best = max(completed, key=lambda t: t.value)
        scored = [t.value for t in recorded if t.value is not None]
        rivals = [f"the hand search's best {100 * max(scored):.2f}%"] if scored else []
        rivals += [
            f"{100 * t.value:.2f}% for the seeded trial {t.number}"
            for t in seeded
            if t.state.name == "COMPLETE"
        ]
        against = f" against {' and '.join(rivals)}" if rivals else ""
        lines[-1] += (
            f" The best sampled trial (trial {best.number}) scores "
            f"{100 * best.value:.2f}% on validation{against}."
        )
    for sentence in (failures(study), pruning_saved(study)):
        if sentence:
            lines[-1] += " " + sentence
    complete = tallied.get("COMPLETE", 0)
    if not complete:
        return [*lines, ""]
    shared = settings_text(shared_settings(study))
    return [
        *lines,
        "",
        f"Its best trials, which all share {shared or 'no setting'}:"
        if complete > 1
        else "Its one completed trial so far:",
        "",
        *markdown(best_trials(study).reset_index()),
        "",
        *_confirmation_lines(study, records),
    ]


def search_section(records: list[dict], search_dir: Path = SEARCH_DIR) -> list[str]:
    """## What does the search on Optuna add? (empty when no search was run)."""
    search_dir = Path(search_dir)
    studies = sorted(p.stem for p in search_dir.glob("*.db"))
    pruners = _pruner_lines(search_dir)
    if not studies and not pruners:
        return []
    lines = [
        f"## {SEARCH_TITLE}",
        "",
        "`fmnist search` samples recipes from a space wider than the hand search's "
        "(`fmnist_lib/search/space.py`), one seed per trial at the study's budget, and "
        "keeps each study in `results/search/`; the model's recorded runs at that budget "
        "enter it as completed trials. Trials are scored on validation only.",
        "",
        *pruners,
    ]
    for model in studies:
        lines += _study_lines(model, search_dir, records)
    return lines

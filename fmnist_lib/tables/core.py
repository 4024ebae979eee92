"""The tables read from the records: the headline, longer runs, fixed-time runs,
McNemar tests and the points of the accuracy-against-time figure.

Every table has named columns; groups, spreads and verdicts come from
``fmnist_lib.results``, ``fmnist_lib.verdict`` and the model specs. A model the
registry does not know (``specs.role_of``: a user's) is shown wherever its records are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..experiments import EXPERIMENTS, IMPROVEMENT, LONGER
from ..metrics import holm, mcnemar_test
from ..paths import RESULTS_DIR
from ..recipes import same_training
from ..records import machine_kind
from ..reference import (
    HUMAN_PERFORMANCE,
    ORIGINAL_MACHINE,
    ORIGINAL_VGG_80_EPOCHS,
    PUBLISHED_SVC_RBF_C10,
    original_run,
)
from ..results import (
    ORIGINAL_RECIPE,
    by_validation,
    confirmed_study_winner,
    load_probabilities,
    machine,
    on_gpu,
    recipe,
    recipe_group,
    recipe_representative,
    representatives,
    summary,
)
from ..specs import OWN, SPECS, USER, role_of
from ..verdict import reproduction_match, spread, target_verdict


def models_shown(records: list[dict]) -> list[str]:
    """The models with records: the registry's in its order, then users' models by name."""
    recorded = {r["model"] for r in records}
    return [m for m in SPECS if m in recorded] + sorted(recorded - set(SPECS))


def fewest_images(runs: list[dict]) -> tuple[int, int]:
    """Images seen and epochs of one seed, the one with the fewest images: a time
    budget's seeds each fit their own epochs, so the two are read from one run."""
    run = min(runs, key=lambda r: (r["metrics"]["images_seen"], r["name"]))
    return run["metrics"]["images_seen"], run["metrics"]["epochs"]


def improvement_runs(records: list[dict], model: str) -> tuple[str, list[dict]]:
    """The improvement's label and runs: the declared improvement where recorded (or a
    study's confirmed trial that beats it on validation, ``confirmed_study_winner``),
    else (own and users' models) the group best on validation
    (``results.representatives``) among the model's runs other than its reproduction,
    which is never its improvement."""
    declared = [e for e in EXPERIMENTS.values() if e.model == model and e.role == IMPROVEMENT]
    runs = [r for r in records if declared and r["experiment"] == declared[0].id]
    if runs:
        winner = confirmed_study_winner(records, model, runs)
        return (winner[0]["recipe"], winner) if winner else (declared[0].recipe, runs)
    reproduction = {r["name"] for r in recipe_group(records, model, None)}
    others = [r for r in records if r["model"] == model and r["name"] not in reproduction]
    if not others:
        return "", []
    chosen = representatives(others)[model]
    spec = SPECS.get(model)
    own = spec is not None and spec.role == OWN and chosen["recipe"] == spec.recipe
    return "own recipe" if own else chosen["recipe"], [
        r for r in records if r["group"] == chosen["group"]
    ]


def _reproduction_match(model: str, runs: list[dict]):
    """Whether the reproduction matches the original's run (``verdict.reproduction_match``)."""
    spec = SPECS.get(model)
    if not (runs and spec and spec.original):
        return None
    machines = sorted({machine(r) for r in runs})
    return reproduction_match(spec.original["test_accuracy"], spread(_tests(runs)), machines)


def _headline_row(records: list[dict], model: str) -> dict | None:
    """One model's headline; None without records. A model without an improvement (a
    reproduction alone) gets no target verdict: the target is the improvement's."""
    spec = SPECS.get(model)
    reproduction = recipe_group(records, model, None)
    label, improvement = improvement_runs(records, model)
    if not reproduction and not improvement:
        return None
    repro, better = spread(_tests(reproduction)), spread(_tests(improvement))
    shown = improvement or reproduction
    seconds = np.mean([r["metrics"]["train_seconds"] for r in shown])
    gpu = any(map(on_gpu, improvement))
    verdict = (
        target_verdict(spec.target, better, seconds, gpu)
        if improvement and spec is not None and spec.target
        else None
    )
    original = spec.original["test_accuracy"] if spec and spec.original else np.nan
    match = _reproduction_match(model, reproduction)
    images, epochs = fewest_images(shown)
    return {
        "role": role_of(model),
        "images seen": images,
        "epochs": epochs,
        "original": original,
        "reproduction": repro.mean,
        "reproduction sd": repro.sd,
        "reproduction seeds": repro.n,
        "reproduction verdict": match.text if match else "",
        "reproduction matched": match.matched if match else None,
        "improvement recipe": label,
        "improvement recipe text": recipe(improvement[0]["config"]) if improvement else "",
        "improvement": better.mean,
        "improvement sd": better.sd,
        "improvement seeds": better.n,
        "improvement − original": better.mean - original,
        "improvement seconds": seconds,
        "gpu": gpu,
        "verdict": verdict.state if verdict else "",
        "target": verdict.text if verdict else "",
        "machine": "; ".join(sorted({machine(r) for r in reproduction + improvement})),
        "reproduction group": reproduction[0]["group"] if reproduction else "",
        "improvement group": improvement[0]["group"] if improvement else "",
    }


def headline(records: list[dict]) -> pd.DataFrame:
    """One row per model with records (users' models too): the original, its reproduction
    and whether it matches, the improvement chosen on validation and its verdict against
    the model's target. ``images seen`` and ``epochs`` are one seed's (``fewest_images``)."""
    rows = {}
    for model in models_shown(records):
        row = _headline_row(records, model)
        if row is not None:
            rows[model] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


def _tests(runs: list[dict]) -> list[float]:
    return [r["metrics"]["test"]["accuracy"] for r in runs]


def comparison(records: list[dict]) -> pd.DataFrame:
    """The summary as a readable table, with the original's run at about that budget."""
    table = summary(records)
    if table.empty:
        return table
    original = pd.Series(
        [_original_at(m, n) for m, n in zip(table["model"], table["images_seen"], strict=True)],
        dtype=float,
    )
    return pd.DataFrame(
        {
            "model": table["model"],
            "trainable params": table["params"],
            "images seen": table["images_seen"],
            "epochs": table["epochs"],
            "recipe": table["recipe name"],
            "seeds": table["seeds"],
            "training time (s)": table["seconds"].round(0),
            "test accuracy (mean)": table["mean"].round(4),
            "std": table["std"].round(4),
            "original: test accuracy": original,
            "difference": (table["mean"] - original).round(4),
        }
    ).set_index("model")


def _original_at(model: str, images_seen: int) -> float:
    """The original's test accuracy for ``model`` at about this budget, else nan."""
    return original_run(model, images_seen).get("test_accuracy", np.nan)


def longer_runs(records: list[dict], arch: str = "vgg") -> pd.DataFrame:
    """``arch``'s groups beyond its budget, after the original's 80-epoch VGG run."""
    rows = []
    if arch == "vgg":
        rows.append(
            {
                "who": "the original (80 epochs)",
                "recipe": ORIGINAL_RECIPE,
                "images seen": ORIGINAL_VGG_80_EPOCHS["images_seen"],
                "seeds": 1,
                "test accuracy": ORIGINAL_VGG_80_EPOCHS["test_accuracy"],
                "sd": np.nan,
                "seconds": ORIGINAL_VGG_80_EPOCHS["train_seconds"],
                "machine": ORIGINAL_MACHINE,
            }
        )
    table = summary([r for r in records if r["model"] == arch])
    if table.empty:
        return pd.DataFrame(rows)
    for _, row in table[table["role"] == LONGER].iterrows():
        rows.append(
            {
                "who": f"this project ({row['epochs']} epochs)",
                "recipe": row["recipe name"],
                "images seen": row["images_seen"],
                "seeds": row["seeds"],
                "test accuracy": row["mean"],
                "sd": row["std"],
                "seconds": row["seconds"],
                "machine": "; ".join(row["machines"]),
            }
        )
    return pd.DataFrame(rows)


def time_budget_runs(records: list[dict]) -> pd.DataFrame:
    """``summary``'s groups trained for a fixed time, by budget, machine and model."""
    table = summary(records)
    if table.empty:
        return table
    table = table[table["budget_seconds"] > 0].copy()
    table["timed_on"] = table["machines"].str.join("; ")
    order = ["budget_seconds", "timed_on", "model", "recipe name"]
    return table.sort_values(order).reset_index(drop=True)


def time_budget_histories(records: list[dict], budget_seconds: float = 3600) -> dict[str, list]:
    """Each time-budget group's best seed on validation, for ``plots.learning_curves``,
    labelled with its run name and CPU."""
    groups: dict[str, list[dict]] = {}
    for r in records:
        if r["config"]["budget_seconds"] == budget_seconds:
            groups.setdefault(r["group"], []).append(r)
    chosen = sorted((by_validation(runs) for runs in groups.values()), key=lambda r: r["name"])
    return {f"{r['name']} ({r['metrics']['hardware']['cpu']})": r["history"] for r in chosen}


def external_references() -> pd.DataFrame:
    """Reference points measured elsewhere, not by this project."""
    return pd.DataFrame(
        {
            "test accuracy": {
                "Fashion-MNIST authors' benchmark: best scikit-learn classifier (SVC, RBF "
                "kernel, C=10)": PUBLISHED_SVC_RBF_C10,
                "human performance (Fashion-MNIST authors' README)": HUMAN_PERFORMANCE,
            }
        }
    ).rename_axis("external reference")


def like_with_like_pairs(records: list[dict], searches: dict) -> list[tuple]:
    """Pairs of (arch, recipe name) that differ in one thing only: each model's
    reproduction against its improvement, and the original's architectures against each
    other under one recipe (the original's, or a candidate several of them ran)."""
    pairs = [
        ((arch, ORIGINAL_RECIPE), (arch, s["chosen"]))
        for arch, s in searches.items()
        if recipe_group(records, arch, None) and recipe_group(records, arch, s["chosen"])
    ]
    originals = [spec.name for spec in SPECS.values() if spec.original]
    for name in [ORIGINAL_RECIPE, *sorted({n for s in searches.values() for n in s["runs"]})]:
        archs = [a for a in originals if recipe_group(records, a, name)]
        pairs += [((a, name), (b, name)) for i, a in enumerate(archs) for b in archs[i + 1 :]]
    return pairs


def budget_text(seconds: float) -> str:
    """A time budget in words: ``3600`` -> ``1 h``, ``900`` -> ``15 min``."""
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds / 60:g} min"


def run_label(record: dict) -> str:
    """``model · recipe``, with the time budget where the run trained for one."""
    budget = record["config"]["budget_seconds"]
    label = f"{record['model']} · {record['recipe']}"
    return label + (f" ({budget_text(budget)})" if budget else "")


def standing_runs(records: list[dict], searches: dict) -> dict[str, dict]:
    """Each shown model's run, chosen on validation only: the best seed of the recipe its
    search chose, else (own and users' models) of its group best on validation."""
    standing = representatives(records)
    return {
        model: recipe_representative(records, model, searches[model]["chosen"])
        if model in searches
        else standing[model]
        for model in models_shown(records)
    }


def _user_pairs(records: list[dict], searches: dict) -> list[tuple]:
    """Each user's model against each reference (the registry's models), by standing run."""
    runs = {model: (run_label(run), run) for model, run in standing_runs(records, searches).items()}
    users = [m for m in runs if role_of(m) == USER]
    return [(runs[user], runs[ref]) for user in users for ref in runs if role_of(ref) != USER]


def mcnemar_comparisons(records: list[dict], searches: dict, results_dir=RESULTS_DIR):
    """Exact McNemar tests, raw and Holm-adjusted p-values (Holm over all the rows): the
    like-with-like pairs, each (arch, recipe) its seed chosen on validation, then each
    user's model against each reference."""
    pairs = [
        (
            (f"{a} · {name_a}", recipe_representative(records, a, name_a)),
            (f"{b} · {name_b}", recipe_representative(records, b, name_b)),
        )
        for (a, name_a), (b, name_b) in like_with_like_pairs(records, searches)
    ] + _user_pairs(records, searches)
    rows = []
    for (label_a, run_a), (label_b, run_b) in pairs:
        with np.load(Path(results_dir) / "runs" / f"{run_a['name']}.npz") as arrays:
            y_true = arrays["y_true"]
        test = mcnemar_test(
            y_true,
            load_probabilities(run_a, results_dir).argmax(axis=1),
            load_probabilities(run_b, results_dir).argmax(axis=1),
        )
        rows.append(
            {
                "model A": label_a,
                "model B": label_b,
                "run A": run_a["name"],
                "run B": run_b["name"],
                "only A right": test["only_a_right"],
                "only B right": test["only_b_right"],
                "p (raw)": test["p_value"],
            }
        )
    table = pd.DataFrame(rows)
    if not table.empty:
        table["p (Holm)"] = holm(table["p (raw)"])
    return table


def _kind(record: dict, chosen: dict[str, str]) -> str:
    """A run's recipe kind for ``plots.accuracy_vs_time``, its budget and precision aside."""
    spec = SPECS.get(record["model"])
    if spec and spec.role == OWN and same_training(record["recipe"], spec.recipe):
        return "own model's recipe"
    if same_training(record["recipe"], ORIGINAL_RECIPE) or (
        spec and spec.original and same_training(record["recipe"], spec.recipe)
    ):
        return "original recipe"
    if record["model"] in chosen and same_training(chosen[record["model"]], record["recipe"]):
        return "chosen recipe"
    return "other candidate"


def time_accuracy_runs(records: list[dict], searches: dict) -> pd.DataFrame:
    """One row per run for ``plots.accuracy_vs_time``: model, kind of recipe (the
    original's, the one chosen on validation, the own model's, another candidate),
    training seconds, test accuracy, whether it trained on a GPU and the kind of machine
    (``records.machine_kind``: times compare only within one)."""
    chosen = {arch: s["chosen"] for arch, s in searches.items()}
    for arch, record in representatives(records).items():
        chosen.setdefault(arch, record["recipe"])
    return pd.DataFrame(
        [
            {
                "name": r["name"],
                "model": r["model"],
                "kind": _kind(r, chosen),
                "train seconds": r["metrics"]["train_seconds"],
                "test accuracy": r["metrics"]["test"]["accuracy"],
                "gpu": on_gpu(r),
                "machine": machine_kind(r["metrics"]["hardware"]),
            }
            for r in sorted(records, key=lambda r: r["name"])
        ]
    )


def original_points() -> pd.DataFrame:
    """The original's published runs (laptop GPU) for ``plots.accuracy_vs_time``."""
    runs = {s.name: s.original for s in SPECS.values() if s.original}
    runs["vgg, 80 epochs"] = ORIGINAL_VGG_80_EPOCHS
    return pd.DataFrame(
        {
            "train seconds": [run["train_seconds"] for run in runs.values()],
            "test accuracy": [run["test_accuracy"] for run in runs.values()],
        },
        index=list(runs),
    )

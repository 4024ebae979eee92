"""The tables read from the records: the headline, longer runs, fixed-time runs,
McNemar tests and the points of the accuracy-against-time figure.

Every table has named columns; groups, spreads and verdicts come from
``fmnist_lib.results``, ``fmnist_lib.verdict`` and the model specs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .experiments import EXPERIMENTS, IMPROVEMENT, LONGER
from .metrics import holm, mcnemar_test
from .paths import RESULTS_DIR
from .recipes import same_training
from .reference import (
    HUMAN_PERFORMANCE,
    ORIGINAL_MACHINE,
    ORIGINAL_VGG_80_EPOCHS,
    PUBLISHED_SVC_RBF_C10,
    original_run,
)
from .results import (
    ORIGINAL_RECIPE,
    by_validation,
    load_probabilities,
    machine,
    on_gpu,
    recipe,
    recipe_group,
    recipe_representative,
    representatives,
    summary,
)
from .specs import OWN, SPECS, get_spec
from .verdict import reproduction_match, spread, target_verdict


def _improvement(records: list[dict], model: str, standing: dict) -> tuple[str, list[dict]]:
    """The improvement's label and runs: the declared improvement where recorded, else
    (the own models) the group standing for the model on validation."""
    declared = [e for e in EXPERIMENTS.values() if e.model == model and e.role == IMPROVEMENT]
    runs = [r for r in records if declared and r["experiment"] == declared[0].id]
    if runs:
        return declared[0].recipe, runs
    if model not in standing:
        return "", []
    chosen = standing[model]
    label = "own recipe" if chosen["recipe"] == get_spec(model).recipe else chosen["recipe"]
    return label, [r for r in records if r["group"] == chosen["group"]]


def _reproduction_verdict(spec, runs: list[dict]) -> str:
    """Whether the reproduction matches the original's run (``verdict.reproduction_match``)."""
    if not (runs and spec.original):
        return ""
    machines = sorted({machine(r) for r in runs})
    return reproduction_match(spec.original["test_accuracy"], spread(_tests(runs)), machines).text


def headline(records: list[dict]) -> pd.DataFrame:
    """One row per model: the original, its reproduction and whether it matches, the
    improvement chosen on validation and its verdict against the model's target."""
    standing = representatives(records) if records else {}
    rows = {}
    for model, spec in SPECS.items():
        reproduction = recipe_group(records, model, None)
        label, improvement = _improvement(records, model, standing)
        if not reproduction and not improvement:
            continue
        repro, better = spread(_tests(reproduction)), spread(_tests(improvement))
        seconds = np.mean([r["metrics"]["train_seconds"] for r in improvement or reproduction])
        verdict = target_verdict(spec.target, better, seconds, any(map(on_gpu, improvement)))
        original = spec.original["test_accuracy"] if spec.original else np.nan
        rows[model] = {
            "role": spec.role,
            "images seen": (improvement or reproduction)[0]["metrics"]["images_seen"],
            "original": original,
            "reproduction": repro.mean,
            "reproduction sd": repro.sd,
            "reproduction seeds": repro.n,
            "reproduction verdict": _reproduction_verdict(spec, reproduction),
            "improvement recipe": label,
            "improvement recipe text": recipe(improvement[0]["config"]) if improvement else "",
            "improvement": better.mean,
            "improvement sd": better.sd,
            "improvement seeds": better.n,
            "improvement − original": better.mean - original,
            "improvement seconds": seconds,
            "gpu": any(map(on_gpu, improvement)),
            "verdict": verdict.state,
            "target": verdict.text,
            "machine": "; ".join(sorted({machine(r) for r in reproduction + improvement})),
        }
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


def mcnemar_comparisons(records: list[dict], searches: dict, results_dir=RESULTS_DIR):
    """Exact McNemar tests of the like-with-like pairs, raw and Holm-adjusted p-values;
    each (arch, recipe) is its seed chosen on validation."""
    rows = []
    for (arch_a, name_a), (arch_b, name_b) in like_with_like_pairs(records, searches):
        run_a = recipe_representative(records, arch_a, name_a)
        run_b = recipe_representative(records, arch_b, name_b)
        with np.load(Path(results_dir) / "runs" / f"{run_a['name']}.npz") as arrays:
            y_true = arrays["y_true"]
        test = mcnemar_test(
            y_true,
            load_probabilities(run_a, results_dir).argmax(axis=1),
            load_probabilities(run_b, results_dir).argmax(axis=1),
        )
        rows.append(
            {
                "model A": f"{arch_a} · {name_a}",
                "model B": f"{arch_b} · {name_b}",
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
    spec = get_spec(record["model"])
    if spec.role == OWN and same_training(record["recipe"], spec.recipe):
        return "own model's recipe"
    if same_training(record["recipe"], ORIGINAL_RECIPE) or (
        spec.original and same_training(record["recipe"], spec.recipe)
    ):
        return "original recipe"
    if record["model"] in chosen and same_training(chosen[record["model"]], record["recipe"]):
        return "chosen recipe"
    return "other candidate"


def time_accuracy_runs(records: list[dict], searches: dict) -> pd.DataFrame:
    """One row per run for ``plots.accuracy_vs_time``: model, kind of recipe (the
    original's, the one chosen on validation, the own model's, another candidate),
    training seconds, test accuracy and whether it trained on a GPU."""
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

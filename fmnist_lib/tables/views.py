"""Tables as a reader sees them: percentages and counts as text, no NaN, rows labelled
by model and recipe, and few enough rows to read (at most about twenty).

Each view formats a table of ``core`` (or records) for display; the numbers and the
verdicts are those of ``core``, ``results`` and ``verdict``, never recomputed here.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from ..metrics import bootstrap_accuracy_ci, percent
from ..paths import RESULTS_DIR
from ..records import record_group
from ..reference import ORIGINAL_RESULTS, PUBLISHED_SVC_RBF_C10
from ..results import (
    ORIGINAL_RECIPE,
    load_probabilities,
    machines,
    may_stand,
    recipe_representative,
    summary,
)
from ..specs import USER, role_of
from ..verdict import format_spread, spread
from .core import (
    budget_text,
    external_references,
    fewest_images,
    headline,
    longer_runs,
    models_shown,
    run_label,
    standing_runs,
)

DASH = "—"
# An experiment's role in words, in the order the groups table lists them.
ROLE_WORDS = {
    "reproduction": "reproduction (the original's recipe)",
    "improvement": "recipe chosen on validation",
    "candidate": "other candidate recipes",
    "longer run": "longer training",
    "precision check": "bf16 against float32",
    "fast schedule": "shorter schedule",
    "time budget": "time budget",
    "": "other studies",
}


def _points(value: float) -> str:
    return DASH if value is None or math.isnan(value) else f"{100 * value:+.2f} points"


def _percent(value: float) -> str:
    return DASH if value is None or math.isnan(value) else percent(value)


def _plain(text: str) -> str:
    """A verdict's text without markdown emphasis, for a table cell."""
    return text.replace("**", "") or DASH


def machine_numbers(records: list[dict]) -> dict[str, int]:
    """Each machine's number, in the order of first use (as results/README.md numbers them)."""
    return {name: i for i, name in enumerate(machines(records), start=1)}


def machines_note(records: list[dict]) -> str:
    """The machine numbers the views use, in words."""
    return "Machines: " + "; ".join(f"({i}) {m}" for m, i in machine_numbers(records).items())


def _numbers(machine_text: str, numbers: dict[str, int]) -> str:
    return ", ".join(str(numbers[m]) for m in machine_text.split("; ") if m in numbers) or DASH


def headline_view(records: list[dict]) -> pd.DataFrame:
    """``core.headline`` for reading: one row per model, spreads as ``mean ± sd (seeds)``,
    verdicts in words, machines by number (``machines_note``)."""
    table = headline(records)
    if table.empty:
        return table
    numbers = machine_numbers(records)
    matched = table["reproduction matched"].map({True: "matched", False: "not matched"})
    return pd.DataFrame(
        {
            "role": table["role"],
            "the original": table["original"].map(_percent),
            "reproduction": [
                DASH if not n else f"{format_spread(m, sd, n)}: {word}"
                for m, sd, n, word in zip(
                    table["reproduction"],
                    table["reproduction sd"],
                    table["reproduction seeds"],
                    matched,
                    strict=True,
                )
            ],
            "improvement: recipe": table["improvement recipe"].replace("", DASH),
            "improvement": [
                format_spread(*row)
                for row in table[["improvement", "improvement sd", "improvement seeds"]].values
            ],
            "− the original": table["improvement − original"].map(_points),
            "target": table["target"].map(_plain),
            "images seen (epochs)": [
                f"{i:,} ({e})" for i, e in zip(table["images seen"], table["epochs"], strict=True)
            ],
            "machines": table["machine"].map(lambda m: _numbers(m, numbers)),
        },
        index=table.index,
    )


def _role_row(rows: pd.DataFrame, verdicts: dict[str, str]) -> dict:
    """One (model, role) row: its groups and runs, and its group best on validation."""
    competing = rows[may_stand(rows, ["model"])]
    best = competing.loc[competing["val_mean"].idxmax()]
    return {
        "groups": len(rows),
        "runs": int(rows["seeds"].sum()),
        "best on validation: recipe": best["recipe name"],
        "images seen (epochs)": f"{best['images_seen']:,} ({best['epochs']})",
        "test accuracy": best["spread"].describe(),
        "verdict": verdicts.get(best["group"], DASH),
    }


def _verdicts(records: list[dict]) -> dict[str, str]:
    """The headline's verdict by group: a reproduction's match, an improvement's target."""
    out = {}
    for _, row in headline(records).iterrows():
        if row["reproduction matched"] is not None:
            word = "matched" if row["reproduction matched"] else "not matched"
            out[row["reproduction group"]] = f"reproduction: {word}"
        if row["target"]:
            out[row["improvement group"]] = _plain(row["target"])
    return out


def groups_view(records: list[dict]) -> pd.DataFrame:
    """One row per model and kind of experiment (a time budget per budget): how many
    groups and runs, and the group best on validation with its test accuracy."""
    table = summary(records)
    if table.empty:
        return table
    table["kind"] = [
        f"{ROLE_WORDS['time budget']}: {budget_text(b)}" if b else ROLE_WORDS.get(r, r)
        for r, b in zip(table["role"], table["budget_seconds"], strict=True)
    ]
    verdicts = _verdicts(records)
    order = {m: i for i, m in enumerate(models_shown(records))}
    kinds = list(ROLE_WORDS.values())
    rows = {
        (model, kind): _role_row(rows, verdicts)
        for (model, kind), rows in table.groupby(["model", "kind"], sort=False)
    }
    view = pd.DataFrame.from_dict(rows, orient="index")
    view.index = pd.MultiIndex.from_tuples(view.index, names=["model", "experiments"])
    key = [(order[m], kinds.index(k) if k in kinds else len(kinds), k) for m, k in view.index]
    return view.iloc[sorted(range(len(view)), key=key.__getitem__)]


def longer_view(records: list[dict], arch: str = "vgg") -> pd.DataFrame:
    """``core.longer_runs`` for reading, with each row's gain over the original's 80
    epochs; this project's machines by number (``machines_note``)."""
    table = longer_runs(records, arch)
    numbers = machine_numbers(records)
    if table.empty:
        return table
    first = table["test accuracy"].iloc[0] if arch == "vgg" else math.nan
    return pd.DataFrame(
        {
            "who": table["who"],
            "recipe": table["recipe"],
            "images seen": table["images seen"].map("{:,}".format),
            "test accuracy": [
                format_spread(*row) for row in table[["test accuracy", "sd", "seeds"]].values
            ],
            "− the original's 80 epochs": [
                DASH if i == 0 else _points(v - first) for i, v in enumerate(table["test accuracy"])
            ],
            "training time": table["seconds"].map("{:,.0f} s".format),
            "machines": [
                _numbers(m, numbers) if set(m.split("; ")) & set(numbers) else m
                for m in table["machine"]
            ],
        }
    ).set_index("who")


def original_view() -> pd.DataFrame:
    """The original's published runs (``reference.ORIGINAL_RESULTS``), formatted."""
    return pd.DataFrame.from_dict(
        {
            model: {
                "trainable params": f"{run['trainable_params']:,}",
                "images seen": f"{run['images_seen']:,}",
                "training time (laptop GPU)": f"{run['train_seconds']:,} s",
                "its README's accuracy (validation)": percent(run["readme_accuracy"]),
                "test accuracy": percent(run["test_accuracy"]),
            }
            for model, run in ORIGINAL_RESULTS.items()
        },
        orient="index",
    ).rename_axis("model")


def references_view() -> pd.DataFrame:
    """``core.external_references`` as percentages."""
    return external_references().map(percent)


def baselines_view(baselines: dict, records: list[dict]) -> pd.DataFrame:
    """The classical baselines (``results/baselines.json``) beside each model's
    reproduction and improvement: distinct training images and test accuracy. A CNN's
    training images are one run's images seen over its own epochs."""
    rows = {
        f"{name.replace('_', ' ')} (scikit-learn)": {
            "training images": f"{b['train_size']:,}",
            "test accuracy": percent(b["test"]["accuracy"]),
            "published by the authors": percent(PUBLISHED_SVC_RBF_C10)
            if name == "svc_rbf_c10"
            else DASH,
        }
        for name, b in baselines.items()
    }
    table = headline(records)
    for model, row in table.iterrows():
        for part, label in (("reproduction", "original"), ("improvement", None)):
            group = [r for r in records if r["group"] == row[f"{part} group"]]
            if not group:
                continue
            images, epochs = fewest_images(group)
            result = spread(r["metrics"]["test"]["accuracy"] for r in group)
            rows[f"{model} · {label or row['improvement recipe']} (CNN)"] = {
                "training images": f"{images // epochs:,}",
                "test accuracy": result.describe(),
                "published by the authors": DASH,
            }
    return pd.DataFrame.from_dict(rows, orient="index")


def f1_view(runs: dict[str, dict]) -> pd.DataFrame:
    """F1 per class (columns, weakest first over the runs) of each run (rows, by label)."""
    f1 = pd.DataFrame(
        {
            label: {
                name: row["f1-score"] for name, row in r["metrics"]["test"]["per_class"].items()
            }
            for label, r in runs.items()
        }
    )
    f1 = f1.loc[f1.mean(axis=1).sort_values().index].T
    return f1.map("{:.3f}".format)


def bootstrap_view(
    runs: dict[str, dict], y_true, seed: int = 0, results_dir=RESULTS_DIR
) -> pd.DataFrame:
    """Each run's test accuracy and its 95% percentile-bootstrap interval over test images."""
    rows = {}
    for label, run in runs.items():
        predicted = load_probabilities(run, results_dir).argmax(axis=1)
        ci = bootstrap_accuracy_ci(y_true, predicted, seed=seed)
        rows[label] = {
            "run": run["name"],
            "test accuracy": percent(ci["accuracy"]),
            "95% interval": f"{100 * ci['low']:.2f}–{100 * ci['high']:.2f}%",
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def mcnemar_view(table: pd.DataFrame, level: float = 0.05) -> pd.DataFrame:
    """``core.mcnemar_comparisons`` for reading: p-values in scientific notation, and
    whether the two differ at ``level`` after Holm's adjustment."""
    if table.empty:
        return table
    return pd.DataFrame(
        {
            "model A": table["model A"],
            "model B": table["model B"],
            "only A right": table["only A right"].map("{:,}".format),
            "only B right": table["only B right"].map("{:,}".format),
            "p (Holm)": table["p (Holm)"].map("{:.1e}".format),
            f"differ at {level:g}": np.where(table["p (Holm)"] < level, "yes", "no"),
        }
    )


def calibration_runs(records: list[dict], searches: dict) -> dict[str, dict]:
    """The runs the calibration figure compares, by label: for each model with a
    reproduction its original recipe and its chosen recipe, and each user's model by its
    standing run (each recipe by its seed best on validation)."""
    shown = {}
    table = headline(records)
    for model, run in standing_runs(records, searches).items():
        if table.loc[model, "reproduction seeds"]:
            original = recipe_representative(records, model, None)
            shown[f"{model} · {ORIGINAL_RECIPE}"] = original
            shown[run_label(run)] = run
        elif role_of(model) == USER:
            shown[run_label(run)] = run
    return shown


def suite_view(suite: dict[str, dict], records: list[dict]) -> pd.DataFrame:
    """This suite's runs (label -> ``runs.load_run``), each beside the committed seeds of
    its group in results/ (the same settings)."""
    rows = {}
    for label, run in suite.items():
        group = record_group(run["config"], run["metrics"])
        committed = spread(r["metrics"]["test"]["accuracy"] for r in records if r["group"] == group)
        metrics = run["metrics"]
        rows[label] = {
            "images seen": f"{metrics['images_seen']:,}",
            "training time": f"{metrics['train_seconds']:,.0f} s",
            "test accuracy": percent(metrics["test"]["accuracy"]),
            "results/: the same settings": committed.describe(),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def robustness_label(record: dict, records: list[dict] = ()) -> str:
    """A robustness record's ``model · recipe``: that of the recorded run it scored (same
    name), else the recipe it names (notebook 04's suite records), else its name less the
    model and the suffix naming the suite's profile or seed."""
    runs = {r["name"]: r for r in records}
    if record["name"] in runs:
        return run_label(runs[record["name"]])
    if record.get("recipe"):
        return f"{record['arch']} · {record['recipe']}"
    name = re.sub(r"-(suite-\w+|s\d+)$", "", record["name"]).removeprefix(f"{record['arch']}-")
    return f"{record['arch']} · {name}"


def robustness_shown(robustness: list[dict], records: list[dict], searches: dict) -> dict:
    """The robustness records of the recipes the evaluation shows, by label: each model's
    original recipe and the recipe standing for it, and every record of a user's model."""
    wanted = {f"{m} · {ORIGINAL_RECIPE}" for m in models_shown(records)} | {
        f"{m} · {run['recipe']}" for m, run in standing_runs(records, searches).items()
    }
    order = {m: i for i, m in enumerate(models_shown(records))}
    labelled = {robustness_label(r, records): r for r in robustness}
    shown = {
        label: r for label, r in labelled.items() if label in wanted or role_of(r["arch"]) == USER
    }

    def key(item):
        label, record = item
        original = label == f"{record['arch']} · {ORIGINAL_RECIPE}"
        return order.get(record["arch"], len(order)), not original, label

    return dict(sorted(shown.items(), key=key))


def robustness_view(shown: dict[str, dict]) -> pd.DataFrame:
    """One row per record: clean accuracy, the mean under corruption, the worst family and
    the calibration error clean and under shift (mean over the families)."""
    return pd.DataFrame.from_dict(
        {
            label: {
                "clean": percent(r["clean_accuracy"]),
                "under corruption (mean)": percent(r["mean_corruption_accuracy"]),
                "worst family": f"{r['worst_family']['name']} "
                f"({percent(r['worst_family']['accuracy'])})",
                "ECE clean → shifted": f"{r['clean_ece']:.3f} → "
                f"{np.mean(list(r['family_ece'].values())):.3f}"
                if "family_ece" in r
                else "not recorded",
            }
            for label, r in shown.items()
        },
        orient="index",
    )


def robustness_families(shown: dict[str, dict]) -> pd.DataFrame:
    """Accuracy by record (rows) and corruption family (columns, mean over severities)."""
    return pd.DataFrame({label: r["family_accuracy"] for label, r in shown.items()}).T

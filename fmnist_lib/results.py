"""Committed results: compact copies of finished runs, and the summaries read from them.

``results/runs/<name>.json`` holds a run's config, per-epoch history and test
metrics (with hardware, versions and git commit); ``<name>.npz`` its test-set
probabilities (float16) for analysis without the weights; ``embeddings/<name>.npz``
a 2-D t-SNE map of a run's penultimate features. ``fmnist_lib.readme`` generates
the README's tables from them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .config import DEFAULT_LEARNING_RATES, ORIGINAL_BUDGET, profile_config
from .paths import RESULTS_DIR
from .reference import (
    HUMAN_PERFORMANCE,
    ORIGINAL_AUGMENTATION,
    ORIGINAL_MACHINE,
    ORIGINAL_RESULTS,
    ORIGINAL_VGG_80_EPOCHS,
    PUBLISHED_SVC_RBF_C10,
    TARGET_SEEDS,
    original_run,
    same_budget,
)
from .runs import load_run, read_json, selection_val_accuracy, write_json, write_npz


def add_run(run_dir, results_dir=RESULTS_DIR, name: str | None = None) -> Path:
    """Copy a completed run's record into ``results_dir/runs``; return the JSON path."""
    run = load_run(run_dir)
    name = name or Path(run_dir).name
    target = Path(results_dir) / "runs"
    record = {
        "name": name,
        "config": run["config"],
        "history": run["history"],
        "metrics": run["metrics"],
    }
    write_json(target / f"{name}.json", record)
    predictions = np.load(Path(run_dir) / "test_predictions.npz")
    write_npz(target / f"{name}.npz", probs=predictions["probs"], y_true=predictions["y_true"])
    return target / f"{name}.json"


def load_results(results_dir=RESULTS_DIR) -> list[dict]:
    return [read_json(p) for p in sorted((Path(results_dir) / "runs").glob("*.json"))]


def load_probabilities(record: dict, results_dir=RESULTS_DIR) -> np.ndarray:
    """A recorded run's test-set probabilities (float32, 10,000 x 10)."""
    with np.load(Path(results_dir) / "runs" / f"{record['name']}.npz") as arrays:
        return arrays["probs"].astype(np.float32)


def embedding_path(name: str, results_dir=RESULTS_DIR) -> Path:
    return Path(results_dir) / "embeddings" / f"{name}.npz"


def recipe(config: dict) -> str:
    """A run's training recipe in a few words (what it varies besides model and budget)."""
    optimizer = config["optimizer"]
    learning_rate = config.get("learning_rate")
    if learning_rate and learning_rate != DEFAULT_LEARNING_RATES[optimizer]:
        optimizer += f" lr {learning_rate:g}"
    schedule = f"{config['lr_schedule']} lr"
    if config.get("warmup_epochs"):
        warmup = config["warmup_epochs"]
        schedule += f" (warm-up {warmup:g} epoch{'' if warmup == 1 else 's'})"
    parts = [optimizer, schedule, "+".join(config["augmentation"]) or "no augmentation"]
    if config.get("cutmix"):
        parts.append(f"CutMix {config['cutmix']:g}")
    if config.get("label_smoothing"):
        parts.append(f"label smoothing {config['label_smoothing']:g}")
    if config.get("weight_decay"):
        parts.append(f"weight decay {config['weight_decay']:g}")
    if config.get("ema_momentum"):
        parts.append(f"weight EMA {config['ema_momentum']:g}")
    if config.get("batch_size", 250) != 250:
        parts.append(f"batch {config['batch_size']}")
    if config.get("tta_flip"):
        parts.append("flip TTA")
    if config.get("precision", "auto") != "auto":
        parts.append(config["precision"])
    return ", ".join(parts)


def _budget(record: dict) -> tuple[float, int]:
    """What fixed a run's length: (its time budget in seconds, 0), or (0, images seen).

    Seeds of one time budget fit their own epochs to the rate they measure, so they
    belong together however many images each saw.
    """
    seconds = record["config"].get("budget_seconds")
    return (float(seconds), 0) if seconds else (0.0, record["metrics"]["images_seen"])


def timed_on(record: dict) -> str:
    """The machine of a run trained for a fixed time ("" for a budget of images).

    A time budget buys different numbers of images on different CPUs, so runs for
    one time budget compare, and average over seeds, only on one machine.
    """
    return machine(record) if _budget(record)[0] else ""


# The columns of ``summary`` that make one group, in ``group_key``'s order.
GROUP_COLUMNS = ["model", "budget_seconds", "budget_images", "recipe", "timed_on"]


def group_key(record: dict) -> tuple:
    return record["metrics"]["arch"], *_budget(record), recipe(record["config"]), timed_on(record)


def on_gpu(record: dict) -> bool:
    """Whether a run trained on a GPU (the time and target columns mean other things then)."""
    return bool(record["metrics"].get("hardware", {}).get("gpus"))


def _by_validation(records: list[dict]) -> dict:
    """The run with the best validation accuracy; the lowest seed among equals."""
    return min(
        records,
        key=lambda r: (-selection_val_accuracy(r["metrics"]), r["metrics"]["seed"], r["name"]),
    )


def may_stand(table: pd.DataFrame, by: list[str]) -> pd.Series:
    """Which summary rows may compete within each group of ``by`` columns.

    A mean over fewer seeds than the targets ask for is not comparable with a full one (a
    single lucky seed would win), so where a group has rows with all seeds only those
    compete; a group with none of those is still represented by its partial rows.
    """
    complete = table["seeds"] >= TARGET_SEEDS
    return complete | ~complete.groupby([table[column] for column in by]).transform("any")


def _standing_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Summary rows that may stand for their model (``may_stand`` by model)."""
    return table[may_stand(table, ["model"])]


def representatives(records: list[dict]) -> dict[str, dict]:
    """One run per architecture, chosen on validation only, never on the test set.

    The (budget, recipe) group with the best mean validation accuracy over its seeds
    (only groups with all seeds compete where the model has one, see ``_standing_rows``),
    and within it the seed with the best validation accuracy.
    """
    table = _standing_rows(summary(records))
    chosen = {}
    for model, rows in table.groupby("model", sort=True):
        top = rows.loc[rows["val_mean"].idxmax()]
        key = tuple(top[column] for column in GROUP_COLUMNS)
        chosen[model] = _by_validation([r for r in records if group_key(r) == key])
    return chosen


def best_record(records: list[dict]) -> dict:
    """The run that stands for the best model: the best mean validation accuracy.

    Models measured over all seeds compete only with each other while any exist; the
    model's run is its representative (``representatives``).
    """
    if not records:
        raise ValueError("no runs in results/: add some with `fmnist results add RUN_DIR`")
    table = summary(records)
    complete = table[table["seeds"] >= TARGET_SEEDS]
    if not complete.empty:
        table = complete
    return representatives(records)[table.loc[table["val_mean"].idxmax(), "model"]]


def summary(records: list[dict]) -> pd.DataFrame:
    """One row per (architecture, training budget, recipe): mean and spread over seeds.

    The budget is images seen, or a time budget (``_budget``) on one machine
    (``timed_on``); ``images_seen`` is the group's fewest.

    ``mean``/``std`` are of test accuracy (reported); ``val_mean`` is the mean
    validation accuracy of the kept checkpoints (``selection_val_accuracy``), the only
    column any choice is made on.
    """
    rows = [
        {
            "model": r["metrics"]["arch"],
            "budget_seconds": _budget(r)[0],
            "budget_images": _budget(r)[1],
            "images_seen": r["metrics"]["images_seen"],
            "recipe": recipe(r["config"]),
            "timed_on": timed_on(r),
            "name": r["name"],
            "epochs": r["metrics"]["epochs"],
            "trainable params": r["metrics"]["params"]["trainable"],
            "seed": r["metrics"]["seed"],
            "train seconds": r["metrics"]["train_seconds"],
            "test accuracy": r["metrics"]["test"]["accuracy"],
            "val accuracy": selection_val_accuracy(r["metrics"]),
            "gpu": on_gpu(r),
            "machine": machine(r),
        }
        for r in records
    ]
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows)
    grouped = frame.groupby(GROUP_COLUMNS, sort=True)
    table = grouped.agg(
        images_seen=("images_seen", "min"),  # a time budget's seeds may differ
        images_most=("images_seen", "max"),
        epochs=("epochs", "first"),
        params=("trainable params", "first"),
        seeds=("seed", "count"),
        seconds=("train seconds", "mean"),
        mean=("test accuracy", "mean"),
        std=("test accuracy", "std"),
        val_mean=("val accuracy", "mean"),
        names=("name", sorted),
        gpu=("gpu", "any"),
        machines=("machine", lambda names: sorted(set(names))),
    )
    return table.reset_index()


def comparison(records: list[dict]) -> pd.DataFrame:
    """The summary as a readable table, with the original's single run beside each model."""
    table = summary(records)
    if table.empty:
        return table
    original = pd.Series(
        [
            original_run(model, seen).get("test_accuracy")
            for model, seen in zip(table["model"], table["images_seen"], strict=True)
        ],
        index=table.index,
        dtype=float,
    )
    return pd.DataFrame(
        {
            "model": table["model"],
            "trainable params": table["params"],
            "images seen": table["images_seen"],
            "epochs": table["epochs"],
            "recipe": table["recipe"],
            "seeds": table["seeds"],
            "training time (s)": table["seconds"].round(0),
            "test accuracy (mean)": table["mean"].round(4),
            "std": table["std"].round(4),
            "original: test accuracy": original,
            "difference": (table["mean"] - original.astype(float)).round(4),
        }
    ).set_index("model")


def machine(record: dict) -> str:
    """The machine a run trained on, in words."""
    hw = record["metrics"].get("hardware", {})
    if not hw:
        return "unknown machine"
    # Machines of one CPU name differ: the bf16 flag tells this project's two apart.
    return (
        f"{hw['cpu']}{' (AVX-512 BF16)' if hw.get('bf16') else ''}, {hw['cores']} cores, "
        f"GPUs: {', '.join(hw['gpus']) or 'none'}"
        + (f" ({hw['keras_backend']} backend)" if hw.get("gpus") else "")
    )


def machines(records: list[dict]) -> list[str]:
    """The machines the recorded runs trained on, in the order they were first used."""
    first_use = {}
    for r in sorted(records, key=lambda r: r["metrics"].get("finished", "")):
        first_use.setdefault(machine(r), len(first_use))
    return sorted(first_use, key=first_use.get)


def recipe_searches(results_dir=RESULTS_DIR) -> dict[str, dict]:
    """``results/recipe-search/<arch>.json`` as written by scripts/recipe_search.sh."""
    folder = Path(results_dir) / "recipe-search"
    return {path.stem: read_json(path) for path in sorted(folder.glob("*.json"))}


def not_chosen(searches: dict[str, dict]) -> set[str]:
    """Names of the candidate runs that a recipe search did not choose."""
    return {
        run
        for search in searches.values()
        for name, run in search["runs"].items()
        if name != search["chosen"]
    }


ORIGINAL_RECIPE = "original"


def _original_recipe_text(arch: str) -> str:
    """The original's recipe in ``recipe()``'s words: Adam, constant lr, its augmentation."""
    augmentation = list(ORIGINAL_AUGMENTATION) if arch in ("arch2", "vgg") else []
    return recipe({"optimizer": "adam", "lr_schedule": "constant", "augmentation": augmentation})


def recipe_group(
    records: list[dict], arch: str, recipe_name: str | None, searches: dict[str, dict]
) -> list[dict]:
    """The runs of ``arch`` with a named recipe at the original's budget.

    ``recipe_name`` None (or "original") is the original's recipe; any other name is a
    candidate of the arch's recipe search, found through the search's seed-0 run.
    """
    if recipe_name in (None, ORIGINAL_RECIPE):
        if arch not in ORIGINAL_BUDGET:
            return []
        text = _original_recipe_text(arch)
        return [
            r
            for r in records
            if r["metrics"]["arch"] == arch
            and recipe(r["config"]) == text
            and same_budget(r["metrics"]["images_seen"], ORIGINAL_BUDGET[arch])
        ]
    run = searches.get(arch, {}).get("runs", {}).get(recipe_name)
    seed0 = [r for r in records if r["name"] == run]
    return [r for r in records if seed0 and group_key(r) == group_key(seed0[0])]


def recipe_representative(
    records: list[dict], arch: str, recipe_name: str | None, searches: dict[str, dict]
) -> dict:
    """The seed that stands for ``arch`` under a named recipe: best validation accuracy.

    Never the best test score; the candidates are ``recipe_group``'s runs.
    """
    return _by_validation(recipe_group(records, arch, recipe_name, searches))


def _spread(runs: list[dict]) -> dict:
    accuracy = pd.Series([r["metrics"]["test"]["accuracy"] for r in runs], dtype=float)
    return {"mean": accuracy.mean(), "sd": accuracy.std(), "seeds": len(runs)}


def _machine_words(runs: list[dict]) -> str:
    return "; ".join(sorted({machine(r) for r in runs}))


def _own_recipe_label(record: dict) -> str:
    """How an own model's standing run got its recipe: the profile's, or a candidate's."""
    own = profile_config(record["metrics"]["arch"], "full").to_dict()
    if recipe(record["config"]) == recipe(own):
        return "own recipe, fixed in advance"
    return "chosen on validation"


def headline(records: list[dict], searches: dict[str, dict]) -> pd.DataFrame:
    """One row per model: the original, its reproduction, the improvement chosen on validation.

    Reproduction: the original's recipe at its budget; improvement: the recipe the arch's
    search chose on validation (the own model: its representative, chosen on validation).
    Test accuracy as mean and sd over seeds; the machine the runs trained on.
    """
    rows = {}
    models = [
        *ORIGINAL_RESULTS,
        *sorted({r["metrics"]["arch"] for r in records} - set(ORIGINAL_RESULTS)),
    ]
    standing = representatives(records) if records else {}
    for arch in models:
        reproduction = recipe_group(records, arch, None, searches)
        if arch in searches:
            chosen = searches[arch]["chosen"]
            improvement = recipe_group(records, arch, chosen, searches)
        elif arch in standing:
            chosen = _own_recipe_label(standing[arch])
            improvement = [r for r in records if group_key(r) == group_key(standing[arch])]
        else:
            chosen, improvement = None, []
        if not reproduction and not improvement:
            continue
        original = ORIGINAL_RESULTS.get(arch, {}).get("test_accuracy", np.nan)
        repro, better = _spread(reproduction), _spread(improvement)
        rows[arch] = {
            "images seen": (improvement or reproduction)[0]["metrics"]["images_seen"],
            "original": original,
            "reproduction": repro["mean"],
            "reproduction sd": repro["sd"],
            "reproduction seeds": repro["seeds"],
            "improvement recipe": (
                f"{chosen} ({recipe(improvement[0]['config'])})" if improvement else None
            ),
            "improvement": better["mean"],
            "improvement sd": better["sd"],
            "improvement seeds": better["seeds"],
            "improvement − original": better["mean"] - original,
            # training time per run of the improvement, on the machine named beside it
            "improvement seconds": (
                np.mean([r["metrics"]["train_seconds"] for r in improvement])
                if improvement
                else np.nan
            ),
            "gpu": any(on_gpu(r) for r in improvement),
            "machine": _machine_words(reproduction + improvement),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


def longer_runs(records: list[dict], arch: str = "vgg") -> pd.DataFrame:
    """``arch``'s runs beyond the original's budget, beside the original's 80-epoch VGG run.

    ``seconds`` is the mean training time per run (the original's on its GPU).
    """
    rows = []
    if arch == "vgg":
        rows.append(
            {
                "who": "the original (80 epochs)",
                "recipe": _original_recipe_text(arch),
                "images seen": ORIGINAL_VGG_80_EPOCHS["images_seen"],
                "seeds": 1,
                "test accuracy": ORIGINAL_VGG_80_EPOCHS["test_accuracy"],
                "sd": np.nan,
                "seconds": ORIGINAL_VGG_80_EPOCHS["train_seconds"],
                "machine": ORIGINAL_MACHINE,
            }
        )
    budget = ORIGINAL_BUDGET.get(arch)
    table = summary([r for r in records if r["metrics"]["arch"] == arch])
    if budget and not table.empty:
        longer = table[table["images_seen"] > budget * 1.05]
        for row in longer.itertuples():
            rows.append(
                {
                    "who": f"this project ({row.epochs} epochs)",
                    "recipe": row.recipe,
                    "images seen": row.images_seen,
                    "seeds": row.seeds,
                    "test accuracy": row.mean,
                    "sd": row.std,
                    "seconds": row.seconds,
                    "machine": "; ".join(row.machines),
                }
            )
    return pd.DataFrame(rows)


def time_budget_runs(records: list[dict]) -> pd.DataFrame:
    """``summary``'s rows of runs trained for a fixed time (``--budget-seconds``), by
    budget, model and recipe; ``images_seen``/``images_most`` are the fewest and most
    images a seed saw (each fits its epochs to the rate it measured).
    """
    table = summary(records)
    if table.empty:
        return table
    timed = table[table["budget_seconds"] > 0]
    order = ["budget_seconds", "timed_on", "model", "recipe"]
    return timed.sort_values(order).reset_index(drop=True)


def time_budget_histories(records: list[dict], budget_seconds: float = 3600) -> dict[str, list]:
    """The per-epoch history of each group trained for ``budget_seconds``, for
    ``plots.learning_curves``: the group's seed with the best validation accuracy,
    labelled with its run name and CPU (a time budget buys each CPU its own epochs).
    """
    groups: dict[tuple, list[dict]] = {}
    for r in records:
        if _budget(r)[0] == budget_seconds:
            groups.setdefault(group_key(r), []).append(r)
    chosen = sorted((_by_validation(runs) for runs in groups.values()), key=lambda r: r["name"])
    return {f"{r['name']} ({_cpu(r)})": r["history"] for r in chosen}


def _cpu(record: dict) -> str:
    return record["metrics"].get("hardware", {}).get("cpu", "unknown machine")


def external_references() -> pd.DataFrame:
    """Reference points measured elsewhere, not by this project."""
    return pd.DataFrame(
        [
            {
                "external reference": "Fashion-MNIST authors' benchmark: best scikit-learn "
                "classifier (SVC, RBF kernel, C=10)",
                "test accuracy": PUBLISHED_SVC_RBF_C10,
            },
            {
                "external reference": "human performance (Fashion-MNIST authors' README)",
                "test accuracy": HUMAN_PERFORMANCE,
            },
        ]
    ).set_index("external reference")


def like_with_like_pairs(
    records: list[dict], searches: dict[str, dict]
) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """Pairs of (arch, recipe name) that differ in one thing only.

    Each arch's reproduction against its improvement (same network, other recipe), and
    architectures against each other under one recipe (the original's, each at its own
    budget, or a search candidate that several archs ran).
    """
    pairs = []
    for arch, search in searches.items():
        if recipe_group(records, arch, None, searches) and recipe_group(
            records, arch, search["chosen"], searches
        ):
            pairs.append(((arch, ORIGINAL_RECIPE), (arch, search["chosen"])))
    names = [ORIGINAL_RECIPE, *sorted({n for s in searches.values() for n in s["runs"]})]
    for name in names:
        archs = [a for a in ORIGINAL_RESULTS if recipe_group(records, a, name, searches)]
        pairs += [((a, name), (b, name)) for i, a in enumerate(archs) for b in archs[i + 1 :]]
    return pairs


def mcnemar_comparisons(
    records: list[dict], searches: dict[str, dict], results_dir=RESULTS_DIR
) -> pd.DataFrame:
    """Exact McNemar tests of the like-with-like pairs, raw and Holm-adjusted p-values.

    Each (arch, recipe) is represented by its run chosen on validation; the Holm
    correction runs over all the pairs in the table, since they are read together.
    """
    from .metrics import holm, mcnemar_test

    rows = []
    for (arch_a, name_a), (arch_b, name_b) in like_with_like_pairs(records, searches):
        run_a = recipe_representative(records, arch_a, name_a, searches)
        run_b = recipe_representative(records, arch_b, name_b, searches)
        with np.load(Path(results_dir) / "runs" / f"{run_a['name']}.npz") as arrays:
            y_true = arrays["y_true"]
        pred_a = load_probabilities(run_a, results_dir).argmax(axis=1)
        pred_b = load_probabilities(run_b, results_dir).argmax(axis=1)
        test = mcnemar_test(y_true, pred_a, pred_b)
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


def _recipe_ignoring_precision(config: dict) -> str:
    return recipe({**config, "precision": "auto"})


def time_accuracy_runs(records: list[dict], searches: dict[str, dict]) -> pd.DataFrame:
    """One row per recorded run for ``plots.accuracy_vs_time``: model, kind of recipe
    (the original's, the one chosen on validation, the own model's, or another
    candidate), training seconds, test accuracy and whether it trained on a GPU.

    A recipe's kind ignores the precision policy and the budget, so the chosen recipe's
    longer and shorter runs sit on its curve. The own model's recipe is the one fixed in
    advance (``config.OWN_MODEL_RECIPE``); a wider version's chosen recipe is that of
    the run standing for it (``representatives``).
    """
    chosen, own_recipe = {}, {}
    for arch, search in searches.items():
        group = recipe_group(records, arch, search["chosen"], searches)
        if group:
            chosen[arch] = _recipe_ignoring_precision(group[0]["config"])
    for arch, record in representatives(records).items():
        if arch not in ORIGINAL_BUDGET:
            chosen[arch] = _recipe_ignoring_precision(record["config"])
            own_recipe[arch] = _recipe_ignoring_precision(profile_config(arch, "full").to_dict())

    def kind(record: dict) -> str:
        arch, text = record["metrics"]["arch"], _recipe_ignoring_precision(record["config"])
        if text == own_recipe.get(arch):
            return "own model's recipe"
        if arch in ORIGINAL_BUDGET and text == _original_recipe_text(arch):
            return "original recipe"
        return "chosen recipe" if chosen.get(arch) == text else "other candidate"

    return pd.DataFrame(
        [
            {
                "name": r["name"],
                "model": r["metrics"]["arch"],
                "kind": kind(r),
                "train seconds": r["metrics"]["train_seconds"],
                "test accuracy": r["metrics"]["test"]["accuracy"],
                "gpu": on_gpu(r),
            }
            for r in sorted(records, key=lambda r: r["name"])
        ]
    )


def original_points() -> pd.DataFrame:
    """The original's published runs (laptop GPU) for ``plots.accuracy_vs_time``."""
    runs = {**ORIGINAL_RESULTS, "vgg, 80 epochs": ORIGINAL_VGG_80_EPOCHS}
    return pd.DataFrame(
        {
            "train seconds": [run["train_seconds"] for run in runs.values()],
            "test accuracy": [run["test_accuracy"] for run in runs.values()],
        },
        index=list(runs),
    )

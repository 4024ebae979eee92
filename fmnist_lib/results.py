"""Committed results: compact copies of finished runs, and the README tables built from them.

``results/runs/<name>.json`` holds a run's config, per-epoch history and test
metrics (with hardware, versions and git commit); ``<name>.npz`` its test-set
probabilities (float16) for analysis without the weights; ``embeddings/<name>.npz``
a 2-D t-SNE map of a run's penultimate features. The README's results section is
generated from these files, never typed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .config import ORIGINAL_BUDGET, OWN_MODEL
from .data import CLASS_NAMES
from .paths import PROJECT_ROOT, RESULTS_DIR
from .reference import (
    OWN_MODEL_TARGET,
    PUBLISHED_SVC_RBF_C10,
    TARGET_SEEDS,
    TARGETS,
    original_run,
    same_budget,
)
from .runs import atomic_write_bytes, load_run, read_json, write_json, write_npz

START, END = "<!-- results:start -->", "<!-- results:end -->"


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
    if config.get("learning_rate"):
        optimizer += f" lr {config['learning_rate']:g}"
    schedule = f"{config['lr_schedule']} lr"
    if config.get("warmup_epochs"):
        warmup = config["warmup_epochs"]
        schedule += f" (warm-up {warmup:g} epoch{'' if warmup == 1 else 's'})"
    parts = [optimizer, schedule, "+".join(config["augmentation"]) or "no augmentation"]
    if config.get("label_smoothing"):
        parts.append(f"label smoothing {config['label_smoothing']:g}")
    if config.get("batch_size", 250) != 250:
        parts.append(f"batch {config['batch_size']}")
    if config.get("tta_flip"):
        parts.append("flip TTA")
    return ", ".join(parts)


def _group_key(record: dict) -> tuple:
    return record["metrics"]["arch"], record["metrics"]["images_seen"], recipe(record["config"])


def on_gpu(record: dict) -> bool:
    """Whether a run trained on a GPU (the time and target columns mean other things then)."""
    return bool(record["metrics"].get("hardware", {}).get("gpus"))


def _lowest_seed(records: list[dict]) -> dict:
    return min(records, key=lambda r: (r["metrics"]["seed"], r["name"]))


def _standing_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Summary rows that may stand for their model.

    A mean over fewer seeds than the targets ask for is not comparable with a full one (a
    single lucky seed would win), so a model's groups with all seeds stand for it; a model
    with none of those is still shown by its best partial group.
    """
    complete = table["seeds"] >= TARGET_SEEDS
    model_has_complete = complete.groupby(table["model"]).transform("any")
    return table[complete | ~model_has_complete]


def representatives(records: list[dict]) -> dict[str, dict]:
    """One run per architecture: its best (budget, recipe) by mean over seeds, lowest seed.

    Only groups with all seeds compete where the model has one (see ``_standing_rows``).
    The lowest seed stands for the group rather than the luckiest, so no single run is
    picked on the test set.
    """
    table = _standing_rows(summary(records))
    chosen = {}
    for model, rows in table.groupby("model", sort=True):
        top = rows.loc[rows["mean"].idxmax()]
        key = (model, top["images_seen"], top["recipe"])
        chosen[model] = _lowest_seed([r for r in records if _group_key(r) == key])
    return chosen


def best_record(records: list[dict]) -> dict:
    """The run that stands for the best model: the best mean over seeds, its lowest seed.

    Models measured over all seeds compete only with each other while any exist.
    """
    if not records:
        raise ValueError("no runs in results/: add some with `fmnist results add RUN_DIR`")
    table = summary(records)
    complete = table[table["seeds"] >= TARGET_SEEDS]
    if not complete.empty:
        table = complete
    return representatives(records)[table.loc[table["mean"].idxmax(), "model"]]


def summary(records: list[dict]) -> pd.DataFrame:
    """One row per (architecture, training budget, recipe): mean and spread over seeds."""
    rows = [
        {
            "model": r["metrics"]["arch"],
            "images_seen": r["metrics"]["images_seen"],
            "recipe": recipe(r["config"]),
            "name": r["name"],
            "epochs": r["metrics"]["epochs"],
            "trainable params": r["metrics"]["params"]["trainable"],
            "seed": r["metrics"]["seed"],
            "train seconds": r["metrics"]["train_seconds"],
            "test accuracy": r["metrics"]["test"]["accuracy"],
            "gpu": on_gpu(r),
            "machine": machine(r),
        }
        for r in records
    ]
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows)
    grouped = frame.groupby(["model", "images_seen", "recipe"], sort=True)
    table = grouped.agg(
        epochs=("epochs", "first"),
        params=("trainable params", "first"),
        seeds=("seed", "count"),
        seconds=("train seconds", "mean"),
        mean=("test accuracy", "mean"),
        std=("test accuracy", "std"),
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


def _not_chosen(searches: dict[str, dict]) -> set[str]:
    """Names of the candidate runs that a recipe search did not choose."""
    return {
        run
        for search in searches.values()
        for name, run in search["runs"].items()
        if name != search["chosen"]
    }


GPU_RUN_STATUS = "n/a: a GPU run (the target is for the 2-core CPU)"


def target_status(
    model: str,
    images_seen: int,
    seeds: int,
    mean: float,
    seconds: float | None = None,
    gpu: bool = False,
) -> str:
    """Where a row stands against the project's target, in plain words.

    The targets are for the 2-core CPU machine: a GPU run neither meets nor misses one.
    """
    if model == OWN_MODEL and gpu:
        return GPU_RUN_STATUS
    if model == OWN_MODEL:
        target, limit = OWN_MODEL_TARGET["accuracy"], OWN_MODEL_TARGET["max_train_seconds"]
        met = mean >= target and seconds is not None and seconds <= limit
        return f"≥ {_pct(target)} in ≤ {limit / 3600:g} h: **{'met' if met else 'missed'}**"
    target, budget = TARGETS.get(model), ORIGINAL_BUDGET.get(model)
    if target is None or budget is None or not same_budget(images_seen, budget):
        return ""
    if gpu:
        return GPU_RUN_STATUS
    if seeds < TARGET_SEEDS:
        return f"≥ {_pct(target)}: open ({seeds} of {TARGET_SEEDS} seeds)"
    return f"≥ {_pct(target)}: **{'met' if mean >= target else 'missed'}**"


def _machine_tag(row, numbered: dict[str, int]) -> str:
    """Which machine(s) a table row trained on, where the table holds more than one."""
    if len(numbered) < 2:
        return ""
    numbers = ", ".join(str(numbered[name]) for name in row.machines)
    return f" (machine {numbers}{', GPU' if row.gpu else ''})"


def _machines_line(numbered: dict[str, int]) -> str:
    if len(numbered) == 1:
        return f"Machine: {next(iter(numbered))}."
    return "Machines: " + "; ".join(f"({n}) {name}" for name, n in numbered.items()) + "."


def _total_time(records: list[dict]) -> str:
    """Summed training time, CPU and GPU runs apart (their hours are not the same unit)."""
    mixed = len({on_gpu(r) for r in records}) > 1
    parts = []
    for gpu in (False, True):
        runs = [r for r in records if on_gpu(r) == gpu]
        if not runs:
            continue
        seconds = sum(r["metrics"]["train_seconds"] for r in runs)
        amount = f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min"
        where = (" on the GPU" if gpu else " on the CPU") if mixed else ""
        parts.append(f"{amount}{where} ({len(runs)} run{'' if len(runs) == 1 else 's'})")
    return ", ".join(parts)


def _original_cells(original: dict) -> str:
    """The original's images seen, time and accuracy; dashes for a model it did not have."""
    if not original:
        return "— | — | —"
    return (
        f"{original['images_seen']:,} | {original['train_seconds']} s | "
        f"{_pct(original['test_accuracy'])}"
    )


def _pct(value) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{100 * value:.2f}%"


def markdown(results_dir=RESULTS_DIR) -> str:
    """The README's results section, from ``results_dir`` only."""
    records = load_results(results_dir)
    lines = [
        "### CNNs: this project against the original",
        "",
        "Test accuracy on the 10,000 official test images, mean ± standard deviation over "
        "seeds (± n/a with one seed), mean training time per run on the machine named below "
        "(its number where there are several); the original's single runs beside. "
        "Budget = images seen in training. The original's recipe was Adam at a constant "
        "learning rate (rotate+flip for arch2 and vgg).",
        "",
        "| model | trainable params | images seen (epochs) | recipe | seeds | training time | "
        "test accuracy | target | original: images seen | original: time (GPU) | "
        "original: test accuracy |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    if any(r["metrics"]["arch"] == OWN_MODEL for r in records):
        lines[2] += (
            f" {OWN_MODEL} is this project's own model (not in the original), trained with a "
            "recipe and budget fixed in advance; its target is "
            f"≥ {_pct(OWN_MODEL_TARGET['accuracy'])} test accuracy within "
            f"{OWN_MODEL_TARGET['max_train_seconds'] / 3600:g} h of training on the 2-core CPU."
        )
    table = summary(records)
    searches = recipe_searches(results_dir)
    not_chosen = _not_chosen(searches)
    numbered = {name: number for number, name in enumerate(machines(records), start=1)}
    for row in table.itertuples():
        original = original_run(row.model, row.images_seen)
        spread = "" if pd.isna(row.std) else f" ± {100 * row.std:.2f}"
        status = target_status(
            row.model, row.images_seen, row.seeds, row.mean, row.seconds, gpu=row.gpu
        )
        if set(row.names) <= not_chosen:
            status = "candidate recipe, not chosen on validation"
        lines.append(
            f"| {row.model} | {row.params:,} | {row.images_seen:,} ({row.epochs}) | {row.recipe} | "
            f"{row.seeds} | "
            f"{row.seconds:,.0f} s{_machine_tag(row, numbered)} | {_pct(row.mean)}{spread} | "
            f"{status} | {_original_cells(original)} |"
        )
    if not records:
        lines.append("| (no runs in results/ yet) | | | | | | | | | | |")
    else:
        lines += [
            "",
            _machines_line(numbered) + " "
            f"Training time of all recorded runs together: {_total_time(records)}.",
        ]
        for arch, search in searches.items():
            scores = ", ".join(
                f"{name} {_pct(value)}"
                for name, value in sorted(
                    search["validation_accuracy"].items(), key=lambda kv: -kv[1]
                )
            )
            later_seeds = {f"{arch}-{search['chosen']}-s{seed}" for seed in (1, 2)}
            follow_up = (
                "then trained with seeds 1 and 2."
                if later_seeds <= {r["name"] for r in records}
                else f"its seeds 1 and 2 are not trained yet (`scripts/recipe_search.sh {arch}` "
                "resumes the search)."
            )
            lines += [
                "",
                f"Recipe search for {arch} (`scripts/recipe_search.sh {arch}`, seed 0, validation "
                f"accuracy of the kept checkpoint): {scores}; chosen: **{search['chosen']}**, "
                + follow_up,
            ]
        best = best_record(records)
        per_class = best["metrics"]["test"]["per_class"]
        lines += [
            "",
            f"### Per class: the best model ({best['name']}, "
            f"{_pct(best['metrics']['test']['accuracy'])}; the model with the best mean over "
            f"{sum(_group_key(r) == _group_key(best) for r in records)} seeds, shown by its "
            "lowest seed)",
            "",
            "| class | precision | recall | F1 |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {name} | {per_class[name]['precision']:.3f} | {per_class[name]['recall']:.3f} | "
            f"{per_class[name]['f1-score']:.3f} |"
            for name in CLASS_NAMES
        ]
    baselines_path = Path(results_dir) / "baselines.json"
    if baselines_path.exists():
        lines += [
            "",
            "### Classical baselines (scikit-learn, `fmnist baselines`)",
            "",
            "| model | training images | test accuracy | published (authors) |",
            "|---|---|---|---|",
        ]
        for name, record in read_json(baselines_path).items():
            published = _pct(PUBLISHED_SVC_RBF_C10) if name == "svc_rbf_c10" else ""
            lines.append(
                f"| {name} | {record['train_size']:,} | {_pct(record['test']['accuracy'])} | "
                f"{published} |"
            )
    return "\n".join(lines) + "\n"


def render_readme(readme_text: str, results_dir=RESULTS_DIR) -> str:
    """README text with its results section regenerated."""
    if START not in readme_text or END not in readme_text:
        raise ValueError(f"README has no {START} ... {END} section")
    head, rest = readme_text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{markdown(results_dir)}{END}{tail}"


def update_readme(readme=PROJECT_ROOT / "README.md", results_dir=RESULTS_DIR) -> bool:
    """Rewrite the README's results section; True when it changed."""
    readme = Path(readme)
    old = readme.read_text(encoding="utf-8")
    new = render_readme(old, results_dir)
    if new != old:
        atomic_write_bytes(readme, new.encode("utf-8"))
    return new != old

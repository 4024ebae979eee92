"""The README's results section and results/README.md, generated from results/ alone.

The README's section (between the markers) opens with the headline table: one row
per model, the original beside its reproduction and the recipe chosen on validation.
Every run, candidate recipe, recipe search, per-class table, precision check and
test lives in ``results/README.md``. ``fmnist results readme`` rewrites both; the
test suite fails when either disagrees with results/.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .config import ORIGINAL_BUDGET, OWN_MODEL, OWN_MODELS, profile_config
from .data import CLASS_NAMES
from .metrics import percent
from .paths import PROJECT_ROOT, RESULTS_DIR
from .reference import (
    OWN_MODEL_TARGET,
    PUBLISHED_SVC_RBF_C10,
    TARGET_SEEDS,
    TARGETS,
    original_run,
    same_budget,
)
from .results import (
    best_record,
    external_references,
    group_key,
    headline,
    load_results,
    longer_runs,
    machines,
    may_stand,
    mcnemar_comparisons,
    not_chosen,
    on_gpu,
    recipe,
    recipe_searches,
    summary,
    time_budget_runs,
)
from .runs import atomic_write_bytes, read_json

START, END = "<!-- results:start -->", "<!-- results:end -->"

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
    if model in OWN_MODELS and gpu:
        return GPU_RUN_STATUS
    if model in OWN_MODELS:
        target, limit = OWN_MODEL_TARGET["accuracy"], OWN_MODEL_TARGET["max_train_seconds"]
        goal = f"≥ {percent(target)} in ≤ {limit / 3600:g} h"
        in_time = seconds is not None and seconds <= limit
        if in_time and seeds < TARGET_SEEDS:
            return f"{goal}: open ({seeds} of {TARGET_SEEDS} seeds)"
        return f"{goal}: **{'met' if in_time and mean >= target else 'missed'}**"
    target, budget = TARGETS.get(model), ORIGINAL_BUDGET.get(model)
    if target is None or budget is None or not same_budget(images_seen, budget):
        return ""
    if gpu:
        return GPU_RUN_STATUS
    if seeds < TARGET_SEEDS:
        return f"≥ {percent(target)}: open ({seeds} of {TARGET_SEEDS} seeds)"
    return f"≥ {percent(target)}: **{'met' if mean >= target else 'missed'}**"


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
        f"{original['images_seen']:,} | {original['train_seconds']:,} s | "
        f"{percent(original['test_accuracy'])}"
    )


RESULTS_PAGE = "README.md"  # inside the results folder: GitHub shows it with the folder


def results_section(results_dir=RESULTS_DIR) -> str:
    """The README's results section: the headline, longer runs, external reference points."""
    records = load_results(results_dir)
    searches = recipe_searches(results_dir)
    lines = _headline_table(records, searches)
    lines += _longer_runs_table(records)
    lines += _time_budget_table(records)
    lines += _external_lines()
    lines += _speed_lines(Path(results_dir))
    lines += [
        "",
        "Every run, the candidate recipes and their recipe searches, per-class scores, the "
        "precision check, the McNemar tests, robustness and the classical baselines: "
        f"[results/{RESULTS_PAGE}](results/{RESULTS_PAGE}).",
    ]
    return "\n".join(lines) + "\n"


def results_page(results_dir=RESULTS_DIR) -> str:
    """results/README.md: all runs and everything measured on them, from results/ only."""
    records = load_results(results_dir)
    searches = recipe_searches(results_dir)
    lines = [
        "# All results",
        "",
        "Generated by `fmnist results readme` from the files in this folder (never typed); "
        "`tests/test_results.py` fails when this page and the files disagree. The headline "
        "table is in the project's [README](../README.md#results).",
        "",
        *_cnn_table(records, searches),
    ]
    if records:
        lines += _precision_lines(records)
        lines += _recipe_search_lines(records, searches)
        lines += _mcnemar_table(records, searches, results_dir)
        lines += _per_class_table(records)
    lines += _robustness_table(Path(results_dir) / "robustness")
    lines += _baselines_table(Path(results_dir) / "baselines.json")
    return "\n".join(lines) + "\n"


def _spread_cell(mean, sd, seeds) -> str:
    if not seeds:
        return "—"
    spread = "" if pd.isna(sd) else f" ± {100 * sd:.2f}"
    return f"{percent(mean)}{spread} ({seeds})"


def _headline_table(records: list[dict], searches: dict[str, dict]) -> list[str]:
    table = headline(records, searches) if records else pd.DataFrame()
    lines = [
        "### Headline: the original, its reproduction, and the recipe chosen on validation",
        "",
        "Test accuracy on the 10,000 official test images. The original: its single run "
        "(laptop GPU). Reproduction: the original's recipe at its budget; improvement: the "
        "recipe each architecture's search chose on the validation split (the test set chose "
        f"nothing); both as mean ± standard deviation over seeds (number of seeds). "
        f"{OWN_MODEL} is this project's own model, with a recipe fixed in advance; its wider "
        "versions' rows stand by their recipe best on validation (the own one, or it with a "
        "regulariser added: the fixed-time table below). The target "
        "is this project's goal for the improvement (mean of 3 seeds at the original's budget; "
        f"for {OWN_MODEL}, within 1 h of training on the 2-core CPU).",
        "",
    ]
    if table.empty:
        return [*lines, "(no runs in results/ yet)"]
    machines_seen = sorted(set(table["machine"]))
    one_machine = len(machines_seen) == 1
    header = (
        "| model | images seen | original | reproduction | improvement: recipe | improvement | "
        "improvement − original | target |"
    )
    if not one_machine:
        header += " machine |"
    lines += [header, "|---" * (header.count("|") - 1) + "|"]
    for model, row in table.iterrows():
        difference = row["improvement − original"]
        status = target_status(
            model,
            row["images seen"],
            row["improvement seeds"],
            row["improvement"],
            row["improvement seconds"],
            gpu=row["gpu"],
        )
        original = "—" if pd.isna(row["original"]) else percent(row["original"])
        reproduction = _spread_cell(
            row["reproduction"], row["reproduction sd"], row["reproduction seeds"]
        )
        improvement = _spread_cell(
            row["improvement"], row["improvement sd"], row["improvement seeds"]
        )
        gain = "—" if pd.isna(difference) else f"{100 * difference:+.2f} points"
        line = (
            f"| {model} | {row['images seen']:,} | {original} | {reproduction} | "
            f"{row['improvement recipe'] or '—'} | {improvement} | {gain} | {status} |"
        )
        lines.append(line + ("" if one_machine else f" {row['machine']} |"))
    if one_machine:
        lines += ["", f"This project's runs in this table trained on: {machines_seen[0]}."]
    return lines


def _longer_runs_table(records: list[dict]) -> list[str]:
    table = longer_runs(records, "vgg")
    if len(table) < 2:
        return []
    original = table.iloc[0]
    n_train = profile_config("vgg", "full").n_train
    equal_images = (table["images seen"].iloc[1:] >= original["images seen"]).any()
    lines = [
        "",
        "### Longer VGG runs, beside the original's 80-epoch run",
        "",
        f"The original's 80 epochs ran over its {original['images seen'] // 80:,}-image "
        f"augmented set, {original['images seen']:,} images seen. This project's 80-epoch "
        f'runs read "80 epochs" as equal epochs over the {n_train:,} training images, '
        f"{80 * n_train:,} images seen: {80 * n_train / original['images seen']:.0%} of the "
        "original's budget."
        + (
            f" The runs at {original['images seen']:,} images seen match it in images seen, "
            "the reading of the headline's budgets."
            if equal_images
            else ""
        )
        + " Training time is per run, on the machine named.",
        "",
        "| who | recipe | images seen | seeds | test accuracy | − the original's 80 epochs "
        "| training time | machine |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        gap = row._5 - original["test accuracy"]
        lines.append(
            f"| {row.who} | {row.recipe} | {row._3:,} | {row.seeds} | "
            f"{_spread_cell(row._5, row.sd, row.seeds)} | "
            f"{'—' if row.Index == 0 else f'{100 * gap:+.2f} points'} | "
            f"{row.seconds:,.0f} s | {row.machine} |"
        )
    return lines


def _margins(records: list[dict]) -> str:
    """The shares of their budgets that the time-budget runs planned to fill, in words."""
    planned = [r["metrics"].get("time_budget") for r in records]
    shares = sorted({plan["margin"] for plan in planned if plan}, reverse=True)
    listed = " or ".join(f"{100 * share:g}%" for share in shares) or "a fixed share"
    if len(shares) > 1:
        listed += " (each record names its own; the share was lowered after runs overran)"
    return listed


def _time_budget_table(records: list[dict]) -> list[str]:
    table = time_budget_runs(records)
    if table.empty:
        return []
    target = OWN_MODEL_TARGET
    lines = [
        "",
        "### Training for a fixed time",
        "",
        "Each run measured this machine's training rate for its own model before it "
        f"started, then trained the whole epochs that fill {_margins(records)} of its budget "
        "(`fmnist train --budget-seconds S`), so seeds may see different numbers of images. "
        "Validation accuracy (of the kept checkpoint, scored as the test set is) is the "
        "only column that chooses; ★ marks the best at each budget on each machine (a time "
        "budget buys fewer images on a slower CPU, so candidates compare on the machine they "
        f"shared), among the rows with all {TARGET_SEEDS} seeds where there are any (one "
        "seed's score is not compared with a mean over seeds). The own-model target: "
        f"≥ {percent(target['accuracy'])} test accuracy, mean of {TARGET_SEEDS} seeds, within "
        f"{target['max_train_seconds'] / 3600:g} h of training on the 2-core CPU.",
        "",
        "| budget | model | recipe | seeds | images seen | validation | test accuracy "
        "| training time | machine |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    # Candidates for one time budget compete only on the machine they shared, and a
    # single seed competes only where no candidate has all of them (as in the headline).
    budget = ["budget_seconds", "timed_on"]
    competing = may_stand(table, budget)
    best = table["val_mean"].where(competing).groupby([table[c] for c in budget]).transform("max")
    for row, is_best in zip(table.itertuples(), table["val_mean"] == best, strict=True):
        low, high = row.images_seen, row.images_most
        images = f"{low:,}" if low == high else f"{low:,}–{high:,}"
        lines.append(
            f"| {row.budget_seconds / 60:g} min | {row.model} | {row.recipe} | {row.seeds} | "
            f"{images} | "
            f"{percent(row.val_mean)}{' ★' if is_best else ''} | "
            f"{_spread_cell(row.mean, row.std, row.seeds)} | {row.seconds:,.0f} s | "
            f"{'; '.join(row.machines)} |"
        )
    return lines


def _external_lines() -> list[str]:
    lines = ["", "External reference points (measured by others, not by this project):", ""]
    for name, row in external_references().iterrows():
        lines.append(f"* {name}: {percent(row['test accuracy'])}")
    return lines


def _mcnemar_table(records: list[dict], searches: dict[str, dict], results_dir) -> list[str]:
    table = mcnemar_comparisons(records, searches, results_dir)
    if table.empty:
        return []
    lines = [
        "",
        "### Do two models differ? Exact McNemar tests, like with like",
        "",
        "Each model is an architecture under a named recipe (`original` = the original's), "
        "represented by its seed with the best validation accuracy; pairs differ in one "
        "thing only (the recipe, or the architecture under one recipe). The Holm-adjusted "
        f"p-values correct for the {len(table)} tests read together.",
        "",
        "| model A | model B | runs | only A right | only B right | p (raw) | p (Holm) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in table.itertuples(index=False):
        lines.append(
            f"| {row[0]} | {row[1]} | {row[2]}, {row[3]} | {row[4]} | {row[5]} | "
            f"{row[6]:.2g} | {row[7]:.2g} |"
        )
    return lines


def _speed_lines(results_dir: Path) -> list[str]:
    """The suite's duration and the full side-by-side benchmark, where they were run."""
    lines = _suite_lines(results_dir / "suite" / "full.json")
    bench = results_dir / "bench" / "full" / "bench.json"
    if bench.exists():
        report = read_json(bench)
        ratios, sides = report["ratios"], report["pipelines"]
        speedup = ratios["time_to_accuracy_speedup"]
        bound = {"lower": ">= ", "upper": "<= "}.get(speedup.get("bound"), "")
        lines += [
            "",
            f"Speed (`fmnist bench`, both sides on {report['machine']['cpu']}, "
            f"{report['machine']['cores']} cores; [docs/benchmark.md](docs/benchmark.md)): "
            f"{sides['project']['images_per_second']:,.0f} training images/s against the "
            f"original pipeline's {sides['original']['images_per_second']:,.0f} "
            f"({ratios['images_per_second']:.2f}x; goal 2x), and "
            f"{100 * report['target']['accuracy']:.2f}% test accuracy reached {bound}"
            f"{speedup['value']:.2f}x sooner (goal 5x).",
        ]
    return lines


def _suite_lines(path: Path) -> list[str]:
    """How long the notebook suite took in the full profile (`make reproduce`).

    A rerun executes only the notebooks that are out of date, so its time is not the
    whole suite's: then the line also adds up each notebook's last execution.
    """
    if not path.exists():
        return []
    record = read_json(path)
    run = record["last_run"]
    machine = run["machine"]
    where = (
        f"on {machine['cpu']}, {machine['cores']} cores, "
        f"{'with' if machine['bf16'] else 'without'} native bf16 (code at {run['git_commit']})"
    )
    if not run["skipped"]:
        return [
            "",
            f"The notebook suite in the full profile (`make reproduce`, all "
            f"{len(run['executed'])} notebooks) ran in {run['wall_seconds'] / 60:.0f} min {where}.",
        ]
    every = record["notebooks"].values()
    return [
        "",
        f"The notebook suite in the full profile (`make reproduce`): its last run executed "
        f"{', '.join(run['executed'])} in {run['wall_seconds'] / 60:.0f} min {where}, and "
        f"skipped {', '.join(run['skipped'])} (up to date); each notebook's last execution "
        f"adds up to {sum(entry['seconds'] for entry in every) / 60:.0f} min.",
    ]


def _robustness_table(folder: Path) -> list[str]:
    from .robustness import load_records, markdown_table

    records = load_records(folder) if folder.is_dir() else []
    if not records:
        return []
    return [
        "",
        "### Robustness: test accuracy when the images shift (`fmnist robustness`)",
        "",
        *markdown_table(records).rstrip("\n").split("\n"),
    ]


def _cnn_table(records: list[dict], searches: dict[str, dict]) -> list[str]:
    intro = (
        "Test accuracy on the 10,000 official test images, mean ± standard deviation over "
        "seeds (± n/a with one seed), mean training time per run on the machine named below "
        "(its number where there are several); the original's single runs beside. "
        "Budget = images seen in training. The original's recipe was Adam at a constant "
        "learning rate (rotate+flip for arch2 and vgg)."
    )
    if any(r["metrics"]["arch"] in OWN_MODELS for r in records):
        intro += (
            f" {OWN_MODEL} is this project's own model (not in the original; "
            f"{' and '.join(OWN_MODELS[1:])} are wider versions of it), trained with a "
            "recipe and budget fixed in advance (the wider versions' hours also with "
            "regularisers added, chosen on validation); its target is "
            f"≥ {percent(OWN_MODEL_TARGET['accuracy'])} test accuracy within "
            f"{OWN_MODEL_TARGET['max_train_seconds'] / 3600:g} h of training on the 2-core CPU."
        )
    lines = [
        "### CNNs: this project against the original",
        "",
        intro,
        "",
        "| model | trainable params | images seen (epochs) | recipe | seeds | training time | "
        "test accuracy | target | original: images seen | original: time (GPU) | "
        "original: test accuracy |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    if not records:
        return [*lines, "| (no runs in results/ yet) | | | | | | | | | | |"]
    candidates = not_chosen(searches)
    numbered = {name: number for number, name in enumerate(machines(records), start=1)}
    for row in summary(records).itertuples():
        spread = "" if pd.isna(row.std) else f" ± {100 * row.std:.2f}"
        status = target_status(
            row.model, row.images_seen, row.seeds, row.mean, row.seconds, gpu=row.gpu
        )
        if set(row.names) <= candidates:
            status = "candidate recipe, not chosen on validation"
        lines.append(
            f"| {row.model} | {row.params:,} | {row.images_seen:,} ({row.epochs}) | {row.recipe} | "
            f"{row.seeds} | "
            f"{row.seconds:,.0f} s{_machine_tag(row, numbered)} | {percent(row.mean)}{spread} | "
            f"{status} | {_original_cells(original_run(row.model, row.images_seen))} |"
        )
    total = f"Training time of all recorded runs together: {_total_time(records)}."
    return [*lines, "", f"{_machines_line(numbered)} {total}"]


def _precision_lines(records: list[dict]) -> list[str]:
    """bf16 against float32 where the same runs trained in both (scripts/precision_check.sh)."""
    groups: dict[tuple, dict[str, list[float]]] = {}
    for r in records:
        precision = r["config"].get("precision", "auto")
        if precision in ("float32", "mixed_bfloat16") and not on_gpu(r):
            config = {**r["config"], "precision": "auto"}
            key = (r["metrics"]["arch"], r["metrics"]["images_seen"], recipe(config))
            groups.setdefault(key, {}).setdefault(precision, []).append(
                r["metrics"]["test"]["accuracy"]
            )
    lines = []
    for (arch, images_seen, recipe_text), by_precision in sorted(groups.items()):
        bf16, fp32 = by_precision.get("mixed_bfloat16", []), by_precision.get("float32", [])
        if min(len(bf16), len(fp32)) < TARGET_SEEDS:
            continue
        difference = 100 * (sum(bf16) / len(bf16) - sum(fp32) / len(fp32))
        verdict = "within" if abs(difference) <= 0.2 else "outside"
        lines += [
            "",
            f"bf16 against float32 ({arch}, {recipe_text}, {images_seen:,} images seen, "
            f"`scripts/precision_check.sh`): mean test accuracy {percent(sum(bf16) / len(bf16))} "
            f"({len(bf16)} seeds) against {percent(sum(fp32) / len(fp32))} ({len(fp32)} seeds), "
            f"a difference of {difference:+.2f} points, **{verdict}** the 0.2 points that make "
            "bf16 the default on CPUs with native bf16.",
        ]
    return lines


def _recipe_search_lines(records: list[dict], searches: dict[str, dict]) -> list[str]:
    """One paragraph per recipe search: the validation scores, the choice, its other seeds."""
    recorded = {r["name"] for r in records}
    lines = []
    for arch, search in searches.items():
        scores = ", ".join(
            f"{name} {percent(value)}"
            for name, value in sorted(search["validation_accuracy"].items(), key=lambda kv: -kv[1])
        )
        seeds = search["confirm_seeds"]
        seed_words = " and ".join(str(seed) for seed in seeds)
        follow_up = (
            f"then trained with seeds {seed_words}."
            if {f"{arch}-{search['chosen']}-s{seed}" for seed in seeds} <= recorded
            else f"its seeds {seed_words} are not trained yet (`scripts/recipe_search.sh {arch}` "
            "resumes the search)."
        )
        lines += [
            "",
            f"Recipe search for {arch} (`scripts/recipe_search.sh {arch}`, seed 0, validation "
            f"accuracy of the kept checkpoint): {scores}; chosen: **{search['chosen']}**, "
            + follow_up,
        ]
    return lines


def _per_class_table(records: list[dict]) -> list[str]:
    best = best_record(records)
    per_class = best["metrics"]["test"]["per_class"]
    seeds = sum(group_key(r) == group_key(best) for r in records)
    return [
        "",
        f"### Per class: the best model ({best['name']}, "
        f"{percent(best['metrics']['test']['accuracy'])}; the model with the best mean validation "
        f"accuracy over {seeds} seeds, shown by its seed with the best validation accuracy)",
        "",
        "| class | precision | recall | F1 |",
        "|---|---|---|---|",
        *(
            f"| {name} | {per_class[name]['precision']:.3f} | {per_class[name]['recall']:.3f} | "
            f"{per_class[name]['f1-score']:.3f} |"
            for name in CLASS_NAMES
        ),
    ]


def _baselines_table(path: Path) -> list[str]:
    if not path.exists():
        return []
    lines = [
        "",
        "### Classical baselines (scikit-learn, `fmnist baselines`)",
        "",
        "| model | training images | test accuracy | published (authors) |",
        "|---|---|---|---|",
    ]
    for name, record in read_json(path).items():
        published = percent(PUBLISHED_SVC_RBF_C10) if name == "svc_rbf_c10" else ""
        lines.append(
            f"| {name} | {record['train_size']:,} | {percent(record['test']['accuracy'])} | "
            f"{published} |"
        )
    return lines


def render_readme(readme_text: str, results_dir=RESULTS_DIR) -> str:
    """README text with its results section regenerated."""
    if START not in readme_text or END not in readme_text:
        raise ValueError(f"README has no {START} ... {END} section")
    head, rest = readme_text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{results_section(results_dir)}{END}{tail}"


def out_of_date(readme=PROJECT_ROOT / "README.md", results_dir=RESULTS_DIR) -> list[Path]:
    """The generated files (README, results/README.md) that disagree with results/."""
    readme, page = Path(readme), Path(results_dir) / RESULTS_PAGE
    stale = []
    current = readme.read_text(encoding="utf-8")
    if render_readme(current, results_dir) != current:
        stale.append(readme)
    if not page.exists() or page.read_text(encoding="utf-8") != results_page(results_dir):
        stale.append(page)
    return stale


def update_readme(readme=PROJECT_ROOT / "README.md", results_dir=RESULTS_DIR) -> list[Path]:
    """Rewrite the README's results section and results/README.md; the files that changed."""
    readme, page = Path(readme), Path(results_dir) / RESULTS_PAGE
    changed = []
    old = readme.read_text(encoding="utf-8")
    new = render_readme(old, results_dir)
    if new != old:
        atomic_write_bytes(readme, new.encode("utf-8"))
        changed.append(readme)
    text = results_page(results_dir)
    if not page.exists() or page.read_text(encoding="utf-8") != text:
        atomic_write_bytes(page, text.encode("utf-8"))
        changed.append(page)
    return changed

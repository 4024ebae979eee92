"""The README's results section and results/README.md, generated from results/ alone.

The README's section (between the markers) opens with the headline table; every run,
recipe search, per-class table, precision check and test is in ``results/README.md``.
Tables are built from named columns and written by pandas (``DataFrame.to_markdown``);
verdicts come from ``fmnist_lib.verdict``. ``fmnist results readme`` rewrites both
files; the test suite fails when either disagrees with results/.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import results, tables
from .config import profile_config
from .data import CLASS_NAMES
from .experiments import IMPROVEMENT, PRECISION_CHECK, REPRODUCTION, by_role
from .metrics import percent
from .paths import PROJECT_ROOT, RESULTS_DIR
from .reference import PUBLISHED_SVC_RBF_C10, TARGET_SEEDS
from .robustness import load_records, markdown_table
from .runs import atomic_write_bytes, read_json
from .specs import OWN, get_spec, with_role
from .verdict import format_spread, reproduction_match, spread, target_verdict

START, END = "<!-- results:start -->", "<!-- results:end -->"
RESULTS_PAGE = "README.md"  # inside the results folder: GitHub shows it with the folder
# bf16 becomes a recipe's precision only within this many points of float32's mean.
PRECISION_TOLERANCE_POINTS = 0.2


def _markdown(table: pd.DataFrame) -> list[str]:
    return table.to_markdown(index=False, tablefmt="github", disable_numparse=True).split("\n")


def _points(value) -> str:
    return "—" if pd.isna(value) else f"{100 * value:+.2f} points"


def _spreads(table: pd.DataFrame, columns: list[str]) -> list[str]:
    return [format_spread(*row) for row in table[columns].values]


def headline_table(records: list[dict]) -> pd.DataFrame:
    table = tables.headline(records)
    return pd.DataFrame(
        {
            "model": table.index,
            "images seen": table["images seen"].map("{:,}".format),
            "original": table["original"].map(lambda v: "—" if pd.isna(v) else percent(v)),
            "reproduction": _spreads(
                table, ["reproduction", "reproduction sd", "reproduction seeds"]
            ),
            "improvement: recipe": table["improvement recipe"].replace("", "—"),
            "improvement": _spreads(table, ["improvement", "improvement sd", "improvement seeds"]),
            "improvement − original": table["improvement − original"].map(_points),
            "target": table["target"],
            "machine": table["machine"],
        }
    )


def _headline_lines(records: list[dict]) -> list[str]:
    own = ", ".join(spec.name for spec in with_role(OWN))
    lines = [
        "### Headline: the original, its reproduction, and the recipe chosen on validation",
        "",
        "Test accuracy on the 10,000 official test images, mean ± standard deviation over "
        "seeds (number of seeds). The original: its single run (laptop GPU). Reproduction: "
        "the original's recipe at its budget; improvement: the recipe chosen on the "
        "validation split (the test set chose nothing). "
        f"This project's own models ({own}) stand by their group best on validation. The "
        "target is this project's goal for the improvement (mean of 3 seeds at the "
        "original's budget; for the own models, within 1 h of training on the 2-core CPU).",
        "",
    ]
    if not records:
        return [*lines, "(no runs in results/ yet)"]
    return lines + _markdown(headline_table(records))


def _longer_lines(records: list[dict]) -> list[str]:
    table = tables.longer_runs(records, "vgg")
    if len(table) < 2:
        return []
    original = table.iloc[0]
    n_train = profile_config("vgg", "full").n_train
    shown = pd.DataFrame(
        {
            "who": table["who"],
            "recipe": table["recipe"],
            "images seen": table["images seen"].map("{:,}".format),
            "test accuracy": _spreads(table, ["test accuracy", "sd", "seeds"]),
            "− the original's 80 epochs": [
                "—" if i == 0 else _points(v - original["test accuracy"])
                for i, v in enumerate(table["test accuracy"])
            ],
            "training time": table["seconds"].map("{:,.0f} s".format),
            "machine": table["machine"],
        }
    )
    return [
        "",
        "### Longer VGG runs, beside the original's 80-epoch run",
        "",
        f"The original's 80 epochs ran over its {original['images seen'] // 80:,}-image "
        "augmented set, "
        f"{original['images seen']:,} images seen; 80 epochs over this project's "
        f"{n_train:,} training images are {80 * n_train:,}. Training time is per run, on the "
        "machine named.",
        "",
        *_markdown(shown),
    ]


def _time_budget_lines(records: list[dict]) -> list[str]:
    table = tables.time_budget_runs(records)
    if table.empty:
        return []
    budget = ["budget_seconds", "timed_on"]
    competing = results.may_stand(table, budget)
    best = table["val_mean"].where(competing).groupby([table[c] for c in budget]).transform("max")
    shown = pd.DataFrame(
        {
            "budget": table["budget_seconds"].map(lambda s: f"{s / 60:g} min"),
            "model": table["model"],
            "recipe": table["recipe name"],
            "images seen": [
                f"{lo:,}" if lo == hi else f"{lo:,}–{hi:,}"
                for lo, hi in table[["images_seen", "images_most"]].values
            ],
            "validation": [
                percent(v) + (" ★" if star else "")
                for v, star in zip(table["val_mean"], table["val_mean"] == best, strict=True)
            ],
            "test accuracy": _spreads(table, ["mean", "std", "seeds"]),
            "training time": table["seconds"].map("{:,.0f} s".format),
            "machine": table["timed_on"],
        }
    )
    return [
        "",
        "### Training for a fixed time",
        "",
        "Each run measured its model's training rate on its machine, then trained the "
        "whole epochs that fit its budget (`--budget-seconds`), so seeds may see different "
        "numbers of images. Validation accuracy (of the kept checkpoint) is the only column "
        "that chooses; ★ marks the best at each budget on each machine, among rows with all "
        f"{TARGET_SEEDS} seeds where there are any.",
        "",
        *_markdown(shown),
    ]


def _speed_lines(results_dir: Path) -> list[str]:
    """The suite's duration and the full side-by-side benchmark, where they were run."""
    lines = _suite_lines(results_dir / "suite" / "full.json")
    path = results_dir / "bench" / "full" / "bench.json"
    if path.exists():
        report = read_json(path)
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
    """How long the notebook suite took in the full profile (`make reproduce`); a rerun
    executes only the out-of-date notebooks, so it also sums each one's last execution."""
    if not path.exists():
        return []
    record = read_json(path)
    run, hw = record["last_run"], record["last_run"]["machine"]
    where = (
        f"on {hw['cpu']}, {hw['cores']} cores, {'with' if hw['bf16'] else 'without'} native "
        f"bf16 (code at {run['git_commit']})"
    )
    text = (
        f"The notebook suite in the full profile (`make reproduce`, all "
        f"{len(run['executed'])} notebooks) ran in {run['wall_seconds'] / 60:.0f} min {where}."
    )
    if run["skipped"]:
        total = sum(entry["seconds"] for entry in record["notebooks"].values())
        text = (
            "The notebook suite in the full profile (`make reproduce`): its last run executed "
            f"{', '.join(run['executed'])} in {run['wall_seconds'] / 60:.0f} min {where}, and "
            f"skipped {', '.join(run['skipped'])} (up to date); each notebook's last "
            f"execution adds up to {total / 60:.0f} min."
        )
    return ["", text]


def results_section(results_dir=RESULTS_DIR) -> str:
    """The README's results section: headline, longer runs, fixed time, references, speed."""
    records = results.load_results(results_dir)
    lines = _headline_lines(records) + _longer_lines(records) + _time_budget_lines(records)
    lines += ["", "External reference points (measured by others, not by this project):", ""]
    refs = tables.external_references()["test accuracy"]
    lines += [f"* {name}: {percent(value)}" for name, value in refs.items()]
    lines += _speed_lines(Path(results_dir))
    lines += [
        "",
        "Every run, the recipe searches, per-class scores, the precision check, the McNemar "
        "tests, robustness and the classical baselines: "
        f"[results/{RESULTS_PAGE}](results/{RESULTS_PAGE}).",
    ]
    return "\n".join(lines) + "\n"


def _status(row: pd.Series, candidates: set[str]) -> str:
    """A summary row's verdict: a reproduction against the original, a candidate, or the
    improvement and the own models' groups against their target."""
    spec = get_spec(row["model"])
    if row["role"] == REPRODUCTION and spec.original:
        match = reproduction_match(spec.original["test_accuracy"], row["spread"], row["machines"])
        return f"reproduction: {'**matched**' if match.matched else '**not matched**'}"
    if set(row["names"]) <= candidates:
        return "candidate recipe, not chosen on validation"
    if row["role"] == IMPROVEMENT or (spec.role == OWN and row["budget_seconds"]):
        return target_verdict(spec.target, row["spread"], row["seconds"], row["gpu"]).text
    return ""


def _summary_lines(records: list[dict], searches: dict) -> list[str]:
    table = results.summary(records)
    numbered = {name: n for n, name in enumerate(results.machines(records), start=1)}
    candidates = results.not_chosen(searches)
    shown = pd.DataFrame(
        {
            "model": table["model"],
            "experiment": table["experiment"],
            "recipe": table["recipe name"],
            "trainable params": table["params"].map("{:,}".format),
            "images seen (epochs)": [
                f"{n:,} ({e})" for n, e in table[["images_seen", "epochs"]].values
            ],
            "seeds": table["seeds"].astype(str),
            "training time": [
                f"{s:,.0f} s (machine {', '.join(str(numbered[m]) for m in ms)})"
                for s, ms in table[["seconds", "machines"]].values
            ],
            "test accuracy": _spreads(table, ["mean", "std", "seeds"]),
            "verdict": [_status(row, candidates) for _, row in table.iterrows()],
        }
    )
    total = sum(r["metrics"]["train_seconds"] for r in records) / 3600
    return [
        "### Every group of seeds",
        "",
        "One row per group (seeds that trained with the same settings, `fmnist_lib.records`): "
        "test accuracy as mean ± standard deviation over seeds, mean training time per run. "
        "A reproduction matches the original when the original's run lies within two "
        "spreads of the mean (`fmnist_lib.verdict`).",
        "",
        *_markdown(shown),
        "",
        "Machines: " + "; ".join(f"({n}) {name}" for name, n in numbered.items()) + ". "
        f"Training time of all recorded runs together: {total:.1f} h ({len(records)} runs).",
    ]


def _precision_lines(records: list[dict]) -> list[str]:
    """bf16 against float32 on the precision-check experiments."""
    checks = {e.id: e for e in by_role(PRECISION_CHECK)}
    tests = {}
    for r in records:
        if r["experiment"] in checks:
            tests.setdefault(r["metrics"]["precision"], []).append(r["metrics"]["test"]["accuracy"])
    bf16, fp32 = spread(tests.get("mixed_bfloat16", [])), spread(tests.get("float32", []))
    if min(bf16.n, fp32.n) < 3:
        return []
    difference = 100 * (bf16.mean - fp32.mean)
    within = "within" if abs(difference) <= PRECISION_TOLERANCE_POINTS else "outside"
    return [
        "",
        f"bf16 against float32 ({', '.join(sorted(checks))}): mean test accuracy "
        f"{bf16.describe()} against {fp32.describe()}, {difference:+.2f} points, **{within}** "
        f"the {PRECISION_TOLERANCE_POINTS} points that let a recipe train in bf16.",
    ]


def _search_lines(searches: dict, records: list[dict]) -> list[str]:
    recorded = {r["name"] for r in records}
    lines = []
    for arch, search in searches.items():
        scores = sorted(search["validation_accuracy"].items(), key=lambda kv: -kv[1])
        seeds = " and ".join(map(str, search["confirm_seeds"]))
        confirmed = set(search["confirm_runs"]) <= recorded
        lines += [
            "",
            f"Recipe choice for {arch} (`selection.choose_recipe`, seed 0, validation accuracy "
            f"of the kept checkpoint): {', '.join(f'{n} {percent(v)}' for n, v in scores)}; "
            f"chosen: **{search['chosen']}**, "
            + ("then trained with seeds " if confirmed else "not yet trained with seeds ")
            + f"{seeds}.",
        ]
    return lines


def _mcnemar_lines(records, searches, results_dir) -> list[str]:
    table = tables.mcnemar_comparisons(records, searches, results_dir)
    if table.empty:
        return []
    table["runs"] = table["run A"] + ", " + table["run B"]
    for column in ("p (raw)", "p (Holm)"):
        table[column] = table[column].map("{:.2g}".format)
    for column in ("only A right", "only B right"):
        table[column] = table[column].astype(str)
    columns = ["model A", "model B", "runs", "only A right", "only B right", "p (raw)", "p (Holm)"]
    return [
        "",
        "### Do two models differ? Exact McNemar tests, like with like",
        "",
        "Each model is an architecture under a named recipe, represented by its seed with the "
        "best validation accuracy; pairs differ in one thing only. The Holm-adjusted p-values "
        f"correct for the {len(table)} tests read together.",
        "",
        *_markdown(table[columns]),
    ]


def _per_class_lines(records: list[dict]) -> list[str]:
    best = results.best_record(records)
    per_class = best["metrics"]["test"]["per_class"]
    seeds = sum(r["group"] == best["group"] for r in records)
    table = pd.DataFrame(
        {
            "class": CLASS_NAMES,
            **{
                label: [f"{per_class[name][key]:.3f}" for name in CLASS_NAMES]
                for label, key in (
                    ("precision", "precision"),
                    ("recall", "recall"),
                    ("F1", "f1-score"),
                )
            },
        }
    )
    return [
        "",
        f"### Per class: the best model ({best['name']}, "
        f"{percent(best['metrics']['test']['accuracy'])}; best mean validation accuracy over "
        f"{seeds} seeds, shown by its seed best on validation)",
        "",
        *_markdown(table),
    ]


def _extra_lines(results_dir: Path) -> list[str]:
    lines = []
    robustness = (
        load_records(results_dir / "robustness") if (results_dir / "robustness").is_dir() else []
    )
    if robustness:
        lines += [
            "",
            "### Robustness: test accuracy when the images shift (`fmnist robustness`)",
            "",
        ]
        lines += markdown_table(robustness).rstrip("\n").split("\n")
    path = results_dir / "baselines.json"
    if path.exists():
        baselines = read_json(path)
        table = pd.DataFrame(
            {
                "model": list(baselines),
                "training images": [f"{b['train_size']:,}" for b in baselines.values()],
                "test accuracy": [percent(b["test"]["accuracy"]) for b in baselines.values()],
                "published (authors)": [
                    percent(PUBLISHED_SVC_RBF_C10) if n == "svc_rbf_c10" else "" for n in baselines
                ],
            }
        )
        lines += ["", "### Classical baselines (scikit-learn, `fmnist baselines`)", ""]
        lines += _markdown(table)
    return lines


def results_page(results_dir=RESULTS_DIR) -> str:
    """results/README.md: every group and everything measured on them, from results/."""
    records = results.load_results(results_dir)
    searches = results.recipe_searches(results_dir, records)
    lines = [
        "# All results",
        "",
        "Generated by `fmnist results readme` from the files in this folder (never typed); "
        "the test suite fails when this page and the files disagree. The headline table is "
        "in the project's [README](../README.md#results).",
        "",
    ]
    if records:
        lines += _summary_lines(records, searches) + _precision_lines(records)
        lines += _search_lines(searches, records)
        lines += _mcnemar_lines(records, searches, results_dir) + _per_class_lines(records)
    lines += _extra_lines(Path(results_dir))
    return "\n".join(lines) + "\n"


def render_readme(readme_text: str, results_dir=RESULTS_DIR) -> str:
    """README text with its results section regenerated."""
    if START not in readme_text or END not in readme_text:
        raise ValueError(f"README has no {START} ... {END} section")
    head, rest = readme_text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{results_section(results_dir)}{END}{tail}"


def _generated(readme: Path, results_dir) -> dict[Path, str]:
    return {
        readme: render_readme(readme.read_text(encoding="utf-8"), results_dir),
        Path(results_dir) / RESULTS_PAGE: results_page(results_dir),
    }


def out_of_date(readme=PROJECT_ROOT / "README.md", results_dir=RESULTS_DIR) -> list[Path]:
    """The generated files (README, results/README.md) that disagree with results/."""
    return [
        path
        for path, text in _generated(Path(readme), results_dir).items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def update_readme(readme=PROJECT_ROOT / "README.md", results_dir=RESULTS_DIR) -> list[Path]:
    """Rewrite the README's results section and results/README.md; the files that changed."""
    changed = []
    for path, text in _generated(Path(readme), results_dir).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            atomic_write_bytes(path, text.encode("utf-8"))
            changed.append(path)
    return changed

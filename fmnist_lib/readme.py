"""The generated parts of the documentation, from results/ alone.

The README's section (between its markers) holds the findings abstract and the
headline table; ``results/README.md`` every group, recipe, search, test and score;
``docs/findings.md`` the research narrative (``fmnist_lib.findings``); the models table
of ``docs/reference.md`` (between its markers). Tables are built from named columns and
written by pandas; verdicts come from ``fmnist_lib.verdict``. ``fmnist results readme``
rewrites them all; the test suite fails when any disagrees with results/.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import findings, results, tables
from .data import CLASS_NAMES
from .experiments import IMPROVEMENT, REPRODUCTION
from .metrics import percent
from .paths import PROJECT_ROOT, RESULTS_DIR
from .recipes import RECIPES, is_study_recipe, recipe_settings
from .reference import PUBLISHED_SVC_RBF_C10
from .results import recipe
from .robustness import load_records, markdown_table
from .runs import atomic_write_bytes, read_json
from .specs import OWN, SPECS, USER, get_spec, with_role
from .verdict import format_spread, reproduction_match, target_verdict

START, END = "<!-- results:start -->", "<!-- results:end -->"
MODELS_START, MODELS_END = "<!-- models:start -->", "<!-- models:end -->"
FIRST_LOOK_START, FIRST_LOOK_END = "<!-- first-look:start -->", "<!-- first-look:end -->"
RESULTS_PAGE = "README.md"  # inside the results folder: GitHub shows it with the folder
RECIPES_ANCHOR = f"{RESULTS_PAGE}#recipes"
FINDINGS_PAGE = Path("docs") / "findings.md"  # relative to the README's folder
REFERENCE_PAGE = Path("docs") / "reference.md"


def _reproduction_cell(row: pd.Series, found: dict) -> str:
    """The reproduction's spread and its verdict; a model without one gets a dash."""
    if row.name not in found:
        return "—"
    result, match = found[row.name]
    return f"{result.describe()}: {'matched' if match.matched else '**not matched**'}"


def headline_table(records: list[dict]) -> pd.DataFrame:
    """The README's headline: seven short columns, recipes by name (linked to the
    recipe table) and machines in a footnote. The target is the improvement's; a model
    without an improvement of its own (a reproduction alone) shows none."""
    table = tables.headline(records)
    found = findings.reproductions(records)
    better = findings.improved(table, records)
    columns = ["improvement", "improvement sd", "improvement seeds"]

    def improvement(row: pd.Series) -> str:
        gain = row["improvement − original"]
        return format_spread(*row[columns]) + ("" if pd.isna(gain) else f", {100 * gain:+.2f}")

    return pd.DataFrame(
        {
            "model": table.index,
            "images seen": table["images seen"].map("{:,}".format),
            "original": table["original"].map(lambda v: "—" if pd.isna(v) else percent(v)),
            "reproduction": [_reproduction_cell(row, found) for _, row in table.iterrows()],
            "improvement: recipe": [
                _recipe_link(row["improvement recipe"]) if ok else "—"
                for ok, (_, row) in zip(better, table.iterrows(), strict=True)
            ],
            "improvement (− original)": [
                improvement(row) if ok else "—"
                for ok, (_, row) in zip(better, table.iterrows(), strict=True)
            ],
            "improvement target": [
                row["target"] if ok else "—"
                for ok, (_, row) in zip(better, table.iterrows(), strict=True)
            ],
        }
    )


def _recipe_link(name: str) -> str:
    """A recipe's name linked to where it is described: a named recipe to the recipe
    table, a study's trial to the search's section of the findings."""
    if is_study_recipe(name):
        return f"[{name}]({FINDINGS_PAGE.as_posix()}#{findings.anchor(findings.SEARCH_TITLE)})"
    return f"[{name}](results/{RECIPES_ANCHOR})"


def _machines_line(records: list[dict]) -> str:
    """Which machines each model's headline runs trained on, as one footnote."""
    table = tables.headline(records)
    used: dict[str, list[str]] = {}
    for model, machines in table["machine"].items():
        for name in machines.split("; "):
            used.setdefault(name, []).append(model)
    return (
        "Machines: " + "; ".join(f"{m} ({', '.join(models)})" for m, models in used.items()) + "."
    )


def _headline_lines(records: list[dict]) -> list[str]:
    if not records:
        return ["(no runs in results/ yet)"]
    own = ", ".join(spec.name for spec in with_role(OWN))
    return [
        *findings.markdown(headline_table(records)),
        "",
        "Test accuracy on the 10,000 official test images, mean ± standard deviation over "
        "seeds (number of seeds). Original: its single published run (laptop GPU). "
        "Reproduction: the original's recipe at its budget, judged against that run. "
        "Improvement: the recipe chosen on the validation split, in points against the "
        f"original; its target is this project's goal (the own models {own}: within 1 h of "
        "training on a 2-core CPU, each by its group best on validation). Images seen: "
        "under a time budget each seed fits its own epochs, and the column gives the seed "
        "that saw the fewest. " + _machines_line(records),
    ]


def results_section(results_dir=RESULTS_DIR) -> str:
    """The README's results section: the findings abstract and the headline table."""
    records = results.load_results(results_dir)
    lines = findings.abstract(records, results_dir) if records else []
    lines += ["", *_headline_lines(records)]
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
            "test accuracy": findings.spreads(table, ["mean", "std", "seeds"]),
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
        *findings.markdown(shown),
        "",
        "Machines: " + "; ".join(f"({n}) {name}" for name, n in numbered.items()) + ". "
        f"Training time of all recorded runs together: {total:.1f} h ({len(records)} runs).",
    ]


def _recipe_lines(records: list[dict]) -> list[str]:
    """Every recipe named in the records, with what it trains with (``fmnist_lib.recipes``)."""
    names = sorted({r["recipe"] for r in records} & set(RECIPES))
    table = pd.DataFrame(
        {
            "recipe": names,
            "what it trains with": [recipe(recipe_settings(name)) for name in names],
            "models": [
                ", ".join(sorted({r["model"] for r in records if r["recipe"] == name}))
                for name in names
            ],
        }
    )
    return [
        "",
        "### Recipes",
        "",
        "The named recipes of the recorded runs (`fmnist_lib/recipes.py`); a setting a "
        "recipe leaves out keeps `TrainConfig`'s default (Adam at its default learning rate, "
        "a constant schedule, batch 250, float32 or bf16 by the machine).",
        "",
        *findings.markdown(table),
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
        *findings.markdown(table[columns]),
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
        *findings.markdown(table),
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
        lines += findings.markdown(table)
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
        "in the project's [README](../README.md#findings), the narrative in "
        "[docs/findings.md](../docs/findings.md).",
        "",
    ]
    if records:
        lines += _summary_lines(records, searches) + _recipe_lines(records)
        precision = findings.precision_line(records)
        lines += ["", precision] if precision else []
        lines += _search_lines(searches, records)
        lines += _mcnemar_lines(records, searches, results_dir) + _per_class_lines(records)
    lines += _extra_lines(Path(results_dir))
    return "\n".join(lines) + "\n"


def models_section(records: list[dict]) -> str:
    """docs/reference.md's models table: the registry, with parameter counts as recorded."""
    params = {r["model"]: r["metrics"]["params"]["trainable"] for r in records}
    specs = [spec for spec in SPECS.values() if spec.role != USER]
    table = pd.DataFrame(
        {
            "model": [f"`{spec.name}`" for spec in specs],
            "role": [spec.role for spec in specs],
            "what it is": [spec.description for spec in specs],
            "trainable parameters": [
                f"{params[s.name]:,}" if s.name in params else "—" for s in specs
            ],
            "full profile": [f"{spec.budget_images:,} images, `{spec.recipe}`" for spec in specs],
        }
    )
    return "\n".join(findings.markdown(table)) + "\n"


def splice(text: str, start: str, end: str, content: str) -> str:
    """``text`` with what lies between its ``start`` and ``end`` markers replaced."""
    if start not in text or end not in text:
        raise ValueError(f"no {start} ... {end} section")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{content}{end}{tail}"


def render_readme(readme_text: str, results_dir=RESULTS_DIR) -> str:
    """README text with its results section, and its first-look timing where it has
    those markers, regenerated."""
    text = splice(readme_text, START, END, results_section(results_dir))
    if FIRST_LOOK_START in text:
        sentence = findings.first_look_sentence(Path(results_dir))
        text = splice(text, FIRST_LOOK_START, FIRST_LOOK_END, sentence + "\n")
    return text


def _generated(readme: Path, results_dir) -> dict[Path, str]:
    """Each generated file and the text it should hold; the docs pages sit beside the
    README (docs/reference.md only where it exists)."""
    records = results.load_results(results_dir)
    searches = results.recipe_searches(results_dir, records)
    docs = readme.parent
    generated = {
        readme: render_readme(readme.read_text(encoding="utf-8"), results_dir),
        Path(results_dir) / RESULTS_PAGE: results_page(results_dir),
        docs / FINDINGS_PAGE: findings.page(records, searches, results_dir),
    }
    reference = docs / REFERENCE_PAGE
    if reference.exists():
        text = reference.read_text(encoding="utf-8")
        generated[reference] = splice(text, MODELS_START, MODELS_END, models_section(records))
    return generated


def out_of_date(readme=PROJECT_ROOT / "README.md", results_dir=RESULTS_DIR) -> list[Path]:
    """The generated files that disagree with results/."""
    return [
        path
        for path, text in _generated(Path(readme), results_dir).items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def update_readme(readme=PROJECT_ROOT / "README.md", results_dir=RESULTS_DIR) -> list[Path]:
    """Rewrite every generated file that disagrees with results/; the files that changed."""
    changed = []
    for path, text in _generated(Path(readme), results_dir).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            atomic_write_bytes(path, text.encode("utf-8"))
            changed.append(path)
    return changed

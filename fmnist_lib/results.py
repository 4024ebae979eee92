"""Committed results: compact copies of finished runs, and the README tables built from them.

``results/runs/<name>.json`` holds a run's config, per-epoch history and test
metrics (with hardware, versions and git commit); ``<name>.npz`` its test-set
probabilities (float16) for analysis without the weights. The README's results
section is generated from these files, never typed.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from .config import PROJECT_ROOT
from .data import CLASS_NAMES
from .reference import ORIGINAL_RESULTS, PUBLISHED_SVC_RBF_C10
from .runs import atomic_write_bytes, load_run, read_json, write_json

RESULTS_DIR = PROJECT_ROOT / "results"
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
    buffer = io.BytesIO()
    np.savez_compressed(buffer, probs=predictions["probs"], y_true=predictions["y_true"])
    atomic_write_bytes(target / f"{name}.npz", buffer.getvalue())
    return target / f"{name}.json"


def load_results(results_dir=RESULTS_DIR) -> list[dict]:
    return [read_json(p) for p in sorted((Path(results_dir) / "runs").glob("*.json"))]


def summary(records: list[dict]) -> pd.DataFrame:
    """One row per (architecture, training budget): mean and spread over seeds."""
    rows = [
        {
            "model": r["metrics"]["arch"],
            "images_seen": r["metrics"]["images_seen"],
            "epochs": r["metrics"]["epochs"],
            "trainable params": r["metrics"]["params"]["trainable"],
            "seed": r["metrics"]["seed"],
            "train seconds": r["metrics"]["train_seconds"],
            "test accuracy": r["metrics"]["test"]["accuracy"],
        }
        for r in records
    ]
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows)
    grouped = frame.groupby(["model", "images_seen"], sort=True)
    table = grouped.agg(
        epochs=("epochs", "first"),
        params=("trainable params", "first"),
        seeds=("seed", "count"),
        seconds=("train seconds", "mean"),
        mean=("test accuracy", "mean"),
        std=("test accuracy", "std"),
    )
    return table.reset_index()


def _pct(value) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{100 * value:.2f}%"


def markdown(results_dir=RESULTS_DIR) -> str:
    """The README's results section, from ``results_dir`` only."""
    records = load_results(results_dir)
    lines = [
        "### CNNs: this project against the original",
        "",
        "Test accuracy on the 10,000 official test images, mean ± standard deviation over "
        "seeds (n/a with one seed), training time measured on the machine named below; the "
        "original's single runs beside. Budget = images seen in training.",
        "",
        "| model | trainable params | images seen (epochs) | seeds | training time | "
        "test accuracy | original: images seen | original: time (GPU) | original: test accuracy |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    table = summary(records)
    for row in table.itertuples():
        original = ORIGINAL_RESULTS.get(row.model, {})
        spread = "" if pd.isna(row.std) else f" ± {100 * row.std:.2f}"
        lines.append(
            f"| {row.model} | {row.params:,} | {row.images_seen:,} ({row.epochs}) | {row.seeds} | "
            f"{row.seconds:,.0f} s | {_pct(row.mean)}{spread} | "
            f"{original.get('images_seen', 0):,} | {original.get('train_seconds', 'n/a')} s | "
            f"{_pct(original.get('test_accuracy'))} |"
        )
    if not records:
        lines.append("| (no runs in results/ yet) | | | | | | | | |")
    else:
        machines = sorted(
            {
                f"{r['metrics']['hardware']['cpu']}, {r['metrics']['hardware']['cores']}"
                f" cores, GPUs: {r['metrics']['hardware']['gpus'] or 'none'}"
                for r in records
            }
        )
        lines += ["", f"Machine: {'; '.join(machines)}."]
        best = max(records, key=lambda r: r["metrics"]["test"]["accuracy"])
        per_class = best["metrics"]["test"]["per_class"]
        lines += [
            "",
            f"### Per class: the best run in results/ ({best['name']}, "
            f"{_pct(best['metrics']['test']['accuracy'])})",
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

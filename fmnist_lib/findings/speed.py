"""Speed and robustness, in sentences and sections, from results/bench, results/suite,
the precision-check records and results/robustness."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import results
from ..experiments import PRECISION_CHECK, by_role
from ..metrics import percent
from ..reference import TARGET_SEEDS
from ..robustness import load_records
from ..runs import read_json
from ..summaries import robustness_findings
from ..verdict import spread
from .common import PRECISION_TOLERANCE_POINTS


def _bench(results_dir: Path) -> dict | None:
    path = results_dir / "bench" / "full" / "bench.json"
    return read_json(path) if path.exists() else None


def speed_sentence(results_dir: Path) -> str:
    """The full side-by-side benchmark in one sentence, or "" where it was not run."""
    report = _bench(results_dir)
    if report is None:
        return ""
    ratios, sides = report["ratios"], report["pipelines"]
    speedup = ratios["time_to_accuracy_speedup"]
    bound = {"lower": "≥ ", "upper": "≤ "}.get(speedup.get("bound"), "")
    return (
        f"both sides on one {report['machine']['cpu']}, {report['machine']['cores']} cores: "
        f"{sides['project']['images_per_second']:,.0f} training images/s against the "
        f"original pipeline's {sides['original']['images_per_second']:,.0f} "
        f"({ratios['images_per_second']:.2f}x; goal 2x), and the original's "
        f"{percent(report['target']['accuracy'])} test accuracy reached {bound}"
        f"{speedup['value']:.2f}x sooner (goal 5x)"
    )


def robustness_sentence(results_dir: Path) -> str:
    scored = (
        load_records(results_dir / "robustness") if (results_dir / "robustness").is_dir() else []
    )
    if not scored:
        return ""
    clean = [r["clean_accuracy"] for r in scored]
    shifted = [r["mean_corruption_accuracy"] for r in scored]
    worst = pd.Series([r["worst_family"]["name"] for r in scored]).value_counts()
    r0 = scored[0]
    return (
        f"**Robustness**: over {len(r0['families'])} corruption families at "
        f"{len(r0['severities'])} severities, mean accuracy falls from "
        f"{percent(min(clean))}–{percent(max(clean))} clean to "
        f"{percent(min(shifted))}–{percent(max(shifted))}; the worst family is "
        f"{worst.index[0]} for {worst.iloc[0]} of the {len(scored)} models scored."
    )


def precision_line(records: list[dict]) -> str:
    """bf16 against float32 on the precision-check experiments."""
    checks = {e.id for e in by_role(PRECISION_CHECK)}
    tests: dict[str, list[float]] = {}
    for r in records:
        if r["experiment"] in checks:
            tests.setdefault(r["metrics"]["precision"], []).append(r["metrics"]["test"]["accuracy"])
    bf16, fp32 = spread(tests.get("mixed_bfloat16", [])), spread(tests.get("float32", []))
    if min(bf16.n, fp32.n) < TARGET_SEEDS:
        return ""
    difference = 100 * (bf16.mean - fp32.mean)
    within = "within" if abs(difference) <= PRECISION_TOLERANCE_POINTS else "outside"
    return (
        f"bf16 against float32 ({', '.join(sorted(checks))}): mean test accuracy "
        f"{bf16.describe()} against {fp32.describe()}, {difference:+.2f} points, **{within}** "
        f"the {PRECISION_TOLERANCE_POINTS} points that let a recipe train in bf16."
    )


def _machine_words(run: dict) -> str:
    hw = run["machine"]
    return (
        f"on {hw['cpu']}, {hw['cores']} cores, {'with' if hw['bf16'] else 'without'} native "
        f"bf16 (code at {run['git_commit'][:12]})"
    )


def first_look_sentence(results_dir: Path) -> str:
    """How long the quick profile took end to end, from ``results/suite/quick.json``
    (written by `make time-quick`), or how to measure it where it was not timed."""
    path = results_dir / "suite" / "quick.json"
    if not path.exists():
        return "`make time-quick` times the quick profile end to end on this machine."
    run = read_json(path)["last_run"]
    if run["skipped"]:
        raise ValueError(f"{path}: a timing must execute every notebook (make time-quick)")
    return (
        f"Timed end to end (`make time-quick`), the quick profile ran all "
        f"{len(run['executed'])} notebooks in {run['wall_seconds'] / 60:.0f} min "
        f"{_machine_words(run)}."
    )


def suite_sentence(results_dir: Path) -> str:
    """How long the notebook suite took in the full profile (`make reproduce`); a rerun
    executes only the out-of-date notebooks, so it also sums each one's last execution."""
    path = results_dir / "suite" / "full.json"
    if not path.exists():
        return ""
    record = read_json(path)
    run = record["last_run"]
    where = _machine_words(run)
    if not run["skipped"]:
        return (
            f"The notebook suite in the full profile (`make reproduce`, all "
            f"{len(run['executed'])} notebooks) ran in {run['wall_seconds'] / 60:.0f} min {where}"
            f"{_training_words(run.get('training'))}."
        )
    total = sum(entry["seconds"] for entry in record["notebooks"].values())
    return (
        "The notebook suite in the full profile (`make reproduce`): its last run executed "
        f"{', '.join(run['executed'])} in {run['wall_seconds'] / 60:.0f} min {where}, and "
        f"skipped {', '.join(run['skipped'])} (up to date); each notebook's last execution "
        f"adds up to {total / 60:.0f} min."
    )


def _training_words(training: dict | None) -> str:
    """What a suite run's wall time holds of training: its runs trained or reused."""
    if not training or not training["runs"]:
        return ""
    runs, trained = training["runs"], training["trained"]
    minutes = training["train_seconds"] / 60
    if trained == runs:
        return f", {minutes:.0f} min of it training its {runs} runs"
    if trained == 0:
        return (
            f", on its {runs} training runs already complete (their training took "
            f"{minutes:.0f} min): the notebooks' own analysis only"
        )
    return f", training {trained} of its {runs} runs (all {runs} took {minutes:.0f} min to train)"


def _gpu_sentence(records: list[dict]) -> str:
    gpu = [r for r in records if results.on_gpu(r)]
    if not gpu:
        return ""
    runs = ", ".join(
        f"{r['name']} trained {r['metrics']['images_seen']:,} images in "
        f"{r['metrics']['train_seconds']:,.0f} s on {', '.join(r['metrics']['hardware']['gpus'])} "
        f"({r['metrics']['hardware']['keras_backend']} backend)"
        for r in gpu
    )
    return f"On a GPU: {runs}."


def speed_section(records: list[dict], results_dir: Path) -> list[str]:
    """The bench, the suite's duration, the precision check and the GPU runs."""
    speed = speed_sentence(results_dir)
    texts = [
        f"Measured {speed}." if speed else "",
        suite_sentence(results_dir),
        precision_line(records),
        _gpu_sentence(records),
    ]
    if not any(texts):
        return []
    lines = [
        "",
        "## How fast is it?",
        "",
        "`fmnist bench` trains the VGG model with the original's pipeline, rebuilt on tf.keras "
        "2 (offline augmentation, split after augmenting, float32), and with this project's, "
        "one after the other on one machine ([benchmark.md](benchmark.md) has the method).",
    ]
    for text in texts:
        lines += ["", text] if text else []
    return lines


def robustness_section(results_dir: Path) -> list[str]:
    folder = results_dir / "robustness"
    scored = load_records(folder) if folder.is_dir() else []
    if not scored:
        return []
    return [
        "",
        "## How robust are the models?",
        "",
        "`fmnist robustness` scores saved models on corrupted copies of the test images "
        "([robustness.md](robustness.md) has the families and severities; the results page "
        "has every score), with each run's own test-time augmentation.",
        "",
        robustness_sentence(results_dir).replace("**Robustness**: o", "O"),
        "",
        robustness_findings({r["name"]: r for r in scored}),
        "",
        "![VGG's accuracy under shift](../figures/robustness_vgg.png)",
    ]

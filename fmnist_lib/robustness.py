"""Robustness of saved models: test accuracy on corrupted copies of the test images.

Clean test accuracy says little about photos, which are shifted, blurred, noisy,
badly lit or taken of a light background. ``score_run`` scores a run's saved model
on the corruption families of :mod:`fmnist_lib.corruptions` at each severity, as
the run scored itself (flip TTA when it was trained with it), and returns one
record; ``write_record`` puts it in ``results/robustness/<run name>.json``.
``markdown_table`` turns the records into a README table.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from tqdm import tqdm  # the command line's bar; notebooks score without one

from . import hardware
from .config import PROFILES
from .corruptions import (
    FAMILIES,
    MAX_SEVERITY,
    check_family,
    check_severity,
    corrupt,
    parameter,
)
from .data import load_fashion_mnist, stratified_subset, to_model_input
from .inference import load_trained_model, predict_probabilities
from .metrics import calibration, percent
from .paths import RESULTS_DIR
from .results import recipe
from .runs import read_json, write_json

ROBUSTNESS_DIR = RESULTS_DIR / "robustness"
DEFAULT_SEVERITIES = tuple(range(1, MAX_SEVERITY + 1))
TEST_SIZE = 10_000
MIN_TEST_SUBSET = 100  # fewer images make every cell a coin toss of a few items
# Test images per corruption for each notebook profile: all of them for the record,
# a stratified 500 for a first look, the fewest allowed for the tests' smoke runs.
PROFILE_TEST_IMAGES = {"full": TEST_SIZE, "quick": 500, "smoke": MIN_TEST_SUBSET}


def profile_test_images(profile: str) -> int:
    """How many test images a notebook in ``profile`` scores under each corruption."""
    if profile not in PROFILE_TEST_IMAGES:
        raise ValueError(f"profile: {profile!r} is not valid; choose one of {list(PROFILES)}")
    return PROFILE_TEST_IMAGES[profile]


def check_run_dir(run_dir) -> Path:
    """A run directory holding ``model.keras`` and ``config.json``; ValueError otherwise."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ValueError(f"{run_dir}: no such run directory")
    for name in ("model.keras", "config.json"):
        if not (run_dir / name).is_file():
            raise ValueError(
                f"{run_dir}: no {name}; expected a run directory written by `fmnist train`"
            )
    return run_dir


def check_runs(run_dirs) -> list[Path]:
    """Every run directory checked, and no two with the same name (their records would clash)."""
    checked = [check_run_dir(run_dir) for run_dir in run_dirs]
    if not checked:
        raise ValueError("name at least one run directory")
    names = [run_dir.resolve().name for run_dir in checked]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"run name(s) {twice} given twice; each run's record is <name>.json")
    return checked


def check_request(families=None, severities=DEFAULT_SEVERITIES, test_subset=None):
    """Validated families (registry order, default all) and severities (sorted)."""
    families = FAMILIES if families is None else tuple(dict.fromkeys(families))
    if not families:
        raise ValueError(f"families: name at least one of {list(FAMILIES)}")
    for name in families:
        check_family(name)
    severities = tuple(sorted({check_severity(s) for s in severities}))
    if not any(severities):
        raise ValueError(
            f"severities: name at least one from 1 to {MAX_SEVERITY} (0 is the clean images)"
        )
    if test_subset is not None and not MIN_TEST_SUBSET <= test_subset <= TEST_SIZE:
        raise ValueError(
            f"test_subset: {test_subset} is out of range; it must be between "
            f"{MIN_TEST_SUBSET} and {TEST_SIZE:,}"
        )
    return families, severities


def graded_means(cells_by_family: dict[str, dict[str, float]]) -> dict[str, float]:
    """Each family's mean over its severities above 0 (severity 0 is the clean images)."""
    return {
        family: float(np.mean([value for severity, value in cells.items() if int(severity) > 0]))
        for family, cells in cells_by_family.items()
    }


def summarize(clean_accuracy: float, accuracy: dict[str, dict[str, float]]) -> dict:
    """Means, drops and the worst family from accuracy[family][severity] (severity 0 left out)."""
    family_accuracy = graded_means(accuracy)
    worst = min(family_accuracy, key=family_accuracy.get)  # the first of equals, in table order
    cells = [acc for row in accuracy.values() for s, acc in row.items() if int(s) > 0]
    return {
        "mean_corruption_accuracy": float(np.mean(cells)),
        "family_accuracy": family_accuracy,
        "relative_drop": {
            family: (clean_accuracy - acc) / clean_accuracy if clean_accuracy else None
            for family, acc in family_accuracy.items()
        },
        "worst_family": {"name": worst, "accuracy": family_accuracy[worst]},
    }


def score_run(
    run_dir,
    families=None,
    severities=DEFAULT_SEVERITIES,
    test_subset: int | None = None,
    seed: int = 0,
    data_dir=None,
    progress: bool = False,
) -> dict:
    """Accuracy of a run's model on each family at each severity; one JSON-ready record.

    ``test_subset`` scores a stratified subset of the test images (quick runs);
    ``seed`` draws that subset and the random corruptions. Bad arguments raise
    ValueError before anything is loaded.
    """
    run_dir = check_run_dir(run_dir)
    families, severities = check_request(families, severities, test_subset)
    start = time.perf_counter()
    name = run_dir.resolve().name
    config = read_json(run_dir / "config.json")
    images, labels = _test_images(data_dir, test_subset, seed)
    model, tta_flip = load_trained_model(run_dir)  # scored as the run scored its test set

    def scores_on(batch) -> tuple[float, float]:
        """Accuracy and expected calibration error on one batch of images."""
        probs = predict_probabilities(model, to_model_input(batch), tta_flip=tta_flip)
        accuracy = float(np.mean(probs.argmax(axis=1) == labels))
        return accuracy, calibration(labels, probs)["ece"]

    clean_accuracy, clean_ece = scores_on(images)
    bar = tqdm(families, desc=name, unit="family", disable=not progress)
    accuracy, ece = _score_corruptions(scores_on, images, bar, severities, seed)
    return {
        "name": name,
        "run_dir": str(run_dir),
        "arch": config.get("arch"),
        "config": config,
        "tta_flip": tta_flip,
        "families": list(families),
        "severities": list(severities),
        "ladders": {
            family: {str(s): parameter(family, s) for s in severities} for family in families
        },
        "test_size": int(len(labels)),
        "test_subset": test_subset,
        "seed": seed,
        "clean_accuracy": clean_accuracy,
        "accuracy": accuracy,
        **summarize(clean_accuracy, accuracy),
        # Calibration under shift: does a recipe's confidence still mean what it says?
        "clean_ece": clean_ece,
        "ece": ece,
        "family_ece": graded_means(ece),
        "hardware": hardware.describe(),
        "versions": hardware.package_versions(),
        "git_commit": hardware.git_commit(),
        "seconds": time.perf_counter() - start,
    }


def _test_images(data_dir, test_subset: int | None, seed: int):
    """The test images and labels scored: all, or a stratified subset of ``test_subset``."""
    _, (x_test, y_test) = load_fashion_mnist(data_dir)
    index = stratified_subset(y_test, test_subset, seed) if test_subset else np.arange(len(y_test))
    return x_test[index], y_test[index]


def _score_corruptions(scores_on, images, families, severities, seed) -> tuple[dict, dict]:
    """accuracy[family][severity] and ece[family][severity] from ``scores_on(images)``."""
    accuracy, ece = {}, {}
    for family in families:
        scored = {}  # parameter -> scores: a one-level family is scored once, not five times
        accuracy[family], ece[family] = {}, {}
        for severity in severities:
            key = parameter(family, severity)
            if key not in scored:
                scored[key] = scores_on(corrupt(images, family, severity, seed))
            accuracy[family][str(severity)], ece[family][str(severity)] = scored[key]
    return accuracy, ece


def write_record(record: dict, out_dir=ROBUSTNESS_DIR) -> Path:
    """Write ``record`` atomically as ``out_dir/<name>.json``; return the path."""
    path = Path(out_dir) / f"{record['name']}.json"
    write_json(path, record)
    return path


def load_records(folder=ROBUSTNESS_DIR) -> list[dict]:
    """Every record in ``folder``, by file name (none when the folder does not exist)."""
    return [read_json(path) for path in sorted(Path(folder).glob("*.json"))]


def markdown_table(records: list[dict]) -> str:
    """README table: one row per model and recipe, best mean corruption accuracy first.

    The records must have been scored alike (families, severities, test images,
    seed); a table mixing them would compare different tests.
    """
    if not records:
        raise ValueError("no robustness records: score runs with `fmnist robustness RUN_DIR`")
    settings = {
        (tuple(r["families"]), tuple(r["severities"]), r["test_size"], r["seed"]) for r in records
    }
    if len(settings) > 1:
        raise ValueError(
            "the records were scored on different families, severities, test images or seeds: "
            f"{sorted(settings)}; score them again alike"
        )
    ordered = sorted(records, key=lambda r: (-r["mean_corruption_accuracy"], r["name"]))
    lines = [
        "| record | model | recipe | clean accuracy | mean corruption accuracy | worst family "
        "| ECE: clean → under shift |",
        "|---|---|---|---|---|---|---|",
    ]
    for record in ordered:
        worst = record["worst_family"]
        # A record without calibration says so rather than show a blank.
        ece = (
            f"{record['clean_ece']:.3f} → {np.mean(list(record['family_ece'].values())):.3f}"
            if "family_ece" in record
            else "not recorded"
        )
        lines.append(
            f"| {record['name']} | {record['arch']} | {recipe(record['config'])} | "
            f"{percent(record['clean_accuracy'])} | "
            f"{percent(record['mean_corruption_accuracy'])} | "
            f"{worst['name']} ({percent(worst['accuracy'])}) | {ece} |"
        )
    families, severities, test_size, seed = settings.pop()
    graded = [s for s in severities if s > 0]
    lines += [
        "",
        f"Accuracy on {test_size:,} test images; the mean is over {len(families)} corruption "
        f"families ({', '.join(families)}) at severities {', '.join(map(str, graded))} "
        f"(corruption seed {seed}); the worst family has the lowest mean over those severities.",
    ]
    return "\n".join(lines) + "\n"

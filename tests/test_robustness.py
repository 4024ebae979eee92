"""`fmnist robustness` end to end on the tiny trained run: the record, the table, bad input."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from fmnist_lib import robustness
from fmnist_lib.cli import main
from fmnist_lib.config import PROFILES
from fmnist_lib.corruptions import FAMILIES, parameter
from fmnist_lib.data import load_fashion_mnist, stratified_subset
from fmnist_lib.metrics import calibration
from fmnist_lib.results import recipe
from fmnist_lib.runs import read_json, write_json

from .conftest import run_cli

SUBSET, SEVERITIES = 500, (0, 1, 5)


@pytest.fixture(scope="module")
def scored(trained_run, tmp_path_factory):
    """The CLI's record of the tiny run: 500 test images, severity 0 and two graded ones."""
    out = tmp_path_factory.mktemp("robustness")
    run_cli(
        "robustness",
        trained_run,
        "--test-subset",
        SUBSET,
        "--severities",
        ",".join(map(str, SEVERITIES)),
        "--out",
        out,
        "--quiet",
        check_rc=0,
    )
    return out, read_json(out / f"{trained_run.name}.json")


def test_the_record_is_written_alone_and_complete(scored, trained_run):
    out, record = scored
    assert sorted(p.name for p in out.iterdir()) == ["tiny.json"]  # no temporary files left
    for key in (
        "name",
        "run_dir",
        "arch",
        "config",
        "tta_flip",
        "families",
        "severities",
        "ladders",
        "test_size",
        "test_subset",
        "seed",
        "clean_accuracy",
        "accuracy",
        "mean_corruption_accuracy",
        "family_accuracy",
        "relative_drop",
        "worst_family",
        "hardware",
        "versions",
        "git_commit",
        "seconds",
    ):
        assert key in record, key
    config = read_json(trained_run / "config.json")
    assert record["name"] == "tiny" and record["arch"] == "arch1" and record["config"] == config
    assert record["tta_flip"] is False
    assert record["test_size"] == record["test_subset"] == SUBSET and record["seed"] == 0
    assert record["families"] == list(FAMILIES) and record["severities"] == list(SEVERITIES)
    assert record["hardware"]["keras_backend"] and record["seconds"] > 0
    for family in FAMILIES:
        assert record["ladders"][family] == {str(s): parameter(family, s) for s in SEVERITIES}


def test_every_cell_is_an_accuracy_and_severity_0_is_the_clean_score(scored):
    _, record = scored
    clean = record["clean_accuracy"]
    assert 0.0 <= clean <= 1.0
    assert set(record["accuracy"]) == set(FAMILIES)
    for family, cells in record["accuracy"].items():
        assert set(cells) == {str(s) for s in SEVERITIES}, family
        assert all(0.0 <= acc <= 1.0 for acc in cells.values()), family
        assert all(round(acc * SUBSET, 6).is_integer() for acc in cells.values()), family
        assert cells["0"] == clean, family  # the identity scores exactly as the clean images
    for family in ("flip", "invert"):  # one level: every severity is the same images
        assert record["accuracy"][family]["1"] == record["accuracy"][family]["5"]


def test_the_summary_follows_from_the_cells(scored):
    _, record = scored
    clean, cells = record["clean_accuracy"], record["accuracy"]
    graded = {family: [row["1"], row["5"]] for family, row in cells.items()}
    assert record["mean_corruption_accuracy"] == pytest.approx(
        np.mean([acc for accs in graded.values() for acc in accs])
    )
    for family, accs in graded.items():
        assert record["family_accuracy"][family] == pytest.approx(np.mean(accs))
        drop = (clean - record["family_accuracy"][family]) / clean
        assert record["relative_drop"][family] == pytest.approx(drop)
    means = record["family_accuracy"]
    worst = record["worst_family"]
    assert worst["name"] == min(FAMILIES, key=means.get)
    assert worst["accuracy"] == min(means.values())


def test_calibration_under_shift_is_recorded_per_family(scored, trained_run):
    _, record = scored
    _, (_, y_test) = load_fashion_mnist()
    index = stratified_subset(y_test, SUBSET, 0)
    probs = np.load(trained_run / "test_predictions.npz")["probs"][index].astype(np.float32)
    # The clean ECE is the run's own on the same images (float16 rounding aside).
    assert record["clean_ece"] == pytest.approx(calibration(y_test[index], probs)["ece"], abs=2e-3)
    assert set(record["ece"]) == set(record["family_ece"]) == set(FAMILIES)
    for family, cells in record["ece"].items():
        assert set(cells) == {str(s) for s in SEVERITIES}, family
        assert cells["0"] == record["clean_ece"], family  # severity 0: the clean images
        assert all(0.0 <= value <= 1.0 for value in cells.values()), family
        assert record["family_ece"][family] == pytest.approx(np.mean([cells["1"], cells["5"]]))


def test_clean_accuracy_is_the_runs_own_on_the_same_subset(scored, trained_run):
    _, record = scored
    _, (_, y_test) = load_fashion_mnist()
    index = stratified_subset(y_test, SUBSET, 0)
    probs = np.load(trained_run / "test_predictions.npz")["probs"][index].astype(np.float32)
    # The run kept float16 probabilities: where its top two are within float16's rounding
    # the recorded argmax may differ from the float32 one; every other item must agree.
    top = np.sort(probs, axis=1)
    unsure = top[:, -1] - top[:, -2] <= 2.0**-10 * top[:, -1]
    sure_right = int(np.sum((probs.argmax(axis=1) == y_test[index]) & ~unsure))
    right = round(record["clean_accuracy"] * SUBSET)
    assert sure_right <= right <= sure_right + int(unsure.sum())
    assert unsure.mean() < 0.05  # the bound means something


def test_records_load_back_into_a_deterministic_readme_table(scored):
    out, record = scored
    records = robustness.load_records(out)
    assert records == [record]
    table = robustness.markdown_table(records)
    assert table == robustness.markdown_table(robustness.load_records(out))
    lines = table.splitlines()
    assert lines[0] == (
        "| record | model | recipe | clean accuracy | mean corruption accuracy | worst family "
        "| ECE: clean → under shift |"
    )
    worst = record["worst_family"]
    mean_ece = np.mean(list(record["family_ece"].values()))
    assert lines[2] == (
        f"| tiny | arch1 | {recipe(record['config'])} | {100 * record['clean_accuracy']:.2f}% | "
        f"{100 * record['mean_corruption_accuracy']:.2f}% | "
        f"{worst['name']} ({100 * worst['accuracy']:.2f}%) | "
        f"{record['clean_ece']:.3f} → {mean_ece:.3f} |"
    )
    old_record = {k: v for k, v in record.items() if k not in ("clean_ece", "ece", "family_ece")}
    assert robustness.markdown_table([old_record]).splitlines()[2].endswith("| not recorded |")
    assert "Accuracy on 500 test images" in table and "severities 1, 5 " in table
    other = {**record, "name": "other", "severities": [1, 2]}
    with pytest.raises(ValueError, match="scored on different"):
        robustness.markdown_table([record, other])
    with pytest.raises(ValueError, match="no robustness records"):
        robustness.markdown_table([])


def test_summarize_picks_the_first_of_equal_worst_families():
    summary = robustness.summarize(0.8, {"a": {"1": 0.4, "2": 0.6}, "b": {"0": 0.8, "1": 0.5}})
    assert summary["worst_family"] == {"name": "a", "accuracy": 0.5}
    assert summary["mean_corruption_accuracy"] == pytest.approx(0.5)
    assert summary["relative_drop"] == {"a": pytest.approx(0.375), "b": pytest.approx(0.375)}


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--families", "rotate,fog"], "unknown corruption family 'fog'; valid names are ["),
        (["--severities", "1,6"], "severity: 6 is out of range; valid severities are 0 to 5"),
        (["--severities", "1,x"], "--severities: 'x' is not a whole number"),
        (["--severities", "0"], "severities: name at least one from 1 to 5"),
        (["--test-subset", "5"], "test_subset: 5 is out of range; it must be between 100 and"),
    ],
)
def test_bad_options_exit_2_with_one_line_and_no_file(
    trained_run, tmp_path, capsys, extra, fragment
):
    code = main(["robustness", str(trained_run), "--out", str(tmp_path / "out"), *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("fmnist robustness: error: ")
    assert fragment in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda tmp: tmp / "missing", "no such run directory"),
        (lambda tmp: tmp, "no model.keras; expected a run directory written by `fmnist train`"),
    ],
)
def test_a_bad_run_dir_exits_2_before_any_run_is_scored(
    trained_run, tmp_path, capsys, make, fragment
):
    out = tmp_path / "out"
    # The good run comes first: it must not be scored, let alone written.
    code = main(["robustness", str(trained_run), str(make(tmp_path)), "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and fragment in err
    assert not out.exists()


def test_usage_error_from_a_real_process_is_one_line(tmp_path):
    proc = run_cli("robustness", tmp_path / "nowhere", "--out", tmp_path / "out")
    assert proc.returncode == 2
    # TensorFlow's C++ log may print on import (see test_cli); the CLI's own output is one line.
    tf_log = re.compile(r"^(WARNING: All log messages before absl::InitializeLog|[IWE]\d{4} )")
    lines = [line for line in proc.stderr.strip().splitlines() if not tf_log.match(line)]
    assert lines == [f"fmnist robustness: error: {tmp_path / 'nowhere'}: no such run directory"]
    assert not (tmp_path / "out").exists()


def test_an_out_that_is_a_file_is_a_usage_error(trained_run, tmp_path, capsys):
    out = tmp_path / "records.json"
    out.write_text("{}")
    assert main(["robustness", str(trained_run), "--out", str(out)]) == 2
    assert "expected a folder for the records, found a file" in capsys.readouterr().err
    assert out.read_text() == "{}"


def test_the_same_run_twice_is_a_usage_error(trained_run, tmp_path, capsys):
    code = main(["robustness", str(trained_run), str(trained_run), "--out", str(tmp_path / "o")])
    assert code == 2
    assert "run name(s) ['tiny'] given twice" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_run_with_flip_tta_is_scored_with_it(trained_run, tmp_path):
    """With TTA the prediction is the mean over an image and its mirror: flips change nothing."""
    run = tmp_path / "tta"
    run.mkdir()
    shutil.copy(trained_run / "model.keras", run / "model.keras")
    write_json(run / "config.json", {**read_json(trained_run / "config.json"), "tta_flip": True})
    record = robustness.score_run(run, ["flip"], [1], test_subset=200, seed=3)
    assert record["tta_flip"] is True and record["test_size"] == 200
    assert record["accuracy"]["flip"]["1"] == record["clean_accuracy"]
    assert record["relative_drop"]["flip"] == 0
    # Without TTA a one-epoch model is far from mirror-symmetric: the mirror scores otherwise.
    plain = robustness.score_run(trained_run, ["flip"], [1], test_subset=200, seed=3)
    assert plain["tta_flip"] is False
    assert plain["accuracy"]["flip"]["1"] != plain["clean_accuracy"]


def test_each_notebook_profile_scores_its_own_number_of_test_images():
    # The record scores every test image; the lighter profiles score within the allowed range.
    sizes = {profile: robustness.profile_test_images(profile) for profile in PROFILES}
    assert sizes["full"] == robustness.TEST_SIZE
    assert sizes["smoke"] < sizes["quick"] < sizes["full"]
    for size in sizes.values():
        robustness.check_request(test_subset=size)  # each one a valid subset
    with pytest.raises(ValueError, match=r"'fast' is not valid; choose one of \['full', 'quick'"):
        robustness.profile_test_images("fast")

"""A user's model on the reference protocol: the builder contract, and train -> record -> 04."""

from __future__ import annotations

import shutil
import textwrap

import nbformat
import pytest

from fmnist_lib.config import TrainConfig, profile_config
from fmnist_lib.errors import ModelContractError
from fmnist_lib.models import build_model
from fmnist_lib.paths import PROJECT_ROOT, RESULTS_DIR
from fmnist_lib.results import load_results
from fmnist_lib.specs import USER_BUDGET, USER_RECIPE, role_of

from .conftest import run_cli

BUILDERS = """
import keras
from keras import layers

def logits():
    return [layers.Flatten(), layers.Dense(10)]

def five_classes():
    return [layers.Flatten(), layers.Dense(5, activation="softmax")]

def raises():
    raise RuntimeError("no weights file")

def a_number():
    return 42

def colour_input():
    inputs = keras.Input((32, 32, 3))
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(layers.Flatten()(inputs)))

def mixed_list():
    return [layers.Flatten(), "dense"]

NOT_CALLABLE = 3
"""

FAILURES = {
    "import_fails": ("broken.py", "importing", "SyntaxError"),
    "missing": ("contract.py", "has no attribute 'missing'", None),
    "NOT_CALLABLE": ("contract.py", "expected a function that returns the model", None),
    "raises": ("contract.py", "the builder raised RuntimeError: no weights file", None),
    "a_number": ("contract.py", "returned 'int'; expected a keras.Model", None),
    "mixed_list": ("contract.py", "returned a list that is not all Keras layers", None),
    "five_classes": ("contract.py", "output shape is (None, 5); expected (None, 10)", None),
    "logits": ("contract.py", "not probabilities", "end the model with a softmax"),
    "colour_input": ("contract.py", "fails on 28x28x1 inputs", None),
}


@pytest.fixture(scope="module")
def builders(tmp_path_factory):
    folder = tmp_path_factory.mktemp("builders")
    (folder / "contract.py").write_text(BUILDERS)
    (folder / "broken.py").write_text("def import_fails(:\n")
    return folder


@pytest.mark.parametrize("function", FAILURES)
def test_each_broken_builder_fails_naming_the_file_and_what_was_expected(builders, function):
    filename, expected, also = FAILURES[function]
    config = TrainConfig(arch=f"{builders / filename}:{function}")
    with pytest.raises(ModelContractError) as err:
        build_model(config.arch)
    message = str(err.value)
    assert message.startswith(f"{builders / filename}:{function}: ") and "\n" not in message
    assert expected in message and (also is None or also in message)


def test_a_missing_file_and_a_taken_name_are_config_errors(tmp_path):
    with pytest.raises(ModelContractError, match="no such file"):
        build_model(TrainConfig(arch=f"{tmp_path / 'nope.py'}:net").arch)
    with pytest.raises(ValueError, match="'vgg' is taken by fmnist_lib.models:vgg"):
        TrainConfig(arch=f"{tmp_path / 'mine.py'}:vgg")


def test_the_cli_writes_nothing_for_a_broken_builder(builders, tmp_path):
    proc = run_cli(
        "train",
        "--arch",
        f"{builders / 'contract.py'}:logits",
        "--profile",
        "smoke",
        "--out",
        tmp_path / "runs",
        check_rc=2,
    )
    errors = [line for line in proc.stderr.splitlines() if line.startswith("fmnist train: error")]
    assert len(errors) == 1 and "end the model with a softmax" in errors[0]
    assert not (tmp_path / "runs").exists()


def test_a_users_model_trains_at_the_originals_budget_by_default():
    config = profile_config("examples/small_cnn.py:small_cnn", "full")
    assert (config.arch, config.builder) == ("small_cnn", "examples/small_cnn.py:small_cnn")
    assert config.budget_images == USER_BUDGET and config.lr_schedule == "cosine"
    assert role_of("small_cnn") == "user" and role_of("vgg") == "original"
    assert USER_RECIPE == "cosine-flip-ls"


@pytest.mark.slow
def test_the_example_model_trains_records_and_appears_in_04(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(RESULTS_DIR, results, ignore=shutil.ignore_patterns("search"))
    run_cli(
        "train",
        "--arch",
        "examples/small_cnn.py:small_cnn",
        "--profile",
        "smoke",
        "--seeds",
        "0",
        "1",
        "--record",
        "--results-dir",
        results,
        "--out",
        tmp_path / "runs",
        "--quiet",
        check_rc=0,
    )
    mine = [r for r in load_results(results) if r["model"] == "small_cnn"]
    assert sorted(r["name"] for r in mine) == [
        "small_cnn-cosine-flip-ls-s0",
        "small_cnn-cosine-flip-ls-s1",
    ]
    assert {r["config"]["builder"] for r in mine} == {"examples/small_cnn.py:small_cnn"}
    run_cli(
        "run-notebooks",
        "--only",
        "04_evaluation",
        "--runs-dir",
        tmp_path / "none",
        "--out",
        tmp_path / "executed",
        "-p",
        f"RESULTS_DIR={results}",
        "-p",
        "ROBUSTNESS_IMAGES=200",
        check_rc=0,
        timeout=1500,
        env={"FMNIST_FIGURES_DIR": str(tmp_path / "figures")},
    )
    executed = nbformat.read(tmp_path / "executed" / "04_evaluation.ipynb", as_version=4)
    outputs = [
        output.get("text", "")
        + str(output.get("data", {}).get("text/plain", ""))
        + str(output.get("data", {}).get("text/html", ""))
        for cell in executed.cells
        for output in cell.get("outputs", [])
    ]
    shown = [text for text in outputs if "small_cnn" in text]
    assert len(shown) >= 3, textwrap.shorten(" | ".join(outputs), 2000)
    assert not (PROJECT_ROOT / "runs" / "none").exists()

"""The experiment registry, and `fmnist experiment run|list` end to end on real data."""

from __future__ import annotations

import pytest

from fmnist_lib import experiments, runner
from fmnist_lib.errors import ConfigError
from fmnist_lib.experiments import (
    EXPERIMENTS,
    IMPROVEMENT,
    REFERENCE,
    REPRODUCTION,
    Budget,
    Experiment,
)
from fmnist_lib.runs import read_json
from fmnist_lib.specs import ORIGINAL, with_role

from .conftest import call_cli


def test_every_declaration_builds_a_valid_config_with_a_unique_run_id():
    ids = [run for e in EXPERIMENTS.values() for run in e.run_ids()]
    assert len(ids) == len(set(ids))
    for e in EXPERIMENTS.values():
        for seed in e.seeds:
            config = e.config(seed)
            assert (config.arch, config.seed) == (e.model, seed)
    # each original architecture has one reproduction and one improvement, in the reference
    for spec in with_role(ORIGINAL):
        roles = [e.role for e in EXPERIMENTS.values() if e.model == spec.name]
        assert roles.count(REPRODUCTION) == roles.count(IMPROVEMENT) == 1
        assert f"{spec.name}-full" in REFERENCE


def test_bad_declarations_fail_naming_what_is_valid():
    with pytest.raises(ConfigError, match="exactly one of images, epochs, seconds"):
        Budget(images=10, epochs=1)
    with pytest.raises(ConfigError, match="unknown recipe 'nope'"):
        Experiment("x", "vgg", "nope", Budget(epochs=1), (0,), REPRODUCTION)
    with pytest.raises(ConfigError, match="role 'lucky'"):
        Experiment("x", "vgg", "original", Budget(epochs=1), (0,), "lucky")
    with pytest.raises(ConfigError, match="unknown experiment 'nope'"):
        experiments.get_experiment("nope")


@pytest.mark.slow
def test_run_trains_records_and_leaves_what_is_done(monkeypatch, tmp_path):
    tiny = Experiment("tiny-arch1", "arch1", "original-noaug", Budget(images=1), (0,), "candidate")
    monkeypatch.setitem(EXPERIMENTS, tiny.id, tiny)
    results_dir, runs_dir = tmp_path / "results", tmp_path / "runs"
    (results_dir / "runs").mkdir(parents=True)
    state = runner.states(results_dir, runs_dir).set_index("experiment").loc[tiny.id, "state"]
    assert state == "s0 not started"

    [path] = runner.run_experiments(
        [tiny.id], results_dir=results_dir, runs_dir=runs_dir, readme=None
    )
    record = read_json(path)
    assert (record["experiment"], record["recipe"]) == (tiny.id, "original-noaug")
    assert record["metrics"]["epochs"] == 1 and record["metrics"]["precision"] == "float32"
    listed = runner.states(results_dir, runs_dir).set_index("experiment").loc[tiny.id]
    accuracy = record["metrics"]["test"]["accuracy"]
    assert (
        listed["state"] == "s0 recorded" and f"{100 * accuracy:.2f}% (1)" in listed["test accuracy"]
    )

    # recorded: nothing trains; completed but unrecorded: recorded without training again
    assert (
        runner.run_experiments([tiny.id], results_dir=results_dir, runs_dir=runs_dir, readme=None)
        == []
    )
    path.unlink()
    [again] = runner.run_experiments(
        [tiny.id], results_dir=results_dir, runs_dir=runs_dir, readme=None
    )
    assert read_json(again)["metrics"]["finished"] == record["metrics"]["finished"]


def test_experiment_command_lists_and_refuses_bad_requests(capsys):
    code, listed, _ = call_cli(capsys, "experiment", "list", "--role", "reproduction")
    assert code == 0
    assert (
        "vgg-full" in listed and "s0 recorded" in listed and "vgg-cosine-flip-ls-wd" not in listed
    )
    assert call_cli(capsys, "experiment", "run")[0] == 2
    code, _, err = call_cli(capsys, "experiment", "run", "nope")
    assert code == 2 and "unknown experiment 'nope'" in err
    assert call_cli(capsys, "experiment", "list", "--role", "lucky")[0] == 2

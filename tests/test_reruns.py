"""fmnist_lib.reruns on the committed records: why a run may differ from its seed's record."""

from __future__ import annotations

import copy

import pytest

from fmnist_lib import reruns, results


@pytest.fixture(scope="module")
def records():
    return results.load_results()


def rerun_of(records, name: str, **metrics) -> dict:
    """A run as ``runs.load_run`` returns it, copied from a committed record."""
    record = next(r for r in records if r["name"] == name)
    run = {"config": copy.deepcopy(record["config"]), "metrics": copy.deepcopy(record["metrics"])}
    run["metrics"].update(metrics)
    return run


def test_the_same_setup_finds_its_record_and_names_only_nondeterminism(records):
    run = rerun_of(records, "arch1-full-s0")
    assert reruns.committed_twin(run, records)["name"] == "arch1-full-s0"
    assert reruns.differences(run, reruns.committed_twin(run, records)) == []
    note = reruns.same_seed_note("reproduction", run, records)
    assert note.startswith("- **The reproduction** (seed 0): 90.67% here, 90.67%")
    assert "same kind of machine, in the same precision and versions" in note
    assert "not bit-for-bit deterministic" in note and "another group" not in note


def test_another_precision_and_machine_are_named_as_the_reason(records):
    """A bf16 machine reruns the float32 record of arch1's seed 0 (as notebook 01 does)."""
    run = rerun_of(records, "arch1-full-s0", precision="mixed_bfloat16")
    run["metrics"]["hardware"]["bf16"] = True
    run["metrics"]["versions"]["keras"] = "9.9.9"
    run["metrics"]["test"]["accuracy"] = 0.9026
    note = reruns.same_seed_note("reproduction", run, records)
    assert "90.26% here, 90.67% in the committed record `arch1-full-s0` (-0.41 points)" in note
    assert "precision float32 there, mixed_bfloat16 here" in note
    assert "AVX-512 BF16" in note.split("machine ", 1)[1]
    assert "keras 3.15.1 there, 9.9.9 here" in note
    # Precision is part of a group, so this run has no committed range to fall in.
    assert "another group" in note


def test_only_the_backend_that_trained_has_its_version_compared(records):
    """JAX installed beside TensorFlow takes no part in a TensorFlow run's arithmetic."""
    run = rerun_of(records, "arch1-full-s0")
    twin = reruns.committed_twin(run, records)
    assert "jax" not in twin["metrics"]["versions"]
    run["metrics"]["versions"]["jax"] = "0.10.2"
    assert reruns.differences(run, twin) == []
    run["metrics"]["hardware"]["keras_backend"] = "jax"
    assert reruns.differences(run, twin) == [
        "Keras backend tensorflow there, jax here",
        "jax not installed there, 0.10.2 here",
    ]


def test_the_closest_record_wins_and_a_missing_one_is_said(records):
    """vgg's 10-epoch recipe was recorded in both precisions for seed 0."""
    for precision in ("float32", "mixed_bfloat16"):
        name = f"vgg-cosine-flip-ls-10ep-{'bf16' if precision != 'float32' else precision}-s0"
        run = rerun_of(records, name)
        run["metrics"]["precision"] = precision
        assert reruns.committed_twin(run, records)["name"] == name
    run = rerun_of(records, "arch1-full-s0", seed=7)
    run["config"]["seed"] = 7
    assert reruns.committed_twin(run, records) is None
    assert reruns.same_seed_note("improvement", run, records) == (
        "- **The improvement** (seed 7): no committed run of this seed has its settings."
    )


def test_notes_cover_each_labelled_run(records):
    runs = {"reproduction": rerun_of(records, "arch1-full-s0")}
    runs["improvement"] = rerun_of(records, "arch1-cosine-b32-s0")
    lines = reruns.same_seed_notes(runs, records).splitlines()
    assert [line.split("**")[1] for line in lines] == ["The reproduction", "The improvement"]
    assert "`arch1-cosine-b32-s0`" in lines[1]

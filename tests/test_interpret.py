"""The training notebooks' generated conclusions, on the committed run records."""

import pytest

from fmnist_lib import interpret, results
from fmnist_lib.reference import ORIGINAL_RESULTS


@pytest.fixture(scope="module")
def records():
    return results.load_results()


def _pair(records, arch, improved):
    by_name = {r["name"]: r for r in records}
    return {
        "reproduction": by_name[f"{arch}-full-s0"],
        "improvement": by_name[f"{arch}-{improved}-s0"],
    }


def test_committed_accuracies_share_recipe_and_budget(records):
    runs = _pair(records, "vgg", "cosine-flip-ls")
    original = interpret.committed_accuracies(runs["reproduction"], records)
    improved = interpret.committed_accuracies(runs["improvement"], records)
    by_name = {r["name"]: r["metrics"]["test"]["accuracy"] for r in records}
    assert sorted(original) == sorted(by_name[f"vgg-full-s{s}"] for s in range(3))
    # The 2x-budget and 10-epoch runs of the same recipe are left out.
    assert sorted(improved) == sorted(by_name[f"vgg-cosine-flip-ls-s{s}"] for s in range(3))


def test_side_by_side_sets_each_run_beside_the_original(records):
    runs = _pair(records, "arch2", "cosine-flip-ls")
    table = interpret.side_by_side(runs, records)
    assert list(table.index) == ["reproduction", "improvement"]
    original = ORIGINAL_RESULTS["arch2"]["test_accuracy"]
    for label, run in runs.items():
        accuracy = run["metrics"]["test"]["accuracy"]
        assert table.loc[label, "the original"] == original
        assert table.loc[label, "training time (s)"] == round(run["metrics"]["train_seconds"])
        assert table.loc[label, "vs the original (points)"] == round(100 * (accuracy - original), 2)
        assert table.loc[label, "committed seeds"] == 3
        assert table.loc[label, "this run"] == "inside the committed range"


def test_interpretation_states_the_numbers(records):
    runs = _pair(records, "vgg", "cosine-flip-ls")
    text = interpret.interpretation(runs, records, "full")
    improved = runs["improvement"]["metrics"]["test"]["accuracy"]
    assert f"{100 * improved:.2f}%" in text
    assert "target for vgg" in text
    assert "Profile" not in text  # at the original's budget: no caveat


def test_interpretation_warns_below_the_budget(records):
    by_name = {r["name"]: r for r in records}
    run = by_name["vgg-cosine-flip-ls-10ep-bf16-s0"]
    text = interpret.interpretation({"improvement": run}, records, "quick")
    assert text.startswith("- **Profile `quick`: 540,000 images seen")
    assert "target" not in text

"""The training notebooks' generated conclusions, on fixture records."""

from fmnist_lib import interpret
from fmnist_lib.metrics import percent
from fmnist_lib.reference import ORIGINAL_RESULTS

from .test_results import fixture

VGG_BUDGET = {"images_seen": 1_458_000, "budget_images": 1_440_000}


def _records():
    """vgg's reproduction (3 seeds) and a cosine recipe (3 seeds) at the original's
    budget, and the cosine recipe at twice it (another group)."""
    original = [fixture(f"o{s}", "vgg", s, 0.932 + s / 1000, **VGG_BUDGET) for s in range(3)]
    cosine = [
        fixture(f"c{s}", "vgg", s, 0.944 + s / 1000, lr_schedule="cosine", **VGG_BUDGET)
        for s in range(3)
    ]
    longer = fixture(
        "c2x", "vgg", 0, 0.97, lr_schedule="cosine", images_seen=2_916_000, budget_images=2_880_000
    )
    return original, cosine, longer


def test_committed_accuracies_are_the_runs_group():
    original, cosine, longer = _records()
    records = [*original, *cosine, longer]
    assert interpret.committed_accuracies(cosine[0], records) == [0.944, 0.945, 0.946]
    assert interpret.committed_accuracies(original[1], records) == [0.932, 0.933, 0.934]


def test_side_by_side_sets_each_run_beside_the_original():
    original, cosine, _ = _records()
    runs = {"reproduction": original[0], "improvement": cosine[1]}
    table = interpret.side_by_side(runs, [*original, *cosine])
    reference = ORIGINAL_RESULTS["vgg"]["test_accuracy"]
    assert list(table.index) == ["reproduction", "improvement"]
    assert (table["the original"] == percent(reference)).all()
    assert table.loc["improvement", "committed seeds"] == "94.50% ± 0.10 (3)"
    assert table.loc["reproduction", "test accuracy"] == "93.20%"
    assert table.loc["improvement", "this run"] == "inside the committed range"
    assert (
        table.loc["improvement", "against the original"] == f"{94.5 - 100 * reference:+.2f} points"
    )
    # Nothing raw: every cell is text a reader takes in, with no NaN or None.
    assert all(isinstance(cell, str) for cell in table.to_numpy().ravel())


def test_search_table_marks_the_chosen_recipe_in_search_order():
    search = {"chosen": "b", "validation_accuracy": {"a": 0.91, "b": 0.9234, "c": 0.92}}
    table = interpret.search_table(search)
    assert list(table.index) == ["a", "b", "c"]
    assert table["validation accuracy"].tolist() == ["91.00%", "92.34%", "92.00%"]
    assert table["chosen"].tolist() == ["", "✓", ""]


def test_interpretation_states_the_numbers_and_the_target():
    original, cosine, _ = _records()
    runs = {"reproduction": original[0], "improvement": cosine[0]}
    text = interpret.interpretation(runs, [*original, *cosine], "full")
    assert "94.40%" in text and "target ≥ 94.54%: **missed**" in text
    assert "Profile" not in text  # at the original's budget: no caveat


def test_interpretation_warns_below_the_budget():
    run = fixture("q0", "vgg", 0, 0.9, images_seen=540_000, epochs=10)
    text = interpret.interpretation({"improvement": run}, [run], "quick")
    assert text.startswith("- **Profile `quick`: 540,000 images seen")
    assert "target" not in text


def test_run_table_formats_a_committed_run_beside_the_original():
    from fmnist_lib.results import load_results
    from fmnist_lib.summaries import run_table

    record = next(r for r in load_results() if r["name"] == "arch1-full-s0")
    table = run_table(record["metrics"])
    assert list(table.columns) == ["arch1", "the original"]
    assert table.loc["test accuracy", "arch1"] == percent(record["metrics"]["test"]["accuracy"])
    assert table.loc["test accuracy", "the original"] == "90.92%"
    assert table.loc["images seen", "the original"] == "480,000"
    assert all(isinstance(cell, str) for cell in table.to_numpy().ravel())

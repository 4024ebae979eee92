"""results/ holds compact run records; the README's tables are generated from them."""

from __future__ import annotations

import numpy as np
import pytest

from fmnist_lib import results
from fmnist_lib.config import PROJECT_ROOT
from fmnist_lib.runs import RunError, read_json, set_status


def test_readme_results_section_matches_results_dir():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert results.render_readme(readme) == readme, "run `fmnist results readme`"


def test_add_run_and_tables(trained_run, tmp_path):
    path = results.add_run(trained_run, tmp_path)
    record = read_json(path)
    assert record["metrics"]["params"]["trainable"] == 848_330
    assert len(record["history"]) == 1 and record["config"]["arch"] == "arch1"
    arrays = np.load(path.with_suffix(".npz"))
    assert arrays["probs"].shape == (10000, 10) and arrays["probs"].dtype == np.float16
    assert not list(tmp_path.rglob("*.keras")) and not list(tmp_path.rglob("*.h5"))
    text = results.markdown(tmp_path)
    accuracy = record["metrics"]["test"]["accuracy"]
    assert "| arch1 | 848,330 | 1,800 (1) | 1 |" in text
    assert f"{100 * accuracy:.2f}%" in text and "90.92%" in text  # ours beside the original's
    assert "| Shirt |" in text
    stale = "intro\n<!-- results:start -->\nold table\n<!-- results:end -->\nrest\n"
    fresh = results.render_readme(stale, tmp_path)
    assert "old table" not in fresh and fresh.startswith("intro\n") and fresh.endswith("rest\n")
    with pytest.raises(ValueError, match="results:start"):
        results.render_readme("no markers", tmp_path)


def test_incomplete_runs_are_not_added(tmp_path):
    run_dir = tmp_path / "half"
    run_dir.mkdir()
    set_status(run_dir, "running")
    with pytest.raises(RunError, match="not completed"):
        results.add_run(run_dir, tmp_path / "results")

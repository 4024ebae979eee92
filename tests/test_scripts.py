"""The shell scripts issue the `fmnist` commands their headers promise."""

from __future__ import annotations

import os
import subprocess

from fmnist_lib import results
from fmnist_lib.config import OWN_MODEL_BUDGET, profile_config
from fmnist_lib.paths import PROJECT_ROOT
from fmnist_lib.recipes import CONFIRM_SEEDS
from fmnist_lib.reference import ORIGINAL_VGG_80_EPOCHS, original_run
from fmnist_lib.runs import read_json, write_json

SCRIPT = PROJECT_ROOT / "scripts" / "reference_runs.sh"


def _dry_run(out_dir, *runs: str) -> subprocess.CompletedProcess:
    # FMNIST=echo prints each command instead of running it.
    return subprocess.run(
        ["bash", str(SCRIPT), *runs],
        cwd=PROJECT_ROOT,
        env={**os.environ, "FMNIST": "echo", "REFERENCE_DIR": str(out_dir)},
        capture_output=True,
        text=True,
    )


def test_reference_runs_train_each_run_at_its_budget(tmp_path):
    done = _dry_run(tmp_path, "arch2-full-s1-not-there", "vgg-long-s0")
    assert done.returncode == 2
    assert "unknown run arch2-full-s1-not-there; valid: arch1-full-s0" in done.stderr

    (tmp_path / "arch1-full-s0").mkdir()  # an interrupted run
    done = _dry_run(tmp_path, "resnet-full-s2", "vgg-long-s0", "arch1-full-s0")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert (
        lines[0].split()
        == (
            f"train --profile full --arch resnet --seed 2 --out {tmp_path} "
            "--run-name resnet-full-s2 --quiet"
        ).split()
    )
    long_run = lines[1].split()
    budget = int(long_run[long_run.index("--budget-images") + 1])
    assert budget == ORIGINAL_VGG_80_EPOCHS["images_seen"]
    config = profile_config("vgg", "full", budget_images=budget)
    assert original_run("vgg", config.epochs * config.n_train) == ORIGINAL_VGG_80_EPOCHS
    assert lines[2] == f"train --resume {tmp_path}/arch1-full-s0 --quiet"
    assert lines[3:] == [
        f"results add {tmp_path}/resnet-full-s2",
        f"results add {tmp_path}/vgg-long-s0",
        f"results add {tmp_path}/arch1-full-s0",
        "results readme",
    ]


def test_reference_runs_at_longer_schedules(tmp_path):
    done = _dry_run(tmp_path, "vgg-cosine-flip-ls-2x-s0", "resnet-2x-s0")
    assert done.returncode == 0, done.stderr
    vgg, resnet = (line.split() for line in done.stdout.splitlines()[:2])
    # VGG's chosen recipe (the one its recipe search recorded) at twice the budget
    assert vgg[vgg.index("--arch") + 1] == "vgg" and vgg[vgg.index("--seed") + 1] == "0"
    assert vgg[vgg.index("--budget-images") + 1] == "2880000"
    assert vgg[vgg.index("--recipe") + 1] == results.recipe_searches()["vgg"]["chosen"]
    assert resnet[resnet.index("--budget-images") + 1] == str(2 * OWN_MODEL_BUDGET)
    # without names, the longer runs beyond vgg-long-s0 are not part of the default set
    everything = _dry_run(tmp_path).stdout
    assert "vgg-long-s0" in everything and "resnet-2x-s0" not in everything


RECIPE_SEARCH = PROJECT_ROOT / "scripts" / "recipe_search.sh"


def _recipe_search(tmp_path, *args) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "FMNIST": "echo",
        "RECIPE_DIR": str(tmp_path / "runs"),
        "RECIPE_SEARCH_DIR": str(tmp_path / "search"),
    }
    return subprocess.run(
        ["bash", str(RECIPE_SEARCH), *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def test_recipe_search_chooses_on_validation_and_never_on_test(tmp_path):
    done = _recipe_search(tmp_path, "vgg", "cosine-rotflip", "no-such-recipe")
    assert done.returncode == 2
    assert "unknown recipe no-such-recipe; valid:" in done.stderr
    assert done.stdout == ""  # rejected before any training

    # Finished seed-0 candidates whose test ranking is the reverse of their validation one.
    candidates = {"cosine-rotflip": (0.931, 0.940), "cosine-flip-ls": (0.936, 0.930)}
    candidates["cosine-modern"] = (0.934, 0.950)
    for name, (val_accuracy, test_accuracy) in candidates.items():
        run_dir = tmp_path / "runs" / f"vgg-{name}-s0"
        run_dir.mkdir(parents=True)
        write_json(
            run_dir / "metrics.json",
            {"best_val_accuracy": val_accuracy, "test": {"accuracy": test_accuracy}},
        )
    done = _recipe_search(tmp_path)
    assert done.returncode == 2 and "usage" in done.stderr

    done = _recipe_search(tmp_path, "vgg")  # the augmented architectures' default candidates
    assert done.returncode == 0, done.stderr
    runs = tmp_path / "runs"
    lines = done.stdout.splitlines()
    assert lines[:3] == [f"train --resume {runs}/vgg-{name}-s0 --quiet" for name in candidates]
    assert lines[3] == "chosen on validation: cosine-flip-ls"
    assert (
        lines[4].split()
        == (
            "train --profile full --arch vgg --seed 1 --recipe cosine-flip-ls "
            f"--out {runs} --run-name vgg-cosine-flip-ls-s1 --quiet"
        ).split()
    )
    assert lines[-2:] == [
        f"results add {runs}/vgg-cosine-flip-ls-s1 {runs}/vgg-cosine-flip-ls-s2",
        "results readme",
    ]
    search = read_json(tmp_path / "search" / "vgg.json")
    assert search["chosen"] == "cosine-flip-ls"
    assert search["confirm_seeds"] == list(CONFIRM_SEEDS)
    assert search["validation_accuracy"] == {k: v[0] for k, v in candidates.items()}

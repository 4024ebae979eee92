"""The shell scripts issue the `fmnist` commands their headers promise."""

from __future__ import annotations

import os
import subprocess

from fmnist_lib.config import OWN_MODEL_BUDGET, profile_config
from fmnist_lib.paths import PROJECT_ROOT
from fmnist_lib.recipes import CANDIDATES, CONFIRM_SEEDS
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
    # each run is recorded as soon as it finishes: run directories may not outlive a session
    assert lines[1] == f"results add {tmp_path}/resnet-full-s2"
    long_run = lines[2].split()
    budget = int(long_run[long_run.index("--budget-images") + 1])
    assert budget == ORIGINAL_VGG_80_EPOCHS["images_seen"]
    config = profile_config("vgg", "full", budget_images=budget)
    assert original_run("vgg", config.epochs * config.n_train) == ORIGINAL_VGG_80_EPOCHS
    assert lines[3:] == [
        f"results add {tmp_path}/vgg-long-s0",
        f"train --resume {tmp_path}/arch1-full-s0 --quiet",
        f"results add {tmp_path}/arch1-full-s0",
        "results readme",
    ]


def test_reference_runs_for_the_own_models_hour(tmp_path):
    # the screen of resnet's wider versions beside it, and their hour: the profile's own
    # recipe (no --recipe), for a time budget rather than a number of images
    names = ("resnet-15min-epyc-s0", "resnet64-15min-epyc-s0", "resnet96-1h-s2")
    done = _dry_run(tmp_path, *names)
    assert done.returncode == 0, done.stderr
    trains = [line.split() for line in done.stdout.splitlines() if line.startswith("train")]
    for train, arch, seed, seconds in zip(
        trains, ("resnet", "resnet64", "resnet96"), "002", ("900", "900", "3600"), strict=True
    ):
        assert train[train.index("--arch") + 1] == arch and "--recipe" not in train
        assert train[train.index("--seed") + 1] == seed
        assert train[train.index("--budget-seconds") + 1] == seconds


def test_reference_runs_for_the_own_models_hour_with_a_regulariser(tmp_path):
    added = {  # each recipe: the own model's, with these settings changed
        "cosine-modern-wd-tta": {"weight_decay": 0.05},
        "cosine-modern-cutmix-tta": {"cutmix": 0.5},
        "cosine-modern-wd-cutmix-tta": {"weight_decay": 0.05, "cutmix": 0.5},
        "cosine-modern-wd-cutmix-ema-tta": {
            "weight_decay": 0.05,
            "cutmix": 0.5,
            "ema_momentum": 0.999,
        },
        "cosine-modern-wd-cutmix1-tta": {"weight_decay": 0.05, "cutmix": 1.0},
    }
    seeds = [index % 3 for index in range(len(added))]  # seeds 0-2 run for each recipe
    names = [f"resnet64-{recipe}-1h-s{seed}" for seed, recipe in zip(seeds, added, strict=True)]
    done = _dry_run(tmp_path, *names)
    assert done.returncode == 0, done.stderr
    trains = [line.split() for line in done.stdout.splitlines() if line.startswith("train")]
    own = profile_config("resnet64", "full")
    for seed, train, (recipe, changes) in zip(seeds, trains, added.items(), strict=True):
        assert train[train.index("--arch") + 1] == "resnet64"
        assert train[train.index("--seed") + 1] == str(seed)
        assert train[train.index("--recipe") + 1] == recipe
        assert train[train.index("--budget-seconds") + 1] == "3600"
        assert profile_config("resnet64", "full", recipe=recipe) == own.replace(**changes)


def test_reference_runs_at_longer_schedules(tmp_path):
    done = _dry_run(tmp_path, "vgg-cosine-flip-ls-2x-s0", "resnet-2x-s0")
    assert done.returncode == 0, done.stderr
    vgg, resnet = (line.split() for line in done.stdout.splitlines()[0:3:2])
    # the recipe its name carries (whatever the search chooses later) at twice the budget
    assert vgg[vgg.index("--arch") + 1] == "vgg" and vgg[vgg.index("--seed") + 1] == "0"
    assert vgg[vgg.index("--budget-images") + 1] == "2880000"
    assert vgg[vgg.index("--recipe") + 1] == "cosine-flip-ls"
    assert resnet[resnet.index("--budget-images") + 1] == str(2 * OWN_MODEL_BUDGET)
    # the 80-epoch comparison: 80 epochs over the 54,000 training images, the original
    # recipe and any of VGG's candidates (whichever its search chooses)
    done = _dry_run(
        tmp_path, "vgg-80ep-s1", "vgg-cosine-flip-ls-80ep-s0", "vgg-cosine-flip-ls-wd-80ep-s1"
    )
    assert done.returncode == 0, done.stderr
    original, flip_ls, weight_decay = (line.split() for line in done.stdout.splitlines()[0:5:2])
    for run in (original, flip_ls, weight_decay):
        budget = int(run[run.index("--budget-images") + 1])
        assert budget == 80 * profile_config("vgg", "full").n_train == 4_320_000
    assert "--recipe" not in original and original[original.index("--seed") + 1] == "1"
    assert flip_ls[flip_ls.index("--recipe") + 1] == "cosine-flip-ls"
    assert weight_decay[weight_decay.index("--recipe") + 1] == "cosine-flip-ls-wd"
    assert weight_decay[weight_decay.index("--seed") + 1] == "1"
    valid = _dry_run(tmp_path, "no-such-run").stderr
    assert all(f" vgg-{recipe}-80ep-s1" in valid for recipe in CANDIDATES["vgg"])
    # and the equal-images reading: the original's 80 epochs over its 144,000 images
    done = _dry_run(tmp_path, "vgg-long-s1", "vgg-cosine-flip-ls-wd-long-s1")
    assert done.returncode == 0, done.stderr
    original, weight_decay = (line.split() for line in done.stdout.splitlines()[0:3:2])
    for run in (original, weight_decay):
        budget = int(run[run.index("--budget-images") + 1])
        assert budget == ORIGINAL_VGG_80_EPOCHS["images_seen"] == 11_520_000
        assert run[run.index("--seed") + 1] == "1"
    assert "--recipe" not in original
    assert weight_decay[weight_decay.index("--recipe") + 1] == "cosine-flip-ls-wd"
    # arch1's cosine recipe at 4x its budget, and training for a fixed time
    done = _dry_run(
        tmp_path, "arch1-cosine-4x-s0", "resnet-1h-s2", "vgg-cosine-modern-tta-15min-s0"
    )
    assert done.returncode == 0, done.stderr
    arch1, resnet, vgg = (line.split() for line in done.stdout.splitlines()[0:5:2])
    assert arch1[arch1.index("--recipe") + 1] == "cosine"
    budget = int(arch1[arch1.index("--budget-images") + 1])
    assert budget == 4 * profile_config("arch1", "full").images_seen
    assert resnet[resnet.index("--budget-seconds") + 1] == "3600" and "--recipe" not in resnet
    assert resnet[resnet.index("--seed") + 1] == "2"
    assert vgg[vgg.index("--budget-seconds") + 1] == "900"
    assert vgg[vgg.index("--recipe") + 1] == "cosine-modern-tta"
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
        "RECORDS_DIR": str(tmp_path / "records"),
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
    candidates["cosine-flip-ls-tta"] = (0.933, 0.960)
    candidates["cosine-flip-ls-wd"] = (0.932, 0.970)
    candidates["cosine-flip-ls-b125"] = (0.935, 0.955)
    candidates["cosine-flip-ls-wd0.2"] = (0.9345, 0.965)
    candidates["cosine-flip-ls-wd-b500"] = (0.9335, 0.975)
    candidates["cosine-flip-ls-wd-lr4e-3"] = (0.9325, 0.980)
    candidates["sgd-cosine-flip-ls-wd"] = (0.9315, 0.985)
    candidates["cosine-flip-ls-wd-tta"] = (0.9305, 0.990)
    candidates["cosine-flip-ls-wd0.2-tta"] = (0.9300, 0.995)
    candidates["cosine-flip-ls-wd-ema"] = (0.9295, 0.996)
    candidates["cosine-flip-ls-wd0.2-ema"] = (0.9290, 0.997)
    candidates["cosine-flip-ls-wd-cutmix"] = (0.9285, 0.998)
    assert tuple(candidates) == CANDIDATES["vgg"]
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
    n = len(candidates)
    assert lines[:n] == [f"train --resume {runs}/vgg-{name}-s0 --quiet" for name in candidates]
    assert lines[n] == "chosen on validation: cosine-flip-ls"
    assert (
        lines[n + 1].split()
        == (
            "train --profile full --arch vgg --seed 1 --recipe cosine-flip-ls "
            f"--out {runs} --run-name vgg-cosine-flip-ls-s1 --quiet"
        ).split()
    )
    trained = [f"{runs}/vgg-{name}-s0" for name in candidates] + [
        f"{runs}/vgg-cosine-flip-ls-s{seed}" for seed in CONFIRM_SEEDS
    ]
    assert lines[-2:] == [f"results add {' '.join(trained)}", "results readme"]
    search = read_json(tmp_path / "search" / "vgg.json")
    assert search["chosen"] == "cosine-flip-ls"
    assert search["confirm_seeds"] == list(CONFIRM_SEEDS)
    assert search["validation_accuracy"] == {k: v[0] for k, v in candidates.items()}


def test_recipe_search_extends_the_recorded_search(tmp_path):
    """A new candidate competes with the recorded ones; recorded runs are not trained again."""
    records = tmp_path / "records"
    records.mkdir()
    for name, val_accuracy in {"cosine-flip-ls": 0.950, "cosine-rotflip": 0.941}.items():
        for seed in (0, *CONFIRM_SEEDS) if name == "cosine-flip-ls" else (0,):
            metrics = {"best_val_accuracy": val_accuracy, "test": {"accuracy": 0.94}}
            write_json(records / f"vgg-{name}-s{seed}.json", {"metrics": metrics})
    recorded = {name: f"vgg-{name}-s0" for name in ("cosine-flip-ls", "cosine-rotflip")}
    write_json(tmp_path / "search" / "vgg.json", {"runs": recorded})
    new = tmp_path / "runs" / "vgg-cosine-flip-ls-tta-s0"
    new.mkdir(parents=True)
    # the new candidate's plain validation accuracy is lower; with its flip TTA, higher
    metrics = {"best_val_accuracy": 0.949, "selection_val_accuracy": 0.953, "test": {}}
    write_json(new / "metrics.json", metrics)

    done = _recipe_search(tmp_path, "vgg", "cosine-flip-ls-tta")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"train --resume {new} --quiet"
    assert lines[1] == "chosen on validation: cosine-flip-ls-tta"
    confirm = [line for line in lines if line.startswith("train --profile full")]
    assert [c.split("--seed ")[1].split()[0] for c in confirm] == [str(s) for s in CONFIRM_SEEDS]
    search = read_json(tmp_path / "search" / "vgg.json")
    assert search["validation_accuracy"] == {
        "cosine-flip-ls": 0.950,
        "cosine-rotflip": 0.941,
        "cosine-flip-ls-tta": 0.953,
    }
    assert search["runs"]["cosine-flip-ls-tta"] == "vgg-cosine-flip-ls-tta-s0"

    # Had the recorded recipe stayed the winner, its recorded seeds would not train again.
    metrics["selection_val_accuracy"] = 0.948
    write_json(new / "metrics.json", metrics)
    done = _recipe_search(tmp_path, "vgg", "cosine-flip-ls-tta")
    assert done.returncode == 0, done.stderr
    assert "chosen on validation: cosine-flip-ls" in done.stdout.splitlines()
    assert not any(line.startswith("train --profile") for line in done.stdout.splitlines())
    assert "vgg-cosine-flip-ls-s1: recorded" in done.stderr

    # A new candidate that ties with the recorded winner does not displace it.
    metrics["selection_val_accuracy"] = 0.950
    write_json(new / "metrics.json", metrics)
    done = _recipe_search(tmp_path, "vgg", "cosine-flip-ls-tta")
    assert done.returncode == 0, done.stderr
    assert "chosen on validation: cosine-flip-ls" in done.stdout.splitlines()
    assert (
        "a tie keeps the candidate searched first"
        in read_json(tmp_path / "search" / "vgg.json")["rule"]
    )

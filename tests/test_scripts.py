"""The shell scripts issue the `fmnist` commands their headers promise."""

from __future__ import annotations

import os
import subprocess

from fmnist_lib.config import PROJECT_ROOT, profile_config
from fmnist_lib.reference import ORIGINAL_VGG_80_EPOCHS, original_run

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
    assert original_run("vgg", config.resolved_epochs * config.n_train) == ORIGINAL_VGG_80_EPOCHS
    assert lines[2] == f"train --resume {tmp_path}/arch1-full-s0"
    assert lines[3:] == [
        f"results add {tmp_path}/resnet-full-s2",
        f"results add {tmp_path}/vgg-long-s0",
        f"results add {tmp_path}/arch1-full-s0",
        "results readme",
    ]

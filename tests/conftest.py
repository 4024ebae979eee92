"""Shared fixtures: temp copies of the real data files, and one small trained run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fmnist_lib.data import FILES, find_data_dir

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    folder = find_data_dir()
    if folder is None:
        pytest.fail(
            "the real Fashion-MNIST files are missing: apt-get install dataset-fashion-mnist"
        )
    return folder


@pytest.fixture
def data_copy(tmp_path, real_data_dir) -> Path:
    """A writable copy of the four real files, to damage in a test."""
    folder = tmp_path / "data"
    folder.mkdir()
    for spec in FILES.values():
        shutil.copy(real_data_dir / spec.name, folder / spec.name)
    return folder


def call_cli(capsys, *args) -> tuple[int, str, str]:
    """``fmnist ARGS`` in this process, (exit status, stdout, stderr): for the commands
    whose answer is all a test reads; a real process costs seconds of imports."""
    from fmnist_lib.cli import main

    try:
        code = main([str(arg) for arg in args])
    except SystemExit as exit_:  # argparse's own usage errors
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_cli(*args, check_rc=None, timeout=600, env=None):
    """Run `python -m fmnist_lib ...` in a subprocess; return the CompletedProcess."""
    proc = subprocess.run(
        [sys.executable, "-m", "fmnist_lib", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    if check_rc is not None:
        assert proc.returncode == check_rc, (
            proc.returncode,
            proc.stdout[-3000:],
            proc.stderr[-3000:],
        )
    return proc


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory) -> Path:
    """A real 1-epoch arch1 run on 2,000 images, trained through the CLI."""
    out = tmp_path_factory.mktemp("runs")
    run_cli(
        "train",
        "--arch",
        "arch1",
        "--epochs",
        "1",
        "--subset",
        "2000",
        "--seed",
        "1",
        "--out",
        out,
        "--run-name",
        "tiny",
        "--quiet",
        check_rc=0,
    )
    return out / "tiny"

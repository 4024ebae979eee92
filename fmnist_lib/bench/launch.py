"""Starting the original side: ``original.py`` in a subprocess where ``tf.keras`` is tf.keras 2.

Kept apart from ``original.py``, which that subprocess runs as ``python -m
fmnist_lib.bench.original``: the package imports this module, and a module that
the package had imported already would be run a second time as ``__main__``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from ..paths import PROJECT_ROOT


def run_original(spec) -> dict:
    """The original pipeline in a tf.keras 2 subprocess (tf-keras must be installed)."""
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2")
    with tempfile.TemporaryDirectory(prefix="fmnist-bench-") as tmp:
        spec_path, result_path = Path(tmp) / "spec.json", Path(tmp) / "result.json"
        spec_path.write_text(json.dumps(spec.to_dict()))
        proc = subprocess.run(
            [sys.executable, "-m", "fmnist_lib.bench.original"]
            + ["--spec", str(spec_path), "--result", str(result_path)],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=None if spec.verbose else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        if proc.returncode != 0 or not result_path.exists():
            tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
            return {
                "pipeline": "original",
                "status": "failed",
                "reason": f"the tf.keras 2 subprocess exited with status {proc.returncode}",
                "stderr_tail": tail,
            }
        return json.loads(result_path.read_text())

"""TensorFlow's start-up notices kept off stderr, in batch runs and interactive kernels.

Importing ``fmnist_lib`` installs this before anything loads TensorFlow. Level 2 of
``TF_CPP_MIN_LOG_LEVEL`` hides C++ INFO and WARNING logs (cpu_feature_guard's notice).
The oneDNN notice and absl's "before absl::InitializeLog()" line come from static
initialisers, before TensorFlow reads any setting, so the first ``import tensorflow``
runs with file descriptor 2 captured: the known notices are dropped and any other
line is written back, so real errors stay visible.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
import tempfile
import warnings

# Lines TensorFlow writes on every import; anything else is passed through.
NOISE = (
    "absl::InitializeLog() is called are written to STDERR",
    "oneDNN custom operations are on",
    "cpu_feature_guard",
    "To enable the following instructions:",
)


def passed_through(text: str) -> str:
    """``text`` without the lines of TensorFlow's start-up notices."""
    lines = text.splitlines(keepends=True)
    return "".join(line for line in lines if not any(n in line for n in NOISE))


class _QuietLoader(importlib.abc.Loader):
    """TensorFlow's own loader, run with file descriptor 2 captured."""

    def __init__(self, loader):
        self.loader = loader

    def __getattr__(self, name):
        return getattr(self.loader, name)

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        sys.stderr.flush()
        saved = os.dup(2)
        with tempfile.TemporaryFile() as capture:
            os.dup2(capture.fileno(), 2)
            try:
                self.loader.exec_module(module)
            finally:
                # Once loaded, the module names its own loader, as if imported plainly.
                module.__loader__ = module.__spec__.loader = self.loader
                os.dup2(saved, 2)
                os.close(saved)
                capture.seek(0)
                rest = passed_through(capture.read().decode(errors="replace"))
                if rest:
                    os.write(2, rest.encode())


class _QuietFinder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` once, with its loader wrapped; then steps aside."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "tensorflow":
            return None
        uninstall()
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


_FINDER = _QuietFinder()


def uninstall() -> None:
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)


def install() -> None:
    """Quiet TensorFlow's logs from here on (no effect once it is imported), and
    tqdm's notice that a kernel lacks ipywidgets."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # tqdm.auto (Optuna imports it) warns in a kernel without ipywidgets, then draws its
    # text bar: the same bar, so the notice would only put stderr in a notebook.
    warnings.filterwarnings("ignore", message="IProgress not found")
    if "tensorflow" not in sys.modules and _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)

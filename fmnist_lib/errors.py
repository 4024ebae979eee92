"""The project's error classes, one place for all; this module imports nothing of ours.

The command line maps them to exit codes: a ``UsageError`` or ``ConfigError`` is
the caller's mistake (exit 2), the others are failures at run time (exit 1).
"""

from __future__ import annotations


class UsageError(Exception):
    """Bad command-line arguments or notebook parameters."""


class ConfigError(ValueError):
    """A training setting is unknown or out of range."""


class ModelContractError(ConfigError):
    """A user's model builder cannot be imported, fails, or breaks the model contract."""


class DataError(RuntimeError):
    """The dataset is missing, unreadable or not the official Fashion-MNIST."""


class RunError(RuntimeError):
    """A run directory is missing, incomplete or failed."""


class TrainingError(RuntimeError):
    """Training ran but produced no usable model (NaN loss, interrupted...)."""


class NotebookError(RuntimeError):
    """A notebook failed to execute, or cannot run in the state it finds."""

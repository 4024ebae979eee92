"""The `fmnist` command: every subcommand is registered here; each handler builds
its inputs and calls the module that does the work.

Exit status: 0 success, 1 runtime failure (clear message), 2 usage error.

A group of subcommands is two modules. ``cli/<group>.py`` adds the group's
parsers with ``add_parser(sub)``; it imports argparse and light settings only, so
`fmnist --help` and `fmnist COMMAND --help` load neither TensorFlow nor Keras
(tests/test_cli.py checks it). ``cli/handlers/<group>.py`` runs the commands and
imports what they need at its top; each parser names its handler as
``"<group>:<function>"``, and ``handler`` imports that module when the command
runs. To add a group, write those two modules and add the parser module to the
import below and to GROUPS.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from ..errors import ConfigError, DataError, NotebookError, RunError, TrainingError, UsageError
from . import (
    baselines,
    bench,
    evaluate,
    experiment,
    notebooks,
    results,
    robustness,
    search,
    throughput,
    train,
)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ chatter off the CLI

# The parser modules, in the order `fmnist --help` lists their subcommands.
GROUPS = (
    train,
    evaluate,
    baselines,
    experiment,
    search,
    results,
    robustness,
    notebooks,
    bench,
    throughput,
)


def handler(target: str):
    """The handler a parser names as ``"<group>:<function>"``, its module imported now.

    Handler modules import TensorFlow and Keras (through training, models and the
    modules that load them); importing one only when its command runs is what
    keeps the help and usage errors of every command free of them.
    """
    group, function = target.split(":")
    return getattr(importlib.import_module(f"{__name__}.handlers.{group}"), function)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fmnist", description="Fashion-MNIST CNN benchmark: train, evaluate, predict."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return handler(args.handler)(args)
    except (UsageError, ConfigError) as err:
        print(f"fmnist {args.command}: error: {err}", file=sys.stderr)
        return 2
    except (DataError, RunError, TrainingError, NotebookError, OSError, RuntimeError) as err:
        print(f"fmnist {args.command}: failed: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"fmnist {args.command}: interrupted", file=sys.stderr)
        return 130

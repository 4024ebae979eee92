"""`fmnist experiment list|run`: the declared experiments behind the results."""

from __future__ import annotations


def add_parser(sub):
    p = sub.add_parser(
        "experiment",
        help="list the declared experiments, or train, resume and record them",
        description="`list` shows every experiment declared in fmnist_lib/experiments.py: "
        "its role, model, recipe, budget, each seed's state (not started, running, "
        "interrupted, recorded) and the recorded seeds' test accuracy. `run ID...` trains "
        "each unrecorded seed under the full profile into runs/experiments/ (resuming an "
        "interrupted one), records it in results/ at once and regenerates the README tables.",
    )
    p.add_argument("action", choices=["list", "run"])
    p.add_argument("ids", nargs="*", metavar="ID", help="run: experiment ids")
    p.add_argument(
        "--reference",
        action="store_true",
        help="run: every reproduction and improvement experiment (what `make reference` runs)",
    )
    p.add_argument("--role", help="list: only experiments with this role")
    p.add_argument(
        "--seeds", help="run: comma-separated seeds to train (default: the experiment's own)"
    )
    p.set_defaults(handler="experiment:experiment_command")

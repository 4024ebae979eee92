"""`fmnist run-notebooks`: execute the notebook suite."""

from __future__ import annotations

from ..config import PROFILES


def add_parser(sub):
    p = sub.add_parser(
        "run-notebooks",
        help="execute the notebook suite in order (papermill)",
        description="Execute notebooks/ in name order with papermill (kernel python3, run "
        "from the notebooks folder), injecting PROFILE and RUNS_DIR. Executed copies go to "
        "--out, their figures to --out/figures; the sources and figures/ stay untouched "
        "unless --in-place. Notebooks already executed "
        "for the profile, with complete training runs, are skipped unless --force. A "
        "failing notebook stops the batch (exit 1) and keeps its partial executed copy.",
    )
    p.add_argument(
        "--profile",
        choices=PROFILES,
        default="smoke",
        help="smoke (default): 2,000 images for 1 epoch per model, minutes in all; "
        "full: the original's training budget, hours on a CPU",
    )
    _add_selection_and_output(p)
    p.add_argument(
        "-p",
        "--parameter",
        dest="parameters",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="another notebook parameter, e.g. -p SEED=1; it must exist in the "
        "parameters cell of every notebook run",
    )
    p.add_argument(
        "--notebooks-dir", metavar="DIR", help="run the notebooks of this folder instead"
    )
    p.add_argument("--dry-run", action="store_true", help="say what would run and why; run nothing")
    p.set_defaults(handler="notebooks:run_notebooks_command")


def _add_selection_and_output(p):
    """Which notebooks run, where their executed copies go, and whether to skip any."""
    p.add_argument(
        "--only",
        nargs="+",
        action="extend",
        metavar="NAME",
        help="run only these notebooks (e.g. 00_explore 04_evaluation), in suite order",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="folder for executed copies and executed.json (default runs/notebooks/PROFILE)",
    )
    p.add_argument(
        "--runs-dir",
        metavar="DIR",
        help="folder of training runs, injected as RUNS_DIR (default: the notebooks' ../runs)",
    )
    p.add_argument(
        "--in-place",
        action="store_true",
        help="publish: also write each executed notebook back over its source, cleaned "
        "for committing (no injected-parameters cell, no papermill metadata), and its "
        "figures into figures/ ($FMNIST_FIGURES_DIR, when set, wins)",
    )
    p.add_argument("--force", action="store_true", help="rerun notebooks even if up to date")
    p.add_argument(
        "--no-estimate",
        action="store_true",
        help="full profile: skip the short speed measurement that estimates the training time",
    )

"""`fmnist search`: a recipe search on Optuna, shared by any number of workers."""

from __future__ import annotations


def add_parser(sub):
    p = sub.add_parser(
        "search",
        help="search a model's recipe with Optuna (workers share one study)",
        description="Sample recipes (and for the own model its width and depth) from the "
        "model's search space (fmnist_lib/search/space.py), train each trial with seed 0, "
        "prune trials whose per-epoch validation accuracy trails, and keep the study in "
        "results/search/<model>.db (or --storage). Start the same command N times, as "
        "processes or on machines sharing a storage, to run N workers on one study. "
        "The objective is the kept checkpoint's validation accuracy, never the test set. "
        "Watch a study with `optuna-dashboard sqlite:///results/search/<model>.db`.",
    )
    p.add_argument(
        "--arch",
        help="a model name (see `fmnist train --help`), MODULE:FUNCTION or file.py:FUNCTION",
    )
    p.add_argument(
        "--trials",
        type=int,
        help="finished trials the study should hold (recorded runs that fit it count); "
        "a declared study has its own",
    )
    p.add_argument("--storage", help="an Optuna storage URL (default sqlite under results/search/)")
    p.add_argument(
        "--study",
        help="study name (default MODEL-BUDGET, e.g. vgg-1440000img); a study declared in "
        "fmnist_lib/search/studies.py (vgg-1440000img, resnet-900s) brings its model, "
        "budget and trials",
    )
    p.add_argument(
        "--budget",
        help="training per trial: images:N, epochs:N or seconds:N (default the model's "
        "full-profile budget)",
    )
    p.add_argument("--subset", type=int, help="train on a stratified subset of N images")
    p.add_argument("--epochs", type=int, help="epochs per trial (same as --budget epochs:N)")
    p.add_argument(
        "--pruner",
        help="median-half (default, chosen by --compare-pruners), median-third, "
        "median-two-thirds, percentile75-half, halving-third, hyperband-third or none "
        "(fmnist_lib/search/pruning.py)",
    )
    p.add_argument("--seed", type=int, default=0, help="sampler seed (default 0)")
    p.add_argument(
        "--confirm",
        action="store_true",
        help="train the best trial with the reference seeds it lacks and record the runs",
    )
    p.add_argument(
        "--confirm-budget",
        help="confirm at another budget than the trials' (images:N, epochs:N or "
        "seconds:N), e.g. a proxy study's winners at the full one; a declared study has "
        "its own",
    )
    p.add_argument(
        "--confirm-top",
        type=int,
        help="with --confirm-budget: train the K best trials with the first seed there, "
        "then the best of them with every seed (default 1; a declared study has its own)",
    )
    p.add_argument(
        "--compare-pruners",
        action="store_true",
        help="replay the model's recorded learning curves through each pruner and write "
        "results/search/pruners-<model>.json (trains nothing)",
    )
    p.add_argument(
        "--heartbeat",
        type=int,
        nargs=2,
        metavar=("INTERVAL", "GRACE"),
        help="seconds between a worker's heartbeats, and of silence before its trial is "
        "retried (default 60 180)",
    )
    p.add_argument(
        "--runs-dir", help="folder for the trials' run directories (default runs/search)"
    )
    p.add_argument(
        "--results-dir",
        help="where recorded runs are read and --confirm records (default results/)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="start no new trial after SECONDS (the running one finishes), for a worker "
        "with a wall-time limit; the study goes on with the next worker",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(handler="search:search_command")

"""`fmnist bench`: the original's pipeline and this project's, side by side."""

from __future__ import annotations

from ..bench import ORIGINAL_BUDGET_IMAGES, ORIGINAL_TEST_ACCURACY, QUICK, SIDES


def add_parser(sub):
    p = sub.add_parser(
        "bench",
        help="the original's pipeline and this project's, side by side",
        description="Train the VGG-like model with the original's pipeline (tf.keras 2, offline "
        "augmentation into 3x the data, split after augmenting; needs tf-keras) and with this "
        "project's (Keras 3, on-the-fly augmentation), one after the other on this machine. "
        "Reports preprocessing time, training images/s, achieved GFLOP/s and fraction of peak, "
        f"and the time until the test accuracy first reaches {ORIGINAL_TEST_ACCURACY:.2%} "
        "(the original's 10-epoch VGG result), as JSON and markdown (bench.json, bench.md).",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"CI smoke run of about a minute: {QUICK['subset']:,} source images, "
        f"{QUICK['max_epochs']} epoch, a lowered target of {QUICK['target'] * 100:g}%% on "
        f"{QUICK['test_subset']:,} test images (time-to-accuracy not comparable)",
    )
    p.add_argument("--out", default="runs/bench", help="report folder (default runs/bench)")
    p.add_argument(
        "--sides",
        default=",".join(SIDES),
        help="comma-separated sides to run: original, project (default both)",
    )
    _add_caps(p)
    _add_project_side(p)
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--data-dir", help="folder with the four Fashion-MNIST .gz files")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(handler="bench:bench_command")


def _add_caps(p):
    """When a side stops, what it aims at, and which images it uses."""
    p.add_argument("--max-epochs", type=int, help="at most this many epochs per side")
    p.add_argument(
        "--max-images",
        type=int,
        help="at most this many training images seen per side (default "
        f"{ORIGINAL_BUDGET_IMAGES:,}, the original's 10-epoch budget; none with "
        "--quick)",
    )
    p.add_argument(
        "--time-limit",
        type=float,
        help="stop a side after the epoch in which its elapsed time passes this many seconds",
    )
    p.add_argument(
        "--target", type=float, help=f"test accuracy to reach (default {ORIGINAL_TEST_ACCURACY})"
    )
    p.add_argument(
        "--subset", type=int, help="use N of the 60,000 training images (stratified) on both sides"
    )
    p.add_argument("--test-subset", type=int, help="probe accuracy on N test images (default all)")


def _add_project_side(p):
    """How the project side trains."""
    p.add_argument(
        "--project-recipe",
        help="the project side's training recipe (fmnist_lib/recipes.py; default: the "
        "original's, Adam at a constant rate with rotate+flip)",
    )
    p.add_argument(
        "--project-epochs",
        type=int,
        help="the project side's schedule length in epochs (a cosine schedule needs it; "
        "default: as many as the caps allow)",
    )
    p.add_argument(
        "--project-precision",
        default="auto",
        help="the project side's precision policy (default auto: this machine's default)",
    )

"""`fmnist throughput`: training images/s of pipeline variants, interleaved."""

from __future__ import annotations


def add_parser(sub):
    p = sub.add_parser(
        "throughput",
        help="training images/s of variants of the pipeline, interleaved",
        description="Train the same model on the same batches in several variants, in rotated "
        "rounds, and report the median steady-state training images/s of each (JSON + "
        "markdown). With no axis given: with and without the default augmentation. Each "
        "axis given multiplies the variants (every combination).",
    )
    p.add_argument("--arch", default="vgg", help="model name (default vgg)")
    p.add_argument(
        "--steps", type=int, default=20, help="training steps per round, at least 2 (default 20)"
    )
    p.add_argument("--rounds", type=int, default=3, help="rounds per variant (default 3)")
    p.add_argument(
        "--precisions", nargs="+", metavar="POLICY", help="precision policies to compare"
    )
    p.add_argument(
        "--batch-norm",
        nargs="+",
        metavar="IMPL",
        help="batch-norm layers to compare: keras (Keras' own) and/or fused (this project's)",
    )
    p.add_argument(
        "--xla",
        nargs="+",
        choices=["on", "off"],
        help="compare model.compile(jit_compile=True) and/or False",
    )
    p.add_argument(
        "--augment-in",
        nargs="+",
        choices=["model", "pipeline"],
        help="where the augmentation runs: layers inside the model and/or a tf.data map",
    )
    p.add_argument(
        "--augment",
        help="comma-separated augmentation for every variant (default: the model's profile's, "
        "or none for the default comparison)",
    )
    p.add_argument("--out", default="runs/throughput.json", help="JSON report path")
    p.set_defaults(handler="throughput:throughput_command")

"""`fmnist train`: train one model and evaluate it once on the test set."""

from __future__ import annotations

import argparse

from ..config import PROFILES
from ..recipes import RECIPES


def add_parser(sub):
    p = sub.add_parser(
        "train",
        help="train a model and evaluate it on the test set",
        description="Train one architecture, pick the checkpoint with the best validation "
        "loss, evaluate it once on the 10,000 test images, and write a run directory "
        "(model.keras, history.json, metrics.json, config.json, TensorBoard logs).",
    )
    _model_and_budget(p)
    _optimizer(p)
    _augmentation_and_data(p)
    _run_options(p)
    p.set_defaults(handler="train:train_command")


def _model_and_budget(p):
    """The model, the recipe and how many images training sees."""
    p.add_argument(
        "--arch",
        default=None,
        help="model name: arch1, arch2, vgg (the original's) or resnet, resnet64, resnet96 "
        "(ours); default vgg. Or a model of your own as MODULE:FUNCTION or "
        "path/to/file.py:FUNCTION (examples/small_cnn.py), which trains at the "
        "original's budget with the recipe for users' models unless told otherwise",
    )
    p.add_argument(
        "--profile",
        choices=PROFILES,
        default=None,
        help="start from a profile: full = the original's budget of images seen "
        "(resnet and its wider versions: the one-hour budget and their own recipe), "
        "smoke = 2,000 images for 1 epoch; other options override it",
    )
    p.add_argument(
        "--recipe",
        help=f"a named training recipe (fmnist_lib/recipes.py: {', '.join(RECIPES)}), or "
        "a study's confirmed trial, search:STUDY#N; the options below override it",
    )
    p.add_argument("--epochs", type=int, help="epochs (default 10, or from --budget-images)")
    p.add_argument(
        "--budget-images",
        type=int,
        help="images seen in training; sets the epochs for the training split",
    )
    p.add_argument(
        "--budget-seconds",
        type=float,
        help="seconds of training: the epochs are fitted to the rate measured on this "
        "machine when training starts (instead of --epochs or --budget-images)",
    )
    p.add_argument("--batch-size", type=int, help="batch size (default 250, as the original)")


def _optimizer(p):
    """The optimizer, its learning-rate schedule and regularisation."""
    p.add_argument("--optimizer", help="adam (default), rmsprop or sgd")
    p.add_argument(
        "--lr",
        type=float,
        dest="learning_rate",
        help="learning rate (default: adam 1e-3, rmsprop 5e-4, sgd 0.05)",
    )
    p.add_argument("--lr-schedule", help="constant (default) or cosine")
    p.add_argument("--warmup-epochs", type=float, help="linear warm-up length for cosine")
    p.add_argument("--label-smoothing", type=float, help="label smoothing in [0, 0.5]")
    p.add_argument(
        "--weight-decay",
        type=float,
        help="decoupled weight decay in [0, 1] on the kernels (default 0: none)",
    )
    p.add_argument(
        "--ema-momentum",
        type=float,
        help="validate, checkpoint and test a moving average of the weights with this "
        "momentum in (0, 1), e.g. 0.998 (default: none)",
    )


def _augmentation_and_data(p):
    """Augmentation, mixing and the data: split, seed, subset."""
    p.add_argument(
        "--augment",
        dest="augmentation",
        help="comma-separated augmentations from rotate, flip, translate, erase, "
        "or none (default rotate,flip as the original)",
    )
    p.add_argument(
        "--cutmix",
        type=float,
        help="share in [0, 1] of training images given a patch of another image of their "
        "batch, labels mixed by area (CutMix; default 0: none)",
    )
    p.add_argument(
        "--val-fraction",
        type=float,
        help="validation share of the training images, in (0, 0.5] (default 0.1)",
    )
    seeds = p.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=int, help="random seed (default 0)")
    seeds.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        metavar="SEED",
        help="train one run per seed, one after the other (e.g. the reference seeds 0 1 2)",
    )
    p.add_argument(
        "--subset", type=int, help="use a stratified subset of N training images (quick runs)"
    )


def _run_options(p):
    """How the run executes and where it is written; resuming."""
    p.add_argument("--precision", help="auto (default), float32, mixed_bfloat16, mixed_float16")
    p.add_argument(
        "--deterministic",
        action="store_true",
        default=None,
        help="turn on TensorFlow op determinism (slower, bit-reproducible)",
    )
    p.add_argument(
        "--tta-flip",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="average the test predictions over each image and its mirror "
        "(default: on with --profile for the resnets, off otherwise)",
    )
    p.add_argument("--strategy", help="tf.distribute strategy: default, mirrored, multiworker")
    p.add_argument("--out", dest="out_dir", help="folder for run directories (default runs/)")
    p.add_argument("--run-name", help="run directory name (default ARCH-sSEED-TIMESTAMP)")
    p.add_argument("--data-dir", help="folder with the four Fashion-MNIST .gz files")
    p.add_argument("--quiet", action="store_true", help="no progress bar or messages")
    p.add_argument(
        "--record",
        action="store_true",
        help="record each finished run in results/ (as MODEL-RECIPE-sSEED), where the "
        "tables and notebook 04 put it beside the reference models",
    )
    p.add_argument("--results-dir", default=None, help="where --record writes (default results/)")
    p.add_argument(
        "--resume",
        metavar="DIR",
        help="continue the interrupted run in DIR from its last completed epoch",
    )

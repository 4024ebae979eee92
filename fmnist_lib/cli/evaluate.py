"""`fmnist evaluate` and `fmnist predict`: use a saved model."""

from __future__ import annotations


def add_parser(sub):
    _add_evaluate(sub)
    _add_predict(sub)


def _add_evaluate(sub):
    p = sub.add_parser(
        "evaluate",
        help="test accuracy and per-class report of a saved model",
        description="Evaluate a saved model on the 10,000 Fashion-MNIST test images.",
    )
    p.add_argument("--model", required=True, help="a model.keras file or a run directory")
    p.add_argument("--data-dir", help="folder with the four Fashion-MNIST .gz files")
    p.set_defaults(handler="evaluate:evaluate_command")


def _add_predict(sub):
    p = sub.add_parser(
        "predict",
        help="classify image files (top-3 classes each)",
        description="Classify image files of any size and colour: each is read with "
        "scikit-image, turned grayscale, resized to 28x28 and inverted when its background "
        "is light. Prints the top classes with probabilities; exits 1 if any file failed.",
    )
    p.add_argument("--model", required=True, help="a model.keras file or a run directory")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (PNG, JPEG, ...)")
    p.add_argument("--top", type=int, default=3, help="how many classes to show (default 3)")
    p.set_defaults(handler="evaluate:predict_command")

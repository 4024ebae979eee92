"""Runs `fmnist evaluate` and `fmnist predict`."""

from __future__ import annotations

import sys

from ...data import load_fashion_mnist, to_model_input
from ...errors import UsageError
from ...inference import load_trained_model, predict_probabilities
from ...metrics import evaluate_probabilities, format_report
from ...predict import predict_files


def evaluate_command(args) -> int:
    model, tta_flip = load_trained_model(args.model)
    _, (x_test, y_test) = load_fashion_mnist(args.data_dir)
    probs = predict_probabilities(model, to_model_input(x_test), tta_flip=tta_flip)
    print(format_report(evaluate_probabilities(y_test, probs)))
    return 0


def predict_command(args) -> int:
    if not 1 <= args.top <= 10:
        raise UsageError(f"--top: {args.top} is out of range; it must be between 1 and 10")
    model, tta_flip = load_trained_model(args.model)
    failed = 0
    for result in predict_files(model, args.images, top=args.top, tta_flip=tta_flip):
        if result.error:
            failed += 1
            print(f"{result.path}: ERROR {result.error}", file=sys.stderr)
        else:
            ranked = ", ".join(f"{name} {p:.3f}" for name, p in result.top)
            print(f"{result.path}: {ranked}")
    if failed:
        print(
            f"fmnist: {failed} of {len(args.images)} file(s) could not be classified",
            file=sys.stderr,
        )
    return 1 if failed else 0

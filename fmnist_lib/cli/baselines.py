"""`fmnist baselines`: classical scikit-learn baselines on the test set."""

from __future__ import annotations


def add_parser(sub):
    p = sub.add_parser(
        "baselines",
        help="classical scikit-learn baselines on the test set",
        description="Logistic regression and a random forest on all 60,000 training images, "
        "an RBF SVM (C=10) on a stratified 10,000-image subset; each evaluated on the 10,000 "
        "test images. Writes one JSON file.",
    )
    p.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        help="logistic_regression, random_forest, svc_rbf_c10 (default all)",
    )
    p.add_argument("--train-size", type=int, help="training images for every model (quick runs)")
    p.add_argument("--out", default="results/baselines.json", help="output JSON file")
    p.set_defaults(handler="baselines:baselines_command")

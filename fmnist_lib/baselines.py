"""Classical scikit-learn baselines, as the Fashion-MNIST authors' benchmark ran them.

Pixels scaled to [0, 1] and flattened. Logistic regression and the random
forest train on all 60,000 training images; the RBF SVM (C=10, the authors'
best setting) on a stratified subset, since its fit grows quadratically.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC
from tqdm.auto import tqdm

from .data import load_fashion_mnist, stratified_subset
from .metrics import evaluate_probabilities

BASELINES = {
    "logistic_regression": lambda seed: LogisticRegression(max_iter=200, C=1.0),
    "random_forest": lambda seed: RandomForestClassifier(
        n_estimators=100, n_jobs=-1, random_state=seed
    ),
    "svc_rbf_c10": lambda seed: SVC(
        C=10, kernel="rbf", gamma="scale", probability=False, random_state=seed
    ),
}
DEFAULT_TRAIN_SIZE = {"logistic_regression": None, "random_forest": None, "svc_rbf_c10": 10_000}


def run_baselines(names=None, train_size=None, seed: int = 0, progress: bool = True) -> dict:
    """Fit each baseline, evaluate on the 10,000 test images; return one record per model.

    ``train_size`` (an int) overrides every model's training-set size (for tests).
    """
    names = list(names or BASELINES)
    unknown = sorted(set(names) - set(BASELINES))
    if unknown:
        raise ValueError(f"unknown baseline(s) {unknown}; valid names are {sorted(BASELINES)}")
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    flat_train = x_train.reshape(len(x_train), -1).astype(np.float32) / 255.0
    flat_test = x_test.reshape(len(x_test), -1).astype(np.float32) / 255.0
    results = {}
    for name in tqdm(names, desc="baselines", disable=not progress):
        size = train_size or DEFAULT_TRAIN_SIZE[name]
        rows = stratified_subset(y_train, size, seed) if size else np.arange(len(y_train))
        model = BASELINES[name](seed)
        start = time.perf_counter()
        model.fit(flat_train[rows], y_train[rows])
        fit_seconds = time.perf_counter() - start
        pred = model.predict(flat_test)
        probs = np.eye(10)[pred]  # hard predictions: the report needs labels only
        metrics = evaluate_probabilities(y_test, probs)
        metrics.pop("loss")  # meaningless for hard one-hot predictions
        results[name] = {
            "model": repr(model),
            "train_size": int(len(rows)),
            "fit_seconds": fit_seconds,
            "test": metrics,
        }
    return results

"""Metrics and statistics on real labels."""

from __future__ import annotations

import numpy as np
import pytest

from fmnist_lib.data import load_fashion_mnist
from fmnist_lib.metrics import (
    bootstrap_accuracy_ci,
    calibration,
    evaluate_probabilities,
    holm,
    mcnemar_test,
    most_confused_pairs,
)


@pytest.fixture(scope="module")
def y_test():
    return np.asarray(load_fashion_mnist()[1][1], dtype=np.int64)


def _noisy_predictions(y, error_rate, seed):
    rng = np.random.default_rng(seed)
    pred = y.copy()
    wrong = rng.random(len(y)) < error_rate
    pred[wrong] = (y[wrong] + rng.integers(1, 10, wrong.sum())) % 10
    return pred


def test_evaluate_probabilities_matches_hand_counts(y_test):
    pred = _noisy_predictions(y_test, 0.1, 0)
    probs = np.full((len(y_test), 10), 0.02)
    probs[np.arange(len(y_test)), pred] = 0.82
    metrics = evaluate_probabilities(y_test, probs)
    assert metrics["accuracy"] == np.mean(pred == y_test)
    confusion = np.array(metrics["confusion_matrix"])
    assert confusion.sum() == 10000 and confusion.trace() == np.sum(pred == y_test)
    assert metrics["per_class"]["Shirt"]["support"] == 1000
    pairs = most_confused_pairs(confusion, top=3)
    assert len(pairs) == 3 and pairs[0][2] >= pairs[1][2] >= pairs[2][2]
    with pytest.raises(ValueError, match="expected probabilities of shape"):
        evaluate_probabilities(y_test, probs[:, :9])


def test_bootstrap_interval_brackets_accuracy_and_narrows_with_confidence(y_test):
    pred = _noisy_predictions(y_test, 0.08, 1)
    ci = bootstrap_accuracy_ci(y_test, pred, n_resamples=500)
    assert ci["low"] < ci["accuracy"] < ci["high"]
    assert 0.005 < ci["high"] - ci["low"] < 0.02  # about +-1.96*sqrt(p(1-p)/n)
    narrow = bootstrap_accuracy_ci(y_test, pred, n_resamples=500, level=0.5)
    assert narrow["high"] - narrow["low"] < ci["high"] - ci["low"]


def test_mcnemar_separates_different_models_from_equal_ones(y_test):
    good, bad = _noisy_predictions(y_test, 0.05, 2), _noisy_predictions(y_test, 0.15, 3)
    assert mcnemar_test(y_test, good, bad)["p_value"] < 1e-6
    same = mcnemar_test(y_test, good, good)
    assert same["p_value"] == 1.0 and same["only_a_right"] == same["only_b_right"] == 0


def test_calibration_of_perfectly_and_badly_calibrated_models(y_test):
    rng = np.random.default_rng(4)
    confidence = rng.uniform(0.5, 1.0, len(y_test))
    correct = rng.random(len(y_test)) < confidence  # right as often as it claims
    pred = np.where(correct, y_test, (y_test + 1) % 10)
    probs = np.tile(((1 - confidence) / 9)[:, None], (1, 10))
    probs[np.arange(len(y_test)), pred] = confidence
    assert calibration(y_test, probs)["ece"] < 0.03
    overconfident = np.full_like(probs, 1e-4)
    overconfident[np.arange(len(y_test)), pred] = 1 - 9e-4
    result = calibration(y_test, overconfident)
    assert result["ece"] > 0.2 and sum(result["bin_count"]) == 10000


def test_classical_baselines_on_a_subset(tmp_path):
    from fmnist_lib.cli import main
    from fmnist_lib.runs import read_json

    out = tmp_path / "baselines.json"
    code = main(
        [
            "baselines",
            "--only",
            "logistic_regression",
            "random_forest",
            "--train-size",
            "1000",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    results = read_json(out)
    assert set(results) == {"logistic_regression", "random_forest"}
    for record in results.values():
        assert record["train_size"] == 1000 and record["test"]["n"] == 10000
        assert 0.6 < record["test"]["accuracy"] < 0.95  # far better than chance, below CNNs
    assert main(["baselines", "--only", "knn", "--out", str(out)]) == 2


def test_holm_against_a_hand_computed_example():
    # Sorted p 0.01, 0.02, 0.03, 0.04 times 4, 3, 2, 1: 0.04, 0.06, 0.06, 0.04 -> each at
    # least the one before: 0.04, 0.06, 0.06, 0.06; returned in the input order.
    adjusted = holm([0.03, 0.01, 0.04, 0.02])
    assert adjusted == pytest.approx([0.06, 0.04, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert holm([]).size == 0

"""Evaluation with scikit-learn: accuracy, log loss, per-class report, confusion matrix."""

from __future__ import annotations

import numpy as np
from scipy.stats import binomtest
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, log_loss

from .data import CLASS_NAMES


def percent(value) -> str:
    """An accuracy as users read it: ``0.9426`` -> ``94.26%`` (``n/a`` when missing)."""
    return "n/a" if value is None or value != value else f"{100 * value:.2f}%"


def evaluate_probabilities(y_true: np.ndarray, probs: np.ndarray) -> dict:
    """All test metrics from class probabilities of shape (N, 10)."""
    probs = np.asarray(probs, dtype=np.float64)
    y_true = np.asarray(y_true)
    if probs.ndim != 2 or probs.shape != (len(y_true), len(CLASS_NAMES)):
        raise ValueError(f"expected probabilities of shape ({len(y_true)}, 10), got {probs.shape}")
    y_pred = probs.argmax(axis=1)
    labels = list(range(len(CLASS_NAMES)))
    report = classification_report(
        y_true,
        y_pred,
        labels=labels,
        target_names=list(CLASS_NAMES),
        output_dict=True,
        zero_division=0,
    )
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "loss": float(log_loss(y_true, probs / probs.sum(axis=1, keepdims=True), labels=labels)),
        "n": int(len(y_true)),
        "per_class": {name: report[name] for name in CLASS_NAMES},
        "macro_avg": report["macro avg"],
        "weighted_avg": report["weighted avg"],
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def format_report(metrics: dict) -> str:
    """A plain-text report like scikit-learn's, from a metrics dict."""
    lines = [f"{'class':<12} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}"]
    for name, row in metrics["per_class"].items():
        lines.append(
            f"{name:<12} {row['precision']:>9.3f} {row['recall']:>7.3f} "
            f"{row['f1-score']:>6.3f} {int(row['support']):>8d}"
        )
    macro = metrics["macro_avg"]
    lines.append(
        f"{'macro avg':<12} {macro['precision']:>9.3f} {macro['recall']:>7.3f} "
        f"{macro['f1-score']:>6.3f} {int(macro['support']):>8d}"
    )
    lines.append(f"test accuracy {metrics['accuracy']:.4f}   test loss {metrics['loss']:.4f}")
    return "\n".join(lines)


def most_confused_pairs(confusion: np.ndarray, top: int = 5) -> list[tuple[str, str, int]]:
    """The largest off-diagonal counts as (true class, predicted class, count)."""
    confusion = np.asarray(confusion).copy()
    np.fill_diagonal(confusion, 0)
    order = np.argsort(confusion, axis=None)[::-1][:top]
    rows, cols = np.unravel_index(order, confusion.shape)
    return [
        (CLASS_NAMES[r], CLASS_NAMES[c], int(confusion[r, c]))
        for r, c in zip(rows, cols, strict=True)
    ]


def bootstrap_accuracy_ci(
    y_true: np.ndarray, y_pred: np.ndarray, n_resamples: int = 2000, level: float = 0.95, seed=0
) -> dict:
    """Percentile bootstrap confidence interval of test accuracy (resampling test items)."""
    correct = (np.asarray(y_true) == np.asarray(y_pred)).astype(np.float64)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(correct), size=(n_resamples, len(correct)))
    means = correct[draws].mean(axis=1)
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return {
        "accuracy": float(correct.mean()),
        "low": float(low),
        "high": float(high),
        "level": level,
        "n_resamples": n_resamples,
    }


def mcnemar_test(y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray) -> dict:
    """Exact McNemar test: do two models err on the same test items at the same rate?"""
    right_a, right_b = pred_a == y_true, pred_b == y_true
    only_a, only_b = int(np.sum(right_a & ~right_b)), int(np.sum(~right_a & right_b))
    discordant = only_a + only_b
    p_value = binomtest(only_a, discordant, 0.5).pvalue if discordant else 1.0
    return {"only_a_right": only_a, "only_b_right": only_b, "p_value": float(p_value)}


def calibration(y_true: np.ndarray, probs: np.ndarray, n_bins: int = 15) -> dict:
    """Expected calibration error and reliability-diagram bins of the top-class confidence."""
    probs = np.asarray(probs, dtype=np.float64)
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == np.asarray(y_true)).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, n_bins - 1)
    counts = np.bincount(which, minlength=n_bins)
    safe = np.maximum(counts, 1)
    accuracy = np.bincount(which, weights=correct, minlength=n_bins) / safe
    mean_conf = np.bincount(which, weights=confidence, minlength=n_bins) / safe
    ece = float(np.sum(counts * np.abs(accuracy - mean_conf)) / len(confidence))
    return {
        "ece": ece,
        "bin_edges": edges.tolist(),
        "bin_count": counts.tolist(),
        "bin_accuracy": accuracy.tolist(),
        "bin_confidence": mean_conf.tolist(),
    }


def holm(p_values) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values: several tests at once, the family-wise error kept.

    The smallest of m p-values is multiplied by m, the next by m - 1, ..., each adjusted
    value at least the one before it and at most 1.
    """
    # heavy: statsmodels takes seconds to import, and only this function needs it
    from statsmodels.stats.multitest import multipletests

    p_values = np.asarray(p_values, dtype=np.float64)
    if p_values.size == 0:
        return p_values
    return multipletests(p_values, method="holm")[1]

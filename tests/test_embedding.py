"""t-SNE maps of penultimate features: shapes, labels, and neighbourhoods that carry the classes."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from fmnist_lib import plots
from fmnist_lib.data import load_fashion_mnist
from fmnist_lib.embedding import embed_run, feature_extractor, tsne_2d
from fmnist_lib.models import build_model

from .conftest import call_cli


def test_feature_extractor_ends_at_the_classifier_input():
    extractor = feature_extractor(build_model("vgg", augmentation=("flip",)))
    assert extractor.output.shape[-1] == 512  # Dense(512) block feeds the 10-way Dense


def test_feature_extractor_needs_a_dense_layer():
    import keras

    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten()], name="bare")
    with pytest.raises(ValueError, match="no Dense layer"):
        feature_extractor(model)


def test_tsne_refuses_too_few_points():
    with pytest.raises(ValueError, match="more than 90 rows"):
        tsne_2d(np.zeros((50, 8)))


def test_embed_run_on_a_real_run(trained_run, tmp_path):
    path = embed_run(trained_run, tmp_path / "map.npz", size=1000, seed=0)
    arrays = np.load(path)
    coords, index, y_true = arrays["coords"], arrays["index"], arrays["y_true"]
    assert coords.shape == (1000, 2) and coords.dtype == np.float16
    assert np.isfinite(coords.astype(np.float32)).all()
    (_, _), (_, y_test) = load_fashion_mnist()
    assert (y_true == y_test[index]).all()
    assert (np.bincount(y_true, minlength=10) == 100).all()  # stratified sample
    probs = np.load(trained_run / "test_predictions.npz")["probs"]
    assert (arrays["y_pred"] == probs[index].argmax(axis=1)).all()
    # The map keeps neighbourhoods: 5-NN on two coordinates recovers the true class far
    # above the 10% of chance, even for this barely trained network.
    knn = cross_val_score(KNeighborsClassifier(5), coords.astype(np.float32), y_true, cv=5)
    assert knn.mean() > 0.5, knn
    fig = plots.embedding_map(coords, y_true, arrays["y_pred"])
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert labels[:10] == list(plots.CLASS_NAMES) and labels[10].startswith("misclassified")


def test_embed_cli_needs_a_run(tmp_path, capsys):
    code, _, err = call_cli(capsys, "results", "embed")
    assert code == 2 and "name at least one run directory" in err
    code, _, err = call_cli(capsys, "results", "embed", tmp_path, "--size", "10")
    assert code == 2 and "at least 100" in err
    code, _, err = call_cli(capsys, "results", "embed", tmp_path)
    assert code == 1 and "Traceback" not in err

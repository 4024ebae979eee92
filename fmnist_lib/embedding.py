"""A 2-D map of what a trained network has learned: t-SNE of its penultimate features.

The input of a classifier's last Dense layer is the representation that layer
separates linearly; a t-SNE of it (van der Maaten & Hinton, 2008) shows which
classes the network keeps apart and which it mixes. ``embed_run`` writes the map
of a finished run into ``results/embeddings/`` (coordinates and labels, a few
hundred kB, no weights), so the evaluation notebook can draw it without the model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

from .data import load_fashion_mnist, stratified_subset, to_model_input
from .inference import load_trained_model
from .runs import load_run, write_npz

PCA_DIMS = 50  # t-SNE on 50 principal components: the usual speed-up, same map in practice


def feature_extractor(model):
    """A model that maps images to the input of ``model``'s last Dense layer."""
    # heavy: Keras loads only when features are extracted (`fmnist results add` and
    # `fmnist results readme` import this module too)
    import keras

    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    if not dense:
        raise ValueError(f"{model.name}: no Dense layer, so no penultimate features")
    return keras.Model(model.inputs, dense[-1].input, name=f"{model.name}_features")


def penultimate_features(model, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Penultimate-layer features (float32) of uint8 images shaped (N, 28, 28)."""
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"expected images shaped (N, 28, 28), got {images.shape}")
    features = feature_extractor(model).predict(
        to_model_input(images), batch_size=batch_size, verbose=0
    )
    return np.asarray(features, dtype=np.float32).reshape(len(images), -1)


def tsne_2d(features: np.ndarray, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """t-SNE of ``features`` to two dimensions (after PCA to at most 50)."""
    features = np.asarray(features, dtype=np.float32)
    if features.ndim != 2 or len(features) <= 3 * perplexity:
        raise ValueError(
            f"t-SNE needs a 2-D array with more than {3 * perplexity:.0f} rows "
            f"(3 x perplexity), got shape {features.shape}"
        )
    dims = min(PCA_DIMS, *features.shape)
    if features.shape[1] > dims:
        features = PCA(n_components=dims, random_state=seed).fit_transform(features)
    tsne = TSNE(
        n_components=2, perplexity=perplexity, init="pca", learning_rate="auto", random_state=seed
    )
    return tsne.fit_transform(features).astype(np.float32)


def embed_run(
    run_dir,
    out_path,
    size: int | None = None,
    seed: int = 0,
    data_dir=None,
) -> Path:
    """Embed a finished run's test-set features in 2-D; write them to ``out_path`` (.npz).

    ``size`` takes a stratified sample of the test set (all 10,000 images when None).
    The file holds ``coords`` (float16), ``index`` (test-set positions), ``y_true`` and
    ``y_pred`` (the run's own predictions, from its ``test_predictions.npz``).
    """
    run = load_run(run_dir)
    (_, _), (x_test, y_test) = load_fashion_mnist(data_dir)
    index = stratified_subset(y_test, size, seed) if size else np.arange(len(y_test))
    model, _ = load_trained_model(run["dir"])
    coords = tsne_2d(penultimate_features(model, x_test[index]), seed=seed)
    predictions = np.load(run["dir"] / "test_predictions.npz")
    out_path = Path(out_path)
    write_npz(
        out_path,
        coords=coords.astype(np.float16),
        index=index.astype(np.int32),
        y_true=y_test[index].astype(np.uint8),
        y_pred=predictions["probs"][index].argmax(axis=1).astype(np.uint8),
    )
    return out_path

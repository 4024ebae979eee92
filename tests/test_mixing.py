"""CutMix: planned from (seed, epoch), pasted into real images, labels mixed by area."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from fmnist_lib.batches import epoch_order, training_batches
from fmnist_lib.config import TrainConfig
from fmnist_lib.data import NUM_CLASSES, prepare_splits
from fmnist_lib.errors import ConfigError
from fmnist_lib.mixing import cutmix, cutmix_plan


@pytest.fixture(scope="module")
def real_batch():
    splits = prepare_splits(0.1, 0, subset=1000)
    return splits.x_train, keras.utils.to_categorical(splits.y_train, NUM_CLASSES)


def test_the_plan_depends_on_seed_and_epoch_only_and_stays_in_the_batch():
    order = epoch_order(0, 3, 54_000)
    partners, boxes = cutmix_plan(0, 3, order, 250, 0.5)
    again = cutmix_plan(0, 3, order, 250, 0.5)
    assert np.array_equal(partners, again[0]) and np.array_equal(boxes, again[1])
    assert not np.array_equal(boxes, cutmix_plan(0, 4, order, 250, 0.5)[1])
    # each partner comes from the same batch of 250
    for start in range(0, 54_000, 250):
        assert set(partners[start : start + 250]) <= set(order[start : start + 250])
    pasted = (boxes[:, 1] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 2])
    assert pasted.mean() == pytest.approx(0.5, abs=0.02)
    assert np.array_equal(partners[~pasted], order[~pasted])
    assert boxes.min() >= 0 and boxes[:, [1, 3]].max() <= 28
    # the pasted area share is uniform in (0, 1) before clipping: about a third after
    area = (boxes[:, 1] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 2]) / 784
    assert 0.2 < area[pasted].mean() < 0.45


def test_no_cutmix_pastes_nothing_and_a_bad_share_is_refused():
    order = epoch_order(1, 0, 1000)
    partners, boxes = cutmix_plan(1, 0, order, 250, 0.0)
    assert np.array_equal(partners, order) and not boxes.any()
    with pytest.raises(ValueError, match=r"not in \[0, 1\]"):
        cutmix_plan(1, 0, order, 250, 1.5)
    with pytest.raises(ConfigError, match="cutmix"):
        TrainConfig(cutmix=-0.1)


def test_cutmix_pastes_the_box_and_mixes_labels_by_area(real_batch):
    x, y = real_batch
    images, labels = x[:8], y[:8]
    partner_images, partner_labels = x[8:16], y[8:16]
    boxes = np.array([[0, 0, 0, 0], [0, 28, 0, 28], [5, 19, 3, 10]] + [[2, 9, 2, 9]] * 5)
    mixed, mixed_labels = map(
        keras.ops.convert_to_numpy,
        cutmix(images, labels, partner_images, partner_labels, boxes),
    )
    assert np.array_equal(mixed[0], images[0]) and np.allclose(mixed_labels[0], labels[0])
    assert np.array_equal(mixed[1], partner_images[1])
    assert np.allclose(mixed_labels[1], partner_labels[1])
    inside = np.zeros((28, 28, 1), bool)
    inside[5:19, 3:10] = True
    assert np.array_equal(mixed[2][inside], partner_images[2][inside])
    assert np.array_equal(mixed[2][~inside], images[2][~inside])
    share = 14 * 7 / 784
    assert np.allclose(mixed_labels[2], (1 - share) * labels[2] + share * partner_labels[2])
    assert np.allclose(mixed_labels.sum(axis=1), 1.0)


def test_mixed_batches_follow_the_plan_and_resume_exactly(real_batch):
    x, y = real_batch
    batches, steps = training_batches(x, y, 100, seed=7, first_epoch=0, epochs=2, cutmix=0.5)
    numpy = keras.ops.convert_to_numpy
    first_two_epochs = [tuple(map(numpy, b)) for b in batches]
    assert len(first_two_epochs) == 2 * steps
    order = epoch_order(7, 1, len(x))
    partners, boxes = cutmix_plan(7, 1, order, 100, 0.5)
    first = slice(0, 100)  # epoch 1's first batch
    rows, pasted_from = order[first], partners[first]
    expected = cutmix(x[rows], y[rows], x[pasted_from], y[pasted_from], boxes[first])
    images, labels = first_two_epochs[steps]
    assert np.allclose(images, numpy(expected[0])) and np.allclose(labels, numpy(expected[1]))
    assert not np.allclose(labels.max(axis=1), 1.0)  # some labels are mixed
    # a run resumed at epoch 1 sees the same mixed batches as one that never stopped
    resumed, _ = training_batches(x, y, 100, seed=7, first_epoch=1, epochs=2, cutmix=0.5)
    resumed = [tuple(map(numpy, b)) for b in resumed]
    assert len(resumed) == steps
    for (images, labels), (again, again_labels) in zip(
        first_two_epochs[steps:], resumed, strict=True
    ):
        assert np.array_equal(images, again) and np.array_equal(labels, again_labels)


def test_a_smoke_run_trains_with_cutmix(tmp_path):
    from .conftest import run_cli

    run_cli(
        "train", "--profile", "smoke", "--arch", "arch1", "--cutmix", "0.5",
        "--out", tmp_path, "--run-name", "mix", "--quiet", check_rc=0,
    )  # fmt: skip
    metrics = json.loads((tmp_path / "mix" / "metrics.json").read_text())
    assert metrics["config"]["cutmix"] == 0.5
    assert 0.1 < metrics["test"]["accuracy"] <= 1.0
    assert metrics["images_seen"] == 2000 - 200  # the smoke run's training images, once

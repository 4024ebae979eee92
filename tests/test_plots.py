"""fmnist_lib.plots on the real data: every figure function, and save_fig."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from fmnist_lib import plots
from fmnist_lib.data import CLASS_NAMES, load_fashion_mnist
from fmnist_lib.metrics import evaluate_probabilities
from fmnist_lib.paths import PROJECT_ROOT


@pytest.fixture(autouse=True)
def figures_tmp(tmp_path, monkeypatch):
    folder = tmp_path / "figures"
    monkeypatch.setenv(plots.FIGURES_ENV, str(folder))
    return folder


@pytest.fixture(scope="module")
def data():
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    return x_train, y_train, x_test, y_test


@pytest.fixture(scope="module")
def nearest_mean(data):
    """Real predictions without training: each test image gets the class of the nearest mean."""
    x_train, y_train, x_test, y_test = data
    means = np.stack([x_train[y_train == c].mean(axis=0) for c in range(10)]).reshape(10, -1)
    flat = x_test.reshape(len(x_test), -1).astype(np.float64)
    y_pred = np.argmax(flat @ means.T - 0.5 * (means**2).sum(axis=1), axis=1)
    probs = np.eye(10)[y_pred]
    return y_pred, probs, evaluate_probabilities(y_test, probs)


# --- save_fig -----------------------------------------------------------------


def test_save_fig_writes_png_at_fixed_dpi_into_the_override_dir(figures_tmp, data):
    fig = plots.class_counts({"train": data[1]})
    path = plots.save_fig(fig, "counts")
    assert path == figures_tmp / "counts.png"
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.info["dpi"] == pytest.approx((plots.DPI, plots.DPI), abs=0.1)
    assert sorted(p.name for p in figures_tmp.iterdir()) == ["counts.png"]  # no temp files left


def test_save_fig_is_byte_stable_and_accepts_png_suffix(figures_tmp, data):
    fig = plots.mean_images(data[0], data[1], classes=["Shirt", "Coat"])
    first = plots.save_fig(fig, "means.png").read_bytes()
    second = plots.save_fig(fig, "means").read_bytes()
    assert first == second


def test_save_fig_default_folder_is_figures_under_the_repo(monkeypatch):
    monkeypatch.delenv(plots.FIGURES_ENV, raising=False)
    assert plots.figures_dir() == PROJECT_ROOT / "figures"


@pytest.mark.parametrize("name", ["../escape", "sub/dir", "", ".hidden", "a b"])
def test_save_fig_rejects_names_that_are_not_plain_file_names(name):
    with pytest.raises(ValueError, match="plain file name"):
        plots.save_fig(Figure(), name)


def test_save_fig_rejects_non_figures():
    with pytest.raises(TypeError, match="Figure"):
        plots.save_fig("not a figure", "x")


# --- data figures -------------------------------------------------------------


def test_class_sprite_tiles_per_class_rows_with_montage(data):
    x_train, y_train = data[0], data[1]
    fig = plots.class_sprite(x_train, y_train, per_class=5, seed=3)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    sheet = np.asarray(ax.images[0].get_array())
    assert sheet.shape == (10 * 30 + 2, 5 * 30 + 2)  # 28-pixel tiles, 2-pixel padding
    assert [t.get_text() for t in ax.get_yticklabels()] == list(CLASS_NAMES)
    again, other = (
        np.asarray(plots.class_sprite(x_train, y_train, 5, seed=s).axes[0].images[0].get_array())
        for s in (3, 4)
    )
    assert np.array_equal(sheet, again) and not np.array_equal(sheet, other)


def test_class_sprite_subset_of_classes_by_name(data):
    fig = plots.class_sprite(data[0], data[1], per_class=3, classes=["Shirt", "Coat"])
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["Shirt", "Coat"]


def test_class_sprite_input_errors(data):
    x_train, y_train = data[0], data[1]
    with pytest.raises(ValueError, match="cannot draw"):
        plots.class_sprite(x_train[:50], y_train[:50], per_class=40)
    with pytest.raises(ValueError, match="unknown class"):
        plots.class_sprite(x_train, y_train, classes=["Hat"])
    with pytest.raises(ValueError, match="labels"):
        plots.class_sprite(x_train, y_train[:10])
    with pytest.raises(ValueError, match="per_class"):
        plots.class_sprite(x_train, y_train, per_class=0)


def test_mean_images_shows_each_class_average(data):
    x_train, y_train = data[0], data[1]
    fig = plots.mean_images(x_train, y_train)
    shown = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in shown] == list(CLASS_NAMES)
    expected = x_train[y_train == 6].mean(axis=0)
    assert np.allclose(np.asarray(shown[6].images[0].get_array()), expected)


def test_class_counts_bars_match_the_label_counts(data):
    fig = plots.class_counts({"train": data[1], "test": data[3]})
    widths = sorted({round(p.get_width()) for p in fig.axes[0].patches if p.get_width() > 0})
    assert widths == [1000, 6000]
    with pytest.raises(ValueError, match="at least one split"):
        plots.class_counts({})


# --- training and evaluation figures ------------------------------------------


def _history(epochs, start=1.0):
    return [
        {
            "epoch": e,
            "loss": start / e,
            "accuracy": 1 - 0.5 / e,
            "val_loss": start / e + 0.1,
            "val_accuracy": 1 - 0.6 / e,
        }
        for e in range(1, epochs + 1)
    ]


def test_learning_curves_one_run_and_several():
    fig = plots.learning_curves(_history(3))
    loss_ax, acc_ax = fig.axes
    assert [len(line.get_xdata()) for line in loss_ax.lines] == [3, 3]
    assert loss_ax.get_ylabel() == "loss" and acc_ax.get_ylabel() == "accuracy"
    overlay = plots.learning_curves({"a": _history(2), "b": _history(4, 2.0)})
    assert len(overlay.axes[0].lines) == 4
    assert {t.get_text() for t in overlay.axes[1].get_legend().get_texts()} == {
        "a train",
        "a val",
        "b train",
        "b val",
    }


def test_learning_curves_single_epoch_is_visible():
    fig = plots.learning_curves(_history(1))
    assert fig.axes[0].get_xlim() == (0.5, 1.5)
    assert list(fig.axes[0].get_xticks()) == [1]
    many = plots.learning_curves(_history(80))
    assert all(float(t).is_integer() for t in many.axes[0].get_xticks())


def test_learning_curves_input_errors():
    with pytest.raises(ValueError, match="empty"):
        plots.learning_curves([])
    with pytest.raises(ValueError, match="val_accuracy"):
        plots.learning_curves([{"epoch": 1, "loss": 1, "accuracy": 0.5, "val_loss": 1}])


def test_confusion_heatmap_of_real_predictions(nearest_mean):
    metrics = nearest_mean[2]
    fig = plots.confusion_heatmap(metrics["confusion_matrix"])
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert len(texts) == 100
    assert texts[0] == str(metrics["confusion_matrix"][0][0])
    normalised = plots.confusion_heatmap(metrics["confusion_matrix"], normalize=True)
    diagonal = [float(normalised.axes[0].texts[i * 11].get_text()) for i in range(10)]
    recalls = [metrics["per_class"][name]["recall"] for name in CLASS_NAMES]
    assert diagonal == pytest.approx(recalls, abs=0.006)
    with pytest.raises(ValueError, match="10x10"):
        plots.confusion_heatmap(np.zeros((3, 3)))


def test_per_class_scores_has_three_bars_per_class(nearest_mean):
    fig = plots.per_class_scores(nearest_mean[2]["per_class"])
    bars = [p for p in fig.axes[0].patches if p.get_height() > 0 and p.get_width() > 0]
    assert len(bars) == 30
    with pytest.raises(ValueError, match="recall"):
        plots.per_class_scores({"Shirt": {"precision": 0.5}})


def test_misclassified_gallery_titles_true_and_predicted(data, nearest_mean):
    x_test, y_test = data[2], data[3]
    y_pred, probs = nearest_mean[0], nearest_mean[1]
    fig = plots.misclassified_gallery(x_test, y_test, y_pred, probs, n=12, seed=1, cols=6)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 12
    wrong = f"{int((y_pred != y_test).sum()):,}"
    assert wrong in fig._suptitle.get_text()
    for ax in shown:
        true_name, predicted = ax.get_title().split("\n→ ")
        assert true_name in CLASS_NAMES
        assert predicted.rsplit(" ", 1)[0] != true_name


def test_misclassified_gallery_without_errors_and_bad_input(data):
    x_test, y_test = data[2][:20], data[3][:20]
    fig = plots.misclassified_gallery(x_test, y_test, y_test)
    assert "no misclassified" in fig.texts[0].get_text()
    with pytest.raises(ValueError, match="predictions"):
        plots.misclassified_gallery(x_test, y_test, y_test[:5])
    with pytest.raises(ValueError, match="at least 1"):
        plots.misclassified_gallery(x_test, y_test, y_test, n=0)


def test_reliability_diagram_from_real_calibration(tmp_path, monkeypatch):
    from fmnist_lib.data import load_fashion_mnist
    from fmnist_lib.metrics import calibration
    from fmnist_lib.plots import reliability_diagram, save_fig

    monkeypatch.setenv("FMNIST_FIGURES_DIR", str(tmp_path))
    y = np.asarray(load_fashion_mnist()[1][1])
    probs = np.full((len(y), 10), 0.05)
    probs[np.arange(len(y)), y] = 0.55
    fig = reliability_diagram({"sure and right": calibration(y, probs)})
    assert (
        len(fig.axes[0].lines) == 2 and "ECE 0.450" in fig.axes[0].get_legend().texts[1].get_text()
    )
    assert save_fig(fig, "reliability").stat().st_size > 0
    with pytest.raises(ValueError, match="no models"):
        reliability_diagram({})

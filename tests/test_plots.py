"""fmnist_lib.plots on the real data: every figure function, and save_fig."""

from __future__ import annotations

import numpy as np
import pandas as pd
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
    fig = plots.mean_images(data[0], data[1], classes=["Bag"])
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


def test_save_fig_default_folder_is_under_runs_not_figures(monkeypatch):
    """Without $FMNIST_FIGURES_DIR (an interactive run) the committed figures stay as
    they are: only the batch runner's --in-place run sends figures to figures/."""
    monkeypatch.delenv(plots.FIGURES_ENV, raising=False)
    assert plots.figures_dir() == PROJECT_ROOT / "runs" / "figures"


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


def test_intensity_profiles_match_numpy_on_the_training_set(data):
    x_train, y_train = data[0], data[1]
    profiles = plots.intensity_profiles(x_train, y_train)
    assert profiles["rows"].shape == (10, 28) and profiles["columns"].shape == (10, 28)
    trouser = x_train[y_train == 1].astype(np.float64) / 255
    assert np.allclose(profiles["rows"][1], trouser.mean(axis=(0, 2)))
    assert np.allclose(profiles["columns"][1], trouser.mean(axis=(0, 1)))
    assert np.allclose(profiles["brightness"][:5], x_train[:5].mean(axis=(1, 2)) / 255)
    # What the figure is there to show: the gap between the legs of trousers (a dip
    # in the centre columns that dresses lack), and sandals carry the least ink.
    legs = profiles["columns"][1]
    assert legs[14] < 0.6 * min(legs[:14].max(), legs[14:].max())
    dress = profiles["columns"][3]
    assert dress[14] > 0.9 * dress.max()
    median = [np.median(profiles["brightness"][y_train == c]) for c in range(10)]
    assert int(np.argmin(median)) == CLASS_NAMES.index("Sandal")


def test_pixel_intensity_profiles_draws_the_profiles_and_a_box_per_class(data):
    x_train, y_train = data[0], data[1]
    fig = plots.pixel_intensity_profiles(x_train, y_train)
    ax_rows, ax_cols, ax_box = fig.axes
    profiles = plots.intensity_profiles(x_train, y_train)
    assert [line.get_label() for line in ax_cols.lines] == list(CLASS_NAMES)
    for c in range(10):
        assert np.allclose(ax_rows.lines[c].get_xdata(), profiles["rows"][c])
        assert np.array_equal(ax_rows.lines[c].get_ydata(), np.arange(28))
        assert np.allclose(ax_cols.lines[c].get_ydata(), profiles["columns"][c])
    assert ax_rows.get_ylim()[0] > ax_rows.get_ylim()[1]  # row 0 at the top, as in the image
    assert [t.get_text() for t in ax_box.get_yticklabels()] == list(CLASS_NAMES)
    assert "60,000 images" in fig._suptitle.get_text()
    with pytest.raises(ValueError, match="labels"):
        plots.pixel_intensity_profiles(x_train, y_train[:10])


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
    assert [len(line.get_xdata()) for line in loss_ax.lines] == [3, 3, 2]  # + best-epoch line
    assert loss_ax.get_ylabel() == "loss" and acc_ax.get_ylabel() == "accuracy"
    assert fig._suptitle is None
    overlay = plots.learning_curves({"a": _history(2), "b": _history(4, 2.0)})
    assert len(overlay.axes[0].lines) == 6
    assert {t.get_text() for t in overlay.axes[1].get_legend().get_texts()} == {
        "a train",
        "a val",
        "a best epoch 2",
        "b train",
        "b val",
        "b best epoch 4",
    }


def test_learning_curves_mark_the_epoch_of_lowest_val_loss_and_take_a_title():
    history = _history(6)
    for record, val_loss in zip(history, [0.9, 0.5, 0.4, 0.31, 0.35, 0.45], strict=True):
        record["val_loss"] = val_loss
    fig = plots.learning_curves(history, title="arch2, original recipe (full profile)")
    assert fig._suptitle.get_text() == "arch2, original recipe (full profile)"
    for ax in fig.axes:
        (best,) = [line for line in ax.lines if line.get_label() == "best epoch 4"]
        assert list(best.get_xdata()) == [4, 4]


def test_learning_curves_keep_an_epoch_1_spike_off_the_axis():
    history = _history(8)
    history[0]["val_loss"] = 40.0  # one diverged first epoch
    history[0]["val_accuracy"] = 0.1
    fig = plots.learning_curves(history)
    loss_ax, acc_ax = fig.axes
    later_loss = [r[k] for r in history[1:] for k in ("loss", "val_loss")]
    low, high = loss_ax.get_ylim()
    assert high < 2.0 and low <= min(later_loss) and high >= max(later_loss)
    assert "off scale at epoch 1: train 1, val 40" in loss_ax.get_title()
    assert acc_ax.get_ylim()[0] > 0.3 and "val 0.1" in acc_ax.get_title()


def test_loss_and_accuracy_axes_follow_one_rule_the_later_epochs():
    """An ordinary first epoch (the highest loss, the lowest accuracy) is left off both
    axes alike, and named in both titles: the later epochs set the range."""
    fig = plots.learning_curves(_history(8))
    for ax, key in zip(fig.axes, ("loss", "accuracy"), strict=True):
        later = [r[k] for r in _history(8)[1:] for k in (key, f"val_{key}")]
        low, high = ax.get_ylim()
        assert low <= min(later) and high >= max(later)
        assert high - low < 1.2 * (max(later) - min(later))
        assert "off scale at epoch 1" in ax.get_title()


def test_learning_curves_overlay_many_runs_with_a_longer_early_spike():
    # A moving average of the weights starts far off for its first epochs, not just one.
    averaged = _history(40)
    for record in averaged[:3]:
        record["val_loss"], record["val_accuracy"] = 30.0, 0.1
    fig = plots.learning_curves({"a": _history(40), "b": _history(30), "ema": averaged})
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_ylim()[1] < 2.0 and acc_ax.get_ylim()[0] > 0.3
    title = loss_ax.get_title().replace("\n", " ")
    assert "off scale in epochs 1-" in title and "ema val" in title
    # three runs or more: one legend below the axes, not one covering the curves
    assert acc_ax.get_legend() is None and len(fig.legends) == 1
    assert "ema best epoch 40" in {t.get_text() for t in fig.legends[0].get_texts()}


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
    matrix = np.asarray(metrics["confusion_matrix"])
    fig = plots.confusion_heatmap(matrix)
    heat, colour_bar = fig.axes
    assert colour_bar.get_ylabel() == "misclassified images, off the diagonal"
    texts = [t.get_text() for t in heat.texts]
    assert texts == [str(v) for v in matrix.ravel()]  # every cell annotated, row by row
    # The errors own the colour scale: it tops out at the largest error, not at the
    # diagonal, and the diagonal is left out of the coloured cells.
    errors = heat.collections[0]
    off_diagonal = matrix[~np.eye(10, dtype=bool)]
    assert errors.get_clim() == (0, off_diagonal.max()) and off_diagonal.max() < matrix.max()
    drawn = np.ma.getmaskarray(errors.get_array()).reshape(10, 10)
    assert drawn[np.eye(10, dtype=bool)].all() and not drawn[~np.eye(10, dtype=bool)].any()
    normalised = plots.confusion_heatmap(metrics["confusion_matrix"], normalize=True)
    diagonal = [float(normalised.axes[0].texts[i * 11].get_text()) for i in range(10)]
    recalls = [metrics["per_class"][name]["recall"] for name in CLASS_NAMES]
    assert diagonal == pytest.approx(recalls, abs=0.006)
    with pytest.raises(ValueError, match="10x10"):
        plots.confusion_heatmap(np.zeros((3, 3)))


def test_per_class_scores_are_dots_on_a_labelled_range(nearest_mean):
    per_class = nearest_mean[2]["per_class"]
    fig = plots.per_class_scores(per_class)
    (ax,) = [ax for ax in fig.axes if ax.collections]
    dots = np.concatenate([c.get_offsets()[:, 0] for c in ax.collections])
    scores = [per_class[n][k] for n in CLASS_NAMES for k in ("precision", "recall", "f1-score")]
    assert sorted(dots) == pytest.approx(sorted(scores))
    assert not ax.patches  # no bars whose length would be read as the value
    low = ax.get_xlim()[0]
    assert ax.get_xlim()[1] == 1.0 and low <= min(scores) - 0.05 and low == round(low, 1)
    assert f"axis from {low:.1f} to 1.0" in ax.get_xlabel()
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
    legend = fig.axes[0].get_legend()
    assert len(fig.axes[0].lines) == 2 and "ECE 0.450" in legend.texts[1].get_text()
    # right of the axes, off the bins (the top ones hold most images)
    assert legend.get_bbox_to_anchor().x0 >= fig.axes[0].get_window_extent().x1
    counts_ax = fig.axes[1]
    (steps,) = counts_ax.patches
    drawn, edges, _ = steps.get_data()
    result = calibration(y, probs)
    assert list(drawn) == result["bin_count"] and list(edges) == result["bin_edges"]
    assert drawn[result["bin_edges"].index(0.5333333333333333)] == len(y)  # all at 0.55
    assert counts_ax.get_yscale() == "log"
    assert save_fig(fig, "reliability").stat().st_size > 0
    with pytest.raises(ValueError, match="no models"):
        reliability_diagram({})


# --- robustness figures ---------------------------------------------------------


def _robustness_record():
    from fmnist_lib.robustness import summarize

    accuracy = {
        "gaussian_noise": {"1": 0.8, "3": 0.6, "5": 0.4},
        "rotate": {"1": 0.85, "3": 0.7, "5": 0.5},
        "invert": {"1": 0.1, "3": 0.1, "5": 0.1},
    }
    return {
        "name": "vgg-s0",
        "clean_accuracy": 0.9,
        "test_size": 10000,
        "severities": [1, 3, 5],
        "accuracy": accuracy,
        **summarize(0.9, accuracy),
    }


def test_robustness_heatmap_annotates_family_by_severity_with_a_colour_bar():
    record = _robustness_record()
    fig = plots.robustness_heatmap(record)
    assert isinstance(fig, Figure)
    heat, colour_bar = fig.axes
    assert colour_bar.get_ylabel() == "accuracy"
    assert [t.get_text() for t in heat.get_yticklabels()] == list(record["accuracy"])
    assert [t.get_text() for t in heat.get_xticklabels()] == ["1", "3", "5"]
    assert [t.get_text() for t in heat.texts][:3] == ["0.80", "0.60", "0.40"]
    assert "vgg-s0" in heat.get_title() and "clean 90.0%" in heat.get_title()
    with pytest.raises(ValueError, match=r"families \['rotate'\] lack some of \['1', '3', '5'\]"):
        plots.robustness_heatmap({**record, "accuracy": {"rotate": {"1": 0.5}}})
    with pytest.raises(ValueError, match="no accuracy table"):
        plots.robustness_heatmap({"name": "x"})


def test_corruption_examples_one_row_per_family_one_column_per_severity(data):
    x_test = data[2][:6]
    fig = plots.corruption_examples(x_test, ["flip", "invert", "rotate"], [0, 1, 5], index=2)
    assert len(fig.axes) == 9
    rows = [fig.axes[i * 3] for i in range(3)]
    assert [ax.get_ylabel() for ax in rows] == ["flip", "invert", "rotate"]
    assert [ax.get_title() for ax in fig.axes[:3]] == ["clean", "severity 1", "severity 5"]
    shown = [np.asarray(ax.images[0].get_array()) for ax in fig.axes]
    assert np.array_equal(shown[0], x_test[2]) and np.array_equal(shown[1], x_test[2][:, ::-1])
    assert np.array_equal(shown[4], 255 - x_test[2])
    assert fig.axes[4].images[0].get_clim() == (0, 255)  # fixed scale: the negative shows
    default = plots.corruption_examples(x_test[0])
    assert len(default.axes) == 10 * 6
    with pytest.raises(ValueError, match="index: 6 is out of range"):
        plots.corruption_examples(x_test, index=6)
    with pytest.raises(ValueError, match="unknown corruption family 'fog'"):
        plots.corruption_examples(x_test, ["fog"])


def test_accuracy_vs_time_draws_every_run_and_the_references():
    from fmnist_lib import results, tables

    records = results.load_results()
    runs = tables.time_accuracy_runs(records, results.recipe_searches(records=records))
    originals = tables.original_points()
    fig = plots.accuracy_vs_time(runs, originals, references={"svc": 0.92, "human": 0.835})
    kinds = runs["machine"].nunique()
    panels = [ax for ax in fig.axes if ax.axison]
    assert len(panels) == kinds + 1  # one per kind of machine, and the original's
    assert [ax.get_title() for ax in panels][-1] == plots.time_figures.ORIGINAL_PANEL
    for ax in panels[:-1]:  # only one kind of machine on a time axis
        machine = ax.get_title()
        drawn = np.concatenate([c.get_offsets() for c in ax.collections])
        assert len(drawn) == (runs["machine"] == machine).sum()
        assert ax.get_xscale() == "log"
    for ax in panels:  # even runs of nearly one duration get a readable time axis
        low, high = ax.get_xlim()
        ticks = [*ax.xaxis.get_majorticklocs(), *ax.xaxis.get_minorticklocs()]
        label = ax.xaxis.get_major_formatter()
        labelled = [label(t) for t in ticks if low <= t <= high and label(t)]
        assert len(labelled) >= 2, (ax.get_title(), ax.get_xlim())
    best = 100 * runs["test accuracy"].max()
    low, high = panels[0].get_ylim()
    assert low <= 100 * runs["test accuracy"].min() and high >= best
    # a reference inside the range is a line; one that would stretch the axis, a note
    assert any(t.get_text() == "external: svc" for t in panels[0].texts)
    assert low > 83.5 and any("human: 83.5%" in t.get_text() for t in fig.texts)
    (legend,) = fig.legends
    assert len(legend.get_texts()) <= 11
    with pytest.raises(ValueError, match="columns"):
        plots.accuracy_vs_time(runs.drop(columns="machine"))


def test_curve_bands_draw_a_mean_and_band_per_group_with_a_short_legend():
    seeds = [_history(10, start) for start in (1.0, 1.2, 1.4)]
    seeds[0][0]["val_loss"] = 30.0  # an early spike leaves the axis, and is named
    fig = plots.curve_bands(
        {"model a": {"original (3 seeds)": seeds}, "model b": {"chosen (1 seed)": [_history(6)]}},
        title="two models",
    )
    loss_a, loss_b, acc_a, acc_b = fig.axes
    assert [loss_a.get_title(), loss_b.get_title()] == ["model a", "model b"]
    assert len(loss_a.lines) == 2 and len(loss_a.collections) == 2  # train, val; two bands
    assert not loss_b.collections  # one seed: no band
    mean_val = np.mean([s[4]["val_loss"] for s in seeds])
    assert np.isclose(loss_a.lines[1].get_ydata()[4], mean_val)
    assert loss_a.get_ylim() == loss_b.get_ylim() and loss_a.get_ylim()[1] < 2.0
    assert "off scale: 30" in loss_a.get_ylabel()
    (legend,) = fig.legends
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels[:2] == ["original (3 seeds)", "chosen (1 seed)"] and len(labels) == 4
    with pytest.raises(ValueError, match="at least one panel"):
        plots.curve_bands({})


def test_robustness_by_family_puts_clean_accuracy_first():
    frame = pd.DataFrame({"noise": [0.5, 0.6], "flip": [0.9, 0.4]}, index=["a · x", "b · y"])
    fig = plots.robustness_by_family(frame, {"a · x": 0.92, "b · y": 0.91})
    heat = fig.axes[0]
    assert [t.get_text() for t in heat.get_xticklabels()] == ["clean", "noise", "flip"]
    assert [t.get_text() for t in heat.texts][:3] == ["92", "50", "90"]

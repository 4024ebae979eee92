"""The `fmnist` CLI end to end: a real short training, evaluate, predict, errors."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from fmnist_lib.cli import main
from fmnist_lib.data import CLASS_NAMES, load_fashion_mnist
from fmnist_lib.runs import read_json

from .conftest import call_cli, run_cli


def test_train_writes_every_artifact(trained_run):
    for name in (
        "model.keras",
        "history.json",
        "metrics.json",
        "config.json",
        "status.json",
        "test_predictions.npz",
    ):
        assert (trained_run / name).is_file(), name
    assert list((trained_run / "logs").rglob("events.out.tfevents.*")), "no TensorBoard logs"
    assert not (trained_run / "backup").exists()  # resume state removed once complete
    history = read_json(trained_run / "history.json")
    assert len(history) == 1
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "seconds", "images_per_second"):
        assert np.isfinite(history[0][key]), key
    metrics = read_json(trained_run / "metrics.json")
    assert metrics["params"]["trainable"] == 848_330
    assert metrics["n_train"] == 1800 and metrics["n_val"] == 200
    assert metrics["test"]["n"] == 10000 and 0.1 < metrics["test"]["accuracy"] <= 1.0
    assert set(metrics["test"]["per_class"]) == set(CLASS_NAMES)
    confusion = np.array(metrics["test"]["confusion_matrix"])
    assert confusion.shape == (10, 10) and confusion.sum() == 10000
    assert confusion.trace() == round(metrics["test"]["accuracy"] * 10000)
    for key in ("train_seconds", "images_per_second", "seed", "config", "versions", "git_commit"):
        assert key in metrics, key
    assert metrics["versions"]["keras"].startswith("3.")
    assert read_json(trained_run / "config.json")["arch"] == "arch1"
    assert read_json(trained_run / "status.json")["state"] == "completed"


def test_evaluate_reproduces_the_recorded_test_accuracy(trained_run):
    proc = run_cli("evaluate", "--model", trained_run / "model.keras", check_rc=0)
    recorded = read_json(trained_run / "metrics.json")["test"]["accuracy"]
    assert f"test accuracy {recorded:.4f}" in proc.stdout
    assert "Ankle boot" in proc.stdout and "precision" in proc.stdout


def _write_test_images(folder):
    """Real test items saved as files a user might have: light background, colour, big."""
    _, (x_test, y_test) = load_fashion_mnist()
    paths = {}
    trouser = x_test[np.flatnonzero(y_test == 1)[0]]
    big = np.kron(255 - trouser, np.ones((10, 10), dtype=np.uint8))  # 280x280, dark on light
    Image.fromarray(big).save(folder / "trouser_on_white.png")
    paths["png"] = folder / "trouser_on_white.png"
    rgb = np.stack([x_test[0]] * 3, axis=-1)
    Image.fromarray(rgb).resize((100, 100)).save(folder / "item.jpg", quality=95)
    paths["jpeg"] = folder / "item.jpg"
    rgba = np.dstack([rgb, np.full((28, 28), 255, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(folder / "item_rgba.png")
    paths["rgba"] = folder / "item_rgba.png"
    Image.fromarray(x_test[1].astype(np.uint16) * 257).save(folder / "item16.png")
    paths["16bit"] = folder / "item16.png"
    return paths


def test_predict_classifies_real_image_files(trained_run, tmp_path):
    paths = _write_test_images(tmp_path)
    proc = run_cli("predict", "--model", trained_run, *paths.values(), check_rc=0)
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == len(paths)
    for line, path in zip(lines, paths.values(), strict=True):
        assert line.startswith(f"{path}: ")
        ranked = line.split(": ", 1)[1].split(", ")
        assert len(ranked) == 3
        probs = [float(item.rsplit(" ", 1)[1]) for item in ranked]
        assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0001


def test_predict_reports_bad_files_and_still_classifies_good_ones(trained_run, tmp_path):
    good = _write_test_images(tmp_path)["png"]
    not_image = tmp_path / "notes.png"
    not_image.write_text("this is not a picture")
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(good.read_bytes()[:120])
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    folder = tmp_path / "a_folder"
    folder.mkdir()
    huge = tmp_path / "huge.png"
    Image.new("L", (8000, 8000)).save(huge)  # 64 megapixels, over the limit
    bad = [not_image, corrupt, empty, folder, huge, tmp_path / "missing.png"]
    proc = run_cli("predict", "--model", trained_run, good, *bad)
    assert proc.returncode == 1
    assert proc.stdout.strip().splitlines()[0].startswith(f"{good}: ")
    for path in bad:
        assert f"{path}: ERROR" in proc.stderr, path
    assert "6 of 7 file(s) could not be classified" in proc.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ["train", "--arch", "lenet"],
            "valid names are ['arch1', 'arch2', 'vgg', 'resnet', 'resnet64', 'resnet96']",
        ),
        (["train", "--epochs", "0"], "epochs: 0 is out of range"),
        (["train", "--batch-size", "ten"], "invalid int value"),
        (["train", "--val-fraction", "0.9"], "val_fraction: 0.9 is out of range"),
        (["train", "--augment", "rotate,blur"], "unknown name(s) ['blur']"),
        (["train", "--optimizer", "lion"], "choose one of ['adam', 'rmsprop', 'sgd']"),
        (["train", "--subset", "5"], "subset: 5 is out of range"),
        (["predict", "--model", "x.keras"], "the following arguments are required: IMAGE"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2_with_one_clear_line(args, fragment, capsys):
    try:
        code = main(args)
    except SystemExit as exit_:  # argparse's own usage errors
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert fragment in err
    assert "Traceback" not in err


def test_usage_error_exit_status_from_a_real_process():
    proc = run_cli("train", "--arch", "lenet")
    assert proc.returncode == 2
    expected = "fmnist train: error: arch: unknown model 'lenet'; valid names are"
    # TensorFlow's C++ logging prints on import on some CPUs (oneDNN notice), whatever
    # TF_CPP_MIN_LOG_LEVEL says; the CLI's own output must be that one line.
    tf_log = re.compile(r"^(WARNING: All log messages before absl::InitializeLog|[IWE]\d{4} )")
    lines = [line for line in proc.stderr.strip().splitlines() if not tf_log.match(line)]
    assert len(lines) == 1 and lines[0].startswith(expected)


def test_runtime_failures_exit_1(tmp_path, capsys):
    code, _, err = call_cli(capsys, "evaluate", "--model", tmp_path / "nothing.keras")
    assert code == 1 and "no such model file" in err
    assert "Traceback" not in err
    code, _, err = call_cli(
        capsys,
        "train",
        "--epochs",
        "1",
        "--subset",
        "200",
        "--data-dir",
        tmp_path,
        "--out",
        tmp_path / "runs",
        "--quiet",
    )
    assert code == 1 and "apt-get install dataset-fashion-mnist" in err


def test_help_documents_every_option(capsys):
    code, out, _ = call_cli(capsys, "train", "--help")
    assert code == 0
    for option in (
        "--arch",
        "--epochs",
        "--batch-size",
        "--optimizer",
        "--seed",
        "--subset",
        "--out",
        "--resume",
        "--augment",
        "--precision",
        "--strategy",
    ):
        assert option in out


def test_help_loads_neither_tensorflow_nor_keras():
    """Every `fmnist ... --help` answers from argparse alone: no TensorFlow, Keras or JAX."""
    from fmnist_lib.cli import build_parser

    commands = [[]] + [[name] for name in build_parser()._subparsers._group_actions[0].choices]
    script = (
        "import sys\n"
        "from fmnist_lib.cli import main\n"
        f"for argv in {[[*c, '--help'] for c in commands]!r}:\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit as exit_:\n"
        "        assert exit_.code == 0, argv\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'keras', 'tensorflow', 'jax'})\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "HEAVY []" in proc.stderr
    assert len(commands) >= 9 and "bench" in proc.stdout and "run-notebooks" in proc.stdout


@pytest.fixture(scope="module")
def tta_run(tmp_path_factory):
    """A tiny run trained with flip test-time augmentation."""
    out = tmp_path_factory.mktemp("tta")
    run_cli(
        *("train", "--arch", "arch1", "--epochs", "1", "--subset", "1000", "--tta-flip"),
        *("--out", out, "--run-name", "tta", "--quiet"),
        check_rc=0,
    )
    return out / "tta"


def test_evaluate_scores_a_run_directory_with_its_tta(tta_run):
    import keras

    from fmnist_lib.data import to_model_input
    from fmnist_lib.inference import predict_probabilities

    _, (x_test, y_test) = load_fashion_mnist()
    model = keras.saving.load_model(tta_run / "model.keras")
    plain = predict_probabilities(model, to_model_input(x_test)).argmax(axis=1)
    recorded = read_json(tta_run / "metrics.json")["test"]["accuracy"]
    assert np.mean(plain == y_test) != pytest.approx(recorded, abs=1e-5)  # TTA changes it
    for model_path in (tta_run, tta_run / "model.keras"):  # a run directory or its model file
        proc = run_cli("evaluate", "--model", model_path, check_rc=0)
        assert f"test accuracy {recorded:.4f}" in proc.stdout, model_path


def test_a_time_budget_fits_the_epochs_to_the_measured_rate(tmp_path):
    run_cli(
        *("train", "--arch", "arch1", "--subset", "1000", "--budget-seconds", "2"),
        *("--out", tmp_path, "--run-name", "timed", "--quiet"),
        check_rc=0,
    )
    run_dir = tmp_path / "timed"
    budget = read_json(run_dir / "time_budget.json")
    config, metrics = read_json(run_dir / "config.json"), read_json(run_dir / "metrics.json")
    rate, margin = budget["measured_images_per_second"], budget["margin"]
    expected = max(1, int(2 * margin * rate // 900))  # 900 training images after validation
    assert config["epochs"] == budget["epochs"] == metrics["epochs"] == expected
    assert config["budget_seconds"] == 2 and metrics["time_budget"] == budget
    assert metrics["images_seen"] == budget["images_seen"] == expected * 900
    assert len(read_json(run_dir / "history.json")) == expected
    # resuming keeps the fitted epochs: nothing is measured again
    proc = run_cli("train", "--resume", run_dir, check_rc=0)
    assert "already completed" in proc.stdout


def test_tta_is_judged_on_validation_as_the_test_set_is_scored(tta_run):
    import keras

    from fmnist_lib.data import prepare_splits
    from fmnist_lib.inference import predict_probabilities
    from fmnist_lib.runs import selection_val_accuracy

    metrics = read_json(tta_run / "metrics.json")
    kept = metrics["kept_val_accuracy"]
    assert selection_val_accuracy(metrics) == metrics["selection_val_accuracy"] == kept["flip_tta"]
    # the plain number is the kept epoch's validation accuracy, up to one image
    assert kept["plain"] == pytest.approx(metrics["best_val_accuracy"], abs=1 / metrics["n_val"])
    config = read_json(tta_run / "config.json")
    splits = prepare_splits(config["val_fraction"], config["seed"], config["subset"])
    model = keras.saving.load_model(tta_run / "model.keras")
    probs = predict_probabilities(model, splits.x_val, tta_flip=True)
    assert np.mean(probs.argmax(axis=1) == splits.y_val) == pytest.approx(kept["flip_tta"])


def test_predict_applies_the_runs_tta(tta_run, tmp_path):
    import keras

    from fmnist_lib.inference import predict_probabilities
    from fmnist_lib.predict import prepare_image

    path = _write_test_images(tmp_path)["png"]
    model = keras.saving.load_model(tta_run / "model.keras")
    image = prepare_image(path)[None, ..., None]
    expected = predict_probabilities(model, image, tta_flip=True)[0]
    assert not np.allclose(expected, predict_probabilities(model, image)[0], atol=1e-3)
    proc = run_cli("predict", "--model", tta_run, "--top", "10", path, check_rc=0)
    shown = dict(item.rsplit(" ", 1) for item in proc.stdout.split(": ", 1)[1].split(", "))
    for index, name in enumerate(CLASS_NAMES):
        assert float(shown[name]) == pytest.approx(expected[index], abs=1e-3), name

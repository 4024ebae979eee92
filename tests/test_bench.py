"""`fmnist bench`: FLOP count, report schema and markdown, skipping without tf-keras.

No timing assertions: the numbers depend on the machine and on its load.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from fmnist_lib import bench, training
from fmnist_lib.bench import project as bench_project
from fmnist_lib.bench.recorder import Recorder, planned_epochs
from fmnist_lib.bench.report import build_report
from fmnist_lib.cli import build_parser
from fmnist_lib.cli import main as cli_main
from fmnist_lib.cli.handlers.bench import _bench_spec
from fmnist_lib.cli.handlers.bench import _command_line as _bench_command
from fmnist_lib.data import NUM_CLASSES
from fmnist_lib.paths import RESULTS_DIR

REPORT_KEYS = {
    "schema",
    "created",
    "command",
    "mode",
    "spec",
    "machine",
    "peak",
    "flops",
    "target",
    "pipelines",
    "ratios",
    "notes",
}
SIDE_KEYS = {
    "pipeline",
    "status",
    "description",
    "versions",
    "precision",
    "params",
    "n_train",
    "n_val",
    "preprocessing",
    "epochs",
    "milestones",
    "stop_reason",
    "wall_seconds",
    "epochs_run",
    "images_seen",
    "images_per_second",
    "gflops",
    "peak_gflops",
    "fraction_of_peak",
    "final_test_accuracy",
    "time_to_accuracy",
}
TTA_KEYS = {"target", "reached", "seconds", "epoch", "images_seen", "searched_seconds"}
RATIO_KEYS = {
    "available",
    "preprocessing_speedup",
    "images_per_second",
    "gflops",
    "time_to_accuracy_speedup",
    "time_to_milestone_speedup",
}
VGG_TRAINABLE = 1_677_674


def test_vgg_flops_are_the_analytic_count_of_its_layers():
    """Multiply-adds per layer from the architecture alone: 28x28x1 input, 3x3 "same"
    convolutions, 2x2 pooling after each pair, Dense(512), Dense(NUM_CLASSES)."""
    conv_macs = [
        28 * 28 * 32 * 3 * 3 * 1,  # 1 -> 32 channels at 28x28
        28 * 28 * 32 * 3 * 3 * 32,  # 32 -> 32
        14 * 14 * 64 * 3 * 3 * 32,  # after pooling: 32 -> 64 at 14x14
        14 * 14 * 64 * 3 * 3 * 64,  # 64 -> 64
    ]
    dense_macs = [7 * 7 * 64 * 512, 512 * NUM_CLASSES]  # flattened 7x7x64 after pooling
    flops = bench_project.vgg_flops()
    assert [layer["macs"] for layer in flops["layers"]] == conv_macs + dense_macs
    assert [layer["output"] for layer in flops["layers"]] == [
        [28, 28, 32],
        [28, 28, 32],
        [14, 14, 64],
        [14, 14, 64],
        [512],
        [NUM_CLASSES],
    ]
    assert flops["forward_flops_per_image"] == 2 * sum(conv_macs + dense_macs)
    assert flops["training_flops_per_image"] == 3 * flops["forward_flops_per_image"]
    json.dumps(flops)  # plain ints, not tensor shapes


def _fake_side(pipeline, ips, pre, tta_seconds=None, target=0.9354, wall=100.0):
    """A raw side result as run_project/run_original return it, with chosen numbers."""
    accuracy = target + 0.001 if tta_seconds is not None else target - 0.05
    milestones = {"0.9000": {"seconds": wall / 2, "epoch": 1, "images_seen": 1000}}
    if tta_seconds is not None:
        milestones[f"{target:.4f}"] = {"seconds": tta_seconds, "epoch": 2, "images_seen": 2000}
    return {
        "pipeline": pipeline,
        "status": "ok",
        "description": f"{pipeline} (fake)",
        "versions": {"python": "3"},
        "precision": "float32",
        "params": {"trainable": VGG_TRAINABLE, "total": 1_679_082},
        "n_source": 1000,
        "n_train": 1000,
        "n_val": 100,
        "n_test": 10000,
        "batch_size": 250,
        "planned_epochs": 2,
        "preprocessing": {"total_seconds": pre},
        "setup_seconds": 0.1,
        "load_average": {"start": [0.0, 0.0, 0.0], "end": [0.0, 0.0, 0.0]},
        "epochs": [
            {
                "epoch": e,
                "images_seen": 1000 * e,
                "train_seconds": 1000 / ips,
                "steady_images": 750,
                "steady_seconds": 750 / ips,
                "test_accuracy": accuracy,
            }
            for e in (1, 2)
        ],
        "milestones": milestones,
        "stop_reason": "fake",
        "wall_seconds": wall,
        "target": target,
    }


def _report(original, project, quick=False):
    spec = bench.BenchSpec.quick_spec() if quick else bench.BenchSpec()
    peaks = {
        "float32": {
            "gflops": 100.0,
            "cores": 2,
            "clock_ghz": 1.5625,
            "flops_per_cycle_per_core": 32,
            "formula": "cores x clock x flops/cycle",
        }
    }
    machine = {"cpu": "test CPU", "cores": 2, "platform": "test"}
    sides = {"original": original, "project": project}
    return build_report(spec, sides, machine, peaks, bench_project.vgg_flops(), "fmnist bench")


def test_ratios_and_markdown_from_known_numbers():
    report = _report(
        _fake_side("original", ips=400, pre=20.0, tta_seconds=800.0),
        _fake_side("project", ips=200, pre=2.0, tta_seconds=400.0),
    )
    assert REPORT_KEYS <= set(report)
    ratios = report["ratios"]
    assert RATIO_KEYS <= set(ratios)
    assert ratios["images_per_second"] == pytest.approx(0.5)
    assert ratios["gflops"] == pytest.approx(0.5)
    assert ratios["preprocessing_speedup"] == pytest.approx(10.0)
    assert ratios["time_to_accuracy_speedup"]["value"] == pytest.approx(2.0)
    assert ratios["time_to_milestone_speedup"] == {
        "0.9000": pytest.approx(1.0),
        "0.9354": pytest.approx(2.0),
    }
    project = report["pipelines"]["project"]
    assert SIDE_KEYS <= set(project)
    assert project["gflops"] == pytest.approx(200 * 119_399_424 / 1e9)
    assert project["fraction_of_peak"] == pytest.approx(project["gflops"] / 100.0)
    assert "goals" not in report  # the goals are in docs/benchmark.md
    markdown = bench.render_markdown(report)
    assert "| metric | original (tf.keras 2) | this project (Keras 3) |" in markdown
    assert "| time to 93.54% test accuracy |" in markdown
    assert "2.00x faster" in markdown
    assert "docs/benchmark.md" in markdown  # where the goals for these ratios are
    json.dumps(report)  # serialisable as it stands


def test_not_reached_is_reported_as_a_bound():
    report = _report(
        _fake_side("original", ips=400, pre=20.0, tta_seconds=None, wall=1200.0),
        _fake_side("project", ips=400, pre=2.0, tta_seconds=300.0),
    )
    tta = report["ratios"]["time_to_accuracy_speedup"]
    assert tta["value"] is None and tta["bound"].startswith(">= 4.00")
    original = report["pipelines"]["original"]
    assert original["time_to_accuracy"]["reached"] is False
    assert TTA_KEYS <= set(original["time_to_accuracy"])
    assert "not reached" in bench.render_markdown(report)


def test_missing_tf_keras_skips_the_original_with_an_install_hint(monkeypatch):
    monkeypatch.setattr(bench, "tf_keras_available", lambda: False)
    skipped = bench.run_side("original", bench.BenchSpec.quick_spec(verbose=False))
    assert skipped["status"] == "skipped"
    assert "pip install -e .[bench]" in skipped["reason"]
    report = _report(skipped, _fake_side("project", ips=300, pre=1.0), quick=True)
    assert report["ratios"]["available"] is False
    assert any("pip install -e .[bench]" in note for note in report["notes"])
    markdown = bench.render_markdown(report)
    assert "| training images/s (steady) | skipped |" in markdown
    assert "NOT comparable" in markdown


def test_cli_without_tf_keras_says_how_to_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(bench, "tf_keras_available", lambda: False)
    code = cli_main(["bench", "--quick", "--sides", "original", "--out", str(tmp_path), "--quiet"])
    assert code == 0
    assert "pip install -e .[bench]" in capsys.readouterr().err
    report = json.loads((tmp_path / "bench.json").read_text())
    assert report["pipelines"]["original"]["status"] == "skipped"
    assert report["pipelines"]["project"]["status"] == "skipped"
    assert (tmp_path / "bench.md").read_text().startswith("# fmnist bench (quick)")


def test_recorder_stops_at_the_target_and_at_caps():
    rec = Recorder(n_train=1000, batch_size=250, target=0.9, max_images=3000, verbose=False)
    for epoch, accuracy in enumerate([0.5, 0.81, 0.86]):
        rec.epoch_begin()
        for _ in range(4):
            rec.batch_end()
        stop = rec.epoch_end(epoch, {"loss": 1.0}, lambda a=accuracy: a)
        assert stop == (epoch == 2)
    assert rec.stop_reason.startswith("cap: 3,000 images")
    assert {k: v["epoch"] for k, v in rec.reached.items()} == {"0.8000": 2, "0.8500": 3}
    assert rec.epochs[1]["loss"] == 1.0
    assert [e["steady_images"] for e in rec.epochs] == [750, 750, 750]
    rec = Recorder(n_train=1000, batch_size=300, target=0.9, verbose=False)
    rec.epoch_begin()
    assert rec.epoch_end(0, None, lambda: 0.95)
    assert rec.stop_reason.startswith("reached") and "0.9000" in rec.reached
    assert planned_epochs(54_000, None, 1_440_000) == 27
    assert planned_epochs(144_000, 3, 1_440_000) == 3


def test_bad_settings_are_usage_errors(tmp_path, capsys):
    assert cli_main(["bench", "--quick", "--target", "1.5", "--out", str(tmp_path)]) == 2
    assert "target" in capsys.readouterr().err
    assert cli_main(["bench", "--sides", "nope", "--out", str(tmp_path)]) == 2
    assert cli_main(["bench", "--project-recipe", "fast", "--out", str(tmp_path)]) == 2
    assert "unknown recipe 'fast'; valid: original, " in capsys.readouterr().err
    assert cli_main(["bench", "--project-precision", "fp8", "--out", str(tmp_path)]) == 2
    assert "project_precision: 'fp8'" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_parser_and_module_entry_point():
    args = build_parser().parse_args(["bench", "--quick", "--max-epochs", "2"])
    spec = _bench_spec(args)
    assert spec.quick and spec.max_epochs == 2 and spec.target == bench.QUICK["target"]
    assert _bench_command(args) == "fmnist bench --quick --max-epochs 2"
    args = build_parser().parse_args(
        ["bench", "--project-recipe", "cosine-flip-ls", "--project-epochs", "4"]
    )
    spec = _bench_spec(args)
    assert (spec.project_recipe, spec.project_epochs, spec.project_precision) == (
        "cosine-flip-ls",
        4,
        "auto",
    )
    assert _bench_command(args).endswith("--project-recipe cosine-flip-ls --project-epochs 4")
    out = subprocess.run(
        [sys.executable, "-m", "fmnist_lib.bench", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and "--quick" in out.stdout


def test_bench_help_and_the_original_side_load_no_keras():
    # The original side's module runs in the tf.keras 2 subprocess: no Keras 3 there.
    code = (
        "import sys\n"
        "import fmnist_lib.bench.original, fmnist_lib.bench.recorder, fmnist_lib.bench.report\n"
        "from fmnist_lib.cli import main\n"
        "try:\n"
        "    main(['bench', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'keras', 'tensorflow', 'jax'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.splitlines()[-1] == "[]"


def test_the_committed_report_still_renders():
    committed = json.loads((RESULTS_DIR / "bench" / "max-epochs-1" / "bench.json").read_text())
    markdown = bench.render_markdown(committed)
    assert "| training images/s (steady) | 304 | 220 | 0.72x |" in markdown
    assert "| time to 93.54% test accuracy | not reached (573.0 s" in markdown


@pytest.mark.slow
def test_quick_bench_writes_a_valid_report(tmp_path, monkeypatch):
    # The project side trains through training.fit, as `fmnist train` does.
    assert bench_project.fit is training.fit
    fits = []
    monkeypatch.setattr(
        bench_project, "fit", lambda *a, **k: fits.append(a) or training.fit(*a, **k)
    )
    code = cli_main(
        ["bench", "--quick", "--project-recipe", "cosine-flip-ls", "--out", str(tmp_path)]
        + ["--project-epochs", "3", "--quiet"]
    )
    assert code == 0
    assert len(fits) == 1
    assert fits[0][1] == 1  # --quick's one-epoch cap is tighter than the 3-epoch schedule
    report = json.loads((tmp_path / "bench.json").read_text())
    assert REPORT_KEYS <= set(report)
    assert report["schema"] == bench.SCHEMA and report["mode"] == "quick"
    assert report["target"]["accuracy"] == bench.QUICK["target"]
    project = report["pipelines"]["project"]
    assert project["status"] == "ok" and SIDE_KEYS <= set(project)
    assert project["recipe"] == "cosine-flip-ls"
    assert "adam lr 0.002, cosine lr, flip, label smoothing 0.1" in project["description"]
    assert project["params"]["trainable"] == VGG_TRAINABLE
    assert project["images_per_second"] > 0 and project["epochs_run"] == 1
    preprocessing = project["preprocessing"]
    assert preprocessing["total_seconds"] == pytest.approx(
        preprocessing["load_split_scale_seconds"] + preprocessing["labels_and_batches_seconds"]
    )
    assert 0 < preprocessing["total_seconds"] < project["wall_seconds"]
    assert project["setup_seconds"] > 0
    original = report["pipelines"]["original"]
    if bench.tf_keras_available():
        assert original["status"] == "ok", original
        assert SIDE_KEYS <= set(original)
        assert original["params"] == {"trainable": VGG_TRAINABLE, "total": 1_679_082}
        # 3x the source images, split 80/20 after augmenting
        assert original["n_train"] == round(0.8 * 3 * bench.QUICK["subset"])
        assert RATIO_KEYS <= set(report["ratios"]) and report["ratios"]["available"]
    else:
        assert original["status"] == "skipped"
        assert report["ratios"]["available"] is False
        assert "pip install -e .[bench]" in original["reason"]
    markdown = (tmp_path / "bench.md").read_text()
    assert "| metric | original (tf.keras 2) | this project (Keras 3) |" in markdown
    assert "| training images/s (steady) |" in markdown
    assert "NOT comparable" in markdown

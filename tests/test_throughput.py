"""The interleaved throughput comparison runs and reports every variant."""

from __future__ import annotations

import pytest

from fmnist_lib.cli import main
from fmnist_lib.runs import read_json


def test_throughput_report_with_and_without_augmentation(tmp_path, capsys):
    out = tmp_path / "throughput.json"
    assert (
        main(["throughput", "--arch", "arch1", "--steps", "2", "--rounds", "2", "--out", str(out)])
        == 0
    )
    report = read_json(out)
    assert list(report["variants"]) == ["no augmentation", "default augmentation (rotate, flip)"]
    for row in report["variants"].values():
        assert len(row["images_per_second_rounds"]) == 2
        assert row["images_per_second"] > 0 and row["precision"] in ("float32", "mixed_bfloat16")
    assert report["variants"]["no augmentation"]["relative_to_first"] == 1.0
    assert report["variants"]["default augmentation (rotate, flip)"]["settings"] == {
        "augmentation": ["rotate", "flip"]
    }
    assert "| arch1 variant | precision |" in capsys.readouterr().out


def test_throughput_compares_batch_norm_layers_in_rotated_rounds(tmp_path, capsys):
    out = tmp_path / "bn.json"
    args = ["throughput", "--arch", "arch1", "--steps", "2", "--rounds", "2", "--out", str(out)]
    assert main([*args, "--precisions", "float32", "--batch-norm", "keras", "fused"]) == 0
    report = read_json(out)
    assert list(report["variants"]) == ["float32/keras", "float32/fused"]
    assert report["round_orders"] == [
        ["float32/keras", "float32/fused"],
        ["float32/fused", "float32/keras"],
    ]
    for bn in ("keras", "fused"):
        row = report["variants"][f"float32/{bn}"]
        assert row["batch_norm"] == bn and row["precision"] == "float32"
        assert row["settings"] == {"precision": "float32", "batch_norm": bn}
    assert report["command"].endswith(f"--batch-norm keras fused --out {out}")
    assert "| float32/fused | float32 |" in capsys.readouterr().out


def test_a_rounds_rate_is_timed_between_its_batches():
    from fmnist_lib.throughput import BatchClock

    clock = BatchClock()
    clock.on_train_begin()
    for end in (10.0, 10.5, 11.0):  # fit's own start and end (trace, iterator) left out
        clock.ends.append(end)
    assert clock.images_per_second(250) == 500.0  # 2 batches after the first, in 1 s
    clock.on_train_begin()
    clock.ends.append(3.0)
    with pytest.raises(ValueError, match="at least 2 timed batches"):
        clock.images_per_second(250)


def test_throughput_rejects_bad_settings(tmp_path, capsys):
    assert main(["throughput", "--steps", "0", "--out", str(tmp_path / "t.json")]) == 2
    assert main(["throughput", "--steps", "1", "--out", str(tmp_path / "t.json")]) == 2
    assert "--steps must be 2..10,000" in capsys.readouterr().err
    assert main(["throughput", "--precisions", "float8", "--out", str(tmp_path / "t.json")]) == 2
    assert "precision: 'float8' is not valid" in capsys.readouterr().err
    assert main(["throughput", "--batch-norm", "tf", "--out", str(tmp_path / "t.json")]) == 2
    assert "--batch-norm: unknown ['tf']; valid: ['fused', 'keras']" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["throughput", "--xla", "maybe", "--out", str(tmp_path / "t.json")])
    assert "invalid choice: 'maybe'" in capsys.readouterr().err
    assert not (tmp_path / "t.json").exists()


def test_throughput_compares_xla_and_where_augmentation_runs(tmp_path):
    out = tmp_path / "xla.json"
    args = ["throughput", "--arch", "arch1", "--steps", "2", "--rounds", "1", "--out", str(out)]
    args += ["--xla", "on", "off", "--augment-in", "model", "pipeline", "--augment", "rotate,flip"]
    assert main(args) == 0
    report = read_json(out)
    names = ["xla-on/augment-in-model", "xla-on/augment-in-pipeline"]
    names += ["xla-off/augment-in-model", "xla-off/augment-in-pipeline"]
    assert list(report["variants"]) == names
    jit = {name: row["jit_compile"] for name, row in report["variants"].items()}
    # Keras turns XLA off for a model holding its rotation layer; in the pipeline it stays on.
    assert jit == dict(zip(names, [False, True, False, False], strict=True))
    for row in report["variants"].values():
        assert row["settings"]["augmentation"] == ["rotate", "flip"]
    assert report["command"].startswith("fmnist throughput --arch arch1 --steps 2")


def test_training_estimate_divides_each_budget_by_its_measured_rate():
    from fmnist_lib.config import profile_config
    from fmnist_lib.throughput import training_estimate

    # Two trainings (the original's recipe and the chosen one), each on the same budget.
    estimate = training_estimate(["arch1"], "smoke", trainings=2, steps=2)
    model = estimate["models"]["arch1"]
    config = profile_config("arch1", "smoke")
    assert model["images_seen"] == config.images_seen == 1800 and model["trainings"] == 2
    assert model["images_per_second"] > 0
    validation = config.epochs * 200 / 3  # 200 validation images of the 2,000
    assert model["seconds"] == pytest.approx(2 * (1800 + validation) / model["images_per_second"])
    assert estimate["seconds"] == model["seconds"]


def test_estimate_line_states_minutes_and_each_models_trainings():
    from fmnist_lib.notebooks import TRAININGS_PER_ARCH, estimate_line

    assert TRAININGS_PER_ARCH == 2  # 01-03: the original's recipe, then the chosen one
    models = {
        "arch1": {"images_seen": 162_000, "trainings": 2, "images_per_second": 9000.0},
        "vgg": {"images_seen": 162_000, "trainings": 2, "images_per_second": 1800.0},
    }
    seconds = {"arch1": 2 * (162_000 + 3 * 6000 / 3) / 9000, "vgg": 2 * 168_000 / 1800}
    for arch, model in models.items():
        model["seconds"] = seconds[arch]
    line = estimate_line({"models": models, "seconds": sum(seconds.values())}, "quick")
    # 37.3 s + 186.7 s = 3.7 min
    assert line.startswith("Training in the quick profile: about 4 min (arch1 2 x 0.16 M images")
    assert "vgg 2 x 0.16 M images at 1,800/s" in line


def test_a_time_budget_is_measured_with_the_runs_own_network_and_optimizer(monkeypatch):
    """A wide variant of a model costs more per step than the default: its epochs must be
    fitted from a measurement of that variant, not of the model's default build."""
    from fmnist_lib import throughput
    from fmnist_lib.config import TrainConfig

    seen = {}

    def fake_measure(arch, variants, **kwargs):
        seen.update(arch=arch, settings=variants["run"], batch_size=kwargs["batch_size"])
        row = {"settings": variants["run"], "images_per_second": 900.0}
        row["images_per_second_rounds"] = [900.0] * 3
        return {"variants": {"run": row}, "created": "now", "machine": {}}

    monkeypatch.setattr(throughput, "measure", fake_measure)
    config = TrainConfig(
        arch="resnet",
        model_options={"width": 48, "blocks": 1},
        budget_seconds=100,
        batch_size=500,
        ema_momentum=0.99,
        weight_decay=0.05,
        cutmix=0.5,
        verbose=0,
    )
    fitted, record = throughput.fit_to_time_budget(config)
    assert seen["arch"] == "resnet" and seen["batch_size"] == 500
    for name in throughput.STEP_COST_SETTINGS:
        assert seen["settings"][name] == getattr(config, name), name
    assert record["measured_settings"]["model_options"] == {"width": 48, "blocks": 1}
    # 100 s x 0.9 x 900 images/s over 54,000 training images: 1 epoch
    assert fitted.epochs == 1 and record["images_seen"] == 54_000

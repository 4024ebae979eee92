"""The interleaved throughput comparison runs and reports every variant."""

from __future__ import annotations

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


def test_throughput_rejects_bad_settings(tmp_path, capsys):
    assert main(["throughput", "--steps", "0", "--out", str(tmp_path / "t.json")]) == 2
    assert main(["throughput", "--precisions", "float8", "--out", str(tmp_path / "t.json")]) == 2
    assert "precision: 'float8' is not valid" in capsys.readouterr().err

"""What training prints: verbose 3 (the profiles' notebook setting) is one line per epoch."""

from __future__ import annotations

import re

import pytest

from fmnist_lib import training
from fmnist_lib.config import COMPACT, ConfigError, TrainConfig, profile_config

EPOCH_LINE = re.compile(
    r"^epoch (\d+)/(\d+)  loss \d\.\d{4}  accuracy \d\.\d{4}  "
    r"val_loss \d\.\d{4}  val_accuracy \d\.\d{4}  \(\d+ s\)$"
)


def test_compact_verbosity_prints_exactly_one_line_per_epoch(tmp_path, capsys):
    config = profile_config("arch1", "smoke", epochs=2, verbose=COMPACT)
    training.train(config, run_dir=tmp_path / "run")
    lines = capsys.readouterr().out.splitlines()
    epochs = [m.groups() for m in map(EPOCH_LINE.match, lines) if m]
    assert epochs == [("1", "2"), ("2", "2")]
    # Besides the epochs: the plan before training and the test accuracy after it.
    others = [line for line in lines if not EPOCH_LINE.match(line)]
    assert len(others) == 2, lines
    assert others[0].startswith("Training arch1 on 1,800 images")
    assert others[1].startswith("Test accuracy ")


def test_notebook_profiles_print_compact_lines_and_smoke_stays_silent():
    assert profile_config("vgg", "full").verbose == COMPACT
    assert profile_config("vgg", "quick", recipe="cosine-flip-ls").verbose == COMPACT
    assert profile_config("vgg", "smoke").verbose == 0
    assert profile_config("vgg", "quick", verbose=1).verbose == 1


@pytest.mark.parametrize("value", [4, -1, True, "compact"])
def test_unknown_verbosity_names_the_levels(value):
    with pytest.raises(ConfigError, match=r"verbose: .* not valid; choose one of 0 silent; 1 "):
        TrainConfig(verbose=value)

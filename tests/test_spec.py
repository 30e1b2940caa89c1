"""Run specs: a preset's data keys apply to the datasets that have them."""

import pytest

from vidis.errors import ConfigError
from vidis.train.spec import RUN_FILES, clear_run, make_spec


def test_preset_data_keys_skip_what_another_dataset_lacks():
    # dvae's `paper` preset sets Moving MNIST sizes (num_train, ...): kth has no such keys.
    moving = make_spec("dvae", preset="paper")
    assert moving.data_config.num_frames == 20
    kth = make_spec("dvae", data="kth", preset="paper")
    assert not hasattr(kth.data_config, "num_train")
    # the user's own overrides stay strict
    with pytest.raises(ConfigError, match="num_train"):
        make_spec("dvae", data="kth", preset="paper", overrides={"data": {"num_train": 5}})


def test_overwrite_clears_tensorboard_events_and_keeps_the_users_files(tmp_path):
    (tmp_path / "tensorboard").mkdir()
    (tmp_path / "tensorboard" / "events.out").write_text("x")
    (tmp_path / "log.csv").write_text("step\n")
    (tmp_path / "notes.txt").write_text("mine")
    removed = clear_run(tmp_path)
    assert "tensorboard" in removed and "tensorboard" in RUN_FILES
    assert not (tmp_path / "tensorboard").exists() and not (tmp_path / "log.csv").exists()
    assert (tmp_path / "notes.txt").read_text() == "mine"

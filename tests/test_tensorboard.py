"""TensorBoard events beside log.csv: the same values, the swap grid, and exact resumes."""

from __future__ import annotations

import csv

import pytest
from tiny_models import TinyStaged, registered

from vidis.train import tensorboard
from vidis.train.spec import make_spec
from vidis.train.trainer import Trainer


def spec(**train):
    return make_spec("tiny_staged", preset="smoke", overrides={"train": train})


def events(run_dir):
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    loaded = accumulator.EventAccumulator(
        str(run_dir / "tensorboard"), size_guidance={"scalars": 0, "images": 0}
    )
    loaded.Reload()
    return loaded


def log_rows(run_dir) -> dict[tuple[str, str], dict[int, float]]:
    rows: dict[tuple[str, str], dict[int, float]] = {}
    with open(run_dir / "log.csv") as f:
        for r in csv.DictReader(f):
            rows.setdefault((r["split"], r["metric"]), {})[int(r["step"])] = float(r["value"])
    return rows


def test_events_hold_the_logged_values_and_the_swap_grid(tmp_path):
    pytest.importorskip("tensorboard")
    with registered(tiny_staged=TinyStaged):
        Trainer(spec(), tmp_path, progress=False).fit()
    loaded = events(tmp_path)
    rows = log_rows(tmp_path)
    assert set(loaded.Tags()["scalars"]) == {f"{split}/{metric}" for split, metric in rows}
    for (split, metric), values in rows.items():
        got = {e.step: e.value for e in loaded.Scalars(f"{split}/{metric}")}
        assert got == pytest.approx(values, rel=1e-5), (split, metric)
    images = loaded.Images("val/swap_grid")
    # every validation: steps 2, 4, 6 (train.eval_every=2) and 3 (the end of the first stage)
    assert [image.step for image in images] == sorted(rows[("val", "loss")]) == [2, 3, 4, 6]
    # 5 x 5 cells of 32 x 32 (the clips, then their swaps) with 2-pixel borders, three frames
    # side by side with 2-pixel separators; the last stage's clips have 3 frames
    cell = 5 * 32 + 6 * 2
    assert (images[-1].height, images[-1].width) == (cell, 3 * cell + 2 * 2)


def test_a_resumed_run_hides_the_events_after_its_checkpoint(tmp_path):
    """Crash after step 5 was logged (checkpoint at 4), resume: each step's value once, the new one."""
    pytest.importorskip("tensorboard")
    with registered(tiny_staged=TinyStaged):
        TinyStaged.crash_at = 5
        try:
            with pytest.raises(RuntimeError, match="simulated crash"):
                Trainer(spec(), tmp_path, progress=False).fit()
        finally:
            TinyStaged.crash_at = None
        assert 5 in {e.step for e in events(tmp_path).Scalars("train/recon")}
        Trainer(spec(), tmp_path, resume=True, progress=False).fit()
    got = [(e.step, e.value) for e in events(tmp_path).Scalars("train/recon")]
    assert [step for step, _ in got] == [1, 2, 3, 4, 5, 6]
    assert dict(got) == pytest.approx(log_rows(tmp_path)[("train", "recon")], rel=1e-5)


def test_off_or_not_installed_writes_no_events(tmp_path, monkeypatch, capsys):
    with registered(tiny_staged=TinyStaged):
        Trainer(spec(tensorboard=False), tmp_path / "off", progress=False).fit()
        monkeypatch.setattr(tensorboard, "summary_writer_class", lambda: None)
        Trainer(spec(), tmp_path / "missing", progress=False).fit()
    assert not (tmp_path / "off" / "tensorboard").exists()
    assert not (tmp_path / "missing" / "tensorboard").exists()
    assert (
        "the tensorboard package is not installed (pip install 'vidis[tensorboard]')"
        in capsys.readouterr().out
    )
    assert (tmp_path / "missing" / "log.csv").is_file()

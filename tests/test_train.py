import csv
import os
import signal
import time

import pytest
import torch
from test_cli_runs import signal_at  # the tests folder is on sys.path

import vidis
from vidis.errors import ConfigError, Interrupted, TrainingDiverged
from vidis.models.frame_vae import FrameVAE
from vidis.papers.runs import train_spec
from vidis.train.checkpoint import read_checkpoint
from vidis.train.spec import make_spec
from vidis.train.trainer import StepBatchSampler, Trainer


def smoke_spec(**train):
    return make_spec("frame_vae", preset="smoke", overrides={"train": train})


def train_losses(run_dir):
    with open(run_dir / "log.csv") as f:
        return {
            (int(r["step"]), r["metric"]): float(r["value"])
            for r in csv.DictReader(f)
            if r["split"] == "train" and r["metric"] in ("loss", "recon", "kl")
        }


def test_resume_is_exact(tmp_path):
    whole = tmp_path / "whole"
    Trainer(smoke_spec(steps=6, eval_every=3), whole, progress=False).fit()

    parts = tmp_path / "parts"
    Trainer(smoke_spec(steps=3, eval_every=3), parts, progress=False).fit()
    spec = smoke_spec(steps=6, eval_every=3)
    resumed = Trainer(spec, parts, resume=True, progress=False)
    assert resumed.step == 3
    resumed.fit()

    assert train_losses(whole) == train_losses(parts)
    a = read_checkpoint(whole / "checkpoints" / "last.pt")["model"]
    b = read_checkpoint(parts / "checkpoints" / "last.pt")["model"]
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_resume_after_a_signal_is_exact(tmp_path, monkeypatch):
    """SIGTERM during step 2 (0-based): the trainer finishes it, saves step 3 (not a checkpoint
    step) and raises KeyboardInterrupt; resumed to 6 steps, the weights equal an uninterrupted run's."""
    whole = tmp_path / "whole"
    Trainer(smoke_spec(steps=6, eval_every=4), whole, progress=False).fit()

    signal_at(monkeypatch, 2, signal.SIGTERM)
    parts = tmp_path / "parts"
    trainer = Trainer(smoke_spec(steps=6, eval_every=4), parts, progress=False)
    with pytest.raises(KeyboardInterrupt, match="SIGTERM at step 3"):
        trainer.fit()
    assert trainer.last_checkpoint_step == 3
    monkeypatch.undo()
    resumed = Trainer(smoke_spec(steps=6, eval_every=4), parts, resume=True, progress=False)
    assert resumed.step == 3
    resumed.fit()

    a = read_checkpoint(whole / "checkpoints" / "last.pt")["model"]
    b = read_checkpoint(parts / "checkpoints" / "last.pt")["model"]
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_a_reproduction_stopped_by_a_signal_says_the_same_command_resumes(tmp_path, monkeypatch, capsys):
    signal_at(monkeypatch, 1, signal.SIGINT)
    run = tmp_path / "frame_vae"
    with pytest.raises(Interrupted) as stopped:
        train_spec(smoke_spec(steps=6, eval_every=4), run, progress=False)
    last = run / "checkpoints" / "last.pt"
    assert str(stopped.value) == f"stopped at step 2 and saved ({last}); the same command resumes {run}"
    monkeypatch.undo()
    train_spec(smoke_spec(steps=6, eval_every=4), run, progress=False)
    assert "resuming" in capsys.readouterr().out and read_checkpoint(last)["step"] == 6


def test_loader_workers_outlive_a_ctrl_c(tmp_path):
    """A terminal's Ctrl-C also reaches the loader workers; they must keep serving batches while
    the trainer finishes its step (several processes agree on a stop only at the next log point)."""
    trainer = Trainer(smoke_spec(steps=40, num_workers=1), tmp_path, progress=False)
    try:
        batches = iter(trainer.loader())
        next(batches)
        for worker in batches._workers:  # torch's own worker processes
            os.kill(worker.pid, signal.SIGINT)
        time.sleep(1.0)
        assert sum(1 for _ in batches) == 39  # more than the 4 batches prefetched
    finally:
        trainer.close()


def test_checkpoint_loads_with_weights_only_and_gives_eval_model(tmp_path):
    Trainer(smoke_spec(steps=2, eval_every=2), tmp_path, progress=False).fit()
    state = torch.load(tmp_path / "checkpoints" / "last.pt", weights_only=True)
    assert state["step"] == 2 and state["vidis_version"] == vidis.__version__
    model = vidis.load_model(tmp_path)
    assert not model.training and isinstance(model, FrameVAE)
    assert not list((tmp_path / "checkpoints").glob("*.tmp"))  # atomic: no temp left behind


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    original = FrameVAE.loss

    def poisoned(self, batch, step):
        out = original(self, batch, step)
        if step >= 4 and self.training:  # steps are 0-based: the 5th step's loss is NaN
            out.loss = out.loss * float("nan")
        return out

    monkeypatch.setattr(FrameVAE, "loss", poisoned)
    trainer = Trainer(smoke_spec(steps=10, eval_every=2, log_every=1), tmp_path, progress=False)
    with pytest.raises(TrainingDiverged, match=r"nan.*step 4\)"):
        trainer.fit()
    state = read_checkpoint(tmp_path / "checkpoints" / "last.pt")
    assert state["step"] == 4
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())


def test_step_sampler_is_deterministic_and_resumable():
    full = list(StepBatchSampler(0, 6, 4, length=10, seed=1))
    tail = list(StepBatchSampler(3, 6, 4, length=10, seed=1))
    assert full[3:] == tail
    flat = sum(full, [])
    assert sorted(flat[:10]) == list(range(10))  # each epoch is a permutation of the fixed set
    assert sorted(flat[10:20]) == list(range(10)) and flat[10:20] != flat[:10]
    assert list(StepBatchSampler(2, 3, 4, length=None, seed=0)) == [[8, 9, 10, 11]]


def test_bad_train_settings_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="train.steps"):
        Trainer(smoke_spec(steps=0), tmp_path, progress=False)
    with pytest.raises(ConfigError, match="amp"):
        Trainer(smoke_spec(amp="fp8"), tmp_path, progress=False)
    with pytest.raises(ConfigError, match="unknown key 'train.stepz'"):
        make_spec("frame_vae", preset="smoke", overrides={"train": {"stepz": "3"}})
    with pytest.raises(ConfigError, match="no preset"):
        make_spec("frame_vae", preset="huge")


def test_time_limit_stops_with_a_checkpoint(tmp_path):
    trainer = Trainer(smoke_spec(steps=50, eval_every=25, max_minutes=1e-9), tmp_path, progress=False)
    trainer.fit()
    state = read_checkpoint(tmp_path / "checkpoints" / "last.pt")
    assert state["step"] == 1 and state["time_limited"]
    unlimited = tmp_path / "unlimited"
    Trainer(smoke_spec(steps=2, eval_every=2), unlimited, progress=False).fit()
    assert not read_checkpoint(unlimited / "checkpoints" / "last.pt")["time_limited"]


def test_progress_bars_redraw_rarely_in_a_log_file(monkeypatch):
    import io

    from vidis.train.trainer import progress_options

    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert progress_options()["mininterval"] >= 30


def test_lr_schedules(tmp_path):
    from vidis.train.optim import make_scheduler

    param = torch.nn.Parameter(torch.zeros(1))
    adam = torch.optim.Adam([param], lr=1.0)
    cosine = make_scheduler(adam, smoke_spec(steps=4, lr_schedule="cosine").train)
    lrs = []
    for _ in range(4):
        adam.step()
        cosine.step()
        lrs.append(adam.param_groups[0]["lr"])
    assert lrs == pytest.approx([0.8535534, 0.5, 0.1464466, 0.0], abs=1e-6)  # (1 + cos(pi s / 4)) / 2
    assert make_scheduler(adam, smoke_spec().train) is None
    with pytest.raises(ConfigError, match="lr_schedule must be one of constant, cosine"):
        make_scheduler(adam, smoke_spec(lr_schedule="step").train)

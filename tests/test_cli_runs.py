"""Run folders through the CLI: --overwrite clears what the run owns, Ctrl-C says how to resume
(a real SIGINT/SIGTERM saves first), metrics.json sections carry the step and checkpoint they
were measured at."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from vidis.cli import main
from vidis.eval.protocols import update_metrics
from vidis.models.frame_vae import FrameVAE

SMOKE = ["--model", "frame_vae", "--preset", "smoke", "--no-progress"]


def train(run, *sets):
    args = ["train", *SMOKE, "--out", str(run)]
    for item in sets:
        args += ["--set", item]
    return main(args)


def interrupt_at(monkeypatch, step: int):
    """Make frame_vae's training step raise KeyboardInterrupt (Ctrl-C) at `step`."""
    original = FrameVAE.train_step

    def train_step(self, batch, current, optimizers, config):
        if current == step:
            raise KeyboardInterrupt
        return original(self, batch, current, optimizers, config)

    monkeypatch.setattr(FrameVAE, "train_step", train_step)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run = tmp_path_factory.mktemp("trained") / "run"
    assert train(run, "train.steps=2") == 0
    return run


def test_overwrite_removes_what_the_old_run_owned(tmp_path, capsys, monkeypatch):
    run = tmp_path / "run"
    assert train(run, "train.steps=2") == 0
    (run / "metrics.json").write_text(json.dumps({"test": {"mse": 0.5, "step": 2, "checkpoint": "last"}}))
    (run / "figures").mkdir(exist_ok=True)
    (run / "figures" / "swap.gif").write_bytes(b"GIF89a")
    (run / "report.html").write_text("<html>old</html>")
    (run / "checkpoints" / "best.pt").write_bytes((run / "checkpoints" / "last.pt").read_bytes())
    (run / "notes.txt").write_text("the user's own file")
    # a bad configuration is refused before anything is removed
    assert main(["train", *SMOKE, "--out", str(run), "--overwrite", "--set", "train.lr=-1"]) == 2
    assert (run / "checkpoints" / "last.pt").exists() and (run / "metrics.json").exists()
    # the new run stops (Ctrl-C) before its first checkpoint: nothing of the old run is left
    interrupt_at(monkeypatch, 0)
    assert main(["train", *SMOKE, "--out", str(run), "--overwrite"]) == 130
    err = capsys.readouterr().err
    assert "interrupted at step 0 before the first checkpoint" in err
    for name in (
        "checkpoints/last.pt",
        "checkpoints/best.pt",
        "metrics.json",
        "figures/swap.gif",
        "report.html",
    ):
        assert not (run / name).exists(), name
    assert (run / "notes.txt").read_text() == "the user's own file"
    assert json.loads((run / "config.json").read_text())["train"]["steps"] == 4  # the new run's config
    assert main(["eval", str(run), "--device", "cpu"]) == 2
    assert "has no checkpoint yet" in capsys.readouterr().err


def test_ctrl_c_names_the_last_saved_step_and_the_resume_command(tmp_path, capsys, monkeypatch):
    run = tmp_path / "run"
    interrupt_at(monkeypatch, 3)  # smoke: a checkpoint every 2 steps, 4 steps
    assert train(run) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"vidis: error: interrupted at step 3; last saved step 2 ({run / 'checkpoints' / 'last.pt'}); "
        f"resume with: vidis train --resume {run}"
    ]
    monkeypatch.undo()
    assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    assert "resuming from step 2 of 4" in capsys.readouterr().out
    assert torch.load(run / "checkpoints" / "last.pt", weights_only=True)["step"] == 4


def signal_at(monkeypatch, step: int, kind: signal.Signals):
    """Send this process the signal `kind` during frame_vae's training step `step` (0-based)."""
    original = FrameVAE.train_step

    def train_step(self, batch, current, optimizers, config):
        if current == step:
            os.kill(os.getpid(), kind)
        return original(self, batch, current, optimizers, config)

    monkeypatch.setattr(FrameVAE, "train_step", train_step)


@pytest.mark.parametrize("kind", [signal.SIGINT, signal.SIGTERM], ids=lambda kind: kind.name)
def test_a_signal_saves_the_step_it_stopped_at(tmp_path, capsys, monkeypatch, kind):
    run = tmp_path / "run"
    before = signal.getsignal(kind)
    signal_at(monkeypatch, 2, kind)  # smoke: a checkpoint every 2 steps; the 3rd step is not one
    assert train(run) == 130
    captured = capsys.readouterr()
    assert f"{kind.name}: stopping after the current step" in captured.err
    assert captured.err.strip().splitlines()[-1] == (
        f"vidis: error: stopped at step 3 and saved ({run / 'checkpoints' / 'last.pt'}); "
        f"resume with: vidis train --resume {run}"
    )
    assert signal.getsignal(kind) is before  # the trainer's handler is gone again
    assert torch.load(run / "checkpoints" / "last.pt", weights_only=True)["step"] == 3
    monkeypatch.undo()
    assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    assert "resuming from step 3 of 4" in capsys.readouterr().out


def test_ctrl_c_to_the_process_group_with_loader_workers(tmp_path):
    """A terminal's Ctrl-C reaches the trainer and its loader workers: the workers ignore it, the
    trainer saves the step it reached and exits 130."""
    run = tmp_path / "run"
    args = [*SMOKE, "--out", str(run), "--set", "train.steps=100000", "--set", "train.eval_every=100000"]
    args += ["--set", "train.num_workers=1", "--set", "train.log_every=1", "--set", "train.tensorboard=false"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    child = subprocess.Popen(
        [sys.executable, "-m", "vidis", "train", *args],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        deadline = time.monotonic() + 120
        while not (run / "log.csv").exists() or "train" not in (run / "log.csv").read_text():
            assert child.poll() is None and time.monotonic() < deadline, "training did not start"
            time.sleep(0.2)
        os.killpg(child.pid, signal.SIGINT)
        _, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
    assert child.returncode == 130, err
    assert "stopped at step" in err and "and saved" in err and "exited unexpectedly" not in err, err
    step = torch.load(run / "checkpoints" / "last.pt", weights_only=True)["step"]
    assert f"stopped at step {step} and saved" in err


def test_metrics_sections_carry_step_and_checkpoint(tmp_path):
    path = tmp_path / "metrics.json"
    metrics, dropped = update_metrics(path, {"test": {"mse": 0.1}, "judge": {"acc": 0.5}}, 10, "last")
    assert metrics["test"] == {"mse": 0.1, "step": 10, "checkpoint": "last"} and dropped == []
    # same step and checkpoint: sections not recomputed are kept
    metrics, dropped = update_metrics(path, {"test": {"mse": 0.2}}, 10, "last", parameters=7)
    assert metrics["judge"]["acc"] == 0.5 and metrics["test"]["mse"] == 0.2 and dropped == []
    assert metrics["parameters"] == 7 and metrics["step"] == 10
    # a later step (or another checkpoint) drops them
    metrics, dropped = update_metrics(path, {"test": {"mse": 0.3}}, 12, "last")
    assert "judge" not in metrics and dropped == ["judge"]
    metrics, dropped = update_metrics(path, {"probes": {"x": 1.0}}, 12, "best")
    assert set(metrics) == {"probes", "step", "checkpoint"} and dropped == ["test"]
    assert json.loads(path.read_text()) == metrics
    # a metrics.json from before sections had steps: its sections are dropped
    path.write_text(json.dumps({"test": {"mse": 1.0}, "judge": {"acc": 0.1}, "step": 5}))
    metrics, dropped = update_metrics(path, {}, 5, "last")
    assert sorted(dropped) == ["judge", "test"]


def test_eval_checkpoint_best(tmp_path, trained):
    run = shutil.copytree(trained, tmp_path / "run")
    last = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    last["step"] = 1  # a best.pt from an earlier validation
    torch.save(last, run / "checkpoints" / "best.pt")
    args = ["eval", str(run), "--num-clips", "4", "--device", "cpu", "--protocol", "reconstruction"]
    assert main([*args, "--checkpoint", "best"]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["step"] == 1 and metrics["test"]["checkpoint"] == "best"
    assert main(args) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["checkpoint"] == "last" and metrics["checkpoint"] == "last"


def test_interpolate_factor_defaults_to_content(tmp_path, trained):
    run = shutil.copytree(trained, tmp_path / "run")
    assert main(["interpolate", str(run), "--num", "1", "--steps", "2", "--device", "cpu"]) == 0
    assert (run / "figures" / "interpolate_content.gif").exists()
    assert not (run / "figures" / "interpolate_motion.gif").exists()

"""Training on several processes (gloo on CPU) against one process with the same global batch.

The test models are the tiny models of `tiny_models.py` with the encoder's BatchNorm replaced
by an identity: per-process batch statistics differ from the one-process batch's, and
SyncBatchNorm does not run on CPU, so a model with BatchNorm is close to, not equal to, the
one-process run. The input noise is 0, so both runs compute the same losses.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from tiny_models import TinyAutoencoder, TinyStaged, TinyTwoOptimizer, registered
from torch import nn

from vidis.errors import ConfigError
from vidis.train import distributed
from vidis.train.checkpoint import read_checkpoint
from vidis.train.spec import make_spec
from vidis.train.trainer import StepBatchSampler, Trainer

STEPS = 6


def without_batchnorm(cls):
    class NoBatchNorm(cls):
        def __init__(self, config, video_shape):
            super().__init__(config, video_shape)
            self.encoder[1] = nn.Identity()

    NoBatchNorm.__name__ = f"{cls.__name__}NoBatchNorm"
    return NoBatchNorm


MODELS = {
    "ddp_single": without_batchnorm(TinyAutoencoder),  # one optimiser (the base train_step)
    "ddp_two": without_batchnorm(TinyTwoOptimizer),  # its own train_step, two optimisers
    "ddp_staged": without_batchnorm(TinyStaged),  # two stages, the second with batch 2
}


def spec(model: str, noise: float = 0.0, **train):
    train = {"tensorboard": False, "steps": STEPS, **train}
    return make_spec(model, preset="smoke", overrides={"model": {"noise": noise}, "train": train})


def run(model: str, run_dir: Path, resume_at: int | None = None, noise: float = 0.0) -> Trainer:
    """Train `model` for STEPS steps in `run_dir` (stopping at `resume_at` and resuming)."""
    if resume_at is not None:
        Trainer(spec(model, noise, steps=resume_at), run_dir, progress=False).fit()
        trainer = Trainer(spec(model, noise), run_dir, resume=True, progress=False)
    else:
        trainer = Trainer(spec(model, noise), run_dir, progress=False)
    trainer.fit()
    return trainer


def worker(rank: int, world: int, init_file: str, root: str):
    """One process of a gloo group: every model's run, and a resumed run with input noise."""
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        with registered(**MODELS):
            for name in MODELS:
                trainer = run(name, Path(root) / name)
                torch.save(trainer.model.state_dict(), Path(root) / f"{name}.rank{rank}.pt")
            for name, resume_at in (("noisy", None), ("noisy_resumed", 4)):
                trainer = run("ddp_two", Path(root) / name, resume_at=resume_at, noise=0.05)
                torch.save(trainer.model.state_dict(), Path(root) / f"{name}.rank{rank}.pt")
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    root = tmp_path_factory.mktemp("ddp")
    mp.spawn(worker, args=(2, str(root / "init"), str(root)), nprocs=2, join=True)
    return root


@pytest.mark.parametrize("name", list(MODELS))
def test_two_processes_reach_the_parameters_of_one(two_processes, tmp_path, name):
    with registered(**MODELS):
        trainer = Trainer(spec(name), tmp_path / name, progress=False)
        initial = {k: v.clone() for k, v in trainer.model.state_dict().items()}
        trainer.fit()
    single = trainer.model.state_dict()
    assert any(not torch.equal(initial[k], single[k]) for k in single)  # it trained
    rank0 = torch.load(two_processes / f"{name}.rank0.pt", weights_only=True)
    rank1 = torch.load(two_processes / f"{name}.rank1.pt", weights_only=True)
    saved = read_checkpoint(two_processes / name / "checkpoints" / "last.pt")
    assert saved["step"] == STEPS
    for key, value in single.items():
        assert torch.equal(rank0[key], rank1[key]), key  # both processes apply the same updates
        assert torch.allclose(rank0[key], value, rtol=1e-4, atol=1e-6), (
            key,
            (rank0[key] - value).abs().max(),
        )
        assert torch.equal(saved["model"][key], rank0[key])  # rank 0 wrote the checkpoint


def test_rank0_alone_writes_one_log(two_processes):
    with open(two_processes / "ddp_two" / "log.csv") as f:
        rows = [(r["step"], r["split"], r["metric"]) for r in csv.DictReader(f)]
    assert len(rows) == len(set(rows)) and ("6", "val", "distance_from_step_4") in rows
    assert sorted({int(step) for step, split, _ in rows if split == "train"}) == list(range(1, STEPS + 1))


def test_resume_with_two_processes_is_exact(two_processes):
    """With input noise (each process its own random stream), 4 steps + resume = 6 steps."""
    for rank in (0, 1):
        straight = torch.load(two_processes / f"noisy.rank{rank}.pt", weights_only=True)
        resumed = torch.load(two_processes / f"noisy_resumed.rank{rank}.pt", weights_only=True)
        assert all(torch.equal(straight[k], resumed[k]) for k in straight)
    state = read_checkpoint(two_processes / "noisy_resumed" / "checkpoints" / "last.pt")
    assert len(state["rng_ranks"]) == 2 and not torch.equal(
        state["rng_ranks"][0]["torch"], state["rng_ranks"][1]["torch"]
    )


def test_each_process_takes_its_slice_of_the_global_batch(monkeypatch):
    sampler = StepBatchSampler(0, 3, 4, length=10, seed=0)
    whole = [sampler.indices(step) for step in range(3)]
    for rank in (0, 1):
        monkeypatch.setattr(distributed, "world_size", lambda: 2)
        monkeypatch.setattr(distributed, "rank", lambda rank=rank: rank)
        assert list(sampler) == [batch[2 * rank : 2 * rank + 2] for batch in whole]
    monkeypatch.setattr(distributed, "world_size", lambda: 3)
    with pytest.raises(
        ConfigError, match=r"train.batch_size=4 must be divisible by the number of processes \(3\)"
    ):
        distributed.check_batch_size(4)


@pytest.mark.slow
def test_torchrun_command_line_trains_and_resumes(tmp_path):
    """The documented command: `torchrun --standalone --nproc_per_node 2 -m vidis train ...`."""
    out = tmp_path / "run"
    base = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "vidis",
    ]
    train = ["--set", "train.device=cpu", "--no-progress"]
    first = subprocess.run(
        [*base, "train", "--model", "frame_vae", "--preset", "smoke", "--out", str(out), *train],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("training frame_vae") == 1 and "x 2 processes" in first.stdout
    second = subprocess.run(
        [*base, "train", "--resume", str(out), "--set", "train.steps=6", *train],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert second.returncode == 0, second.stderr
    assert second.stdout.count("resuming from step 4 of 6") == 1
    assert read_checkpoint(out / "checkpoints" / "last.pt")["step"] == 6

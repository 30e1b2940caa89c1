"""Atomic checkpoints that resume exactly, loaded with `weights_only=True`.

A checkpoint is a plain dict: model and optimiser state dicts, the run spec (JSON types),
the number of completed steps, the torch RNG states and the vidis version. It is written to
a temporary file in the same folder, flushed to disk, then renamed over the old one, so a
crash mid-write never leaves a broken `last.pt`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import torch

from .. import __version__
from ..errors import ConfigError
from .spec import RunSpec, build_model


def atomic_save(obj, path: Path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def rng_state() -> dict:
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict):
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(
    path: Path,
    model,
    optimizers: dict,
    spec: RunSpec,
    step: int,
    time_limited: bool = False,
    extra: dict | None = None,
):
    """Write a checkpoint atomically.

    optimizers: {name: torch.optim.Optimizer | vidis.train.optim.Optim}; an Optim's scheduler
    is saved under "schedulers". extra: more JSON-like entries (the trainer's stage and
    best-validation record).
    """
    optimizer_states, scheduler_states = {}, {}
    for name, opt in optimizers.items():
        optimizer = getattr(opt, "optimizer", opt)
        optimizer_states[name] = optimizer.state_dict()
        scheduler = getattr(opt, "scheduler", None)
        if scheduler is not None:
            scheduler_states[name] = scheduler.state_dict()
    atomic_save(
        {
            "model": model.state_dict(),
            "optimizers": optimizer_states,
            "schedulers": scheduler_states,
            "spec": spec.to_dict(),
            "step": step,
            "video_shape": list(model.video_shape),
            "time_limited": time_limited,  # stopped by train.max_minutes before train.steps
            "rng": rng_state(),
            "vidis_version": __version__,
            **(extra or {}),
        },
        path,
    )


def read_checkpoint(path: Path, device="cpu") -> dict:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"no checkpoint at {path}")
    return torch.load(path, map_location=device, weights_only=True)


def checkpoint_path(run_dir, checkpoint: str = "last") -> Path:
    return Path(run_dir) / "checkpoints" / f"{checkpoint}.pt"


def load_model(run_dir, checkpoint: str = "last", device: str = "cpu"):
    """The trained model of `run_dir`, in eval mode, on `device`."""
    run_dir = Path(run_dir)
    spec = RunSpec.load(run_dir)
    state = read_checkpoint(checkpoint_path(run_dir, checkpoint), device)
    model = build_model(spec, tuple(state["video_shape"])).to(device)
    model.load_state_dict(state["model"])
    model.step = state["step"]
    return model.eval()


def copy_checkpoint(source: Path, target: Path):
    """Copy a checkpoint file atomically (temporary file in the target's folder, then rename)."""
    source, target = Path(source), Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f, open(source, "rb") as src:
            shutil.copyfileobj(src, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise

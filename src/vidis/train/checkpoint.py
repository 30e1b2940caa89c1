"""Atomic checkpoints that resume exactly, loaded with `weights_only=True`.

A checkpoint is a plain dict: model and optimiser state dicts, the run spec (JSON types),
the number of completed steps, the torch RNG states and the vidis version. It is written to
a temporary file in the same folder, flushed to disk, then renamed over the old one, so a
crash mid-write never leaves a broken `last.pt`.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path

import torch

from .. import __version__
from ..errors import CheckpointError, ConfigError
from .spec import RunSpec, build_model, check_run_dir


@contextmanager
def atomic_write(path: Path):
    """Yield a binary file in `path`'s folder that replaces `path` only once fully written and
    flushed to disk (temporary file, fsync, rename); on any error the temporary file is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_save(obj, path: Path):
    with atomic_write(path) as f:
        torch.save(obj, f)


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


CHECKPOINTS = ("last", "best")


def read_checkpoint(path: Path, device="cpu") -> dict:
    """The checkpoint dict at `path`, or CheckpointError: missing, damaged or not a vidis checkpoint."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about pickle protocols before refusing
            state = torch.load(path, map_location=device, weights_only=True)
    except Exception:  # noqa: BLE001  (torch raises RuntimeError, EOFError, UnpicklingError, ...)
        raise CheckpointError(
            f"{path} is not a vidis checkpoint or is damaged (truncated, not a torch file, or holding "
            "Python objects other than tensors, which vidis never loads); retrain or resume the run"
        ) from None
    missing = [k for k in ("model", "step", "video_shape") if not isinstance(state, dict) or k not in state]
    if missing:
        raise CheckpointError(f"{path} is not a vidis checkpoint (it lacks {', '.join(missing)})")
    return state


def checkpoint_path(run_dir, checkpoint: str = "last") -> Path:
    """RUN/checkpoints/{last,best}.pt, or RUN/checkpoints/stepN.pt (kept with train.keep_every)."""
    if checkpoint not in CHECKPOINTS and not re.fullmatch(r"step\d+", checkpoint):
        raise ConfigError(f"checkpoint must be one of {', '.join(CHECKPOINTS)} or stepN, got {checkpoint!r}")
    return Path(run_dir) / "checkpoints" / f"{checkpoint}.pt"


def kept_checkpoints(run_dir) -> list[tuple[int, str]]:
    """[(step, "stepN")] of the checkpoints a run kept at its validations (train.keep_every), in order."""
    found = []
    for path in (Path(run_dir) / "checkpoints").glob("step*.pt"):
        match = re.fullmatch(r"step(\d+)", path.stem)
        if match:
            found.append((int(match.group(1)), path.stem))
    return sorted(found)


def load_model(run_dir, checkpoint: str = "last", device: str = "cpu"):
    """The trained model of `run_dir` at checkpoint "last", "best" or "stepN", in eval mode, on `device`."""
    run_dir = check_run_dir(run_dir)
    spec = RunSpec.load(run_dir)
    path = checkpoint_path(run_dir, checkpoint)
    if not path.is_file():
        if checkpoint == "best":
            raise CheckpointError(
                f"{run_dir} has no checkpoints/best.pt (only runs trained with train.keep_best=true "
                "keep one); use the last checkpoint"
            )
        raise CheckpointError(
            f"{run_dir} has no checkpoint yet ({path}); train it again with --overwrite or resume it"
        )
    state = read_checkpoint(path, device)
    model = build_model(spec, tuple(state["video_shape"])).to(device)
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, TypeError, AttributeError) as err:
        first = str(err).strip().splitlines()[1:2] or [str(err)]
        raise CheckpointError(
            f"{path} does not fit the model that {run_dir / 'config.json'} describes: {first[0].strip()}"
        ) from None
    model.step = state["step"]
    return model.eval()


def copy_checkpoint(source: Path, target: Path):
    """Copy a checkpoint file atomically (temporary file in the target's folder, then rename)."""
    with atomic_write(target) as f, open(source, "rb") as src:
        shutil.copyfileobj(src, f)

"""The step-based trainer. It knows only the model protocol, never a concrete model.

A run folder holds `config.json`, `log.csv` (long format: step, split, metric, value),
`checkpoints/last.pt` (written atomically at every evaluation and at the end) and whatever
evaluation writes later. Resuming restores model, optimisers, step and RNG state, and the
data of step s are a pure function of (seed, s), so a resumed run on CPU gives the same
losses as an uninterrupted one.

A NaN or infinite loss stops training with `TrainingDiverged` at the next log point
(every `log_every` steps); no checkpoint is written after it, so `last.pt` stays the last
good one. Between log points the step does no host synchronisation.
"""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Sampler
from tqdm.auto import tqdm

from ..config import TrainConfig, to_dict
from ..data import collate, eval_dataset, make_dataset
from ..errors import ConfigError, TrainingDiverged
from .checkpoint import checkpoint_path, read_checkpoint, save_checkpoint, set_rng_state
from .spec import RunSpec, build_model


class StepBatchSampler(Sampler):
    """Yields the dataset indices of steps start..stop-1, deterministic in (seed, step).

    Infinite datasets get fresh indices s*B .. s*B+B-1; a finite one is walked in a fresh
    permutation per epoch.
    """

    def __init__(self, start: int, stop: int, batch_size: int, length: int | None, seed: int):
        self.start, self.stop, self.batch_size, self.length, self.seed = start, stop, batch_size, length, seed

    def __len__(self):
        return max(0, self.stop - self.start)

    def indices(self, step: int) -> list[int]:
        flat = np.arange(step * self.batch_size, (step + 1) * self.batch_size)
        if self.length is None:
            return flat.tolist()
        epochs, positions = np.divmod(flat, self.length)
        out = [
            int(np.random.default_rng([self.seed, int(e), 7]).permutation(self.length)[p])
            for e, p in zip(epochs, positions)
        ]
        return out

    def __iter__(self):
        for step in range(self.start, self.stop):
            yield self.indices(step)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("train.device=cuda but no CUDA device is available")
    if name not in ("cpu", "cuda"):
        raise ConfigError(f"train.device must be auto, cpu or cuda, got {name!r}")
    return torch.device(name)


def to_device(batch: dict, device: torch.device) -> dict:
    return {
        "video": batch["video"].to(device, non_blocking=True),
        "factors": {k: v.to(device, non_blocking=True) for k, v in batch["factors"].items()},
    }


class Trainer:
    def __init__(self, spec: RunSpec, run_dir, resume: bool = False, progress: bool = True):
        self.spec, self.run_dir, self.progress = spec, Path(run_dir), progress
        train: TrainConfig = spec.train
        if train.amp not in ("none", "bf16"):
            raise ConfigError(f"train.amp must be none or bf16, got {train.amp!r}")
        for key in ("steps", "batch_size", "eval_every", "log_every", "eval_batches"):
            if getattr(train, key) < 1:
                raise ConfigError(f"train.{key} must be >= 1, got {getattr(train, key)}")
        self.device = pick_device(train.device)
        options = to_dict(spec.data_config)
        self.train_data = make_dataset(spec.data, "train", seed=train.seed, **options)
        self.val_data = eval_dataset(spec.data, "val", **options)
        torch.manual_seed(train.seed)
        self.model = build_model(spec, self.train_data.video_shape).to(self.device)
        self.optimizers = self.model.configure_optimizers(train)
        self.step = 0
        self.log_path = self.run_dir / "log.csv"
        self.last_checkpoint_step = None
        if resume:
            state = read_checkpoint(checkpoint_path(self.run_dir), self.device)
            self.model.load_state_dict(state["model"])
            for name, opt in self.optimizers.items():
                opt.load_state_dict(state["optimizers"][name])
            self.step = self.last_checkpoint_step = state["step"]
            set_rng_state(state["rng"])
            self._truncate_log(self.step)
        else:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            spec.save(self.run_dir / "config.json")
            with open(self.log_path, "w", newline="") as f:
                csv.writer(f).writerow(["step", "split", "metric", "value"])

    # -- logging ----------------------------------------------------------------------------
    def _truncate_log(self, step: int):
        if not self.log_path.exists():
            with open(self.log_path, "w", newline="") as f:
                csv.writer(f).writerow(["step", "split", "metric", "value"])
            return
        with open(self.log_path, newline="") as f:
            rows = list(csv.reader(f))
        keep = [rows[0]] + [r for r in rows[1:] if int(r[0]) <= step]
        with open(self.log_path, "w", newline="") as f:
            csv.writer(f).writerows(keep)

    def _log(self, split: str, values: dict[str, float]):
        with open(self.log_path, "a", newline="") as f:
            writer = csv.writer(f)
            for name, value in values.items():
                writer.writerow([self.step, split, name, f"{value:.6g}"])

    # -- the loop ---------------------------------------------------------------------------
    def loader(self) -> DataLoader:
        train = self.spec.train
        length = None if getattr(self.train_data, "infinite", False) else len(self.train_data)
        sampler = StepBatchSampler(self.step, train.steps, train.batch_size, length, train.seed)
        return DataLoader(
            self.train_data,
            batch_sampler=sampler,
            num_workers=train.num_workers,
            collate_fn=collate,
            pin_memory=self.device.type == "cuda",
            # its own generator: iterating a DataLoader draws a seed, which must not shift the
            # global RNG stream that the model's sampling uses (resume would not be exact)
            generator=torch.Generator().manual_seed(train.seed),
        )

    def fit(self) -> dict[str, float]:
        train = self.spec.train
        if self.step >= train.steps:
            return {}
        self.model.train()
        sums: dict[str, torch.Tensor] = {}
        count, started = 0, time.perf_counter()
        # train.max_minutes: stop at the first step past the deadline, validated and checkpointed
        deadline = started + 60 * train.max_minutes if train.max_minutes > 0 else None
        bar = tqdm(
            total=train.steps,
            initial=self.step,
            disable=not self.progress,
            desc=f"train {self.spec.model}",
            unit="step",
            dynamic_ncols=True,
        )
        last_val: dict[str, float] = {}
        for batch in self.loader():
            batch = to_device(batch, self.device)
            terms = self.model.train_step(batch, self.step, self.optimizers, train)
            for name, value in terms.items():
                value = torch.as_tensor(value, dtype=torch.float32).detach()
                sums[name] = sums[name] + value if name in sums else value.clone()
            count += 1
            self.step += 1
            bar.update(1)
            out_of_time = deadline is not None and time.perf_counter() > deadline
            done = self.step >= train.steps or out_of_time
            if self.step % train.log_every == 0 or self.step % train.eval_every == 0 or done:
                means = {name: float(total) / count for name, total in sums.items()}
                self._check_finite(means)
                means["clips_per_s"] = count * train.batch_size / (time.perf_counter() - started)
                self._log("train", means)
                bar.set_postfix({k: f"{v:.4g}" for k, v in means.items() if k in ("loss", "recon", "kl")})
                sums, count, started = {}, 0, time.perf_counter()
            if self.step % train.eval_every == 0 or done:
                last_val = self.validate()
                self._log("val", last_val)
                time_limited = out_of_time and self.step < train.steps
                save_checkpoint(
                    checkpoint_path(self.run_dir),
                    self.model,
                    self.optimizers,
                    self.spec,
                    self.step,
                    time_limited,
                )
                self.last_checkpoint_step = self.step
                self.model.train()
                if time_limited:
                    print(
                        f"stopped at step {self.step} of {train.steps}: train.max_minutes={train.max_minutes}"
                    )
                    break
        bar.close()
        return last_val

    def _check_finite(self, means: dict[str, float]):
        if not math.isfinite(means.get("loss", 0.0)):
            kept = (
                f"the last good checkpoint (step {self.last_checkpoint_step}) is kept at "
                f"{checkpoint_path(self.run_dir)}"
                if self.last_checkpoint_step is not None
                else "no checkpoint had been written yet"
            )
            raise TrainingDiverged(
                f"loss became {means['loss']} within the {self.spec.train.log_every} steps before "
                f"step {self.step}; {kept}. Try a lower train.lr or train.grad_clip=5."
            )

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Mean loss terms and reconstruction MSE on the first eval_batches of the val split."""
        from ..metrics import mse  # noqa: PLC0415

        train = self.spec.train
        self.model.eval()
        sums: dict[str, float] = {}
        n = min(len(self.val_data), train.eval_batches * train.batch_size)
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            for start in range(0, n, train.batch_size):
                batch = self.val_data.batch(range(start, min(n, start + train.batch_size)))
                batch = to_device(batch, self.device)
                out = self.model.loss(batch, self.step)
                terms = {"loss": out.loss, **out.terms}
                if "reconstruct" in self.model.capabilities:
                    recon = self.model.reconstruct(batch["video"])
                    terms["mse"] = mse(recon, batch["video"]).mean()
                weight = batch["video"].shape[0]
                for name, value in terms.items():
                    sums[name] = sums.get(name, 0.0) + float(value) * weight
        return {name: total / max(n, 1) for name, total in sums.items()}

"""The step-based trainer. It knows only the model protocol, never a concrete model.

A run folder holds `config.json`, `log.csv` (long format: step, split, metric, value),
`checkpoints/last.pt` (written atomically at every evaluation, at each stage's end and at the
end), `checkpoints/best.pt` with `train.keep_best` (the checkpoint of the lowest validation
`model.validation_metric`, "loss" by default), `checkpoints/stepN.pt` at every validation with
`train.keep_every`, `.lock` (one trainer per folder: a second process training the same folder
is refused while the first runs; `vidis.train.run_lock`), and whatever evaluation writes later.
Resuming restores model, optimisers, their schedulers, stage, step and RNG state, and the
data of step s are a pure function of (seed, s), so a resumed run on CPU gives the same
losses as an uninterrupted one. A resumed run writes its (possibly changed train.*) spec
to `config.json`.

Optimisers come from `model.configure_optimizers` (named; `Optim` with scheduler, see
`vidis.train.optim`) and go to `model.train_step`. A model that declares stages
(`model.stages(train)`, `vidis.types.Stage`) trains them in order: at each boundary the
trainer applies the stage (frozen modules, kept in eval mode), rebuilds the train and val
data for the stage's data view and batch size and the optimisers (with the stage's length as
`train.steps`, so a cosine schedule spans the stage), and logs the stage's index as the
`stage` metric of every train row; the progress bar shows its name. Train rows also give
each optimiser's learning rate for the next step (`lr` for "main", else `lr_<name>`). A checkpoint records its
stage; resuming enters the stage of the saved step.

Logged values are averaged over the steps that logged them (a term logged every k steps is
averaged over those steps). A NaN or infinite value of any term, train or val, stops training
with `TrainingDiverged` at the next log point (every `log_every` steps) naming the terms; no
checkpoint is written after it, so `last.pt` stays the last good one. Between log points the
step does no host synchronisation, and a log point fetches all terms at once. `clips_per_s`
is the training throughput of the window since the last log point (validation and
checkpointing excluded). Progress bars redraw at most every 30 s when stderr is not a
terminal (a log file). With `train.tensorboard` (and the package installed) the same values
and a swap grid at each validation go to `RUN/tensorboard/` (`vidis.train.tensorboard`).

Data (`vidis.train.batches`): the batch of step s is a pure function of (seed, s)
(`StepBatchSampler`). A dataset that overrides `VideoDataset.batch` (a vectorised generator) is
asked for each step's batch in one call (`StepBatches`), in a loader worker when
`train.num_workers > 0`; others are read item by item and collated.

Stopping: the first SIGINT (Ctrl-C) or SIGTERM during `fit` finishes the current step, validates,
writes `last.pt` at that step and raises `KeyboardInterrupt` (the CLI then names the saved step
and the resume command); a second one stops at once, as Python would. A resume from that
checkpoint is exact. Loader workers ignore both signals (they end with the trainer), so a
terminal's Ctrl-C, sent to the whole process group, reaches only the trainer. Several processes
agree on the stop at the next log point.

Several processes (`torchrun ... -m vidis train`, see `vidis.train.distributed`): every
process trains on its slice of each step's global batch; gradients are averaged in
`optimizer_step`; rank 0 alone writes; logged train values are averaged over processes and
validation runs on rank 0 (its values broadcast), so all processes take the same decisions.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import signal
import sys
import threading
import time
import weakref
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from ..config import TrainConfig, to_dict
from ..data import VideoDataset, collate, eval_dataset, make_dataset
from ..errors import ConfigError, Interrupted, TrainingDiverged
from ..types import Stage
from . import distributed
from .batches import StepBatches, StepBatchSampler, ignore_stop_signals, makes_batches
from .checkpoint import (
    checkpoint_path,
    copy_checkpoint,
    read_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from .optim import as_optim, check_lr_schedule
from .run_lock import acquire_run_lock, release_run_lock
from .spec import RunSpec, build_model
from .tensorboard import SWAP_CLIPS, TensorBoardLog


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


def progress_options() -> dict:
    """tqdm settings: a live bar on a terminal, a redraw at most every 30 s in a log file."""
    if sys.stderr.isatty():
        return {"dynamic_ncols": True}
    return {"mininterval": 30.0, "maxinterval": 60.0}


def check_stages(stages: list, model: str):
    for stage in stages:
        if not isinstance(stage, Stage):
            raise TypeError(f"{model}.stages() must return vidis.types.Stage items, got {stage!r}")
    names = [stage.name for stage in stages]
    if len(set(names)) != len(names):
        raise ConfigError(f"{model}: stage names must be unique, got {names}")
    if any(stage.steps is None for stage in stages[:-1]):
        raise ConfigError(f"{model}: only the last stage may have steps=None (run until train.steps)")


class Trainer:
    def __init__(self, spec: RunSpec, run_dir, resume: bool = False, progress: bool = True):
        self.spec, self.run_dir = spec, Path(run_dir)
        train: TrainConfig = spec.train
        if train.amp not in ("none", "bf16"):
            raise ConfigError(f"train.amp must be none or bf16, got {train.amp!r}")
        for key in ("steps", "batch_size", "eval_every", "log_every", "eval_batches"):
            if getattr(train, key) < 1:
                raise ConfigError(f"train.{key} must be >= 1, got {getattr(train, key)}")
        check_lr_schedule(train.lr_schedule)
        # several processes (torchrun): rank 0 writes, every process trains on its slice of a step
        self.main = distributed.is_main()
        self.progress = progress and self.main
        distributed.check_batch_size(train.batch_size)
        self.device = distributed.device_for(pick_device(train.device))
        self.data_options = to_dict(spec.data_config)
        self.train_data, self.val_data = distributed.main_first(lambda: self._datasets(self.data_options))
        torch.manual_seed(train.seed)
        self.model = build_model(spec, self.train_data.video_shape).to(self.device)
        distributed.broadcast_module(self.model)  # equal already (same seed): made sure
        if not self.main:
            torch.manual_seed(distributed.process_seed(train.seed))  # rank 0 keeps the run's stream
        self.stage_list: list[Stage] = list(self.model.stages(train))
        check_stages(self.stage_list, spec.model)
        for stage in self.stage_list:
            if stage.batch_size:
                distributed.check_batch_size(stage.batch_size, f"stage {stage.name!r} batch_size")
        self.stage_index: int | None = None
        self.batch_size = train.batch_size
        self.step = 0
        self.log_path = self.run_dir / "log.csv"
        self.last_checkpoint_step = None
        self.stop_signal: str | None = None  # "SIGINT" or "SIGTERM" once one asked `fit` to stop
        self.best: dict | None = None  # {"metric", "value", "step"} of checkpoints/best.pt
        self._seen_finite = resume  # a resumed run had finite logs before its checkpoint
        self._hold_run_folder()  # one trainer per run folder (`vidis.train.run_lock`)
        try:
            self._start(resume)
        except BaseException:
            self.close()
            raise

    def _hold_run_folder(self):
        lock = acquire_run_lock(self.run_dir) if self.main else None
        self._release = weakref.finalize(self, release_run_lock, lock)

    def close(self):
        """Release the run folder's lock (also done when `fit` returns or the trainer is collected)."""
        self._release()

    def _start(self, resume: bool):
        spec, train = self.spec, self.spec.train
        if resume:
            state = read_checkpoint(checkpoint_path(self.run_dir), self.device)
            self.model.load_state_dict(state["model"])
            self.step = self.last_checkpoint_step = state["step"]
            self.enter_stage(self.stage_at(self.step))
            if state.get("stage", 0) == self.stage_index:  # saved mid-stage: its optimisers go on
                schedulers = state.get("schedulers", {})
                for name, optim in self.all_optimizers.items():
                    optim.optimizer.load_state_dict(state["optimizers"][name])
                    if optim.scheduler is not None and name in schedulers:
                        optim.scheduler.load_state_dict(schedulers[name])
            self.best = state.get("best")
            self._restore_rng(state)
            if self.main:
                self._truncate_log(self.step)
                spec.save(self.run_dir / "config.json")
        else:
            self.enter_stage(0)
            if self.main:
                self.run_dir.mkdir(parents=True, exist_ok=True)
                spec.save(self.run_dir / "config.json")
                with open(self.log_path, "w", newline="") as f:
                    csv.writer(f).writerow(["step", "split", "metric", "value"])
        self.tensorboard = (
            TensorBoardLog(self.run_dir, self.step if resume else None)
            if train.tensorboard and self.main
            else None
        )

    def _datasets(self, options: dict) -> tuple[VideoDataset, VideoDataset]:
        """(train split with train.seed, the fixed val split) of the run's dataset with `options`."""
        train_data = make_dataset(self.spec.data, "train", seed=self.spec.train.seed, **options)
        return train_data, eval_dataset(self.spec.data, "val", **options)

    def _restore_rng(self, state: dict):
        """Each process's RNG state as saved; rank 0's (the run's) when the number of processes changed."""
        per_rank = state.get("rng_ranks")
        if per_rank is not None and len(per_rank) == distributed.world_size():
            set_rng_state(per_rank[distributed.rank()])
        else:
            set_rng_state(state["rng"])
            if not self.main:
                torch.manual_seed(distributed.process_seed(self.spec.train.seed + self.step))

    # -- stages -----------------------------------------------------------------------------
    def stage_bounds(self) -> list[tuple[int, int]]:
        """(first step, end step) of each stage; one (0, train.steps) without stages.

        A stage is cut at train.steps; the last one runs until train.steps.
        """
        steps = self.spec.train.steps
        if not self.stage_list:
            return [(0, steps)]
        bounds, start = [], 0
        for i, stage in enumerate(self.stage_list):
            last = i == len(self.stage_list) - 1
            end = steps if last else min(steps, start + stage.steps)
            bounds.append((start, max(start, end)))
            start = max(start, end)
        return bounds

    def stage_at(self, step: int) -> int:
        """Index of the stage that runs step `step` (the last one at or after the end)."""
        for i, (start, end) in enumerate(self.stage_bounds()):
            if start <= step < end:
                return i
        return len(self.stage_list) - 1 if self.stage_list else 0

    def enter_stage(self, index: int):
        """Apply stage `index`: frozen modules, data view, batch size and fresh optimisers."""
        train = self.spec.train
        stage = self.stage_list[index] if self.stage_list else None
        self.model.apply_stage(stage)
        if stage is not None and stage.data:
            view = {**self.data_options, **stage.data}
            self.train_data, self.val_data = distributed.main_first(lambda: self._datasets(view))
        elif index != self.stage_index and self.stage_index is not None:
            options = self.data_options
            self.train_data, self.val_data = distributed.main_first(lambda: self._datasets(options))
        self.batch_size = (stage.batch_size if stage else None) or train.batch_size
        start, end = self.stage_bounds()[index]
        stage_train = dataclasses.replace(train, steps=max(1, end - start), batch_size=self.batch_size)
        optimizers = self.model.configure_optimizers(stage_train)
        self.all_optimizers = {name: as_optim(opt) for name, opt in optimizers.items()}
        for name, optim in self.all_optimizers.items():
            frozen = [p for p in optim.params if not p.requires_grad]
            if frozen:
                raise ConfigError(
                    f"{self.spec.model}: optimiser {name!r} was given {len(frozen)} frozen parameter(s)"
                    + (f" in stage {stage.name!r}" if stage else "")
                    + "; configure_optimizers must pass only parameters with requires_grad"
                )
        chosen = stage.optimizers if stage is not None and stage.optimizers is not None else None
        if chosen is not None:
            missing = [n for n in chosen if n not in self.all_optimizers]
            if missing:
                raise ConfigError(
                    f"{self.spec.model}: stage {stage.name!r} uses optimisers {missing} that "
                    f"configure_optimizers does not return (it returns {list(self.all_optimizers)})"
                )
        self.optimizers = {n: o for n, o in self.all_optimizers.items() if chosen is None or n in chosen}
        self.stage_index = index

    def stage_offset(self, index: int) -> int:
        """Flat sample position of stage `index`'s first clip: the clips of the stages before."""
        total = 0
        for i, (start, end) in enumerate(self.stage_bounds()[:index]):
            size = self.stage_list[i].batch_size if self.stage_list else None
            total += (end - start) * (size or self.spec.train.batch_size)
        return total

    def description(self) -> str:
        text = f"train {self.spec.model}"
        if self.stage_list:
            stage = self.stage_list[self.stage_index]
            text += f" [{stage.name} {self.stage_index + 1}/{len(self.stage_list)}]"
        return text

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
        if not self.main:
            return
        if self.tensorboard is not None:
            self.tensorboard.scalars(split, values, self.step)
        with open(self.log_path, "a", newline="") as f:
            writer = csv.writer(f)
            for name, value in values.items():
                writer.writerow([self.step, split, name, f"{value:.6g}"])

    # -- the loop ---------------------------------------------------------------------------
    def loader(self, stop: int | None = None) -> DataLoader:
        """The training batches of steps self.step .. stop - 1 (default: the stage's end)."""
        train = self.spec.train
        start, end = self.stage_bounds()[self.stage_index]
        length = None if getattr(self.train_data, "infinite", False) else len(self.train_data)
        sampler = StepBatchSampler(
            self.step,
            end if stop is None else stop,
            self.batch_size,
            length,
            train.seed,
            origin=start,
            offset=self.stage_offset(self.stage_index),
        )
        # its own generator: iterating a DataLoader draws a seed, which must not shift the
        # global RNG stream that the model's sampling uses (resume would not be exact)
        options = {
            "num_workers": train.num_workers,
            "pin_memory": self.device.type == "cuda",
            "generator": torch.Generator().manual_seed(train.seed),
        }
        if train.num_workers > 0:
            options["prefetch_factor"] = 4  # batches in flight per worker
            options["worker_init_fn"] = ignore_stop_signals  # the trainer decides when to stop
        if makes_batches(self.train_data):  # one `dataset.batch` call per step (in a worker)
            return DataLoader(StepBatches(self.train_data, sampler), batch_size=None, **options)
        return DataLoader(self.train_data, batch_sampler=sampler, collate_fn=collate, **options)

    def fit(self) -> dict[str, float]:
        train = self.spec.train
        if self.step >= train.steps:
            self.close()
            return {}
        if not self._release.alive:  # fit called again after it returned once
            self._hold_run_folder()
        # train.max_minutes: stop at the first step past the deadline, validated and checkpointed
        started = time.perf_counter()
        deadline = started + 60 * train.max_minutes if train.max_minutes > 0 else None
        bar = tqdm(
            total=train.steps,
            initial=self.step,
            disable=not self.progress,
            desc=self.description(),
            unit="step",
            **progress_options(),
        )
        last_val: dict[str, float] = {}
        self.stop_signal = None
        restore_handlers = self._catch_stop_signals()
        try:
            while self.step < train.steps:
                index = self.stage_at(self.step)
                if index != self.stage_index:
                    self.enter_stage(index)
                    bar.set_description(self.description())
                last_val, stopped = self._fit_stage(bar, deadline)
                if stopped:
                    break
        finally:
            restore_handlers()
            bar.close()
            if self.tensorboard is not None:
                self.tensorboard.flush()
            self.close()
        if self.stop_signal is not None and self.step < train.steps:  # saved at this step (`_fit_stage`)
            raise KeyboardInterrupt(f"{self.stop_signal} at step {self.step}")
        distributed.barrier()  # no process leaves while another still needs it
        return last_val

    def interruption(self, resume: str, restart: str) -> Interrupted:
        """The error for a KeyboardInterrupt out of `fit`: the step reached, the step saved, and
        how to go on (`resume` where a checkpoint exists, `restart` where none does)."""
        saved, where = self.last_checkpoint_step, checkpoint_path(self.run_dir)
        if saved is None:
            return Interrupted(
                f"interrupted at step {self.step} before the first checkpoint (step "
                f"{self.spec.train.eval_every}); nothing was saved: {restart}"
            )
        if saved == self.step:  # the trainer's own stop (SIGINT/SIGTERM): nothing lost
            return Interrupted(f"stopped at step {saved} and saved ({where}); {resume}")
        return Interrupted(f"interrupted at step {self.step}; last saved step {saved} ({where}); {resume}")

    def _catch_stop_signals(self):
        """Until the returned function is called, the first SIGINT/SIGTERM sets `self.stop_signal`
        (the loop saves and stops after the current step) and puts the old handlers back, so a
        second one acts at once. Outside the main thread (no signal handlers there): nothing."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        kinds = (signal.SIGINT, signal.SIGTERM)
        previous = {kind: signal.getsignal(kind) for kind in kinds}

        def restore():
            for kind, handler in previous.items():
                signal.signal(kind, handler if handler is not None else signal.SIG_DFL)

        def request_stop(number, frame):
            self.stop_signal = signal.Signals(number).name
            restore()
            if self.main:
                print(
                    f"\n{self.stop_signal}: stopping after the current step, with a checkpoint "
                    "(send it again to stop without saving)",
                    file=sys.stderr,
                    flush=True,
                )

        for kind in kinds:
            signal.signal(kind, request_stop)
        return restore

    def _fit_stage(self, bar, deadline: float | None) -> tuple[dict[str, float], bool]:
        """Train until the current stage's end; returns (last validation, stopped by the clock or a
        signal)."""
        train = self.spec.train
        _, end = self.stage_bounds()[self.stage_index]
        self.model.train()  # frozen modules stay in eval mode (VideoModel.train)
        sums: dict[str, torch.Tensor] = {}
        counts: dict[str, int] = {}
        steps, started = 0, time.perf_counter()
        last_val: dict[str, float] = {}
        for batch in self.loader(end):
            batch = to_device(batch, self.device)
            terms = self.model.train_step(batch, self.step, self.optimizers, train)
            for name, value in terms.items():  # summed where each lives: no host sync between log points
                value = torch.as_tensor(value, dtype=torch.float32).detach()  # a Python float: on the CPU
                sums[name] = sums[name] + value if name in sums else value.clone()
                counts[name] = counts.get(name, 0) + 1
            steps += 1
            self.step += 1
            bar.update(1)
            out_of_time = deadline is not None and time.perf_counter() > deadline
            if deadline is not None:  # every process stops at the same step
                out_of_time = distributed.any_process(out_of_time)
            stopping = self.stop_signal is not None
            if distributed.is_distributed():  # agreed at log points: one collective per log_every steps
                stopping = self.step % train.log_every == 0 and distributed.any_process(stopping)
            done = self.step >= end or out_of_time or stopping
            if self.step % train.log_every == 0 or self.step % train.eval_every == 0 or done:
                means = self._train_means(sums, counts)  # each term over the steps that logged it
                self._check_finite("train", means)
                # clips of every process per second of training (validation excluded)
                means["clips_per_s"] = steps * self.batch_size / (time.perf_counter() - started)
                for name, optim in self.optimizers.items():  # the lr of the coming step
                    means["lr" if name == "main" else f"lr_{name}"] = optim.optimizer.param_groups[0]["lr"]
                if self.stage_list:
                    means["stage"] = float(self.stage_index)
                self._log("train", means)
                bar.set_postfix({k: f"{v:.4g}" for k, v in means.items() if k in ("loss", "recon", "kl")})
                sums, counts, steps = {}, {}, 0
                started = time.perf_counter()
            if self.step % train.eval_every == 0 or done:
                last_val = distributed.broadcast_object(self.validate() if self.main else None)
                self._check_finite("val", last_val)
                self._log("val", last_val)
                time_limited = out_of_time and self.step < train.steps
                self._save(last_val, time_limited)
                self.model.train()
                started = time.perf_counter()
                if stopping:
                    self.stop_signal = self.stop_signal or "stop"  # another process's signal
                    return last_val, True
                if time_limited:
                    if self.main:
                        print(
                            f"stopped at step {self.step} of {train.steps}: "
                            f"train.max_minutes={train.max_minutes}"
                        )
                    return last_val, True
        return last_val, False

    def _train_means(self, sums: dict[str, torch.Tensor], counts: dict[str, int]) -> dict[str, float]:
        """Each term's mean over the steps (and processes) that logged it: one host sync."""
        if not sums:
            return {}
        names = list(sums)
        # one device for all (a CUDA run logs CUDA tensors and Python floats, e.g. dvae's beta)
        totals = distributed.mean_over_processes({name: sums[name].to(self.device) for name in names})
        values = torch.stack([totals[name].reshape(()).float() for name in names]).tolist()
        return {name: value / counts[name] for name, value in zip(names, values)}

    def _save(self, val: dict[str, float], time_limited: bool):
        """Write last.pt; with train.keep_best also best.pt when the validation value improved."""
        improved = False
        if self.spec.train.keep_best:
            metric = self.model.validation_metric
            if metric not in val:
                raise ConfigError(
                    f"train.keep_best needs the validation value {metric!r}, which {self.spec.model} "
                    f"does not report (it reports: {', '.join(val)})"
                )
            if self.best is None or val[metric] < self.best["value"]:
                self.best = {"metric": metric, "value": float(val[metric]), "step": self.step}
                improved = True
        stage = self.stage_list[self.stage_index].name if self.stage_list else None
        extra = {"stage": self.stage_index, "stage_name": stage, "best": self.best}
        if distributed.is_distributed():  # every process's RNG, for an exact resume
            extra["rng_ranks"] = distributed.all_gather_object(rng_state())
        self.last_checkpoint_step = self.step
        if not self.main:
            return
        path = checkpoint_path(self.run_dir)
        save_checkpoint(
            path, self.model, self.all_optimizers, self.spec, self.step, time_limited, extra=extra
        )
        if improved:
            copy_checkpoint(path, checkpoint_path(self.run_dir, "best"))
        if self.spec.train.keep_every:
            copy_checkpoint(path, checkpoint_path(self.run_dir, f"step{self.step}"))
        if self.tensorboard is not None:
            self.tensorboard.flush()

    def _check_finite(self, split: str, means: dict[str, float]):
        bad = {name: value for name, value in means.items() if not math.isfinite(value)}
        if not bad:
            self._seen_finite = True
            return
        terms = ", ".join(f"{name}={value}" for name, value in bad.items())
        where = (
            f"within the {self.spec.train.log_every} steps before step {self.step}"
            if split == "train"
            else f"on the validation clips at step {self.step}"
        )
        kept = (
            f"the last good checkpoint (step {self.last_checkpoint_step}) is kept at "
            f"{checkpoint_path(self.run_dir)}"
            if self.last_checkpoint_step is not None
            else "no checkpoint had been written yet"
        )
        if self._seen_finite:
            hint = "Try a lower train.lr or train.grad_clip=5."
        else:
            settings = [
                f"model.{key}={value}"
                for key, value in to_dict(self.spec.model_config).items()
                if isinstance(value, float) and not math.isfinite(value)
            ]
            cause = f"{', '.join(settings)} is not finite" if settings else "check the model.* values"
            hint = (
                "It was not finite from the first logged steps, so the model's settings may be "
                f"the cause ({cause})."
            )
        raise TrainingDiverged(f"{split} {terms} {where}; {kept}. {hint}")

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """`model.validation_step` averaged over the clips of the first eval_batches of the val split.

        A value missing from some batches is averaged over the clips of the batches that gave it.
        """
        train = self.spec.train
        self.model.eval()
        sums: dict[str, float] = {}
        weights: dict[str, int] = {}
        n = min(len(self.val_data), train.eval_batches * self.batch_size)
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            for start in range(0, n, self.batch_size):
                batch = self.val_data.batch(range(start, min(n, start + self.batch_size)))
                batch = to_device(batch, self.device)
                terms = self.model.validation_step(batch, self.step)
                weight = batch["video"].shape[0]
                for name, value in terms.items():
                    sums[name] = sums.get(name, 0.0) + float(value) * weight
                    weights[name] = weights.get(name, 0) + weight
            if self.tensorboard is not None:
                clips = self.val_data.batch(range(min(SWAP_CLIPS, len(self.val_data))))["video"]
                self.tensorboard.swap_grid(self.model, clips.to(self.device), self.step)
        return {name: total / weights[name] for name, total in sums.items()}

"""The trainer's own throughput beside the bare training step, in one run.

    python benchmarks/bench_trainer.py [--model dvae] [--preset small] [--steps 30] [--warmup 5]
        [--log-every 5] [--threads 2] [--device cpu|cuda] [--num-workers 0] [--rounds 1]
        [--set SECTION.KEY=VALUE ...]

Measures, each in a fresh process, interleaved over `--rounds`:

- `step`: what `bench_train_step.py` times for vidis: the model's `train_step` on one fixed
  batch (no data loading, no logging), `--warmup` + `--steps` steps, the median of the timed
  ones as clips per second, and each step's process CPU time (all threads);
- `trainer`: `vidis.train.Trainer.fit` at the same preset and options: `--warmup` steps, then
  `--steps` more (its data loader, logging every `--log-every` steps), as the median of
  `clips_per_s` in its `log.csv` over the timed windows (the statistic the GPU measurement
  of issue 13 used), and as process CPU time per step (the final validation and checkpoint
  left out);
- `data`: the trainer's own loader alone (`Trainer.loader`), batches per second for
  `--steps` batches: what the main process spends per step on data (with `--num-workers 0`
  it makes the clips itself);
- `sampler`: microseconds per step that `StepBatchSampler.indices` takes for a finite train
  split of 10,000 clips (the `paper` presets' `num_train`), now (one permutation per epoch)
  and as it was before (one permutation per clip, rebuilt for each of the batch's clips).

Reports trainer / step (the fraction of the step's throughput the trainer reaches; 1.0 = it
never waits) by wall clock and by CPU time: on a machine shared with other work the wall
clock of both varies by several times within a run, while CPU time per step counts the work
each does (the trainer's extra work: data, logging). Appends one JSON line (date, command,
machine, load averages at start and end and per measurement, every number) to
benchmarks/results/trainer.jsonl.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_train_step import in_fresh_process, machine_description  # noqa: E402
from results_file import append_result  # noqa: E402

from vidis.config import parse_set_args  # noqa: E402
from vidis.train.spec import make_spec  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "trainer.jsonl"


def trainer_spec(cfg: dict):
    overrides = parse_set_args(cfg["set"])
    overrides["train"] |= {
        "steps": str(cfg["warmup"] + cfg["steps"]),
        "log_every": str(cfg["log_every"]),
        "eval_every": str(cfg["warmup"] + cfg["steps"]),
        "device": cfg["device"],
        "num_workers": str(cfg["num_workers"]),
        "tensorboard": "false",
    }
    return make_spec(cfg["model"], preset=cfg["preset"], overrides=overrides)


def measure_step(cfg: dict) -> dict:
    """bench_train_step's vidis variant (train_step on one fixed batch), timed per step by the
    wall clock and by this process's CPU time (all threads)."""
    from vidis.data import make_dataset  # noqa: PLC0415
    from vidis.train.spec import build_model  # noqa: PLC0415

    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(0)
    device = torch.device(cfg["device"])
    spec = trainer_spec(cfg)
    data = make_dataset(spec.data, "train", **vars(spec.data_config))
    batch = data.batch(range(spec.train.batch_size))
    batch = {
        "video": batch["video"].to(device),
        "factors": {k: v.to(device) for k, v in batch["factors"].items()},
    }
    model = build_model(spec, data.video_shape).to(device).train()
    optimizers = model.configure_optimizers(spec.train)
    wall, cpu = [], []
    for i in range(cfg["warmup"] + cfg["steps"]):
        _sync(device)
        w, c = time.perf_counter(), time.process_time()
        model.train_step(batch, i, optimizers, spec.train)
        _sync(device)
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return {
        "wall_seconds": wall[cfg["warmup"] :],
        "cpu_seconds": cpu[cfg["warmup"] :],
        "load_average": os.getloadavg(),
    }


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_trainer(cfg: dict) -> dict:
    """Trainer.fit: `warmup` steps, then `steps` more timed (wall and CPU time, validation and
    checkpoint at the end subtracted), and the clips_per_s windows of its log.csv."""
    from vidis.train.trainer import Trainer  # noqa: PLC0415

    torch.set_num_threads(cfg["threads"])
    spec = trainer_spec(cfg)
    with tempfile.TemporaryDirectory() as run_dir:
        spec.train.steps = cfg["warmup"]
        trainer = Trainer(spec, run_dir, progress=False)
        trainer.fit()  # warm-up (and one validation, untimed)
        spec.train.steps = cfg["warmup"] + cfg["steps"]
        aside = {"wall": 0.0, "cpu": 0.0}  # validation and checkpoint time

        def timed(fn):
            def run(*args, **kwargs):
                w, c = time.perf_counter(), time.process_time()
                try:
                    return fn(*args, **kwargs)
                finally:
                    aside["wall"] += time.perf_counter() - w
                    aside["cpu"] += time.process_time() - c

            return run

        trainer.validate, trainer._save = timed(trainer.validate), timed(trainer._save)
        w, c = time.perf_counter(), time.process_time()
        trainer.fit()
        wall = time.perf_counter() - w - aside["wall"]
        cpu = time.process_time() - c - aside["cpu"]
        with open(Path(run_dir) / "log.csv") as f:
            windows = [
                (int(r["step"]), float(r["value"]))
                for r in csv.DictReader(f)
                if r["split"] == "train" and r["metric"] == "clips_per_s"
            ]
    return {
        "batch": spec.train.batch_size,
        "clips_per_s_windows": windows,
        "wall_seconds_per_step": wall / cfg["steps"],
        "cpu_seconds_per_step": cpu / cfg["steps"],
        "validation_and_checkpoint_seconds": aside,
        "load_average": os.getloadavg(),
    }


def measure_data(cfg: dict) -> dict:
    from vidis.train.trainer import Trainer, makes_batches  # noqa: PLC0415

    torch.set_num_threads(cfg["threads"])
    spec = trainer_spec(cfg)
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = Trainer(spec, run_dir, progress=False)
        batches = iter(trainer.loader(cfg["warmup"] + cfg["steps"]))
        for _ in range(cfg["warmup"]):
            next(batches)
        started = time.perf_counter()
        for _ in range(cfg["steps"]):
            next(batches)
        seconds = (time.perf_counter() - started) / cfg["steps"]
    return {
        "seconds_per_batch": seconds,
        "clips_per_second": spec.train.batch_size / seconds,
        "uses_dataset_batch": makes_batches(trainer.train_data),
        "load_average": os.getloadavg(),
    }


def measure_sampler(batch: int, length: int = 10_000, steps: int = 50) -> dict:
    from vidis.train.trainer import StepBatchSampler  # noqa: PLC0415

    sampler = StepBatchSampler(0, steps, batch, length, seed=0)

    def before(step):  # the sampler before this change: a permutation per clip
        flat = np.arange(step * batch, (step + 1) * batch)
        epochs, positions = np.divmod(flat, length)
        return [
            int(np.random.default_rng([0, int(e), 7]).permutation(length)[p])
            for e, p in zip(epochs, positions)
        ]

    out = {}
    for name, fn in (("now", sampler.indices), ("before", before)):
        started = time.perf_counter()
        got = [fn(step) for step in range(steps)]
        out[f"{name}_us_per_step"] = 1e6 * (time.perf_counter() - started) / steps
        out[f"{name}_indices"] = got
    assert out.pop("now_indices") == out.pop("before_indices")  # the same clips
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="dvae")
    parser.add_argument("--preset", default="small")
    parser.add_argument("--steps", type=int, default=30, help="timed steps")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    parser.add_argument("--log-every", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--num-workers", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=1, help="repeat step and trainer, interleaved")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.steps % args.log_every or args.warmup % args.log_every:
        parser.error("--steps and --warmup must be multiples of --log-every (whole logging windows)")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: CUDA is not available")
    torch.set_num_threads(args.threads)
    spec = make_spec(args.model, preset=args.preset, overrides=parse_set_args(args.set))
    batch = spec.train.batch_size
    cfg = {
        "model": args.model, "preset": args.preset, "steps": args.steps, "warmup": args.warmup,
        "log_every": args.log_every, "threads": args.threads, "device": args.device,
        "num_workers": args.num_workers, "set": args.set,
    }  # fmt: skip
    load_start = os.getloadavg()
    steps, trainers = [], []
    for rnd in range(args.rounds):
        print(
            f"round {rnd + 1}/{args.rounds}: step benchmark ({args.warmup} + {args.steps} steps) ...",
            flush=True,
        )
        steps.append(in_fresh_process(measure_step, cfg))
        print(f"round {rnd + 1}/{args.rounds}: trainer ({args.warmup} + {args.steps} steps) ...", flush=True)
        trainers.append(in_fresh_process(measure_trainer, cfg))
    print("data loader alone ...", flush=True)
    data = in_fresh_process(measure_data, cfg)
    sampler = measure_sampler(batch)
    step_times = [t for run in steps for t in run["wall_seconds"]]
    step_clips = batch / statistics.median(step_times)
    trainer_clips = statistics.median(
        [v for run in trainers for s, v in run["clips_per_s_windows"] if s > args.warmup]
    )
    # CPU time per step (all threads of the process): less sensitive to other processes' load
    step_cpu = statistics.median([t for run in steps for t in run["cpu_seconds"]])
    trainer_cpu = statistics.median([run["cpu_seconds_per_step"] for run in trainers])
    record = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if argv is None else " ".join(argv),
        "machine": machine_description(torch.device(args.device)),
        "torch": torch.__version__,
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "batch": batch,
        "step_clips_per_second": step_clips,
        "trainer_clips_per_second": trainer_clips,
        "trainer_over_step": trainer_clips / step_clips,
        "step_cpu_seconds_per_step": step_cpu,
        "trainer_cpu_seconds_per_step": trainer_cpu,
        "trainer_over_step_by_cpu_time": step_cpu / trainer_cpu,
        "data_clips_per_second": data["clips_per_second"],
        "data_seconds_per_batch": data["seconds_per_batch"],
        "data_uses_dataset_batch": data["uses_dataset_batch"],
        "sampler_10000_clips": sampler,
        "step_runs": steps,
        "trainer_runs": trainers,
        "load_average_start": load_start,
        "load_average_end": os.getloadavg(),
    }
    print()
    print(
        f"{record['machine']['summary']}; torch {torch.__version__}; "
        f"{args.model} {args.preset}, batch {batch}"
    )
    print(f"step benchmark  : {step_clips:8.1f} clips/s (median of {len(step_times)} steps)")
    print(
        f"trainer         : {trainer_clips:8.1f} clips/s "
        "(median clips_per_s of log.csv windows after warm-up)"
    )
    print(f"trainer / step  : {record['trainer_over_step']:.3f} (wall clock)")
    print(f"trainer / step  : {record['trainer_over_step_by_cpu_time']:.3f} (process CPU time per step: "
          f"{step_cpu:.3f} s step, {trainer_cpu:.3f} s trainer)")  # fmt: skip
    how = "dataset.batch" if data["uses_dataset_batch"] else "items + collate"
    print(f"data loader     : {data['clips_per_second']:8.1f} clips/s "
          f"({1e3 * data['seconds_per_batch']:.1f} ms per batch, {how})")  # fmt: skip
    print(f"sampler (10,000 clips): {sampler['now_us_per_step']:.0f} us per step now, "
          f"{sampler['before_us_per_step']:.0f} us before (a permutation per clip)")  # fmt: skip
    print(f"load average (1, 5, 15 min): start {tuple(round(x, 2) for x in load_start)}, "
          f"end {tuple(round(x, 2) for x in record['load_average_end'])}")  # fmt: skip
    append_result(args.out, record)
    return record


if __name__ == "__main__":
    main()

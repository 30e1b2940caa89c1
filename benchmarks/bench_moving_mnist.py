"""Moving MNIST generation throughput: `dataset[i]` and `dataset.batch` against a plain loop.

    python benchmarks/bench_moving_mnist.py [--clips 640] [--rounds 5] [--batch 32]
        [--threads 2] [--model frame_vae ...] [--results PATH]

Measures, in one process on this machine, clips per second of:

- `naive_loop`: the plain Python loop of `reference_moving_mnist.naive_clip` (one clip at a
  time: 2 digits, 20 frames, each 28x28 float32 digit pasted into a float32 64x64 canvas slice
  with np.maximum, float positions reflected at the borders; the video only, no labels);
- `item`: `make_dataset("moving_mnist")[i]` (default options; video and every label);
- `items_collated`: `collate([dataset[i] for i in chunk])` over chunks of `--batch` clips (what
  a DataLoader or the base class's `batch` does);
- `batch`: `dataset.batch(chunk)` over the same chunks (vectorised across clips);
- `smmnist_item`, `smmnist_batch`: the same two with Stochastic Moving MNIST options
  (`dynamics="stochastic"`, `digit_size=32`, `composite="add"`, 30 frames).

The methods take turns, `--clips` fresh clips each per round, for `--rounds` rounds, so a
change of load hits all of them alike; the JSON keeps every round's rate and the ratios of the
paired rounds (item / naive_loop, batch / items_collated, batch / item), whose medians the table
prints, by wall time and by this process's CPU time (steadier on a shared machine). Every
video is checked equal to the plain loop's (and every batch to its collated
items) before timing. With `--model`, also the clips per second that a training step of that
model's `paper` preset consumes (batch_size / median step time). Writes one JSON line, with
the load averages at start and end, to benchmarks/results/moving_mnist.jsonl (or --results).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from reference_moving_mnist import float_digits, naive_clip  # noqa: E402

from vidis.data import collate, make_dataset  # noqa: E402

SMMNIST = {"dynamics": "stochastic", "digit_size": 32, "composite": "add", "num_frames": 30}


def methods(batch_size: int) -> dict:
    """name -> (dataset, make(indices)) making those clips."""
    data = make_dataset("moving_mnist", "train")
    smmnist = make_dataset("moving_mnist", "train", **SMMNIST)
    digits = float_digits(data)

    def chunks(indices):
        return [indices[s : s + batch_size] for s in range(0, len(indices), batch_size)]

    return {
        "naive_loop": lambda idx: [naive_clip(data, i, digits) for i in idx],
        "item": lambda idx: [data[i] for i in idx],
        "items_collated": lambda idx: [collate([data[i] for i in c]) for c in chunks(idx)],
        "batch": lambda idx: [data.batch(c) for c in chunks(idx)],
        "smmnist_item": lambda idx: [smmnist[i] for i in idx],
        "smmnist_batch": lambda idx: [smmnist.batch(c) for c in chunks(idx)],
    }


def check_equal(batch_size: int):
    """The methods make the same clips (else the timing compares different work)."""
    data = make_dataset("moving_mnist", "train")
    digits = float_digits(data)
    for i in range(50):
        assert np.array_equal(naive_clip(data, i, digits), data[i]["video"][:, 0].numpy()), i
    for options in ({}, SMMNIST):
        dataset = make_dataset("moving_mnist", "train", **options)
        chunk = list(range(100, 100 + batch_size))
        got, expected = dataset.batch(chunk), collate([dataset[i] for i in chunk])
        assert torch.equal(got["video"], expected["video"])
        assert all(torch.equal(got["factors"][k], v) for k, v in expected["factors"].items())


def time_methods(batch_size: int, clips: int, rounds: int) -> tuple[dict, dict]:
    """Clips per second of wall time and of this process's CPU time, per method and round (the
    clips made are freed inside the timed call, as a consumer would free them)."""
    makers = methods(batch_size)
    wall, cpu = {name: [] for name in makers}, {name: [] for name in makers}
    for make in makers.values():  # warm-up: digit pools, caches, first calls
        make(list(range(batch_size)))
    for r in range(rounds):
        indices = list(range(10_000 + r * clips, 10_000 + (r + 1) * clips))
        for name, make in makers.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            make(indices)
            wall[name].append(clips / (time.perf_counter() - start))
            cpu[name].append(clips / (time.process_time() - start_cpu))
    return wall, cpu


def paired_ratio(rates: dict, a: str, b: str) -> dict:
    ratios = [x / y for x, y in zip(rates[a], rates[b])]
    return {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios), "rounds": ratios}


def training_clips_per_second(model_name: str, steps: int = 5, warmup: int = 2) -> dict:
    from vidis.train.spec import build_model, make_spec  # noqa: PLC0415

    spec = make_spec(model_name, preset="paper")
    data = make_dataset(spec.data, "train", **dict(vars(spec.data_config)))
    model = build_model(spec, data.video_shape).train()
    optimizers = model.configure_optimizers(spec.train)
    batch = data.batch(range(spec.train.batch_size))
    times = []
    for step in range(warmup + steps):
        start = time.perf_counter()
        terms = model.train_step(batch, step, optimizers, spec.train)
        float(terms["loss"])  # wait for the step to finish
        times.append(time.perf_counter() - start)
    step_time = statistics.median(times[warmup:])
    return {
        "model": model_name,
        "batch_size": spec.train.batch_size,
        "step_seconds": step_time,
        "clips_per_second": spec.train.batch_size / step_time,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=640, help="clips per method per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=32, help="clips per `batch` call")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", action="append", help="model(s) whose paper-preset step to time")
    parser.add_argument("--results", default=str(Path(__file__).parent / "results" / "moving_mnist.jsonl"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load_start = os.getloadavg()
    check_equal(args.batch)
    rates, cpu_rates = time_methods(args.batch, args.clips, args.rounds)
    training = [training_clips_per_second(m) for m in (args.model or [])]
    load_end = os.getloadavg()
    medians = {name: statistics.median(r) for name, r in rates.items()}
    pairs = {
        "item_vs_naive_loop": ("item", "naive_loop"),
        "batch_vs_items_collated": ("batch", "items_collated"),
        "batch_vs_item": ("batch", "item"),
        "smmnist_batch_vs_item": ("smmnist_batch", "smmnist_item"),
    }
    ratios = {name: paired_ratio(rates, *pair) for name, pair in pairs.items()}
    cpu_ratios = {name: paired_ratio(cpu_rates, *pair) for name, pair in pairs.items()}
    result = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "torch_threads": args.threads,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "load_average_start": load_start,
        "load_average_end": load_end,
        "options": vars(args),
        "clips_per_second": rates,
        "median_clips_per_second": medians,
        "ratios": ratios,
        "cpu_clips_per_second": cpu_rates,
        "cpu_ratios": cpu_ratios,
        "training": training,
    }
    out = Path(args.results)
    out.parent.mkdir(exist_ok=True)
    with open(out, "a") as f:
        f.write(json.dumps(result) + "\n")
    print(f"load average {load_start[0]:.2f} at start, {load_end[0]:.2f} at end")
    print(f"{args.rounds} rounds x {args.clips} clips per method, batches of {args.batch}")
    for name, rate in medians.items():
        spread = ", ".join(f"{r:.0f}" for r in rates[name])
        print(f"{name:<15}: {rate:8.0f} clips/s (median; rounds {spread})")
    for name, ratio in ratios.items():
        by_cpu = cpu_ratios[name]
        print(
            f"{name:<24}: {ratio['median']:.2f}x (paired rounds {ratio['min']:.2f}-{ratio['max']:.2f}); "
            f"by CPU time {by_cpu['median']:.2f}x ({by_cpu['min']:.2f}-{by_cpu['max']:.2f})"
        )
    for t in training:
        print(
            f"training {t['model']:<8}: {t['clips_per_second']:8.1f} clips/s consumed at the paper preset "
            f"(batch {t['batch_size']}, {t['step_seconds']:.3f} s/step) -> `batch` is "
            f"{medians['batch'] / t['clips_per_second']:.0f}x ahead"
        )
    print(f"appended to {out}")


if __name__ == "__main__":
    main()

"""Moving MNIST generation throughput: vidis vs a plain-loop generator vs training demand.

    python benchmarks/bench_moving_mnist.py [--model frame_vae] [--clips 2000] [--threads 2]

Measures, in one run on this machine: clips per second of `vidis.data.make_dataset(
"moving_mnist")[i]` (one worker, default options), of the straightforward per-digit,
per-frame loop in `reference_moving_mnist.py` making the same clips, and the clips per
second that a training step of the model's `paper` preset consumes (batch_size / step
time, forward + backward + Adam, median of several steps after warm-up). Writes a JSON
line to benchmarks/results/moving_mnist.jsonl and prints a table.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from reference_moving_mnist import loop_clip  # noqa: E402

from vidis.data import make_dataset  # noqa: E402
from vidis.train.spec import build_model, make_spec  # noqa: E402


def clips_per_second(make, n: int, repeats: int = 3) -> float:
    best = 0.0
    for r in range(repeats):
        start = time.perf_counter()
        for i in range(r * n, (r + 1) * n):
            make(i)
        best = max(best, n / (time.perf_counter() - start))
    return best


def training_clips_per_second(model_name: str, steps: int = 5, warmup: int = 2) -> dict:
    spec = make_spec(model_name, preset="paper")
    data = make_dataset(spec.data, "train", **{k: v for k, v in vars(spec.data_config).items()})
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
    parser.add_argument("--model", action="append", help="model(s) whose paper-preset step to time")
    parser.add_argument("--clips", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dataset = make_dataset("moving_mnist", "train")
    for i in range(5):  # the generators agree before we time them
        assert torch.equal(dataset[i]["video"], loop_clip(dataset, i)["video"])
    vidis_rate = clips_per_second(lambda i: dataset[i], args.clips)
    loop_rate = clips_per_second(lambda i: loop_clip(dataset, i), args.clips)
    training = [training_clips_per_second(m) for m in (args.model or ["frame_vae"])]
    result = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads",
        "torch": torch.__version__,
        "vidis_clips_per_second": vidis_rate,
        "loop_clips_per_second": loop_rate,
        "speedup_vs_loop": vidis_rate / loop_rate,
        "training": training,
    }
    out = Path(__file__).parent / "results" / "moving_mnist.jsonl"
    out.parent.mkdir(exist_ok=True)
    with open(out, "a") as f:
        f.write(json.dumps(result) + "\n")
    print(f"vidis generator : {vidis_rate:8.0f} clips/s (one worker, default options)")
    print(f"plain loop      : {loop_rate:8.0f} clips/s  -> vidis is {vidis_rate / loop_rate:.2f}x")
    for t in training:
        print(
            f"training {t['model']:<8}: {t['clips_per_second']:8.1f} clips/s consumed at the paper preset "
            f"(batch {t['batch_size']}, {t['step_seconds']:.3f} s/step) -> generation is "
            f"{vidis_rate / t['clips_per_second']:.0f}x ahead"
        )
    print(f"appended to {out}")


if __name__ == "__main__":
    main()

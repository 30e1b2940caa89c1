"""One Algorithm-1 iteration of AVLAE (steps I, II, III) and the share spent in the flow estimator.

    PYTHONPATH=src python benchmarks/bench_paper001.py --threads 2 [--preset small --batch 16]

Times `train_step` on the preset's data (default `small`: sprites 32x32x8, batch 16) after
`--warmup` iterations: the median of `--repeats`. The flow estimator's share is measured two ways:
(a) wall time inside its forward calls (a timer around `model.flow.forward`), as a share of the
iteration; (b) the same iteration with the flow replaced by a trivial differentiable stand-in of
the same output (pooled frame differences): 1 - t(stand-in) / t(full) covers its forward and
backward. Appends one JSON line to benchmarks/results/paper001.jsonl.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

import torch
import torch.nn.functional as F

from vidis.config import to_dict
from vidis.data import make_dataset
from vidis.train.spec import build_model, make_spec

RESULTS = Path(__file__).parent / "results" / "paper001.jsonl"


class StandIn(torch.nn.Module):
    """Same output shape as the flow estimator, nearly free: pooled differences of grey frames."""

    def __init__(self, downsample: int):
        super().__init__()
        self.downsample = downsample

    def forward(self, video):
        grey = video.float().mean(2)  # (B, T, H, W)
        diff = (grey[:, 1:] - grey[:, :-1]).flatten(0, 1)[:, None]  # (B (T-1), 1, H, W)
        flow = F.avg_pool2d(torch.cat([diff, diff], 1), self.downsample, ceil_mode=True)
        return flow.unflatten(0, (video.shape[0], video.shape[1] - 1)).transpose(1, 2)


def time_iterations(model, optimizers, train, batches) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds of this process) of each iteration."""
    times, cpu = [], []
    for i, batch in enumerate(batches):
        began, began_cpu = time.perf_counter(), time.process_time()
        model.train_step(batch, i, optimizers, train)
        times.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    return times, cpu


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--note", default="", help="conditions of the run (e.g. other jobs on the machine)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    spec = make_spec("avlae", "sprites", args.preset, {"train": {"batch_size": args.batch}})
    data = make_dataset("sprites", "train", **to_dict(spec.data_config))
    n = args.warmup + args.repeats
    batches = [data.batch(range(i * args.batch, (i + 1) * args.batch)) for i in range(n)]
    results = {}
    for variant in ("full", "stand-in"):
        torch.manual_seed(0)
        model = build_model(spec, data.video_shape).train()
        optimizers = model.configure_optimizers(spec.train)
        flow_seconds = [0.0]
        if variant == "stand-in":
            model.flow = StandIn(model.config.flow_downsample)
        else:
            forward = model.flow.forward

            def timed(video, forward=forward, flow_seconds=flow_seconds):
                began = time.perf_counter()
                out = forward(video)
                flow_seconds[0] += time.perf_counter() - began
                return out

            model.flow.forward = timed
        time_iterations(model, optimizers, spec.train, batches[: args.warmup])  # warm-up
        flow_seconds[0] = 0.0
        times, cpu = time_iterations(model, optimizers, spec.train, batches[args.warmup :])
        results[variant] = {
            "median_s": statistics.median(times),
            "median_cpu_s": statistics.median(cpu),
            "all_s": times,
            "flow_forward_s_per_iteration": flow_seconds[0] / len(times),
        }
    full, stand_in = results["full"]["median_s"], results["stand-in"]["median_s"]
    record = {
        "benchmark": "paper001_algorithm1_iteration",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "note": args.note,
        "preset": args.preset,
        "batch": args.batch,
        "threads": args.threads,
        "video_shape": list(data.video_shape),
        "torch": torch.__version__,
        "cpu": platform.processor() or platform.machine(),
        "iteration_s": full,
        "iteration_stand_in_s": stand_in,
        "iteration_cpu_s": results["full"]["median_cpu_s"],
        "iteration_stand_in_cpu_s": results["stand-in"]["median_cpu_s"],
        "flow_share_by_substitution_cpu": 1
        - results["stand-in"]["median_cpu_s"] / results["full"]["median_cpu_s"],
        "flow_forward_share": results["full"]["flow_forward_s_per_iteration"] / full,
        "flow_share_by_substitution": 1 - stand_in / full,
        "runs": results,
    }
    print(json.dumps({k: v for k, v in record.items() if k != "runs"}, indent=1))
    if not args.no_save:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        with RESULTS.open("a") as f:
            f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()

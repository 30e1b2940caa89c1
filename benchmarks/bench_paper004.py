"""Paper 004 benchmark: VDSM training steps, the blended decoder's strategies, dataset speed.

    PYTHONPATH=src python benchmarks/bench_paper004.py [--preset small] [--threads 2] [--repeats 3]

Prints, and appends one JSON line (date, command, machine load, every number) to
`benchmarks/results/paper004.jsonl` (or --out):
- a training step of each stage (`pretrain`, `sequence`) of `vdsm` at --preset, batch 32
  (forward, backward, Adam step), median of --repeats after one warm-up;
- the blended decoder (forward + backward) with each `blend` strategy: "grouped" (one grouped
  transposed convolution per layer), "stacked" (one dense convolution over N x the input
  channels), "experts" (a loop over experts), "auto" (the model's default) and "loop" (the
  per-clip Python loop they replace), at batch 32 of 8 frames;
- clips per second of `sprites` and `pendulum` (`dataset.batch` of 32, one process), beside
  the clips per second a training step consumes.

It prints the device, torch's thread count and the load average, since timings on a shared
machine depend on them. No timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch
from results_file import append_result  # noqa: E402

from vidis.config import to_dict
from vidis.data import make_dataset
from vidis.models.vdsm import BLENDS
from vidis.train.spec import build_model, make_spec

RESULTS = Path(__file__).parent / "results" / "paper004.jsonl"


def timed(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def bench_steps(preset: str, batch: int, repeats: int) -> dict:
    spec = make_spec("vdsm", "sprites", preset)
    data = make_dataset("sprites", "train", **to_dict(spec.data_config))
    torch.manual_seed(0)
    model = build_model(spec, data.video_shape)
    out = {}
    for i, stage in enumerate(model.stages(spec.train)):
        # the stage's own data view (stage 1 of `small`: items of two clips of one identity)
        view = make_dataset("sprites", "train", **{**to_dict(spec.data_config), **(stage.data or {})})
        video = view.batch(range(batch))["video"]
        model.apply_stage(stage)
        model.train()
        optimizer = model.configure_optimizers(spec.train)["main"].optimizer
        step = 0 if i == 0 else model.config.pretrain_steps

        def train_step(step=step, optimizer=optimizer, video=video):
            loss = model.loss({"video": video}, step).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

        seconds = timed(train_step, repeats)
        out[stage.name] = {"seconds_per_step": seconds, "items_per_s": batch / seconds,
                           "frames_per_item": video.shape[1]}
    return out


def bench_blend(preset: str, batch: int, frames: int, repeats: int) -> dict:
    spec = make_spec("vdsm", "sprites", preset)
    torch.manual_seed(0)
    model = build_model(spec, (frames, 3, 64, 64))
    c = model.config
    inputs = torch.randn(batch, frames, c.pose_dim + c.num_experts, requires_grad=True)
    weights = torch.softmax(torch.randn(batch, c.num_experts), -1).requires_grad_()
    out = {}
    for blend in BLENDS:
        def run(blend=blend):
            model.zero_grad()
            model.decoder(inputs, weights, blend).sum().backward()

        out[blend] = timed(run, repeats)
    return out


def bench_data(batch: int, repeats: int) -> dict:
    out = {}
    for name in ("sprites", "pendulum"):
        data = make_dataset(name, "train")
        counter = iter(range(10**9))

        def draw(data=data, counter=counter):
            start = next(counter) * batch
            data.batch(range(start, start + batch))

        out[name] = batch / timed(draw, repeats)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-steps", action="store_true", help="only the decoder and the data")
    parser.add_argument("--out", default=str(RESULTS), help="JSON-lines file to append the run to")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    report = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "command": " ".join(["bench_paper004.py", *sys.argv[1:]]), "preset": args.preset,
              "threads": torch.get_num_threads(), "batch": args.batch,
              "load_average": os.getloadavg(), "device": "cpu", "torch": torch.__version__}
    print(json.dumps(report))
    report["blend_seconds_fwd_bwd"] = bench_blend(args.preset, args.batch, 8, args.repeats)
    print("blended decoder, forward + backward (s):", json.dumps(report["blend_seconds_fwd_bwd"]))
    report["data_clips_per_s"] = bench_data(args.batch, args.repeats)
    print("data (clips/s):", json.dumps(report["data_clips_per_s"]))
    if not args.skip_steps:
        report["steps"] = bench_steps(args.preset, args.batch, args.repeats)
        print("training steps:", json.dumps(report["steps"]))
    report["load_average_after"] = os.getloadavg()
    append_result(args.out, report)


if __name__ == "__main__":
    main()

"""Training-step benchmark of `svg_lp` and `drsvg` (paper 003) against a reference-style SVG-LP
step (`reference_svg.py`: every CNN call in a Python loop over time, frames encoded twice), in
one run.

    python benchmarks/bench_paper003.py [--threads 2] [--steps 3] [--warmup 1] [--batch 32]
        [--preset paper] [--frames 15] [--amp-bf16] [--rounds 1]

Each variant runs in a fresh process (memory peaks do not mix) and reports the median wall time
of `--steps` training steps after `--warmup` (forward, backward, optimiser steps), FLOPs per step
(`torch.utils.flop_counter.FlopCounterMode` with bench_train_step.py's formulas for the fused
LSTM kernels; matmuls and convolutions only), achieved GFLOP/s, the peak RSS growth during the
steps, the bytes autograd keeps for backward in one step (`saved_tensors_hooks`, by storage: the
activation memory, free of allocator noise), and the speed-up reference / vidis.

Variants: `reference` (SVG-LP at the public code's Moving MNIST sizes, equal to vidis's `paper`
preset), `svg_lp`, `drsvg` (vidis, fp32) and, with `--amp-bf16`, both vidis models under bf16
autocast (`train.amp=bf16`). Batches: the first `--batch` training clips of the preset's data,
`--frames` long (the paper: 5 + 10 = 15).

Prints a table and appends one JSON line to benchmarks/results/paper003.jsonl.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
import reference_svg  # noqa: E402
from bench_train_step import (  # noqa: E402
    _max_rss_bytes,
    _rss_bytes,
    count_flops,
    in_fresh_process,
    machine_description,
)
from results_file import append_result  # noqa: E402

from vidis.data import make_dataset  # noqa: E402
from vidis.train.spec import build_model, make_spec  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "paper003.jsonl"


def measure(cfg: dict) -> dict:
    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(0)
    spec = make_spec(cfg["model"], preset=cfg["preset"],
                     overrides={"data": {"num_frames": cfg["frames"]}, "train": {"amp": cfg["amp"]}})
    data = make_dataset(spec.data, "train", **vars(spec.data_config))
    batch = data.batch(range(cfg["batch"]))
    video = batch["video"]
    if cfg["impl"] == "reference":
        c = spec.model_config
        modules = reference_svg.build(cfg["batch"], nf=c.channels, g_dim=c.g_dim, z_dim=c.z_dim,
                                      rnn_size=c.rnn_size, channels=video.shape[2])
        opts = reference_svg.optimizers(modules, spec.train.lr)
        frames = list(video.transpose(0, 1))  # T tensors (B, C, H, W), as the public loader gives
        parameters = sum(p.numel() for m in modules.values() for p in m.parameters())

        def step(i):
            return reference_svg.train_step(modules, opts, frames, c.context_frames, c.beta)
    else:
        model = build_model(spec, data.video_shape).train()
        optimizers = model.configure_optimizers(spec.train)
        parameters = model.num_parameters()

        def step(i):
            return model.train_step(batch, i, optimizers, spec.train)

    before = _rss_bytes() or _max_rss_bytes()
    times = []
    for i in range(cfg["warmup"] + cfg["steps"]):
        start = time.perf_counter()
        step(i)
        times.append(time.perf_counter() - start)
    peak = _max_rss_bytes()
    flops, _ = count_flops(lambda: step(-1))
    storages: dict[int, int] = {}  # the tensors autograd keeps for backward, by storage

    def pack(tensor):
        storages[tensor.untyped_storage().data_ptr()] = tensor.untyped_storage().nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        step(-2)
    timed = times[cfg["warmup"]:]
    return {"name": cfg["name"], "model": cfg["model"], "amp": cfg["amp"], "parameters": parameters,
            "batch": cfg["batch"], "frames": cfg["frames"], "load_average": os.getloadavg(),
            "step_seconds_timed": timed, "step_seconds_warmup": times[: cfg["warmup"]],
            "step_seconds_median": statistics.median(timed), "flops_per_step": flops,
            "peak_memory_bytes": peak - before if peak and before else None,
            "saved_for_backward_bytes": sum(storages.values())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--preset", default="paper")
    parser.add_argument("--frames", type=int, default=15)
    parser.add_argument("--amp-bf16", action="store_true", help="also the vidis models under bf16 autocast")
    parser.add_argument("--rounds", type=int, default=1, help="repeat every variant, interleaved")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    base = {"threads": args.threads, "steps": args.steps, "warmup": args.warmup, "batch": args.batch,
            "preset": args.preset, "frames": args.frames}
    variants = [{"name": "reference", "impl": "reference", "model": "svg_lp", "amp": "none"},
                {"name": "svg_lp", "impl": "vidis", "model": "svg_lp", "amp": "none"},
                {"name": "drsvg", "impl": "vidis", "model": "drsvg", "amp": "none"}]
    if args.amp_bf16:
        variants += [{"name": f"{m}+bf16", "impl": "vidis", "model": m, "amp": "bf16"}
                     for m in ("svg_lp", "drsvg")]
    load_start = os.getloadavg()
    runs: dict[str, list[dict]] = {}
    for _ in range(args.rounds):
        for v in variants:
            print(f"measuring {v['name']} ...", flush=True)
            runs.setdefault(v["name"], []).append(in_fresh_process(measure, {**base, **v}))
    summary = {}
    for name, results in runs.items():
        timed = [t for r in results for t in r["step_seconds_timed"]]
        memory = [r["peak_memory_bytes"] for r in results if r["peak_memory_bytes"] is not None]
        summary[name] = {**results[0], "rounds": len(results),
                         "step_seconds_median": statistics.median(timed),
                         "step_seconds_timed": [r["step_seconds_timed"] for r in results],
                         "peak_memory_bytes": max(memory) if memory else None}
    reference = summary["reference"]["step_seconds_median"]
    machine = machine_description(torch.device("cpu"))["summary"]
    print(f"\n{machine}, batch {args.batch}, {args.frames} frames, preset {args.preset}; load average "
          f"at start {load_start[0]:.1f}, end {os.getloadavg()[0]:.1f}")
    header = ("variant", "s/step", "GFLOP/step", "GFLOP/s", "RSS growth MB", "saved MB", "vs reference")
    print(f"{header[0]:<14}" + "".join(f"{h:>{w}}" for h, w in zip(header[1:], (9, 12, 9, 15, 10, 14))))
    for name, s in summary.items():
        s["speedup_vs_reference"] = reference / s["step_seconds_median"]
        memory = s["peak_memory_bytes"]
        print(f"{name:<14}{s['step_seconds_median']:>9.3f}{s['flops_per_step'] / 1e9:>12.1f}"
              f"{s['flops_per_step'] / s['step_seconds_median'] / 1e9:>9.1f}"
              f"{(memory or 0) / 2**20:>15.0f}{s['saved_for_backward_bytes'] / 2**20:>10.0f}"
              f"{s['speedup_vs_reference']:>13.2f}x")
    line = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "command": " ".join(sys.argv),
            "machine": machine_description(torch.device("cpu")), "torch": torch.__version__,
            "load_average_start": load_start, "load_average_end": os.getloadavg(), "options": vars(args),
            "variants": summary}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    append_result(args.out, line)


if __name__ == "__main__":
    main()

"""Training-step benchmark of `dvae` (paper 000) against a reference-style step, in one run.

    python benchmarks/bench_train_step.py [--threads 2] [--steps 5] [--warmup 2] [--batch 32]
        [--amp none|bf16] [--channels-last] [--compile] [--device cpu|cuda] [--preset paper]
        [--rounds 1] [--public-code PATH]

Measures, on this machine and in this run:

- the fp32 matmul peak: median GFLOP/s of repeated n x n @ n x n `torch.mm` (n = 2048 on
  CPU, 8192 on CUDA) at the same thread count, once before and once after the models (the
  higher of the two is the peak; the two together show drift on a busy machine);
- for each variant, in a fresh process: the median wall time of `--steps` training steps
  after `--warmup` (forward, backward, optimiser step; on CUDA with a synchronise before
  each timer read), clips per second (batch / median step time), FLOPs per step counted
  with `torch.utils.flop_counter.FlopCounterMode` on one extra step (the matmuls and
  convolutions of forward + backward, 2 FLOPs per multiply-add; the fused LSTM kernels,
  which the counter lacks, with the formulas below; elementwise work and the optimiser are
  not counted), achieved GFLOP/s and its fraction of the fp32 matmul peak (and of the bf16
  peak for bf16 variants, in the JSON), and peak memory: on CPU the peak RSS of the
  process (`ru_maxrss`) at the end of the timed steps minus the RSS just before the first
  step (so it covers activations, gradients and optimiser state, not the libraries), on
  CUDA `torch.cuda.max_memory_allocated` minus the memory allocated before the first step.

Variants: `public` (with `--public-code PATH`, a local checkout of the paper's public code
at 8d7b2fe, imported from PATH, never shipped) is that code's own model, loss and trainer
step; `reference` is `reference_dvae.py` at the public code's layer sizes (the same step,
re-implemented; the run reports reference / public step time and whether it is within 5%);
`reference@text` is the same reference-style code at
vidis's `paper` architecture (equal FLOPs to vidis: the like-for-like comparison); `vidis`
is `dvae` at `--preset` in fp32; `--amp bf16` and `--channels-last` add vidis variants with
those options (and both together when both are given); `--compile` adds `vidis+compile`
(torch.compile of the model's convolution stacks). Each variant run records the machine's
load averages. A variant "helps" only when every
one of its timed steps is faster than every timed step of fp32 vidis (a rank test: with 5
steps each, p ~ 0.004 under no difference); the fastest variant that helps is recommended.
`--rounds R` runs the whole set of variants R times, interleaved, each in a fresh process,
and pools the timed steps (use it on a machine with other load).

Prints a table and appends one JSON line (date, command, machine, torch version, every
number) to benchmarks/results/train_step.jsonl (`--out` to change).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).parent))
from reference_dvae import ReferenceDVAE, ReferenceStep, count_parameters  # noqa: E402
from results_file import append_result  # noqa: E402

from vidis.data import make_dataset  # noqa: E402
from vidis.train.spec import build_model, make_spec  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "train_step.jsonl"


# -- FLOPs of the fused LSTM kernels (FlopCounterMode counts them as 0) --------------------
# Matmul FLOPs only (2 per multiply-add), as the counter does for mm/conv: a layer over
# `tokens` = T * B inputs costs 2 * tokens * (|W_ih| + |W_hh|) forward and twice that
# backward (gradients of inputs and of weights). Elementwise gate math is not counted.
def _numel(shape) -> int:
    return math.prod(shape) if shape is not None else 0


def _tokens(input_shape) -> int:
    return math.prod(input_shape[:-1])  # (T, B, I), (B, T, I) or packed (sum of batch sizes, I)


def _mkldnn_rnn_flop(input_shape, w_ih, w_hh, *args, out_shape=None, **kwargs) -> int:
    return 2 * _tokens(input_shape) * (_numel(w_ih) + _numel(w_hh))


def _mkldnn_rnn_backward_flop(input_shape, w_ih, w_hh, *args, out_shape=None, **kwargs) -> int:
    return 2 * _mkldnn_rnn_flop(input_shape, w_ih, w_hh)


def _cudnn_rnn_flop(input_shape, weights, *args, out_shape=None, **kwargs) -> int:
    return 2 * _tokens(input_shape) * sum(_numel(w) for w in weights if w is not None and len(w) == 2)


def _cudnn_rnn_backward_flop(input_shape, weights, *args, out_shape=None, **kwargs) -> int:
    return 2 * _cudnn_rnn_flop(input_shape, weights)


def rnn_flop_formulas() -> dict:
    formulas = {
        "mkldnn_rnn_layer": _mkldnn_rnn_flop,
        "mkldnn_rnn_layer_backward": _mkldnn_rnn_backward_flop,
        "_cudnn_rnn": _cudnn_rnn_flop,
        "_cudnn_rnn_backward": _cudnn_rnn_backward_flop,
    }
    return {getattr(torch.ops.aten, name): f for name, f in formulas.items() if hasattr(torch.ops.aten, name)}


def count_flops(step) -> tuple[int, dict[str, int]]:
    """FLOPs of one call of `step` (forward + backward), and their split by operator."""
    counter = FlopCounterMode(display=False, custom_mapping=rnn_flop_formulas())
    with counter:
        step()
    by_op = {str(op): int(n) for op, n in counter.get_flop_counts().get("Global", {}).items()}
    return int(counter.get_total_flops()), by_op


# `--compile`: the convolution stacks (BatchNorm and activations fuse around oneDNN's convolutions);
# the LSTMs stay eager.
COMPILED_MODULES = ("content_encoder", "motion_cnn", "frame_decoder")


# -- the public code's own step (imported from a local checkout, never shipped) ------------
# configs/disentangled_simple.json, "training": the values its trainer passes on.
PUBLIC_CONFIG = {"learning_rate": 3e-4, "betas": (0.9, 0.999), "weight_decay": 1e-5, "beta": 0.4,
                 "beta_content": 0.4, "beta_motion": 0.4, "recon_loss_type": "bce",
                 "temporal_weight": 0.05, "independence_weight": 0.02, "gradient_clip": 5.0}


def public_step(path: str, video: torch.Tensor, device: torch.device):
    """The public code's model (`models.DisentangledVAE` with the config's sizes, which are its
    defaults) and the inner loop of its `Trainer.train_epoch` (training/trainer.py:192-218),
    with `models.disentangled_loss` called as `Trainer._compute_loss` calls it (the annealed
    beta only reaches the logged `beta` term; the KL weights are beta_content/beta_motion)."""
    sys.path.insert(0, path)
    import models as public  # noqa: PLC0415  (the public repository's package)

    c = PUBLIC_CONFIG
    model = public.DisentangledVAE(in_channels=video.shape[2], sequence_length=video.shape[1]).to(device)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=c["learning_rate"], betas=c["betas"],
                                 weight_decay=c["weight_decay"])
    epoch_losses: dict[str, float] = {}

    def step(i):
        optimizer.zero_grad()
        output = model(video)
        losses = public.disentangled_loss(
            output, video, beta=c["beta"], beta_content=c["beta_content"], beta_motion=c["beta_motion"],
            recon_loss_type=c["recon_loss_type"], temporal_weight=c["temporal_weight"],
            independence_weight=c["independence_weight"])
        loss = losses["total_loss"]
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), c["gradient_clip"])
        optimizer.step()
        for k, v in losses.items():
            epoch_losses[k] = epoch_losses.get(k, 0.0) + v.item()
        postfix = {"loss": f"{loss.item():.4f}", "recon": f"{losses['recon_loss'].item():.4f}",
                   "kl": f"{losses['kl_loss'].item():.4f}", "beta": f"{c['beta']:.3f}"}
        if "recon_loss_per_pixel" in losses:
            postfix["pix"] = f"{losses['recon_loss_per_pixel'].item():.6f}"
        return postfix

    return model, step


# -- measurements (each in a fresh process) -------------------------------------------------
def _sync(device: torch.device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


def _max_rss_bytes() -> int | None:
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def measure_matmul(cfg: dict) -> dict:
    """Median GFLOP/s of n x n @ n x n torch.mm, fp32 (and bf16 when asked)."""
    torch.set_num_threads(cfg["threads"])
    device = torch.device(cfg["device"])
    n, out = cfg["mm_size"], {"size": cfg["mm_size"]}
    for dtype in (torch.float32, torch.bfloat16) if cfg["amp"] == "bf16" else (torch.float32,):
        a = torch.randn(n, n, device=device, dtype=dtype)
        b = torch.randn(n, n, device=device, dtype=dtype)
        rates = []
        for rep in range(3 + cfg["mm_reps"]):
            _sync(device)
            start = time.perf_counter()
            torch.mm(a, b)
            _sync(device)
            if rep >= 3:  # the first calls warm up the kernels
                rates.append(2 * n**3 / (time.perf_counter() - start) / 1e9)
        out[f"{str(dtype).removeprefix('torch.')}_gflops"] = statistics.median(rates)
    return out


def measure_variant(cfg: dict) -> dict:
    """Time `steps` training steps after `warmup`, count one step's FLOPs, read peak memory."""
    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(0)
    device = torch.device(cfg["device"])
    spec = make_spec("dvae", preset=cfg["preset"])
    data = make_dataset(spec.data, "train", **vars(spec.data_config))
    batch = data.batch(range(cfg["batch"]))
    batch = {"video": batch["video"].to(device),
             "factors": {k: v.to(device) for k, v in batch["factors"].items()}}
    video = batch["video"]
    if cfg["impl"] == "reference":
        model = ReferenceDVAE(cfg["arch"], in_channels=data.video_shape[1], image_size=data.video_shape[2])
        model = model.to(device)
        extras = {} if cfg["arch"] == "code" else {"temporal_weight": 0.0, "independence_weight": 0.0}
        reference_step = ReferenceStep(model, **extras)

        def step(i):
            return reference_step(video)
    elif cfg["impl"] == "public":
        model, step = public_step(cfg["public_code"], video, device)
    else:
        spec.train.amp = cfg["amp"]
        model = build_model(spec, data.video_shape).to(device).train()
        if cfg["channels_last"]:
            model = model.to(memory_format=torch.channels_last)
        optimizers = model.configure_optimizers(spec.train)

        def step(i):
            return model.train_step(batch, i, optimizers, spec.train)

    compiled = cfg.get("compile", False)
    if compiled:  # count FLOPs eagerly first (the counter does not see inside compiled graphs)
        flops, flops_by_op = count_flops(lambda: step(-1))
        for name in COMPILED_MODULES:
            getattr(model, name).compile()
    _sync(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        mem_before = torch.cuda.memory_allocated(device)
    else:
        mem_before = _rss_bytes() or _max_rss_bytes()
    times = []
    for i in range(cfg["warmup"] + cfg["steps"]):
        _sync(device)
        start = time.perf_counter()
        step(i)
        _sync(device)
        times.append(time.perf_counter() - start)
    if device.type == "cuda":
        peak_abs = torch.cuda.max_memory_allocated(device)
    else:
        peak_abs = _max_rss_bytes()
    peak_delta = peak_abs - mem_before if peak_abs is not None and mem_before is not None else None
    if not compiled:
        flops, flops_by_op = count_flops(lambda: step(cfg["warmup"] + cfg["steps"]))
    return {
        "name": cfg["name"],
        "impl": cfg["impl"],
        "arch": cfg.get("arch"),
        "preset": cfg["preset"] if cfg["impl"] == "vidis" else None,
        "load_average": os.getloadavg(),
        "amp": cfg["amp"],
        "channels_last": cfg["channels_last"],
        "compile": compiled,
        "parameters": count_parameters(model),
        "batch": cfg["batch"],
        "step_seconds_warmup": times[: cfg["warmup"]],
        "step_seconds_timed": times[cfg["warmup"]:],
        "flops_per_step": flops,
        "flops_by_op": flops_by_op,
        "peak_memory_bytes": peak_delta,
        "peak_memory_absolute_bytes": peak_abs,
        "memory_measure": ("cuda max_memory_allocated" if device.type == "cuda"
                           else "ru_maxrss - rss before step 0"),
    }


def summarize(runs: list[dict]) -> dict:
    """One variant over all rounds: timed steps pooled, the largest memory peak."""
    timed = [t for run in runs for t in run["step_seconds_timed"]]
    step_s = statistics.median(timed)
    memory = [run["peak_memory_bytes"] for run in runs if run["peak_memory_bytes"] is not None]
    memory_abs = [run["peak_memory_absolute_bytes"] for run in runs
                  if run["peak_memory_absolute_bytes"] is not None]
    out = {k: v for k, v in runs[0].items() if k not in ("step_seconds_warmup", "step_seconds_timed")}
    out.update({
        "rounds": len(runs),
        "step_seconds_median": step_s,
        "step_seconds_min": min(timed),
        "step_seconds_max": max(timed),
        "step_seconds_timed": [run["step_seconds_timed"] for run in runs],
        "step_seconds_warmup": [run["step_seconds_warmup"] for run in runs],
        "load_average": [run["load_average"] for run in runs],
        "clips_per_second": out["batch"] / step_s,
        "achieved_gflops": out["flops_per_step"] / step_s / 1e9,
        "peak_memory_bytes": max(memory) if memory else None,
        "peak_memory_absolute_bytes": max(memory_abs) if memory_abs else None,
    })
    return out


def in_fresh_process(fn, cfg: dict) -> dict:
    with mp.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
        return pool.apply(fn, (cfg,))


# -- reporting --------------------------------------------------------------------------------
def machine_description(device: torch.device) -> dict:
    threads = next((line.split(":")[-1].strip() for line in torch.__config__.parallel_info().splitlines()
                    if "at::get_num_threads()" in line), str(torch.get_num_threads()))
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    desc = {"cpu": cpu, "cpu_count": os.cpu_count(), "platform": platform.platform(), "threads": int(threads),
            "python": platform.python_version()}
    if device.type == "cuda":
        desc["gpu"] = torch.cuda.get_device_name(device)
        desc["tf32_matmul"] = torch.backends.cuda.matmul.allow_tf32
        desc["tf32_cudnn"] = torch.backends.cudnn.allow_tf32
    desc["summary"] = f"{desc.get('gpu', cpu)}, {threads} threads, {platform.system()} {platform.machine()}"
    return desc


def fmt_mb(n):
    return f"{n / 2**20:8.0f}" if n is not None else "       ?"


def variant_configs(args) -> list[dict]:
    base = {"threads": args.threads, "device": args.device, "batch": args.batch, "steps": args.steps,
            "warmup": args.warmup, "preset": args.preset, "amp": "none", "channels_last": False}
    variants = [
        {**base, "name": "reference", "impl": "reference", "arch": "code"},
        {**base, "name": "reference@text", "impl": "reference", "arch": "text"},
        {**base, "name": "vidis", "impl": "vidis"},
    ]
    if args.public_code:
        variants.insert(0, {**base, "name": "public", "impl": "public", "arch": "code",
                            "public_code": str(args.public_code)})
    if args.amp == "bf16":
        variants.append({**base, "name": "vidis+bf16", "impl": "vidis", "amp": "bf16"})
    if args.channels_last:
        variants.append({**base, "name": "vidis+channels_last", "impl": "vidis", "channels_last": True})
    if args.amp == "bf16" and args.channels_last:
        variants.append({**base, "name": "vidis+bf16+channels_last", "impl": "vidis", "amp": "bf16",
                         "channels_last": True})
    if args.compile:
        variants.append({**base, "name": "vidis+compile", "impl": "vidis", "compile": True})
    return variants


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5, help="timed steps per variant (median reported)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every variant this many times (fresh processes, interleaved); "
                             "timed steps are pooled")
    parser.add_argument("--amp", choices=("none", "bf16"), default="none",
                        help="bf16: also time vidis under bf16 autocast")
    parser.add_argument("--channels-last", action="store_true", help="also time vidis in channels-last")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--preset", default="paper", help="dvae preset for the vidis variants")
    parser.add_argument("--mm-size", type=int, default=None,
                        help="matmul size for the peak (2048 CPU, 8192 CUDA)")
    parser.add_argument("--mm-reps", type=int, default=7)
    parser.add_argument("--compile", action="store_true",
                        help="also time vidis with its CNNs under torch.compile (inductor; compiled "
                             "in the warm-up steps, so give --warmup 2 or more)")
    parser.add_argument("--public-code", type=Path, default=None,
                        help="a local checkout of m3hmetkoc/disentangled-VAE (commit 8d7b2fe): also time "
                             "its own step and check the reference against it")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON-lines file to append to")
    args = parser.parse_args(argv)
    if min(args.steps, args.batch, args.threads, args.rounds) < 1 or args.warmup < 0:
        parser.error("--steps, --batch, --threads and --rounds must be >= 1 and --warmup >= 0")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: CUDA is not available")
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    mm_cfg = {"threads": args.threads, "device": args.device, "amp": args.amp, "mm_reps": args.mm_reps,
              "mm_size": args.mm_size or (8192 if device.type == "cuda" else 2048)}

    load_start = os.getloadavg()
    print(f"matmul peak ({mm_cfg['mm_size']}^3, {args.threads} threads) ...", flush=True)
    mm_before = in_fresh_process(measure_matmul, mm_cfg)
    configs = variant_configs(args)
    runs: dict[str, list[dict]] = {cfg["name"]: [] for cfg in configs}
    for rnd in range(args.rounds):  # rounds interleave the variants, spreading load drift over all
        for cfg in configs:
            print(f"{f'round {rnd + 1}/{args.rounds}: ' if args.rounds > 1 else ''}{cfg['name']}: "
                  f"{cfg['warmup']} warm-up + {cfg['steps']} timed steps ...", flush=True)
            runs[cfg["name"]].append(in_fresh_process(measure_variant, cfg))
    results = [summarize(runs[cfg["name"]]) for cfg in configs]
    mm_after = in_fresh_process(measure_matmul, mm_cfg)
    peak = max(mm_before["float32_gflops"], mm_after["float32_gflops"])
    peak_bf16 = max(mm_before.get("bfloat16_gflops", 0.0), mm_after.get("bfloat16_gflops", 0.0)) or None
    by_name = {r["name"]: r for r in results}
    vidis, ref, ref_text = by_name["vidis"], by_name["reference"], by_name["reference@text"]
    for r in results:
        r["fraction_of_fp32_matmul_peak"] = r["achieved_gflops"] / peak
        if peak_bf16 and r["amp"] == "bf16":
            r["fraction_of_bf16_matmul_peak"] = r["achieved_gflops"] / peak_bf16
        r["speedup_vs_reference"] = ref["step_seconds_median"] / r["step_seconds_median"]
        r["speedup_vs_reference_text"] = ref_text["step_seconds_median"] / r["step_seconds_median"]
        if r["impl"] == "vidis" and r is not vidis:
            r["speedup_vs_vidis_fp32"] = vidis["step_seconds_median"] / r["step_seconds_median"]
            r["helps"] = r["step_seconds_max"] < vidis["step_seconds_min"]
    public = by_name.get("public")
    if public:
        for r in results:
            r["speedup_vs_public"] = public["step_seconds_median"] / r["step_seconds_median"]
    helping = [r for r in results if r.get("helps")]
    recommendation = min(helping, key=lambda r: r["step_seconds_median"])["name"] if helping else "vidis"

    machine = machine_description(device)
    record = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if argv is None else " ".join(argv),
        "machine": machine,
        "torch": torch.__version__,
        "device": args.device,
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "matmul_peak_fp32_gflops": peak,
        "matmul_peak_bf16_gflops": peak_bf16,
        "matmul_before": mm_before,
        "matmul_after": mm_after,
        "variants": results,
        "speedup_reference_over_vidis": ref["step_seconds_median"] / vidis["step_seconds_median"],
        "speedup_reference_text_over_vidis": ref_text["step_seconds_median"] / vidis["step_seconds_median"],
        "recommendation": recommendation,
        "load_average_start": load_start,
        "load_average_end": os.getloadavg(),
    }
    if public:
        ratio = public["step_seconds_median"] / ref["step_seconds_median"]
        record.update({
            "speedup_public_over_vidis": public["step_seconds_median"] / vidis["step_seconds_median"],
            "reference_over_public_time": ref["step_seconds_median"] / public["step_seconds_median"],
            "reference_within_5pct_of_public": abs(1 / ratio - 1) <= 0.05,
            "public_parameters_equal_reference": public["parameters"] == ref["parameters"],
        })

    print()
    print(f"{machine['summary']}; torch {torch.__version__}; batch {args.batch}, "
          f"median of {args.rounds} x {args.steps} steps, each run after {args.warmup} warm-up")
    print(f"fp32 matmul peak: {peak:.1f} GFLOP/s (before {mm_before['float32_gflops']:.1f}, "
          f"after {mm_after['float32_gflops']:.1f})"
          + (f"; bf16 {peak_bf16:.1f} GFLOP/s" if peak_bf16 else ""))
    mem_label = "peak MB" if device.type == "cuda" else "RSS+ MB"
    header = (f"{'variant':<25}{'params':>11}{'s/step':>8}{'min-max':>14}{'clips/s':>9}{'GFLOP/step':>11}"
              f"{'GFLOP/s':>9}{'% peak':>8}{mem_label:>9}{'vs ref':>8}")
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r['name']:<25}{r['parameters']:>11,}{r['step_seconds_median']:>8.3f}"
              f"{r['step_seconds_min']:>7.2f}-{r['step_seconds_max']:<6.2f}{r['clips_per_second']:>9.1f}"
              f"{r['flops_per_step'] / 1e9:>11.1f}{r['achieved_gflops']:>9.1f}"
              f"{100 * r['fraction_of_fp32_matmul_peak']:>7.0f}%{fmt_mb(r['peak_memory_bytes']):>9}"
              f"{r['speedup_vs_reference']:>7.2f}x")
    print()
    print(f"speedup reference / vidis      : {record['speedup_reference_over_vidis']:.2f}x "
          f"(public code's sizes: {ref['flops_per_step'] / 1e9:.1f} "
          f"vs {vidis['flops_per_step'] / 1e9:.1f} GFLOP/step)")
    print(f"speedup reference@text / vidis : {record['speedup_reference_text_over_vidis']:.2f}x "
          f"(same architecture and FLOPs: the implementation alone)")
    if public:
        print(f"speedup public / vidis         : {record['speedup_public_over_vidis']:.2f}x "
              f"(the public code's own step)")
        print(f"reference / public step time   : {record['reference_over_public_time']:.3f} "
              f"({'within' if record['reference_within_5pct_of_public'] else 'NOT within'} 5%; parameters "
              f"{'equal' if record['public_parameters_equal_reference'] else 'DIFFER'})")
    print(f"load average (1, 5, 15 min): start {tuple(round(x, 2) for x in load_start)}, "
          f"end {tuple(round(x, 2) for x in record['load_average_end'])}")
    for r in results:
        if "helps" in r:
            verdict = "helps" if r["helps"] else "no measurable gain"
            print(f"{r['name']:<31}: {r['speedup_vs_vidis_fp32']:.2f}x vs fp32 vidis -> {verdict}")
    print(f"recommendation: {recommendation}")
    append_result(args.out, record)
    return record


if __name__ == "__main__":
    main()

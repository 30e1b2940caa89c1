"""Training-step benchmark of paper 002's `factored_vae` and `slow_vae` beside a reference-style step.

    PYTHONPATH=src python benchmarks/bench_paper002.py [--batch 64] [--frames 16] [--steps 5]
        [--warmup 2] [--threads 2] [--preset paper] [--device cpu|cuda] [--out FILE]

For each model, in this process and on the same clips (Bouncing MNIST, one digit), the median
wall time of `--steps` training steps after `--warmup` (forward, loss, backward, Adam step; on
CUDA with a synchronise before each timer read) of:

- `vidis`: the model's own `train_step` through `vidis.train.optim.optimizer_step`;
- `reference`: the same network (the same modules, so the same convolutions) with the loss
  written the way the public code (wgrathwohl/DeepLearningRefuse, `vhvae.py`) writes it: the
  static term's cross sum as a Python loop over frames (`Ex_log_p_s`), the temporal KL of
  its `D_kl_t`, and one host read (`.item()`) of each logged term per step, as its training
  loop prints them. (The code's temporal KL is not the paper's eq. 15; the reference keeps it
  because the benchmark times the code's way of computing, not its value.)

Reports clips per second and the ratio reference / vidis per model, prints a table and appends
one JSON line (date, command, machine, load averages, torch version, every number) to
benchmarks/results/paper002_step.jsonl. Numbers on a shared machine move with its load: read
the load averages beside them.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch
import torch.nn.functional as F
from results_file import append_result  # noqa: E402

from vidis.data import make_dataset
from vidis.models.factored_vae import LOG_2PI, static_log_normaliser
from vidis.nn import reparameterize
from vidis.train.optim import as_optim
from vidis.train.spec import build_model, make_spec

RESULTS = Path(__file__).parent / "results" / "paper002_step.jsonl"


def code_static_kl(mu, log_var, sigma_s2):
    """vhvae.py's D_kl_s, written as it is there: entropy minus Ex_log_p_s with a frame loop."""
    B, N, Fdim = mu.shape
    entropy = (-0.5 * Fdim * LOG_2PI - 0.5 * (1 + log_var).sum(2)).sum()
    sum_sq = (mu.pow(2) + (log_var + 1e-10).exp()).sum(1)  # (B, F)
    mean_sum = 0.0
    for i in range(N - 1):
        mean_sum = mean_sum + mu[:, i] * mu[:, i + 1 :].sum(1)
    ex_sq_hat = sum_sq / N
    ex_hat_sq = (sum_sq + 2 * mean_sum) / N**2
    integral = (ex_sq_hat - ex_hat_sq) / (sigma_s2 / N) + ex_hat_sq / (sigma_s2 / N + 1)
    log_p = (static_log_normaliser(N, sigma_s2) - 0.5 * integral).sum()  # log C per feature
    return entropy - log_p


def code_temporal_kl(mu, log_var, sigma_t2, eps=1e-10):
    """vhvae.py's D_kl_t: the first frame and each difference as independent Gaussians."""
    mu_q = torch.cat([mu[:, :1], mu[:, 1:] - mu[:, :-1]], 1)
    var = log_var.exp()
    var_q = torch.cat([var[:, :1], var[:, 1:] + var[:, :-1]], 1)
    var_p = torch.cat([torch.ones_like(var[:, :1]), sigma_t2 * torch.ones_like(var[:, 1:])], 1)
    kl = 0.5 * ((var_p + eps).log() - (var_q + eps).log()) + (var_q + mu_q.pow(2)) / (2 * var_p) - 0.5
    return kl.sum()


def reference_step(model, optimizer, video):
    """One step the public code's way (see the module doc)."""
    B, T = video.shape[:2]
    c = model.config
    optimizer.zero_grad()
    mean, log_var = model.posterior(video)
    h = reparameterize(mean, log_var, sample=True)
    logits = model.decode_logits(h)
    nll = F.binary_cross_entropy_with_logits(logits, video, reduction="sum")
    if model.name == "factored_vae":
        Fs = c.static_dim
        kl = code_static_kl(mean[..., :Fs], log_var[..., :Fs], c.sigma_s2)
        kl = kl + code_temporal_kl(mean[..., Fs:], log_var[..., Fs:], c.sigma_t2)
    else:
        kl = code_temporal_kl(mean, log_var, c.sigma_t2)
    loss = (nll + c.beta * kl) / (B * T)
    loss.backward()
    optimizer.step()
    return {"loss": loss.item(), "log_p_x": -nll.item() / (B * T), "kl": kl.item()}


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(step, steps: int, warmup: int, device) -> list[float]:
    times = []
    for i in range(warmup + steps):
        _sync(device)
        start = time.perf_counter()
        step(i)
        _sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return times


def measure(name: str, args, video, device) -> dict:
    spec = make_spec(name, preset=args.preset)
    out = {}
    for variant in ("vidis", "reference"):
        torch.manual_seed(0)
        model = build_model(spec, tuple(video.shape[1:])).to(device).train()
        optim = as_optim(next(iter(model.configure_optimizers(spec.train).values())))
        if variant == "vidis":
            batch = {"video": video, "factors": {}}

            def step(i, model=model, optim=optim, batch=batch):
                terms = model.train_step(batch, i, {"main": optim}, spec.train)
                return {k: float(v) for k, v in terms.items()}  # the trainer reads them back too
        else:

            def step(i, model=model, optim=optim):
                return reference_step(model, optim.optimizer, video)

        times = time_steps(step, args.steps, args.warmup, device)
        median = statistics.median(times)
        out[variant] = {"median_s": median, "times_s": times, "clips_per_s": video.shape[0] / median}
    out["reference_over_vidis"] = out["reference"]["median_s"] / out["vidis"]["median_s"]
    out["parameters"] = sum(p.numel() for p in model.parameters())
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64, help="clips per step (paper: 64)")
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--preset", default="paper", help="the models' preset (network widths)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    data = make_dataset("moving_mnist", "train", 0, num_digits=1, num_frames=args.frames)
    video = data.batch(range(args.batch))["video"].to(device)  # (B, T, 1, 64, 64)
    load_before = os.getloadavg()
    results = {name: measure(name, args, video, device) for name in ("factored_vae", "slow_vae")}
    record = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]),
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpus": os.cpu_count(), "threads": args.threads, "device": str(device)},
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "torch": torch.__version__,
        "options": vars(args),
        "results": results,
    }
    header = f"{'model':<14}{'vidis s/step':>14}{'reference s/step':>18}{'ref / vidis':>13}"
    print(header + f"{'vidis clips/s':>15}")
    for name, r in results.items():
        print(f"{name:<14}{r['vidis']['median_s']:>14.3f}{r['reference']['median_s']:>18.3f}"
              f"{r['reference_over_vidis']:>13.2f}{r['vidis']['clips_per_s']:>15.1f}")
    print(f"load averages before/after: {load_before} / {record['load_average_after']}")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        append_result(args.out, record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

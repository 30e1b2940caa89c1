"""Disentanglement from latents and swaps: paper 000's Table 2 (../shared/papers/000_*.txt, 4.3).

Every score that stands beside a number of paper 000 is computed as the paper's public code
(github.com/m3hmetkoc/disentangled-VAE, commit 8d7b2fe, `evaluation/disentanglement.py`, run by
`evaluation_2.py` on 1,000 test clips) computed it; where vidis's own definition differs, it has
its own key. `paper000_scores` returns:

- Content / Motion / Overall Disentanglement (code: `prediction_accuracy`): linear probes
  (`vidis.eval.probes.prediction_disentanglement`, 80/20 split, 200 test clips at 1,000 clips)
  of the content label (class of digit 0) and the motion label from each latent, each latent
  flattened per clip ((N, T, D) -> (N, T*D)). Each accuracy has its standard error `*_se`.
  The code's motion label is the direction of digit 0's initial velocity in 8 bins
  (`extract_labels`: int((atan2(vy, vx) + pi) / (2 pi) * 8) % 8, before any bounce); a dataset
  that declares it as `direction_code` gets it for these rows, and the rows with the caller's
  `motion_label` (default "direction") are added with the suffix `_vidis_label` where the two
  differ.
- Mean Abs. Correlation (code: `correlation_metrics`): mean |Pearson| between every content and
  every motion dimension over the clips; undefined (None) when a dimension is constant, as the
  code's `np.corrcoef` gives NaN there. Per-frame latents (N, T, D) are averaged over T first
  (the code's latents are per clip).
- Swaps (code: `swap_success_rate`, num_pairs=100): clip A = test clip 2i, clip B = clip 2i+1,
  for the first min(100, N // 2) pairs (`swap_pairs_code`).
  * Content Preservation (Swap) is `1 - mean |mean_t A - mean_t swap|` over pixels and pairs: a
    comparison of time-averaged frames, not a classifier. We name it `average_frame_similarity`.
    Moving MNIST frames are mostly black, so it is near 1 for almost any output; the all-black
    output's and a copy of B's values are reported beside it (`_black`, `_copy_b`).
  * Motion Correlation: ONE Pearson correlation over all pairs and frames pooled, between the
    per-frame mean absolute frame difference mean |B_{t+1} - B_t| (B's (T-1,) sequence) and that
    of the swap; None (undefined) when either is constant, e.g. a static output.
  * Overall Swap Quality: (average_frame_similarity + max(0, motion_correlation)) / 2, an
    undefined correlation counting as 0 there (the code's `max(0, nan)` is 0). Table 2 marks
    Motion Correlation "lower is better", yet this sum treats it as higher-is-better.
- vidis's own swap scores use every clip: clip i (A) with clip (i + N//2) % N (B), which pairs
  every clip once with an unrelated one. `motion_correlation_per_pair` is vidis's definition:
  the mean over pairs of one Pearson correlation per pair (pairs where it is undefined are left
  out and counted in `motion_correlation_per_pair_undefined`).

With a judge (vidis.eval.judge), those N swaps are also scored by the judge protocol (`judge_*`,
on `judge_num_swaps` swaps), and the judge's own scores on the real clips are reported as
`judge_real_*` for reference, with the judge's file and own accuracy (`judge_file`,
`judge_accuracy`).
"""

from __future__ import annotations

import math

import torch

from ..errors import VidisError
from ..metrics.stats import mean_abs_cross_correlation, pearson
from ..types import Latents
from .judge_scores import judge_swaps
from .probes import prediction_disentanglement

__all__ = [
    "CODE_MOTION_LABEL",
    "CODE_SWAP_PAIRS",
    "average_frame_similarity",
    "code_mean_abs_correlation",
    "code_swap_pairs",
    "collect_latents",
    "motion_energy",
    "paper000_scores",
    "pooled_motion_correlation",
    "swap_partner",
]

CODE_MOTION_LABEL = "direction_code"  # the public code's motion label, where a dataset declares it
CODE_SWAP_PAIRS = 100  # swap_success_rate(num_pairs=100) in the public code


@torch.no_grad()
def collect_latents(model, dataset, num_clips: int = 1000, batch_size: int = 50, device="cpu"):
    """Encode the first `num_clips` clips of `dataset` (all if fewer).

    Returns (content (N, Dc) or (N, T, Dc), motion (N, Dm) or (N, T, Dm), factors {name: (N,)
    or (N, T) LongTensor}), all on the CPU.
    """
    model.eval()
    n = min(num_clips, len(dataset))
    parts: list[Latents] = []
    factors: dict[str, list[torch.Tensor]] = {}
    for start in range(0, n, batch_size):
        batch = dataset.batch(range(start, min(n, start + batch_size)))
        latents = model.encode(batch["video"].to(device))
        parts.append(Latents(latents.content.float().cpu(), latents.motion.float().cpu()))
        for name, labels in batch["factors"].items():
            factors.setdefault(name, []).append(labels)
    latents = Latents.cat(parts)
    return latents.content, latents.motion, {k: torch.cat(v) for k, v in factors.items()}


def swap_partner(num_clips: int) -> torch.Tensor:
    """Index of clip B (motion source) for each clip A = i: (i + N//2) % N, shape (N,)."""
    return (torch.arange(num_clips) + num_clips // 2) % num_clips


def code_swap_pairs(num_clips: int, num_pairs: int = CODE_SWAP_PAIRS) -> tuple[torch.Tensor, torch.Tensor]:
    """The public code's swap pairs: A = clips 0, 2, 4, ..., B = clips 1, 3, 5, ... of the first
    2 * min(num_pairs, num_clips // 2) clips. Returns (index_a, index_b), each (P,)."""
    pairs = min(num_pairs, num_clips // 2)
    return torch.arange(0, 2 * pairs, 2), torch.arange(1, 2 * pairs, 2)


def average_frame_similarity(video_a: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
    """1 - mean over pixels of |mean_t A - mean_t output|, per clip: (B,) from (B, T, C, H, W).

    Paper 000's "content preservation". Near 1 for almost any output on mostly black frames.
    """
    diff = (video_a.float().mean(1) - output.float().mean(1)).abs()  # (B, C, H, W)
    return 1 - diff.flatten(1).mean(1)


def motion_energy(video: torch.Tensor) -> torch.Tensor:
    """Per-frame mean absolute frame difference mean |x_{t+1} - x_t|: (B, T-1) from (B, T, C, H, W)."""
    return (video[:, 1:].float() - video[:, :-1].float()).abs().flatten(2).mean(2)


def pooled_motion_correlation(energy_b: torch.Tensor, energy_swap: torch.Tensor) -> float | None:
    """Paper 000's code's motion correlation: one Pearson correlation of all pairs and frames.

    energy_b, energy_swap: (P, T-1) motion energies of clips B and of the swaps. Returns None
    where it is undefined (either side constant, e.g. a static output).
    """
    value = pearson(energy_b.flatten(), energy_swap.flatten())
    return None if math.isnan(value) else value


def code_mean_abs_correlation(content: torch.Tensor, motion: torch.Tensor) -> float | None:
    """Mean |Pearson| over every (content, motion) dimension pair, (N, Dc) and (N, Dm) latents;
    None (undefined) when a dimension is constant, where the public code's np.corrcoef is NaN."""
    if any(bool((x.max(0).values == x.min(0).values).any()) for x in (content, motion)):
        return None
    return mean_abs_cross_correlation(content, motion)


def _flat(latent: torch.Tensor) -> torch.Tensor:
    return latent.reshape(len(latent), -1)  # (N, T, D) -> (N, T*D)


def _per_clip(latent: torch.Tensor) -> torch.Tensor:
    return latent.mean(1) if latent.dim() == 3 else latent  # (N, T, D) -> (N, D)


def _swap(model, dataset, index_a: torch.Tensor, index_b: torch.Tensor, device):
    """(A, B, swap) videos on the CPU, each (P, T, C, H, W)."""
    video_a = dataset.batch(index_a.tolist())["video"]
    video_b = dataset.batch(index_b.tolist())["video"]
    swap = model.swap(video_a.to(device), video_b.to(device)).float().clamp(0, 1).cpu()
    return video_a, video_b, swap


@torch.no_grad()
def _code_swap_scores(model, dataset, num_clips: int, batch_size: int, device) -> dict:
    """The public code's `swap_success_rate` on its pairs (see the module docstring)."""
    index_a, index_b = code_swap_pairs(num_clips)
    totals = {"afs": 0.0, "black": 0.0, "copy_b": 0.0}
    energy_b, energy_swap = [], []
    for start in range(0, len(index_a), batch_size):
        a, b = index_a[start : start + batch_size], index_b[start : start + batch_size]
        video_a, video_b, swap = _swap(model, dataset, a, b, device)
        totals["afs"] += float(average_frame_similarity(video_a, swap).sum())
        totals["black"] += float(average_frame_similarity(video_a, torch.zeros_like(video_a)).sum())
        totals["copy_b"] += float(average_frame_similarity(video_a, video_b).sum())
        energy_b.append(motion_energy(video_b))  # (P, T-1)
        energy_swap.append(motion_energy(swap))
    pairs = len(index_a)
    correlation = pooled_motion_correlation(torch.cat(energy_b), torch.cat(energy_swap))
    similarity = totals["afs"] / pairs
    return {
        "swap_pairs_code": pairs,
        "average_frame_similarity": similarity,
        "average_frame_similarity_black": totals["black"] / pairs,
        "average_frame_similarity_copy_b": totals["copy_b"] / pairs,
        "motion_correlation": correlation,
        "overall_swap_quality": (similarity + max(0.0, correlation or 0.0)) / 2,
    }


def _motion_labels(dataset, motion_label: str, content_label: str) -> tuple[str, str | None]:
    """(label for the rows beside the paper, vidis's own label where it differs, else None)."""
    names = {f.name for f in dataset.factors}
    missing = {content_label, motion_label} - names
    if missing:
        raise VidisError(
            f"paper 000's scores need the dataset factors {sorted(missing)}; "
            f"this dataset declares {sorted(names)}"
        )
    if CODE_MOTION_LABEL in names and CODE_MOTION_LABEL != motion_label:
        return CODE_MOTION_LABEL, motion_label
    return motion_label, None


def _judge_file(judge) -> str | None:
    path = getattr(judge, "path", None) or getattr(judge, "report", {}).get("path")
    return None if path is None else str(path)


@torch.no_grad()
def paper000_scores(
    model,
    dataset,
    num_clips: int = 1000,
    batch_size: int = 50,
    seed: int = 0,
    device="cpu",
    judge=None,
    motion_label: str = "direction",
    content_label: str = "digit0",
) -> dict:
    """Paper 000's Table 2 on the first `num_clips` clips of `dataset` (see the module docstring).

    Keys: num_clips; motion_label (the label of the rows beside the paper: the code's
    `direction_code` where the dataset declares it, else `motion_label`) and, where vidis's
    label differs, motion_label_vidis with the motion rows again suffixed `_vidis_label`;
    content_disentanglement, motion_disentanglement, overall_disentanglement (and the four probe
    accuracies behind them with their standard errors `*_se`, probe_test_clips),
    mean_abs_correlation (None: undefined); for models that can swap: swap_pairs_code,
    average_frame_similarity (+ _black, _copy_b), motion_correlation (None: undefined),
    overall_swap_quality, motion_correlation_per_pair (+ _undefined); with a `judge`: judge_*
    (see `judge_swaps`; its judge_fd keeps its name), judge_num_swaps, judge_file,
    judge_accuracy, judge_real_* (the judge on the real clips A: its ceiling) and judge_recon_*
    (on the model's reconstructions of A: the most a swap can show).
    """
    paper_label, vidis_label = _motion_labels(dataset, motion_label, content_label)
    model.eval()
    content, motion, factors = collect_latents(model, dataset, num_clips, batch_size, device)
    n = len(content)
    if n < 2:
        raise VidisError(f"paper000_scores needs at least 2 clips, got {n}")
    scores: dict = {"num_clips": n, "motion_label": paper_label}
    scores.update(
        prediction_disentanglement(
            _flat(content), _flat(motion), factors[content_label], factors[paper_label], seed=seed
        )
    )
    if vidis_label is not None:
        scores["motion_label_vidis"] = vidis_label
        own = prediction_disentanglement(
            _flat(content), _flat(motion), factors[content_label], factors[vidis_label], seed=seed
        )
        for key in (
            "motion_from_motion",
            "motion_from_content",
            "motion_disentanglement",
            "overall_disentanglement",
        ):
            scores[f"{key}_vidis_label"] = own[key]
            if f"{key}_se" in own:
                scores[f"{key}_se_vidis_label"] = own[f"{key}_se"]
    scores["mean_abs_correlation"] = code_mean_abs_correlation(_per_clip(content), _per_clip(motion))
    if "swap" not in getattr(model, "capabilities", ()):
        return scores

    scores.update(_code_swap_scores(model, dataset, n, batch_size, device))
    partner = swap_partner(n)
    per_pair, undefined = [], 0
    swaps, reals, recons = [], [], []
    for start in range(0, n, batch_size):
        index_a = torch.arange(start, min(n, start + batch_size))
        video_a, video_b, swap = _swap(model, dataset, index_a, partner[index_a], device)
        for eb, es in zip(motion_energy(video_b), motion_energy(swap)):  # (T-1,) each
            value = pearson(eb, es)
            undefined += math.isnan(value)
            per_pair += [] if math.isnan(value) else [value]
        if judge is not None:
            swaps.append(swap.half())  # (B, T, C, H, W); half precision keeps 1,000 clips small
            reals.append(video_a.half())
            if "reconstruct" in model.capabilities:
                recons.append(model.reconstruct(video_a.to(device)).float().clamp(0, 1).cpu().half())
    scores["motion_correlation_per_pair"] = sum(per_pair) / len(per_pair) if per_pair else None
    scores["motion_correlation_per_pair_undefined"] = undefined

    if judge is not None:
        swaps, reals = torch.cat(swaps), torch.cat(reals)
        content_factors = factors  # clip i is A
        motion_factors = {k: v[partner] for k, v in factors.items()}  # B = partner of i
        for key, value in judge_swaps(
            judge, swaps, content_factors, motion_factors, reals, batch_size
        ).items():
            scores[key if key.startswith("judge_") else f"judge_{key}"] = value  # judge_fd stays
        # The judge on real clips is its ceiling; on the model's reconstructions, the model's own
        # ceiling: a swap cannot show digits more legibly than the model reconstructs them.
        ceilings = {"judge_real_": reals}
        if recons:
            ceilings["judge_recon_"] = torch.cat(recons)
        for prefix, videos in ceilings.items():
            ceiling = judge_swaps(judge, videos, factors, factors, None, batch_size, with_judge_info=False)
            for key, value in ceiling.items():
                if key not in ("content_from_motion_source", "motion_from_content_source"):
                    scores[prefix + key] = value
        scores["judge_num_swaps"] = n
        scores.setdefault("judge_file", _judge_file(judge))
        scores.setdefault("judge_accuracy", dict(getattr(judge, "report", {}).get("factor_accuracy", {})))
    return scores

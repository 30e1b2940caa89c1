"""Ground-truth swaps: a model's swaps scored against the true answer (shared/DESIGN.md, Evaluation).

A procedural dataset knows how each clip was made, so it can render the true answer to a
content/motion swap: clip A's static generator state (Moving MNIST: its digit images) drawn
with clip B's whole dynamic state (B's trajectories) by the dataset's own renderer
(`VideoDataset.render_swap`). Dona et al. (ICLR 2021, PDE-driven spatiotemporal
disentanglement) score their model this way on Moving MNIST; vidis does it for every model.

Pairs: A = clip i gives the content, B = clip (i + N//2) % N the motion, for the first N clips
(`swap_partner`, the pairing of paper 000's swap scores, so the tables line up).

Score of a prediction P of the swap of (A, B), per clip:

    MSE(P) = min over orderings o of mean_{t,c,h,w} (P - S_o)^2,     S_o = render_swap(A, B, o)
    SSIM(P) = mean_t SSIM(P_t, S_o*_t) at the ordering o* that minimises the MSE

where the orderings are the dataset's `swap_assignments()` (Moving MNIST: the K! ways A's K
digits can ride B's K trajectories; which digit should follow which path is not defined by a
swap, so the best is kept, as Dona et al. do) and SSIM is `vidis.metrics.ssim` (11x11
Gaussian window). Four predictions are scored on the same pairs:

- swap: the model's swap `model.swap(A, B)` (clamped to [0, 1]);
- copy_b: B itself (a "swap" that ignores A's content);
- copy_a: A itself (a "swap" that ignores B's motion);
- recon: the model's reconstruction of the true swap S_identity: the most a swap can reach
  with this model's decoder (only for models that can reconstruct).

Each is reported as the mean over clips and its standard error (sample std / sqrt(N)).
"""

from __future__ import annotations

import math

import torch

from ..errors import CapabilityError, DataError
from ..metrics import ssim
from .disentanglement import swap_partner

__all__ = ["ground_truth_swap_scores", "render_true_swaps", "score_against_truth", "true_swaps"]

SOURCES = ("swap", "copy_b", "copy_a", "recon")


def _require_swaps(dataset):
    if not getattr(dataset, "can_render_swaps", False):
        name = getattr(dataset, "name", type(dataset).__name__)
        raise CapabilityError(
            f"dataset {name!r} cannot render ground-truth swaps; they need a procedural dataset "
            "such as moving_mnist"
        )


def render_true_swaps(dataset, index_a, index_b) -> torch.Tensor:
    """Every ordering's true swap of the pairs (index_a[i], index_b[i]): (N, O, T, C, H, W).

    O = len(dataset.swap_assignments()); ordering 0 is the identity.
    """
    _require_swaps(dataset)
    orderings = dataset.swap_assignments()
    return torch.stack(
        [
            torch.stack([dataset.render_swap(int(a), int(b), order) for order in orderings])
            for a, b in zip(index_a, index_b)
        ]
    )


def score_against_truth(prediction: torch.Tensor, truths: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-clip MSE at the best ordering and SSIM at that same ordering.

    prediction: (B, T, C, H, W); truths: (B, O, T, C, H, W). Returns {"mse": (B,), "ssim": (B,),
    "ordering": (B,) index of the best ordering (the first on a tie)}, float64 scores.
    """
    prediction = prediction.float()
    error = (prediction.unsqueeze(1) - truths.float()).pow(2).flatten(2).double().mean(2)  # (B, O)
    mse, ordering = error.min(1)  # (B,), (B,)
    best = truths[torch.arange(len(truths), device=truths.device), ordering]  # (B, T, C, H, W)
    return {"mse": mse, "ssim": ssim(prediction, best).mean(1), "ordering": ordering}


def _mean_and_se(values: torch.Tensor) -> tuple[float, float]:
    n = len(values)
    se = float(values.std(unbiased=True)) / math.sqrt(n) if n > 1 else float("nan")
    return float(values.mean()), se


@torch.no_grad()
def ground_truth_swap_scores(
    model, dataset, num_clips: int = 1000, batch_size: int = 50, device="cpu"
) -> dict[str, float]:
    """Swaps of the first `num_clips` clips of `dataset` scored against the true swaps.

    Keys (see the module docstring): {source}_mse, {source}_mse_se, {source}_ssim,
    {source}_ssim_se for source in swap, copy_b, copy_a and (models that can reconstruct)
    recon; swap_identity_ordering (fraction of clips whose best ordering is the identity:
    A's digit k on B's trajectory k); num_clips; num_orderings.
    """
    _require_swaps(dataset)
    if "swap" not in getattr(model, "capabilities", ()):
        raise CapabilityError(f"{getattr(model, 'name', type(model).__name__)} cannot swap")
    n = min(int(num_clips), len(dataset))
    if n < 2:
        raise DataError(f"ground-truth swaps need at least 2 clips (pairs of distinct clips), got {n}")
    if batch_size < 1:
        raise DataError(f"batch_size must be >= 1, got {batch_size}")
    if hasattr(model, "eval"):
        model.eval()
    sources = SOURCES if "reconstruct" in model.capabilities else SOURCES[:3]
    partner = swap_partner(n)
    parts: dict[str, list[torch.Tensor]] = {f"{s}_{m}": [] for s in sources for m in ("mse", "ssim")}
    identity = []
    for start in range(0, n, batch_size):
        index_a = torch.arange(start, min(n, start + batch_size))
        index_b = partner[index_a]
        video_a = dataset.batch(index_a.tolist())["video"]  # (B, T, C, H, W)
        video_b = dataset.batch(index_b.tolist())["video"]
        truths = render_true_swaps(dataset, index_a.tolist(), index_b.tolist())  # (B, O, T, C, H, W)
        truths, video_a, video_b = truths.to(device), video_a.to(device), video_b.to(device)
        # scored where the model runs: float64 SSIM of 4 sources is most of this on a CPU
        predictions = {
            "swap": model.swap(video_a, video_b).float().clamp(0, 1),
            "copy_b": video_b,
            "copy_a": video_a,
        }
        if "recon" in sources:
            predictions["recon"] = model.reconstruct(truths[:, 0]).float().clamp(0, 1)
        for source, prediction in predictions.items():
            scores = score_against_truth(prediction, truths)
            parts[f"{source}_mse"].append(scores["mse"].cpu())
            parts[f"{source}_ssim"].append(scores["ssim"].cpu())
            if source == "swap":
                identity.append(scores["ordering"].cpu() == 0)
    out: dict[str, float] = {"num_clips": n, "num_orderings": len(dataset.swap_assignments())}
    for key, values in parts.items():
        out[key], out[f"{key}_se"] = _mean_and_se(torch.cat(values))
    out["swap_identity_ordering"] = float(torch.cat(identity).double().mean())
    return out


@torch.no_grad()
def true_swaps(dataset, index_a, index_b, prediction: torch.Tensor | None = None) -> torch.Tensor:
    """The true swaps of pairs (index_a[i], index_b[i]), for figures: (N, T, C, H, W).

    With `prediction` (N, T, C, H, W), e.g. the model's swaps, each pair's true swap is shown in
    the ordering the scores pick (closest in MSE to the prediction); else in the identity one.
    """
    truths = render_true_swaps(dataset, index_a, index_b)  # (N, O, T, C, H, W)
    if prediction is None:
        return truths[:, 0]
    ordering = score_against_truth(prediction.float().cpu(), truths)["ordering"]
    return truths[torch.arange(len(truths)), ordering]

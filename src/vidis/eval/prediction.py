"""The prediction protocol: best-of-N and mean-of-N of sampled futures, streamed in chunks.

A prediction model (capability "predict", e.g. SVG-LP and DR-SVG, papers 003 and 004) sees
the first `context_frames` of a clip and samples N futures of `horizon` frames
(`VideoModel.predict_chunks`). Each sample is scored against the true future per frame
(MSE, and SSIM with an 11x11 Gaussian window, `vidis.metrics`):

- best-of-N, per clip: the sample with the highest clip-mean SSIM (for SSIM) and the one with
  the lowest clip-mean MSE (for MSE), and that sample's per-frame curve; this is how
  stochastic video prediction is usually reported (e.g. SVG's "best of 100 samples"), since
  the ground truth is one of many plausible futures;
- mean-of-N: the average over the N samples, per clip and per frame.

Samples arrive in chunks and only running per-clip results are kept (best score, its
per-frame curve, running sums), never all N samples: memory is O(chunk) whatever N. Ties keep
the earliest sample, as an argmax over all N would. The horizon may be longer than the
clips the model was trained on: build the evaluation clips long enough with
`prediction_test_set(run_dir, num_frames=context + horizon)`.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from ..errors import DataError, VidisError
from ..metrics import mse, ssim

PER_FRAME = ("best_ssim", "best_mse", "mean_ssim", "mean_mse")


class BestOfN:
    """Running best-of-N and mean-of-N of sample chunks against one batch of true futures.

    future: (B, T, C, H, W). `update(chunk)` takes samples (n, B, T, C, H, W); `compute()`
    returns per clip (B,) and per frame (B, T) values (float64, on the CPU).
    """

    def __init__(self, future: torch.Tensor):
        self.future = future
        B, T = future.shape[:2]
        self.count = 0
        self.best_ssim_score = torch.full((B,), -torch.inf, dtype=torch.float64)
        self.best_ssim_frames = torch.zeros(B, T, dtype=torch.float64)
        self.best_ssim_index = torch.zeros(B, dtype=torch.long)
        self.best_mse_score = torch.full((B,), torch.inf, dtype=torch.float64)
        self.best_mse_frames = torch.zeros(B, T, dtype=torch.float64)
        self.best_mse_index = torch.zeros(B, dtype=torch.long)
        self.sum_ssim = torch.zeros(B, T, dtype=torch.float64)
        self.sum_mse = torch.zeros(B, T, dtype=torch.float64)

    def update(self, chunk: torch.Tensor):
        if chunk.dim() != 6 or chunk.shape[1:] != self.future.shape:
            raise VidisError(
                f"expected samples (n, {', '.join(map(str, self.future.shape))}), got {tuple(chunk.shape)}"
            )
        n = chunk.shape[0]
        target = self.future.expand(n, *self.future.shape).flatten(0, 1)  # (n*B, T, C, H, W)
        samples = chunk.flatten(0, 1)
        chunk_ssim = ssim(samples, target).view(n, *self.future.shape[:2]).cpu()  # (n, B, T)
        chunk_mse = mse(samples, target).view(n, *self.future.shape[:2]).cpu()
        self.sum_ssim += chunk_ssim.sum(0)
        self.sum_mse += chunk_mse.sum(0)
        for i in range(n):  # in sample order: a tie keeps the earlier sample
            score = chunk_ssim[i].mean(1)  # (B,)
            better = score > self.best_ssim_score
            self.best_ssim_score = torch.where(better, score, self.best_ssim_score)
            self.best_ssim_frames[better] = chunk_ssim[i][better]
            self.best_ssim_index[better] = self.count + i
            score = chunk_mse[i].mean(1)
            better = score < self.best_mse_score
            self.best_mse_score = torch.where(better, score, self.best_mse_score)
            self.best_mse_frames[better] = chunk_mse[i][better]
            self.best_mse_index[better] = self.count + i
        self.count += n

    def compute(self) -> dict[str, torch.Tensor]:
        """Per frame (B, T): best_ssim, best_mse, mean_ssim, mean_mse; per clip (B,): the same
        names with `_clip` (frame means), and best_ssim_index / best_mse_index."""
        if self.count == 0:
            raise VidisError("no samples were scored")
        frames = {
            "best_ssim": self.best_ssim_frames,
            "best_mse": self.best_mse_frames,
            "mean_ssim": self.sum_ssim / self.count,
            "mean_mse": self.sum_mse / self.count,
        }
        out = dict(frames)
        out.update({f"{name}_clip": values.mean(1) for name, values in frames.items()})
        out["best_ssim_index"] = self.best_ssim_index.clone()
        out["best_mse_index"] = self.best_mse_index.clone()
        return out


def score_samples(chunks: Iterable[torch.Tensor], future: torch.Tensor) -> dict[str, torch.Tensor]:
    """Best-of-N and mean-of-N of sample chunks (each (n, B, T, C, H, W)) against future (B, T, ...)."""
    scores = BestOfN(future)
    for chunk in chunks:
        scores.update(chunk)
    return scores.compute()


@torch.no_grad()
def evaluate_prediction(
    model,
    dataset,
    context_frames: int,
    num_samples: int = 100,
    num_clips: int = 256,
    batch_size: int = 16,
    chunk_size: int = 10,
    device: str | torch.device = "cpu",
    seed: int = 0,
) -> dict:
    """Best-of-N and mean-of-N SSIM and MSE on the first `num_clips` clips of `dataset`.

    Each clip's first `context_frames` frames are the context, the rest the future to predict
    (horizon = clip length - context_frames). One generator seeded with `seed` draws every
    sample, so the numbers repeat. Returns per-clip means with their standard errors (over
    clips) and per-frame curves (lists of length horizon).
    """
    model.require("predict")
    num_frames = dataset.video_shape[0]
    horizon = num_frames - context_frames
    if context_frames < 1 or horizon < 1:
        raise VidisError(
            f"need 1 <= context_frames < clip length; got context_frames={context_frames} "
            f"for {num_frames}-frame clips"
        )
    if num_clips < 1 or num_samples < 1 or batch_size < 1 or chunk_size < 1:
        raise VidisError("num_clips, num_samples, batch_size and chunk_size must be >= 1")
    model.eval()
    device = torch.device(device)
    generator = torch.Generator(device).manual_seed(seed)
    n = min(num_clips, len(dataset))
    per_clip: dict[str, list[torch.Tensor]] = {}
    per_frame: dict[str, list[torch.Tensor]] = {}
    for start in range(0, n, batch_size):
        video = dataset.batch(range(start, min(n, start + batch_size)))["video"].to(device)
        context, future = video[:, :context_frames], video[:, context_frames:]  # (B, Tc, ...), (B, H, ...)
        chunks = model.predict_chunks(context, horizon, num_samples, chunk_size, generator)
        scores = score_samples(chunks, future)
        for name in PER_FRAME:
            per_frame.setdefault(name, []).append(scores[name])
            per_clip.setdefault(name, []).append(scores[f"{name}_clip"])
    out: dict = {
        "num_clips": n,
        "num_samples": num_samples,
        "context_frames": context_frames,
        "horizon": horizon,
    }
    for name in PER_FRAME:
        clips = torch.cat(per_clip[name])  # (N,)
        out[name] = float(clips.mean())
        out[f"{name}_se"] = float(clips.std() / clips.numel() ** 0.5) if clips.numel() > 1 else float("nan")
    out["per_frame"] = {name: torch.cat(per_frame[name]).mean(0).tolist() for name in PER_FRAME}
    return out


def prediction_test_set(run_dir, num_frames: int, split: str = "test"):
    """A run's own evaluation clips (seed EVAL_SEED), `num_frames` long (context + horizon).

    The horizon may exceed the run's training clips: only the clip length changes.
    """
    from ..config import to_dict  # noqa: PLC0415
    from ..data import eval_dataset  # noqa: PLC0415
    from ..train.spec import RunSpec  # noqa: PLC0415

    spec = RunSpec.load(run_dir)
    options = to_dict(spec.data_config)
    if "num_frames" not in options:
        raise DataError(f"{spec.data} has no num_frames option, so its clips cannot be made longer")
    return eval_dataset(spec.data, split, **{**options, "num_frames": num_frames})

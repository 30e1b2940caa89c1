"""Figures every model gets from the protocol: swap grids, interpolations, reconstructions.

Each function returns the path(s) it wrote: an animated GIF and a PNG of a few frames, so the
figure reads on paper too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..viz import save_gif, save_png, video_grid, video_strip
from ..viz.video import _add_row_labels, frame_strip

STILL_FRAMES = 5  # frames shown in a PNG still


def _still_indices(T: int) -> list[int]:
    """The STILL_FRAMES evenly spaced frames of T (all of them when T is smaller) shown in a PNG."""
    return torch.linspace(0, T - 1, min(T, STILL_FRAMES)).round().long().tolist()


def _write(frames, out: Path, scale: int = 2, labels=None, row_height: int = 0, pad: int = 2) -> list[Path]:
    """frames (T, H, W, 3) -> out.gif and out.png (the still frames side by side). labels: one per
    grid row of `row_height` px (rows `pad` apart), drawn in a margin on the left of every GIF
    frame and once on the left of the PNG."""
    out = Path(out).with_suffix(".gif")
    still = frames[_still_indices(frames.shape[0])]  # (S, H, W, 3)
    if labels:
        frames = np.stack([_add_row_labels(frame, labels, row_height, pad, 0.5) for frame in frames])
        still = _add_row_labels(frame_strip(still), labels, row_height, pad, 0.5)
    return [save_gif(frames, out, scale=scale), save_png(still, out.with_suffix(".png"))]


@torch.no_grad()
def swap_grid(model, videos: torch.Tensor, out: Path) -> list[Path]:
    """Grid of swaps for N clips: cell (i, j) = content of clip i with motion of clip j.

    The first row shows the motion sources and the first column the content sources (the
    top-left cell is blank); the diagonal is each clip's reconstruction.
    """
    model.require("swap")
    N = videos.shape[0]
    blank = torch.zeros_like(videos[:1])
    rows = [torch.cat([blank, videos])]  # (N+1, T, C, H, W): header row of motion sources
    for i in range(N):
        content = videos[i : i + 1].expand(N, *videos.shape[1:])
        swapped = model.swap(content, videos).float().cpu()  # (N, T, C, H, W)
        rows.append(torch.cat([videos[i : i + 1].cpu(), swapped]))
    return _write(video_grid(rows), out)


@torch.no_grad()
def interpolation_grid(model, video_a, video_b, factor: str, out: Path, steps: int = 7) -> list[Path]:
    """Row i moves `factor` from clip a_i (left) to clip b_i (right), the other factor fixed at
    a_i's; the sources themselves are shown at both ends."""
    path = model.interpolate(video_a, video_b, factor, steps).float().cpu()  # (S, B, T, C, H, W)
    rows = [
        torch.cat([video_a[i : i + 1].cpu(), path[:, i], video_b[i : i + 1].cpu()])
        for i in range(video_a.shape[0])
    ]
    return _write(video_grid(rows), out)


@torch.no_grad()
def reconstruction_grid(models: dict, videos: torch.Tensor, out: Path) -> list[Path]:
    """Rows: the clips, then each model's reconstructions (paper 000 figure 3), each row labelled
    in a margin on the left ("real clips", then the keys of `models`): once per GIF frame, once
    for the PNG's strip of STILL_FRAMES frames."""
    rows = [videos.cpu()] + [m.reconstruct(videos).float().cpu() for m in models.values()]
    grid = video_grid(rows)  # (T, H', W', 3): the real clips' row, then one per model; a column per clip
    return _write(grid, out, labels=["real clips", *models], row_height=videos.shape[-2])


@torch.no_grad()
def swap_vs_truth_figure(model, dataset, pairs, out: Path, device="cpu") -> list[Path]:
    """The model's swap beside the true swap (vidis.eval.gt_swaps) for a few (A, B) index pairs.

    out.gif: one column per pair, labelled rows A (content source), B (motion source), true swap
    (A's digits on B's paths, in the digit ordering closest to the model's swap, as the scores
    pick it) and model swap. out.png: the same rows as film strips of STILL_FRAMES frames, each
    labelled with its pair and clip numbers.
    """
    from .gt_swaps import true_swaps  # noqa: PLC0415 (figures import nothing heavy by default)

    model.require("swap")
    index_a = [int(a) for a, _ in pairs]
    index_b = [int(b) for _, b in pairs]
    video_a = dataset.batch(index_a)["video"]  # (N, T, C, H, W)
    video_b = dataset.batch(index_b)["video"]
    swapped = model.swap(video_a.to(device), video_b.to(device)).float().clamp(0, 1).cpu()
    truth = true_swaps(dataset, index_a, index_b, prediction=swapped)  # (N, T, C, H, W)
    rows = [video_a, video_b, truth, swapped]
    names = ["A (content)", "B (motion)", "true swap (best order)", "model swap"]

    grid = video_grid(rows)  # (T, H', W', 3): rows as above, one column per pair
    height, pad = video_a.shape[-2], 2
    frames = np.stack([_add_row_labels(frame, names, height, pad, 0.5) for frame in grid])
    out = Path(out).with_suffix(".gif")
    gif = save_gif(frames, out, scale=2)

    T = video_a.shape[1]
    keep = _still_indices(T)
    clips, labels = [], []
    for n, (a, b) in enumerate(zip(index_a, index_b)):
        for name, row in zip((f"A = clip {a}", f"B = clip {b}", "true (best order)", "model swap"), rows):
            clips.append(row[n, keep])  # (STILL_FRAMES, C, H, W)
            labels.append(f"{n + 1}: {name}")
    strip = video_strip(clips, labels, pad=pad)  # (4N rows of H + pad, W', 3)
    # a white band between pairs: pair n's rows start at y = 4 n (H + pad)
    band = np.full((3 * pad, strip.shape[1], 3), 255, dtype=np.uint8)
    parts = []
    for n in range(1, len(pairs)):
        y = 4 * n * (height + pad)
        parts += [strip[y - 4 * (height + pad) : y], band]
    parts.append(strip[4 * (len(pairs) - 1) * (height + pad) :])
    still = np.concatenate(parts)  # (4N rows + bands, W', 3)
    png = save_png(still, out.with_suffix(".png"), scale=2)
    return [gif, png]

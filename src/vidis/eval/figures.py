"""Figures every model gets from the protocol: swap grids, interpolations, reconstructions.

Each function returns the path(s) it wrote: an animated GIF and a PNG of a few frames, so the
figure reads on paper too.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..viz import save_gif, save_png, video_grid

STILL_FRAMES = 5  # frames shown in a PNG still


def _write(frames, out: Path, scale: int = 2) -> list[Path]:
    """frames (T, H, W, 3) -> out.gif and out.png (STILL_FRAMES evenly spaced frames)."""
    out = Path(out).with_suffix(".gif")
    T = frames.shape[0]
    keep = torch.linspace(0, T - 1, min(T, STILL_FRAMES)).round().long().tolist()
    return [save_gif(frames, out, scale=scale), save_png(frames[keep], out.with_suffix(".png"))]


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
    """Rows: the clips, then each model's reconstructions (paper 000 figure 3)."""
    rows = [videos.cpu()] + [m.reconstruct(videos).float().cpu() for m in models.values()]
    return _write(video_grid(rows), out)

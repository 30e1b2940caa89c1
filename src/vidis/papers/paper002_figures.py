"""Paper 002's qualitative figures for a trained `factored_vae` (section 4.3, Figs. 2-8).

- Fig. 2 `prior_swap.png`: two sequences drawn from the prior (eqs. 7-8) and decoded, then
  the same two with their static parts exchanged.
- Fig. 3 `temporal_under_two_statics.png`: one test clip's temporal codes decoded under the
  static codes of two other test clips.
- Figs. 4/6 `interpolate_static.png`: per row, the static code moving from one test clip's to
  another's (their clips' mean static codes) with a temporal code held fixed (clip A's
  first frame); Figs. 5/7 `interpolate_temporal.png`: a clip's temporal code moving from its
  first frame's to its last frame's with its static code held fixed (as `vhvae_test.py`'s
  `generate_visualizations` does).
- Fig. 8 `trajectories.png`: each factor's per-frame posterior means of 6 test clips, one
  colour per clip, frames joined in order. Factors with more than 2 features are projected on
  their first 2 principal components (the paper uses t-SNE; PCA is linear, deterministic and
  fast, so a straight path stays straight).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..viz import save_png, video_strip
from ..viz.plots import _figure, _save

COLOURS = ["tab:red", "tab:green", "tab:blue", "tab:cyan", "tab:purple", "tab:olive"]


@torch.no_grad()
def _decode(model, h: torch.Tensor) -> torch.Tensor:
    """Per-frame codes h (K, D) -> frames (K, C, H, W) in [0, 1]."""
    return torch.sigmoid(model.decode_logits(h[None].to(next(model.parameters()).device)))[0].cpu()


def _strip(rows: list[torch.Tensor], labels: list[str], out: Path) -> Path:
    return save_png(video_strip([r.numpy() for r in rows], labels=labels), out, scale=1)


@torch.no_grad()
def prior_swap(model, num_frames: int, out: Path, seed: int = 0) -> Path:
    """Fig. 2: rows A, B (prior samples), A's temporal with B's static, B's temporal with A's static."""
    Fs = model.config.static_dim
    torch.manual_seed(seed)
    h = model.sample_prior(2, num_frames)  # (2, T, D)
    a, b = h[0], h[1]
    a_with_b = torch.cat([b[:, :Fs], a[:, Fs:]], -1)
    b_with_a = torch.cat([a[:, :Fs], b[:, Fs:]], -1)
    rows = [_decode(model, x) for x in (a, b, a_with_b, b_with_a)]
    labels = ["prior A", "prior B", "A temporal, B static", "B temporal, A static"]
    return _strip(rows, labels, out)


@torch.no_grad()
def temporal_under_two_statics(model, video: torch.Tensor, out: Path) -> Path:
    """Fig. 3: video (3, T, C, H, W) test clips; clip 0's temporal codes, clips 1 and 2's static."""
    Fs = model.config.static_dim
    h = model.frame_features(video).cpu()  # (3, T, D)
    rows, labels = [video[1].cpu(), video[2].cpu()], ["static source 1", "static source 2"]
    for k in (1, 2):
        static = h[k, :, :Fs].mean(0, keepdim=True).expand(h.shape[1], -1)  # (T, Fs)
        rows.append(_decode(model, torch.cat([static, h[0, :, Fs:]], -1)))
        labels.append(f"clip 0's temporal, static {k}")
    rows.append(video[0].cpu())
    labels.append("temporal source (clip 0)")
    return _strip(rows, labels, out)


@torch.no_grad()
def interpolations(
    model, video_a: torch.Tensor, video_b: torch.Tensor, out_static: Path, out_temporal: Path, steps: int = 8
) -> list[Path]:
    """Figs. 4-7: video_a, video_b (R, T, C, H, W): one row per pair, `steps` columns."""
    Fs = model.config.static_dim
    ha, hb = model.frame_features(video_a).cpu(), model.frame_features(video_b).cpu()  # (R, T, D)
    alpha = torch.linspace(0, 1, steps)[:, None]  # (steps, 1)
    static_rows, temporal_rows = [], []
    for r in range(len(ha)):
        start, end = ha[r, :, :Fs].mean(0), hb[r, :, :Fs].mean(0)  # (Fs,)
        static = torch.lerp(start, end, alpha)  # (steps, Fs)
        fixed = ha[r, 0, Fs:].expand(steps, -1)
        static_rows.append(_decode(model, torch.cat([static, fixed], -1)))
        temporal = torch.lerp(ha[r, 0, Fs:], ha[r, -1, Fs:], alpha)  # (steps, Ft)
        temporal_rows.append(_decode(model, torch.cat([start.expand(steps, -1), temporal], -1)))
    labels = [f"pair {r}" for r in range(len(ha))]
    return [_strip(static_rows, labels, out_static), _strip(temporal_rows, labels, out_temporal)]


def _project(points: np.ndarray) -> np.ndarray:
    """(n, d) -> (n, 2): the points themselves for d <= 2 (padded), else their first 2 PCs."""
    if points.shape[1] == 1:
        return np.concatenate([points, np.zeros_like(points)], 1)
    if points.shape[1] == 2:
        return points
    centred = points - points.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:2].T


@torch.no_grad()
def trajectories(model, video: torch.Tensor, out: Path, title: str = "") -> Path:
    """Fig. 8: video (R <= 6, T, C, H, W); static and temporal posterior means per frame."""
    Fs = model.config.static_dim
    h = model.frame_features(video).cpu().numpy()  # (R, T, D)
    R, T, _ = h.shape
    fig = _figure((9, 4))
    for column, (name, part) in enumerate((("static h^s", h[..., :Fs]), ("temporal h^t", h[..., Fs:]))):
        ax = fig.add_subplot(1, 2, column + 1)
        flat = _project(part.reshape(R * T, -1)).reshape(R, T, 2)
        for r in range(R):
            ax.plot(flat[r, :, 0], flat[r, :, 1], "o-", color=COLOURS[r % len(COLOURS)], markersize=3)
        projected = " (first 2 principal components)" if part.shape[-1] > 2 else ""
        ax.set_title(f"{name}{projected}")
    if title:
        fig.suptitle(title)
    return _save(fig, out)


def factored_figures(model, test, out: Path, prefix: str, device="cpu") -> dict[str, Path]:
    """Every figure above for one trained factored_vae and its test split; returns name -> path."""
    out.mkdir(parents=True, exist_ok=True)
    if len(test) < 12:
        raise ValueError(f"the figures need 12 test clips, the test split has {len(test)}")
    clips = test.batch(range(12))["video"].to(device)
    T = clips.shape[1]
    paths = {"prior_swap": prior_swap(model, min(T, 10), out / f"{prefix}_prior_swap.png")}
    paths["temporal_under_two_statics"] = temporal_under_two_statics(
        model, clips[:3], out / f"{prefix}_temporal_under_two_statics.png"
    )
    static, temporal = interpolations(
        model,
        clips[3:6],
        clips[6:9],
        out / f"{prefix}_interpolate_static.png",
        out / f"{prefix}_interpolate_temporal.png",
    )
    paths["interpolate_static"], paths["interpolate_temporal"] = static, temporal
    paths["trajectories"] = trajectories(model, clips[:6], out / f"{prefix}_trajectories.png")
    return paths

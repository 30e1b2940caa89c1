"""Turn video tensors into uint8 pictures: grids, film strips, GIFs and PNGs.

A video is a float tensor (B, T, C, H, W) in [0, 1] with C = 1 or 3. Every function here also
accepts numpy arrays. Outputs are numpy uint8 RGB arrays, channels last.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

ArrayLike = torch.Tensor | np.ndarray


def to_uint8(video: ArrayLike) -> np.ndarray:
    """Clamp to [0, 1], scale to [0, 255] and round; any shape. uint8 input is returned as is."""
    if isinstance(video, torch.Tensor):
        video = video.detach().cpu().float().numpy()
    video = np.asarray(video)
    if video.dtype == np.uint8:
        return video
    video = np.nan_to_num(video.astype(np.float32), nan=0.0)
    return np.round(np.clip(video, 0.0, 1.0) * 255.0).astype(np.uint8)


def _as_float(x: ArrayLike) -> np.ndarray:
    """A float32 numpy array in [0, 1] (uint8 input is divided by 255)."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().float().numpy()
    x = np.asarray(x)
    if x.dtype == np.uint8:
        return x.astype(np.float32) / 255.0
    return x.astype(np.float32)


def _to_rgb_last(clip: np.ndarray, what: str) -> np.ndarray:
    """(..., C, H, W) with C in {1, 3} -> (..., H, W, 3)."""
    channels = clip.shape[-3]
    if channels not in (1, 3):
        raise ValueError(f"{what}: expected 1 or 3 channels, got C={channels} (shape {clip.shape})")
    clip = np.moveaxis(clip, -3, -1)  # (..., H, W, C)
    if channels == 1:
        clip = np.repeat(clip, 3, axis=-1)  # (..., H, W, 3)
    return clip


def _layout(cells: list[list[np.ndarray | None]], pad: int, pad_value: float) -> np.ndarray:
    """Paste a ragged 2-D list of (..., H, W, 3) float cells onto one canvas.

    All cells share H, W and the leading dims; None leaves a blank cell. The canvas has a `pad`
    border around and between cells, filled with `pad_value`. Returns (..., H_total, W_total, 3)
    with H_total = R * H + (R + 1) * pad and W_total = N * W + (N + 1) * pad.
    """
    first = next(c for row in cells for c in row if c is not None)
    *lead, h, w, _ = first.shape
    n_rows, n_cols = len(cells), max(len(row) for row in cells)
    height, width = n_rows * h + (n_rows + 1) * pad, n_cols * w + (n_cols + 1) * pad
    canvas = np.full((*lead, height, width, 3), pad_value, dtype=np.float32)
    for r, row in enumerate(cells):
        for n, cell in enumerate(row):
            if cell is None:
                continue
            top, left = pad + r * (h + pad), pad + n * (w + pad)
            canvas[..., top : top + h, left : left + w, :] = cell
    return canvas


def _check_same_size(clips: list[np.ndarray], what: str) -> None:
    sizes = {c.shape[-3:-1] for c in clips}  # (H, W) of each (..., H, W, 3) clip
    if len(sizes) > 1:
        raise ValueError(f"{what}: all clips must have the same H and W, got {sorted(sizes)}")


def video_grid(
    rows: Sequence[ArrayLike] | ArrayLike, pad: int = 2, pad_value: float = 0.5
) -> np.ndarray:
    """Lay out clips in a grid that plays over time: R rows of up to N clips each.

    rows: a list of R arrays (N, T, C, H, W) (rows may hold different N and T), or one array
    (R, N, T, C, H, W). Grayscale clips are shown as RGB. A row shorter than the longest holds
    its last frame; a row with fewer clips leaves blank cells.

    Returns uint8 (T_max, H_total, W_total, 3), with H_total = R * H + (R + 1) * pad and
    W_total = N_max * W + (N_max + 1) * pad (a `pad`-pixel border of `pad_value` around cells).
    """
    if isinstance(rows, torch.Tensor | np.ndarray):
        if rows.ndim != 6:
            raise ValueError(
                "video_grid: expected an array of shape (R, N, T, C, H, W) or a list of clips "
                f"of shape (N, T, C, H, W), got shape {tuple(rows.shape)} "
                "(for a single row of a (B, T, C, H, W) batch, pass [video])"
            )
        rows = list(rows)
    if len(rows) == 0:
        raise ValueError("video_grid: expected at least one row of clips")
    clips = []
    for r, row in enumerate(rows):
        row = _as_float(row)
        if row.ndim != 5 or row.shape[0] == 0:
            raise ValueError(
                f"video_grid: row {r}: expected clips of shape (N, T, C, H, W) with N >= 1, "
                f"got shape {tuple(row.shape)}"
            )
        clips.append(_to_rgb_last(row, f"video_grid: row {r}"))  # (N, T, H, W, 3)
    _check_same_size(clips, "video_grid")
    t_max = max(c.shape[1] for c in clips)
    padded = []
    for c in clips:
        # hold the last frame: (N, T, H, W, 3) -> (N, T_max, H, W, 3)
        hold = np.repeat(c[:, -1:], t_max - c.shape[1], axis=1)
        padded.append(np.concatenate([c, hold], axis=1))
    cells = [list(row) for row in padded]  # cells[r][n]: (T_max, H, W, 3)
    return to_uint8(_layout(cells, pad, pad_value))


def video_strip(
    clips: Sequence[ArrayLike] | ArrayLike,
    labels: Sequence[str] | None = None,
    pad: int = 2,
    pad_value: float = 0.5,
) -> np.ndarray:
    """A film strip: row r shows the T frames of clip r from left to right.

    clips: a list of R clips (T, C, H, W) (different T allowed: short rows end in blank cells),
    or one array (R, T, C, H, W), e.g. `torch.stack([video[0], recon[0]])` for "original above
    reconstruction". labels: optional R strings drawn in a margin to the left of the rows.

    Returns uint8 (H_total, W_total, 3) with H_total = R * H + (R + 1) * pad and
    W_total = T_max * W + (T_max + 1) * pad (plus the label margin).
    """
    if isinstance(clips, torch.Tensor | np.ndarray):
        if clips.ndim != 5:
            raise ValueError(
                "video_strip: expected an array of shape (R, T, C, H, W) or a list of clips of "
                f"shape (T, C, H, W), got shape {tuple(clips.shape)}"
            )
        clips = list(clips)
    if len(clips) == 0:
        raise ValueError("video_strip: expected at least one clip")
    frames = []
    for r, clip in enumerate(clips):
        clip = _as_float(clip)
        if clip.ndim != 4 or clip.shape[0] == 0:
            raise ValueError(
                f"video_strip: clip {r}: expected shape (T, C, H, W) with T >= 1, "
                f"got shape {tuple(clip.shape)}"
            )
        frames.append(_to_rgb_last(clip, f"video_strip: clip {r}"))  # (T, H, W, 3)
    _check_same_size(frames, "video_strip")
    cells = [list(clip) for clip in frames]  # cells[r][t]: (H, W, 3)
    strip = to_uint8(_layout(cells, pad, pad_value))  # (H_total, W_total, 3)
    if labels is None:
        return strip
    if len(labels) != len(frames):
        raise ValueError(f"video_strip: got {len(labels)} labels for {len(frames)} clips")
    h = frames[0].shape[1]
    return _add_row_labels(strip, list(labels), h, pad, pad_value)


def _add_row_labels(
    image: np.ndarray, labels: list[str], row_height: int, pad: int, pad_value: float
) -> np.ndarray:
    """Prepend a margin with one label per row, vertically centred on it (Pillow's default font at
    13 px: at its own 10 px, spaces nearly vanish; the bitmap font where Pillow lacks FreeType)."""
    try:
        font = ImageFont.load_default(size=13)
    except (ImportError, TypeError):  # no FreeType, or Pillow < 10.1 (no size): the 10 px font
        font = ImageFont.load_default()
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    widths = [probe.textbbox((0, 0), text, font=font)[2] for text in labels]
    margin = max(widths) + 2 * pad + 4
    background = int(round(np.clip(pad_value, 0, 1) * 255))
    panel = Image.new("RGB", (margin, image.shape[0]), (background,) * 3)
    draw = ImageDraw.Draw(panel)
    text_color = (0, 0, 0) if background >= 128 else (255, 255, 255)
    for r, text in enumerate(labels):
        centre_y = pad + r * (row_height + pad) + row_height / 2
        _, top, _, bottom = draw.textbbox((0, 0), text, font=font)  # no anchors: bitmap fonts
        draw.text((pad + 2, centre_y - (top + bottom) / 2), text, fill=text_color, font=font)
    return np.concatenate([np.asarray(panel), image], axis=1)  # (H_total, margin + W_total, 3)


def _upscale(image: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour integer upscale of (..., H, W, 3)."""
    if not isinstance(scale, int | np.integer) or scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale!r}")
    if scale == 1:
        return image
    return image.repeat(scale, axis=-3).repeat(scale, axis=-2)  # (..., H*s, W*s, 3)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; on success move it onto `path` with os.replace.

    Parent folders are created. On error the temporary file is removed and `path` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # a fresh name rather than mkstemp, so the file gets the usual permissions (umask), not 0600
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _frames_uint8(frames: ArrayLike, what: str) -> np.ndarray:
    """Check (T, H, W, 3) and convert to uint8 (float input is taken as [0, 1])."""
    frames = to_uint8(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] == 0:
        raise ValueError(
            f"{what}: expected frames of shape (T, H, W, 3) with T >= 1, got {frames.shape}"
        )
    return frames


def save_gif(frames: ArrayLike, path: str | os.PathLike, fps: float = 8, scale: int = 1) -> Path:
    """Write frames (T, H, W, 3) as an animated GIF that loops forever; returns the path.

    scale: integer nearest-neighbour upscale (use 2 for 64x64 clips). GIF stores frame times in
    1/100 s, so the fps is approximate; identical consecutive frames may be merged into one
    longer frame by the encoder.
    """
    frames = _upscale(_frames_uint8(frames, "save_gif"), scale)
    images = [Image.fromarray(frame) for frame in frames]
    duration = max(20, int(round(1000 / fps)))  # ms; browsers slow down anything faster
    path = Path(path)
    with atomic_path(path) as tmp:
        images[0].save(
            tmp,
            format="GIF",
            save_all=True,
            append_images=images[1:],
            duration=duration,
            loop=0,
        )
    return path


def frame_strip(frames: ArrayLike, sep: int = 2, sep_value: int = 255) -> np.ndarray:
    """Frames (T, H, W, 3) side by side -> (H, T * W + (T - 1) * sep, 3) uint8."""
    frames = _frames_uint8(frames, "frame_strip")
    t, h, _, _ = frames.shape
    parts = []
    for i, frame in enumerate(frames):
        if i > 0:
            parts.append(np.full((h, sep, 3), sep_value, dtype=np.uint8))
        parts.append(frame)
    return np.concatenate(parts, axis=1)


def save_png(image: ArrayLike, path: str | os.PathLike, scale: int = 1) -> Path:
    """Write a still image; returns the path.

    image: (H, W) or (H, W, 3), or frames (T, H, W, 3), which are written as a horizontal strip
    of every frame with a thin white separator (the content of a GIF, on paper).
    Float input is taken as [0, 1]. scale: integer nearest-neighbour upscale.
    """
    image = to_uint8(image)
    if image.ndim == 4:
        image = frame_strip(image)  # (H, T * W + (T - 1) * sep, 3)
    elif image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)  # (H, W, 3)
    if image.ndim != 3 or image.shape[-1] not in (1, 3):
        raise ValueError(
            f"save_png: expected (H, W), (H, W, 3) or (T, H, W, 3), got shape {image.shape}"
        )
    if image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)
    image = _upscale(image, scale)
    path = Path(path)
    with atomic_path(path) as tmp:
        Image.fromarray(np.ascontiguousarray(image)).save(tmp, format="PNG")
    return path

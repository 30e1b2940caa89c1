"""Straightforward Moving MNIST generators: per-digit, per-frame Python loops.

This is the process as it is usually written (e.g. the original Srivastava et al. script):
step each digit's position by its velocity, reflect the position and flip the velocity at an
edge, paste the digit into each frame with max. Both functions draw the same random numbers as
`vidis.data.moving_mnist` (default `dynamics="bounce"`, 28 px digits, max), so they make the
same clips:

- `naive_clip`: the plain loop and nothing else, as fast as it is usually written: Python
  floats for positions, each 28x28 float32 digit pasted into a float32 canvas slice with
  `np.maximum(..., out=...)`, one clip at a time; it returns only the video (T, S, S) as a
  NumPy array, no labels. `bench_moving_mnist.py` times `dataset[i]` (video and every label,
  as torch tensors) and `dataset.batch` against it.
- `loop_clip`: the whole item `dataset[i]` (video and every label) with loops; the tests use it
  to check vidis's closed-form bounce and its labels.
"""

from __future__ import annotations

import math

import numpy as np
import torch

DIGIT = 28


def float_digits(dataset) -> np.ndarray:
    """The dataset's digit pool as float32 in [0, 1], (N, 28, 28): made once, before the loop."""
    return dataset.images.astype(np.float32) / np.float32(255)


def naive_clip(dataset, index: int, digits: np.ndarray) -> np.ndarray:
    """The video of `dataset[index]`, (T, S, S) float32 in [0, 1], by the plain loop.

    `digits` is `float_digits(dataset)`. Max compositing does not depend on the order in which
    digits are drawn, so the loop skips vidis's left-to-right numbering.
    """
    c = dataset.config
    rng = dataset._rng(index)
    K, T, S = c.num_digits, c.num_frames, c.image_size
    L = float(S - DIGIT)
    digit_ids = rng.integers(0, len(digits), size=K)
    start = rng.uniform(0, L, size=(K, 2))
    angle = rng.uniform(0, 2 * np.pi, size=K)
    speed = rng.uniform(c.speed_min, c.speed_max, size=K)
    canvas = np.zeros((T, S, S), dtype=np.float32)
    for k in range(K):
        x, y = float(start[k, 0]), float(start[k, 1])
        vx, vy = float(speed[k]) * math.cos(angle[k]), float(speed[k]) * math.sin(angle[k])
        digit = digits[digit_ids[k]]
        for t in range(T):
            col, row = round(x), round(y)  # half to even, as np.rint
            patch = canvas[t, row : row + DIGIT, col : col + DIGIT]
            np.maximum(patch, digit, out=patch)
            x, y = x + vx, y + vy
            if x < 0:
                x, vx = -x, -vx
            elif x > L:
                x, vx = 2 * L - x, -vx
            if y < 0:
                y, vy = -y, -vy
            elif y > L:
                y, vy = 2 * L - y, -vy
    return canvas


def loop_clip(dataset, index: int) -> dict:
    """The item `dataset[index]` of a vidis MovingMNIST, made with plain loops."""
    c = dataset.config
    rng = dataset._rng(index)
    K, T, S = c.num_digits, c.num_frames, c.image_size
    L = float(S - DIGIT)
    digit_ids = rng.integers(0, len(dataset.images), size=K)
    start = rng.uniform(0, L, size=(K, 2))
    angle = rng.uniform(0, 2 * np.pi, size=K)
    speed = rng.uniform(c.speed_min, c.speed_max, size=K)
    order = np.argsort(start[:, 0], kind="stable")
    digit_ids, start, angle, speed = digit_ids[order], start[order], angle[order], speed[order]
    canvas = np.zeros((T, S, S), dtype=np.uint8)
    first_positions = []
    for k in range(K):
        x, y = start[k]
        vx, vy = speed[k] * np.cos(angle[k]), speed[k] * np.sin(angle[k])
        digit = dataset.images[digit_ids[k]]
        for t in range(T):
            if k == 0:
                first_positions.append((x, y))
            col, row = int(np.rint(x)), int(np.rint(y))
            np.maximum(
                canvas[t, row : row + DIGIT, col : col + DIGIT],
                digit,
                out=canvas[t, row : row + DIGIT, col : col + DIGIT],
            )
            x, y = x + vx, y + vy
            if x < 0:
                x, vx = -x, -vx
            if x > L:
                x, vx = 2 * L - x, -vx
            if y < 0:
                y, vy = -y, -vy
            if y > L:
                y, vy = 2 * L - y, -vy
    factors = {f"digit{k}": torch.tensor(int(dataset.labels[d])) for k, d in enumerate(digit_ids)}
    # motion labels (version 2): digit 0's move from frame t to t+1 (the last frame repeats the
    # one before), 8 bins of 45 degrees centred on the axes; paper 000's code's label of the
    # velocity drawn before any bounce, 8 wedges with edges on the axes
    moves = []
    for t in range(T - 1):
        dx = first_positions[t + 1][0] - first_positions[t][0]
        dy = first_positions[t + 1][1] - first_positions[t][1]
        moves.append(int(np.rint(np.arctan2(dy, dx) / (np.pi / 4))) % 8)
    moves.append(moves[-1])
    factors["direction"] = torch.tensor(moves[0])
    vx0, vy0 = np.cos(angle[0]), np.sin(angle[0])
    code = int((np.arctan2(vy0, vx0) + np.pi) / (2 * np.pi) * 8) % 8
    cells = []
    for x, y in first_positions:
        col = min(int((x + DIGIT / 2) * 3 / S), 2)
        row = min(int((y + DIGIT / 2) * 3 / S), 2)
        cells.append(row * 3 + col)
    factors["cell"] = torch.tensor(cells)
    factors["direction_per_frame"] = torch.tensor(moves)
    factors["direction_code"] = torch.tensor(code)
    video = torch.from_numpy(canvas).float().div_(255).unsqueeze(1)  # (T, 1, S, S)
    return {"video": video, "factors": factors}

"""A straightforward Moving MNIST generator: per-digit, per-frame Python loops.

This is the process as it is usually written (e.g. the original Srivastava et al. script):
step each digit's position by its velocity, reflect the position and flip the velocity at an
edge, paste the digit into each frame with max. It draws the same random numbers as
`vidis.data.moving_mnist`, so it makes the same clips: the tests use it to check vidis's
closed-form bounce, and `bench_moving_mnist.py` times vidis against it.
"""

from __future__ import annotations

import numpy as np
import torch

DIGIT = 28


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

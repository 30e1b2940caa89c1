"""Moving MNIST (Srivastava et al. 2015) with real digits, generated on the fly.

K digits (28x28) move with constant velocity on a square canvas and bounce off its edges;
overlaps are composited by max. Every clip is a pure function of (seed, split, index), so
the data are the same for any number of DataLoader workers, and val/test are fixed sets.
Train and val clips draw digits from the train pool, test clips from the disjoint test pool.

Bouncing is computed in closed form: the unfolded path p0 + v t is folded into [0, L]
(L = canvas - 28) by the triangle wave L - |((p0 + v t) mod 2L) - L|, which reflects the
velocity exactly at each edge. Rendering is vectorised over frames (one loop per digit).

Digits are numbered left to right by their position in the first frame, so "digit 0" (whose
class, direction and cell the labels name) can be told from the pixels alone.

Declared factors (paper 000 and 002's labels):
- digit{k}: class of digit k (static, 10 classes);
- direction: initial direction of digit 0 in 8 bins of 45 degrees (dynamic, per clip;
  bin 0 = moving right, 2 = down in image coordinates, 4 = left, 6 = up);
- cell: the 3x3 grid cell holding the centre of digit 0, per frame (dynamic, 9 classes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..errors import DataError
from ..registry import register_dataset
from ..types import Factor
from .base import VideoDataset
from .digits import digit_pool

DIGIT = 28
SPLIT_CODES = {"train": 0, "val": 1, "test": 2}


@dataclass
class MovingMNISTConfig:
    num_digits: int = 2
    num_frames: int = 20
    image_size: int = 64
    speed_min: float = 2.0  # pixels per frame
    speed_max: float = 5.0
    num_train: int = 0  # 0: a fresh clip for every index (infinite); N: a fixed set of N clips
    num_val: int = 1000
    num_test: int = 1000
    mnist_dir: str = ""  # folder with the standard MNIST IDX files; "" uses embedded digits

    def validate(self):
        if self.num_digits < 1:
            raise DataError(f"num_digits must be >= 1, got {self.num_digits}")
        if self.num_frames < 2:
            raise DataError(f"num_frames must be >= 2, got {self.num_frames}")
        if self.image_size < DIGIT + 1:
            raise DataError(f"image_size must be > {DIGIT}, got {self.image_size}")
        if not 0 <= self.speed_min <= self.speed_max:
            raise DataError(f"need 0 <= speed_min <= speed_max, got {self.speed_min}, {self.speed_max}")
        if min(self.num_train, self.num_val, self.num_test) < 0:
            raise DataError("num_train, num_val and num_test must be >= 0")


@register_dataset("moving_mnist")
class MovingMNIST(VideoDataset):
    Config = MovingMNISTConfig
    nominal_epoch = 10_000  # len() of an infinite train split: one "epoch" as in paper 000

    def __init__(self, config: MovingMNISTConfig, split: str = "train", seed: int = 0):
        super().__init__(config, split, seed)
        config.validate()
        pool = "test" if split == "test" else "train"
        self.images, self.labels = digit_pool(pool, config.mnist_dir)
        c = config
        self.video_shape = (c.num_frames, 1, c.image_size, c.image_size)
        self.factors = [Factor(f"digit{k}", "static", 10) for k in range(c.num_digits)]
        self.factors += [Factor("direction", "dynamic", 8), Factor("cell", "dynamic", 9, True)]
        sizes = {"train": c.num_train or self.nominal_epoch, "val": c.num_val, "test": c.num_test}
        self.length = sizes[split]
        self.infinite = split == "train" and c.num_train == 0

    def __len__(self) -> int:
        return self.length

    def _rng(self, index: int) -> np.random.Generator:
        if index < 0 or (not self.infinite and index >= self.length):
            raise IndexError(f"index {index} out of range for {self.split} split of {self.length}")
        return np.random.default_rng([self.seed, SPLIT_CODES[self.split], index])

    def sample(self, index: int):
        """(digit ids (K,), positions (K, T, 2) float as (x, y), angle (K,)) of clip `index`."""
        c = self.config
        rng = self._rng(index)
        K, T, L = c.num_digits, c.num_frames, float(c.image_size - DIGIT)
        digit_ids = rng.integers(0, len(self.images), size=K)
        start = rng.uniform(0, L, size=(K, 2))
        angle = rng.uniform(0, 2 * np.pi, size=K)
        speed = rng.uniform(c.speed_min, c.speed_max, size=K)
        order = np.argsort(start[:, 0], kind="stable")  # digit 0 = leftmost in the first frame
        digit_ids, start, angle, speed = digit_ids[order], start[order], angle[order], speed[order]
        velocity = speed[:, None] * np.stack([np.cos(angle), np.sin(angle)], 1)  # (K, 2)
        t = np.arange(T, dtype=np.float64)
        unfolded = start[:, None, :] + velocity[:, None, :] * t[None, :, None]  # (K, T, 2)
        positions = L - np.abs(np.mod(unfolded, 2 * L) - L)  # reflect at 0 and L
        return digit_ids, positions, angle

    def render(self, digit_ids: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Draw digits at integer-rounded positions: (T, S, S) uint8, overlaps by max.

        Vectorised over frames: the (T, 28, 28) flat canvas indices of each digit are one
        broadcast sum, then one gather and one scatter (one loop step per digit).
        """
        c = self.config
        T, S = c.num_frames, c.image_size
        canvas = np.zeros(T * S * S, dtype=np.uint8)  # flat (T, S, S)
        pixels = np.rint(positions).astype(np.int64)  # (K, T, 2) as (x, y)
        frame_starts = np.arange(T) * (S * S)  # (T,)
        patch = np.arange(DIGIT)[:, None] * S + np.arange(DIGIT)[None, :]  # (28, 28) offsets
        for k, digit_id in enumerate(digit_ids):
            corner = frame_starts + pixels[k, :, 1] * S + pixels[k, :, 0]  # (T,)
            index = corner[:, None, None] + patch  # (T, 28, 28)
            canvas[index] = np.maximum(canvas[index], self.images[digit_id])
        return canvas.reshape(T, S, S)

    def __getitem__(self, index: int) -> dict:
        c = self.config
        digit_ids, positions, angle = self.sample(int(index))
        video = torch.from_numpy(self.render(digit_ids, positions)).float().div_(255)
        centre = positions[0] + DIGIT / 2  # (T, 2) centre of digit 0
        grid = np.minimum((centre * 3 / c.image_size).astype(np.int64), 2)  # (T, 2) as (col, row)
        factors = {f"digit{k}": torch.tensor(int(self.labels[d])) for k, d in enumerate(digit_ids)}
        factors["direction"] = torch.tensor(int(np.rint(angle[0] / (np.pi / 4))) % 8)
        factors["cell"] = torch.from_numpy(grid[:, 1] * 3 + grid[:, 0])
        return {"video": video.unsqueeze(1), "factors": factors}  # video (T, 1, S, S)

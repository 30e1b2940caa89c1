"""The standard Moving MNIST test file (`mnist_test_seq.npy`) for users who have it on disk.

The file is uint8 of shape (T, N, 64, 64) = (20, 10000, 64, 64) (time first). It carries no
labels, so this dataset declares no factors. Its clips are split in order: train first,
then the last `num_val + num_test` clips as val then test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError
from ..registry import register_dataset
from .base import VideoDataset


@dataclass
class MovingMNISTFileConfig:
    path: str = ""  # path to mnist_test_seq.npy
    num_val: int = 1000
    num_test: int = 1000


@register_dataset("moving_mnist_file")
class MovingMNISTFile(VideoDataset):
    Config = MovingMNISTFileConfig

    def __init__(self, config: MovingMNISTFileConfig, split: str = "train", seed: int = 0):
        super().__init__(config, split, seed)
        if not config.path:
            raise DataError("moving_mnist_file needs data.path=/path/to/mnist_test_seq.npy")
        path = Path(config.path).expanduser()
        if not path.is_file():
            raise DataError(f"{path} does not exist (expected mnist_test_seq.npy)")
        self.clips = np.load(path, mmap_mode="r")  # (T, N, H, W)
        if self.clips.ndim != 4 or self.clips.dtype != np.uint8:
            raise DataError(
                f"{path}: expected uint8 of shape (T, N, H, W) like (20, 10000, 64, 64), "
                f"got {self.clips.dtype} {self.clips.shape}"
            )
        T, N, H, W = self.clips.shape
        n_train = N - config.num_val - config.num_test
        if n_train < 0 or config.num_val < 0 or config.num_test < 0:
            raise DataError(f"{path} has {N} clips, fewer than num_val + num_test")
        bounds = {"train": (0, n_train), "val": (n_train, n_train + config.num_val)}
        bounds["test"] = (n_train + config.num_val, N)
        self.start, stop = bounds[split]
        self.length = stop - self.start
        self.video_shape = (T, 1, H, W)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < self.length:
            raise IndexError(f"index {index} out of range for {self.split} split of {self.length}")
        clip = np.asarray(self.clips[:, self.start + index])  # (T, H, W)
        video = torch.from_numpy(clip.copy()).float().div_(255).unsqueeze(1)  # (T, 1, H, W)
        return {"video": video, "factors": {}}

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


def read_clips(path: Path) -> np.ndarray:
    """Memory-map a (T, N, H, W) uint8 .npy file, or raise DataError saying what it holds instead.

    The header is read first, so a file of Python objects (dtype object) is refused before any
    of it is unpickled; pickles are never loaded.
    """
    expected = "expected a uint8 .npy array of shape (T, N, H, W) like (20, 10000, 64, 64)"
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            fmt = np.lib.format
            read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            shape, _, dtype = read_header(f)
    except (ValueError, OSError, EOFError, SyntaxError) as err:
        raise DataError(f"{path} is not a .npy file or its header is damaged ({err}); {expected}") from None
    if dtype != np.uint8 or len(shape) != 4:
        held = "Python objects (dtype object)" if dtype.hasobject else f"{dtype} of shape {shape}"
        raise DataError(f"{path} holds {held}; {expected}")
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as err:
        raise DataError(f"{path} is truncated or damaged ({err}); {expected}") from None


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
        self.clips = read_clips(path)  # (T, N, H, W) uint8, memory-mapped
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

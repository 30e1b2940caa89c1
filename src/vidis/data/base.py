"""The dataset protocol: item dicts with a video and its declared ground-truth factors."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch.utils.data import Dataset

from ..errors import CapabilityError, DataError
from ..types import Factor

SPLITS = ("train", "val", "test")


class VideoDataset(Dataset):
    """Base class of every vidis dataset.

    An item is `{"video": (T, C, H, W) float32 in [0, 1], "factors": {name: LongTensor}}`,
    where a factor is a scalar (one label per clip) or (T,) when `Factor.per_frame`.
    Subclasses set `Config` (a dataclass) and fill `factors` and `video_shape`.

    `version` changes whenever a dataset's pixels or labels change: caches of what was trained
    on them (judges) key on it. A procedural dataset that knows how each clip was made sets
    `can_render_swaps` and implements `render_swap` (the true answer to a content/motion swap).
    """

    name: ClassVar[str]
    Config: ClassVar[type]
    version: ClassVar[int] = 1
    can_render_swaps: ClassVar[bool] = False

    def __init__(self, config, split: str = "train", seed: int = 0):
        if split not in SPLITS:
            raise DataError(f"split must be one of {SPLITS}, got {split!r}")
        self.config = config
        self.split = split
        self.seed = int(seed)
        self.factors: list[Factor] = []
        self.video_shape: tuple[int, int, int, int] = (0, 0, 0, 0)  # (T, C, H, W)

    def factor(self, name: str) -> Factor:
        for factor in self.factors:
            if factor.name == name:
                return factor
        raise DataError(f"{self.name} has no factor {name!r}; it has {[f.name for f in self.factors]}")

    def render_swap(self, index_a: int, index_b: int, assignment=None) -> torch.Tensor:
        """The true swap (T, C, H, W): clip A's static generator state drawn with clip B's whole
        dynamic state, by the same renderer. `assignment` is one of `swap_assignments()`: where
        the static state has interchangeable parts (Moving MNIST's K digits), which part of A
        follows which part of B's dynamics."""
        name = getattr(self, "name", type(self).__name__)
        raise CapabilityError(
            f"dataset {name!r} cannot render ground-truth swaps (only procedural datasets "
            "that know how each clip was made can; see `can_render_swaps`)"
        )

    def swap_assignments(self) -> list:
        """The `assignment` values of `render_swap` to try; a score keeps the best one."""
        return [None]

    def batch(self, indices) -> dict:
        """Items `indices` as one batch dict: video (B, T, C, H, W), factors (B,) or (B, T).

        The default collates a loop over items. A dataset that can make many clips at once
        (Moving MNIST) overrides it with array code; it must return exactly
        `collate([self[i] for i in indices])`.
        """
        indices = [int(i) for i in indices]
        if not indices:
            raise DataError("batch needs at least one index")
        return collate([self[i] for i in indices])

    def __getitems__(self, indices) -> dict:
        """What a DataLoader with automatic batching (a `batch_size` or `batch_sampler`) fetches
        for one batch: `batch(indices)`, already collated, which `collate` passes through. So
        the trainer's loader gets Moving MNIST's vectorised batches with no change of its own."""
        return self.batch(indices)


def collate(items: list[dict] | dict) -> dict:
    """Stack item dicts into a batch dict; a batch dict (from `__getitems__`) is returned as is.

    DataLoaders over vidis datasets take `collate_fn=collate` (torch's default collate would
    not recognise the batch dict that `__getitems__` hands it).
    """
    if isinstance(items, dict):
        return items
    return {
        "video": torch.stack([item["video"] for item in items]),
        "factors": {k: torch.stack([item["factors"][k] for item in items]) for k in items[0]["factors"]},
    }

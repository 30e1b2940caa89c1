"""Datasets: `make_dataset(name, split, seed, **options)` returns a torch Dataset of item dicts."""

from __future__ import annotations

from ..config import update
from ..registry import DATASETS, get_dataset_class
from . import mnist_file, moving_mnist  # noqa: F401  (registers the datasets)
from .base import SPLITS, VideoDataset, collate


def make_dataset(name: str, split: str = "train", seed: int = 0, **options) -> VideoDataset:
    """Build dataset `name` for `split` ("train", "val" or "test").

    `options` are fields of the dataset's config (e.g. `num_digits=1`); unknown ones raise
    ConfigError listing the known ones.
    """
    cls = get_dataset_class(name)
    config = update(cls.Config(), options, "data")
    return cls(config, split=split, seed=seed)


__all__ = ["DATASETS", "SPLITS", "VideoDataset", "collate", "make_dataset"]

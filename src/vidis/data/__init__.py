"""Datasets: `make_dataset(name, split, seed, **options)` returns a torch Dataset of item dicts."""

from __future__ import annotations

from ..config import update
from ..errors import DataError
from ..registry import DATASETS, get_dataset_class
from . import (  # noqa: F401  (registers the datasets)
    mnist_file,
    moving_mnist,
    pendulum,
    rotating_objects,
    sprites,
    video_folder,
)
from .base import SPLITS, VideoDataset, collate


def make_dataset(name: str, split: str = "train", seed: int = 0, **options) -> VideoDataset:
    """Build dataset `name` for `split` ("train", "val" or "test").

    `options` are fields of the dataset's config (e.g. `num_digits=1`); unknown ones raise
    ConfigError listing the known ones.
    """
    cls = get_dataset_class(name)
    config = update(cls.Config(), options, "data")
    return cls(config, split=split, seed=seed)


# The seed of every evaluation split (val and test): fixed, so that runs trained with different
# `train.seed` values are validated and scored on the same clips.
EVAL_SEED = 0


def eval_dataset(name: str, split: str = "test", **options) -> VideoDataset:
    """The fixed val or test split of dataset `name` (seed `EVAL_SEED`, whatever the run's seed)."""
    if split not in ("val", "test"):
        raise DataError(f"eval_dataset builds the val or test split, got {split!r}")
    return make_dataset(name, split, seed=EVAL_SEED, **options)


def run_test_set(run_dir, split: str = "test") -> VideoDataset:
    """The test (or val) split a run is scored on: its own dataset and options, seed `EVAL_SEED`."""
    from ..config import to_dict  # noqa: PLC0415
    from ..train.spec import RunSpec  # noqa: PLC0415

    spec = RunSpec.load(run_dir)
    return eval_dataset(spec.data, split, **to_dict(spec.data_config))


__all__ = [
    "DATASETS",
    "EVAL_SEED",
    "SPLITS",
    "VideoDataset",
    "collate",
    "eval_dataset",
    "make_dataset",
    "run_test_set",
]

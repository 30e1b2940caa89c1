"""`VideoDataset.batch(indices)` is `collate([ds[i] for i in indices])`, exactly, in every mode."""

import hashlib

import numpy as np
import pytest
import torch

from vidis.data import VideoDataset, collate, make_dataset
from vidis.errors import DataError
from vidis.types import Factor


def assert_same_batch(got: dict, expected: dict):
    assert got.keys() == expected.keys() == {"video", "factors"}
    assert got["video"].dtype == expected["video"].dtype
    assert torch.equal(got["video"], expected["video"])
    assert list(got["factors"]) == list(expected["factors"])
    for name, value in expected["factors"].items():
        assert got["factors"][name].dtype == value.dtype, name
        assert torch.equal(got["factors"][name], value), name


OPTIONS = [
    {},
    {"num_digits": 1},
    {"num_digits": 3, "num_frames": 16},
    {"image_size": 48, "speed_min": 0, "speed_max": 9},
    {"composite": "add"},
    {"digit_size": 32},
    {"dynamics": "stochastic"},
    {"dynamics": "stochastic", "digit_size": 32, "composite": "add", "num_frames": 30},
    {"dynamics": "stochastic", "num_digits": 1, "image_size": 40},
    {"dynamics": "stochastic", "num_digits": 3, "num_frames": 16, "composite": "add"},
]


def _name(options: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in options.items()) or "default"


@pytest.mark.parametrize("options", OPTIONS, ids=_name)
@pytest.mark.parametrize("split", ["train", "test"])
def test_moving_mnist_batch_equals_collated_items(options, split):
    ds = make_dataset("moving_mnist", split, seed=5, **options)
    indices = [3, 0, 17, 3, 9, 11, 2, 40]  # unordered, with a repeat
    assert_same_batch(ds.batch(indices), collate([ds[i] for i in indices]))
    assert_same_batch(ds.batch(np.array([7])), collate([ds[7]]))  # a batch of one, NumPy indices
    assert_same_batch(ds.batch(range(4)), collate([ds[i] for i in range(4)]))


def test_moving_mnist_batch_is_made_in_arrays_not_by_items(monkeypatch):
    """The vectorised path never calls __getitem__ (which the base class's default loops over)."""
    ds = make_dataset("moving_mnist", "val")

    def no_items(self, index):
        raise AssertionError("batch called __getitem__")

    monkeypatch.setattr(type(ds), "__getitem__", no_items)
    assert ds.batch(range(6))["video"].shape == (6, 20, 1, 64, 64)


def test_batch_errors():
    ds = make_dataset("moving_mnist", "test", num_test=10)
    with pytest.raises(IndexError):
        ds.batch([0, 10])
    with pytest.raises(DataError, match="at least one"):
        ds.batch([])


def test_default_clips_are_version_2s():
    """The default clips and labels are those that version 2 made (the code at commit 22a113e):
    a SHA-256 over the videos and labels of 8 clips per split, default options and (3 digits,
    16 frames, 48 px), seed 1. A change here needs `MovingMNIST.version` bumped."""
    digest = hashlib.sha256()
    for split in ("train", "val", "test"):
        for options in ({}, {"num_digits": 3, "num_frames": 16, "image_size": 48}):
            ds = make_dataset("moving_mnist", split, seed=1, **options)
            for index in range(8):
                item = ds[index]
                digest.update(item["video"].numpy().tobytes())
                for name in sorted(item["factors"]):
                    digest.update(name.encode())
                    digest.update(item["factors"][name].numpy().astype(np.int64).tobytes())
    assert digest.hexdigest() == "e5cc7ce07745354861d959ed03ad6ead62d5ba6668bcdf1ce17e5b8f8cfaad71"


class Counting(VideoDataset):
    """A dataset with only __getitem__: the base class's batch loops over it."""

    name = "counting"

    def __init__(self):
        super().__init__(None, "test")
        self.factors = [Factor("value", "static", 100), Factor("frame", "dynamic", 3, per_frame=True)]
        self.video_shape = (3, 1, 2, 2)

    def __len__(self):
        return 10

    def __getitem__(self, index):
        video = torch.full((3, 1, 2, 2), index / 10)
        return {"video": video, "factors": {"value": torch.tensor(index), "frame": torch.arange(3)}}


def test_base_class_batch_is_collate_of_items():
    ds = Counting()
    got = ds.batch([4, 1, 1])
    assert_same_batch(got, collate([ds[4], ds[1], ds[1]]))
    assert got["video"].shape == (3, 3, 1, 2, 2)
    assert got["factors"]["value"].tolist() == [4, 1, 1]
    with pytest.raises(DataError, match="at least one"):
        ds.batch([])


@pytest.mark.parametrize("workers", [0, 2])
def test_dataloader_fetches_whole_batches(monkeypatch, workers):
    """A DataLoader with a batch size fetches through `__getitems__` = `batch`, and `collate`
    passes the batch through: the same batches as items collated, with no item made."""
    from torch.utils.data import DataLoader

    ds = make_dataset("moving_mnist", "val", num_frames=5, num_val=12)
    expected = [collate([ds[i] for i in range(s, s + 4)]) for s in range(0, 12, 4)]
    if workers == 0:
        monkeypatch.setattr(type(ds), "__getitem__", lambda self, index: 1 / 0)
    loader = DataLoader(ds, batch_size=4, num_workers=workers, collate_fn=collate)
    got = list(loader)
    assert len(got) == 3
    for batch, reference in zip(got, expected):
        assert_same_batch(batch, reference)

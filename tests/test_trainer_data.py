"""The trainer's data path: the same clips as before, made with fewer calls."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidis.data import VideoDataset, collate
from vidis.data.moving_mnist import MovingMNIST
from vidis.train.spec import make_spec
from vidis.train.trainer import StepBatchSampler, Trainer, makes_batches


def test_sampler_walks_one_permutation_per_epoch_as_the_per_clip_formula_does():
    """Step s takes flat positions offset + s B ...; position q of epoch e is clip perm_e[q] with
    perm_e = permutation of default_rng([seed, e, 7]) (the formula vidis has always used)."""
    sampler = StepBatchSampler(0, 40, 7, length=30, seed=3, offset=5)
    for step in range(40):  # crosses several epochs, some steps straddle two
        flat = 5 + step * 7 + np.arange(7)
        expected = [int(np.random.default_rng([3, int(q // 30), 7]).permutation(30)[q % 30]) for q in flat]
        assert sampler.indices(step) == expected


class ItemMNIST(MovingMNIST):
    """Moving MNIST without its own `batch`: the base class's loop over items."""

    batch = VideoDataset.batch
    __getitems__ = None  # DataLoaders fetch item by item


class BatchingMNIST(MovingMNIST):
    """Moving MNIST whose `batch` is its own (as a vectorised generator's is): counts its calls."""

    calls: list[list[int]] = []

    def batch(self, indices):
        BatchingMNIST.calls.append([int(i) for i in indices])
        return collate([self[int(i)] for i in indices])


@pytest.mark.parametrize("workers", [0, 2])
def test_a_dataset_with_its_own_batch_makes_each_step_in_one_call(tmp_path, workers):
    spec = make_spec("frame_vae", preset="smoke", overrides={"train": {"num_workers": workers}})
    trainer = Trainer(spec, tmp_path, progress=False)
    trainer.train_data = ItemMNIST(trainer.train_data.config, "train", seed=spec.train.seed)
    assert not makes_batches(trainer.train_data)
    items = [batch for batch in trainer.loader()]  # items + collate
    trainer.train_data = BatchingMNIST(trainer.train_data.config, "train", seed=spec.train.seed)
    assert makes_batches(trainer.train_data)
    BatchingMNIST.calls = []
    batches = [batch for batch in trainer.loader()]
    assert len(batches) == len(items) == spec.train.steps
    for got, want in zip(batches, items):
        assert torch.equal(got["video"], want["video"])
        assert all(torch.equal(got["factors"][k], v) for k, v in want["factors"].items())
    if workers == 0:  # in this process: one call per step with the step's clips
        sampler = StepBatchSampler(0, spec.train.steps, spec.train.batch_size, None, spec.train.seed)
        assert BatchingMNIST.calls == [sampler.indices(step) for step in range(spec.train.steps)]

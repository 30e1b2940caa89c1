"""The training batches: the batch of step s is a pure function of (seed, s), so a resumed run
reads the same clips as an uninterrupted one (`vidis.train.trainer` builds its loaders from these).

`StepBatchSampler` gives each step's dataset indices; `StepBatches` asks a dataset that overrides
`VideoDataset.batch` (a vectorised generator) for each step's batch in one call; loader workers
run `ignore_stop_signals` so that only the trainer answers Ctrl-C and SIGTERM.
"""

from __future__ import annotations

import signal

import numpy as np
import torch
from torch.utils.data import Sampler

from ..data import VideoDataset
from . import distributed


def ignore_stop_signals(worker_id: int):
    """Loader workers ignore SIGINT and SIGTERM: the trainer saves, then ends them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


class StepBatchSampler(Sampler):
    """Yields the dataset indices of steps start..stop-1, deterministic in (seed, step).

    Step s draws the flat positions offset + (s - origin) * B ... + B - 1 (a stage starts at
    step `origin` with the first position after the previous stages' clips, `offset`).
    Infinite datasets use the positions as indices; a finite one is walked in a fresh
    permutation per epoch (computed once per epoch, not once per clip). In a run of several
    processes each yields its slice of every step's B indices (`distributed.shard`).
    """

    def __init__(
        self,
        start: int,
        stop: int,
        batch_size: int,
        length: int | None,
        seed: int,
        origin: int = 0,
        offset: int = 0,
    ):
        self.start, self.stop, self.batch_size, self.length, self.seed = start, stop, batch_size, length, seed
        self.origin, self.offset = origin, offset
        self._permutations: dict[int, np.ndarray] = {}  # epoch -> permutation (the last two kept)

    def __len__(self):
        return max(0, self.stop - self.start)

    def permutation(self, epoch: int) -> np.ndarray:
        if epoch not in self._permutations:
            if len(self._permutations) >= 2:
                self._permutations.pop(min(self._permutations))
            rng = np.random.default_rng([self.seed, epoch, 7])
            self._permutations[epoch] = rng.permutation(self.length)
        return self._permutations[epoch]

    def indices(self, step: int) -> list[int]:
        """The global batch of step `step` (every process's clips)."""
        first = self.offset + (step - self.origin) * self.batch_size
        flat = np.arange(first, first + self.batch_size)
        if self.length is None:
            return flat.tolist()
        epochs, positions = np.divmod(flat, self.length)
        out = np.empty(self.batch_size, dtype=np.int64)
        for epoch in np.unique(epochs):  # one epoch, or two where the step crosses an epoch's end
            where = epochs == epoch
            out[where] = self.permutation(int(epoch))[positions[where]]
        return out.tolist()

    def __iter__(self):
        for step in range(self.start, self.stop):
            yield distributed.shard(self.indices(step))


class StepBatches(torch.utils.data.Dataset):
    """Item k = the batch of the sampler's k-th step, made by `dataset.batch` (for datasets that
    make a batch faster than a loop over items: one call per batch, in a loader worker)."""

    def __init__(self, dataset: VideoDataset, sampler: StepBatchSampler):
        self.dataset, self.sampler = dataset, sampler

    def __len__(self):
        return len(self.sampler)

    def __getitem__(self, k: int) -> dict:
        return self.dataset.batch(distributed.shard(self.sampler.indices(self.sampler.start + k)))


def makes_batches(dataset) -> bool:
    """Whether `dataset` overrides `VideoDataset.batch` (e.g. a vectorised generator)."""
    return isinstance(dataset, VideoDataset) and type(dataset).batch is not VideoDataset.batch

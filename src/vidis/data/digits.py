"""Real MNIST digit pools: the embedded 10,000 digits, or standard MNIST IDX files on disk.

The embedded asset (`assets/mnist_digits.npz`, made by `scripts/vendor_digits.py`, MIT
licence, provenance beside it) holds disjoint train (8,500) and test (1,500) pools. With
IDX files, the train pool is `train-images-idx3-ubyte` and the test pool `t10k-...`.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import DataError

IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (optionally gzipped) into a uint8 array of its declared shape."""
    raw = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path} is not an unsigned-byte IDX file (bad magic number)")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise DataError(f"{path}: header says shape {shape}, file holds {data.size} values")
    return data.reshape(shape)


def _find(folder: Path, stem: str) -> Path:
    for candidate in (stem, stem + ".gz", stem.replace("-idx", ".idx")):
        if (folder / candidate).exists():
            return folder / candidate
    raise DataError(f"{folder} has no {stem} (or {stem}.gz): expected the standard MNIST IDX files")


@lru_cache(maxsize=4)
def digit_pool(pool: str, mnist_dir: str = "") -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 28, 28) uint8, labels (N,) int64) of pool "train" or "test"."""
    if pool not in IDX_FILES:
        raise DataError(f"digit pool must be 'train' or 'test', got {pool!r}")
    if mnist_dir:
        folder = Path(mnist_dir).expanduser()
        if not folder.is_dir():
            raise DataError(f"mnist_dir {folder} is not a folder")
        images = read_idx(_find(folder, IDX_FILES[pool][0]))
        labels = read_idx(_find(folder, IDX_FILES[pool][1]))
        if images.ndim != 3 or images.shape[1:] != (28, 28) or len(images) != len(labels):
            raise DataError(f"{folder}: expected (N, 28, 28) images with N labels")
        return np.ascontiguousarray(images), labels.astype(np.int64)
    asset = resources.files("vidis.data") / "assets" / "mnist_digits.npz"
    with resources.as_file(asset) as path, np.load(path) as arrays:
        return arrays[f"{pool}_images"], arrays[f"{pool}_labels"].astype(np.int64)

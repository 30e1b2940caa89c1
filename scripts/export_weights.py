"""Shrink every run's checkpoints/last.pt under a folder to a model-only fp16 file (and back).

    python scripts/export_weights.py RUNS_ROOT            # writes RUN/checkpoints/model_fp16.pt
    python scripts/export_weights.py RUNS_ROOT --restore  # rebuilds RUN/checkpoints/last.pt from it

Used to bring runs trained on a remote GPU back within a transfer limit. A restored last.pt has
the fp16-rounded weights in float32 and no optimiser state (it can be evaluated, not resumed).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from vidis.train.checkpoint import atomic_save


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--restore", action="store_true")
    args = parser.parse_args()
    name_from, name_to = ("model_fp16.pt", "last.pt") if args.restore else ("last.pt", "model_fp16.pt")
    for path in sorted(args.root.rglob(f"checkpoints/{name_from}")):
        state = torch.load(path, map_location="cpu", weights_only=True)
        dtype = torch.float32 if args.restore else torch.float16
        state["model"] = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state["model"].items()}
        state["optimizers"] = {}
        atomic_save(state, path.with_name(name_to))
        print(f"{path} -> {path.with_name(name_to)} ({path.with_name(name_to).stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()

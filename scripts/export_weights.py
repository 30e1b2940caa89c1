"""Shrink every run's checkpoints/last.pt under a folder to a model-only fp16 file (and back).

    python scripts/export_weights.py RUNS_ROOT            # writes RUN/checkpoints/model_fp16.pt
    python scripts/export_weights.py RUNS_ROOT --restore  # rebuilds RUN/checkpoints/last.pt from it
    python scripts/export_weights.py RUNS_ROOT --restore --parts DIR  # first joins the parts

Used to bring runs trained on a remote GPU back within a transfer limit. A restored last.pt has
the fp16-rounded weights in float32 and no optimiser state (it can be evaluated, not resumed).
`--parts DIR`: DIR holds `PRESET-MODEL.fp16.partNN` files (scripts/gpu_paper000.sh with
WEIGHTS=1 splits each model_fp16.pt so); each group is joined, in order, into
RUNS_ROOT/PRESET/MODEL/checkpoints/model_fp16.pt before the restore.
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
    parser.add_argument("--parts", type=Path, help="with --restore: join PRESET-MODEL.fp16.partNN first")
    args = parser.parse_args()
    if args.parts:
        if not args.restore:
            parser.error("--parts goes with --restore")
        join_parts(args.parts, args.root)
    name_from, name_to = ("model_fp16.pt", "last.pt") if args.restore else ("last.pt", "model_fp16.pt")
    for path in sorted(args.root.rglob(f"checkpoints/{name_from}")):
        state = torch.load(path, map_location="cpu", weights_only=True)
        dtype = torch.float32 if args.restore else torch.float16
        state["model"] = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state["model"].items()}
        state["optimizers"] = {}
        atomic_save(state, path.with_name(name_to))
        print(f"{path} -> {path.with_name(name_to)} ({path.with_name(name_to).stat().st_size / 1e6:.1f} MB)")


def join_parts(parts_dir: Path, root: Path) -> None:
    groups: dict[str, list[Path]] = {}
    for part in sorted(parts_dir.glob("*.fp16.part*")):
        groups.setdefault(part.name.split(".fp16.part")[0], []).append(part)
    if not groups:
        raise SystemExit(f"no PRESET-MODEL.fp16.partNN files in {parts_dir}")
    for name, parts in groups.items():
        preset, model = name.rsplit("-", 1)  # model keys have no '-' (presets may: paper-code)
        target = root / preset / model / "checkpoints" / "model_fp16.pt"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"".join(p.read_bytes() for p in parts))
        print(f"{len(parts)} part(s) -> {target}")


if __name__ == "__main__":
    main()

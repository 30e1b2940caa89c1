"""The video cache's effect on an epoch: decoding every clip from its file vs reading the cache.

    python benchmarks/bench_video_folder.py [--videos 40] [--frames 100] [--width 160] [--height 120]
        [--image-size 64] [--num-frames 20] [--clips-per-video 4] [--batch 16] [--threads 2]

Writes `--videos` synthetic mp4 files (mpeg4, KTH's 160x120 at 25 fps by default: a textured
square moving over a gradient) into a temporary folder, then measures, in this process:

- `first pass`: building the `video_folder` train split with an empty cache (decode, resize,
  crop, write uint8 arrays), seconds;
- `warm`: building it again (the cache is read), seconds;
- `epoch, cached`: one epoch of batches (`dataset.batch`, every clip once), seconds;
- `epoch, decoding`: the same clips decoded from their files at every step, as a loader
  without a cache would (PyAV, then the same resize and crop), seconds.

Appends one JSON line (date, command, machine, load averages, every number) to
benchmarks/results/video_folder.jsonl.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
from results_file import append_result  # noqa: E402

from vidis.data import make_dataset
from vidis.data import video_folder as vf

RESULTS = Path(__file__).parent / "results" / "video_folder.jsonl"


def write_videos(root: Path, count: int, frames: int, width: int, height: int):
    import av  # noqa: PLC0415

    rng = np.random.default_rng(0)
    ys, xs = np.mgrid[0:height, 0:width]
    for v in range(count):
        texture = rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)
        velocity = rng.uniform(-3, 3, 2)
        with av.open(str(root / f"video{v:03d}.mp4"), "w") as container:
            stream = container.add_stream("mpeg4", rate=25)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            for t in range(frames):
                image = np.stack([(xs + t) % 256, ys % 256, (xs + ys) % 256], -1).astype(np.uint8)
                x = int((width - 24) / 2 + velocity[0] * t) % (width - 24)
                y = int((height - 24) / 2 + velocity[1] * t) % (height - 24)
                image[y : y + 24, x : x + 24] = texture
                for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)


def decode_clip(dataset, index: int) -> np.ndarray:
    """Clip `index` decoded from its file: every frame up to the clip's end, then the clip's."""
    import av  # noqa: PLC0415

    number, start = dataset.clip(index)
    source = dataset.videos[number][0]
    c = dataset.config
    end = start + dataset.span
    frames = []
    with av.open(str(source.path)) as container:
        for t, frame in enumerate(container.decode(video=0)):
            if t >= end:
                break
            if t >= start and (t - start) % c.frame_stride == 0:
                frames.append(vf._resize_crop(frame.to_image(), c.image_size, c.channels))
    return np.stack(frames)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--videos", type=int, default=40)
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--width", type=int, default=160)
    parser.add_argument("--height", type=int, default=120)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--num-frames", type=int, default=20)
    parser.add_argument("--clips-per-video", type=int, default=4)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        root, cache = Path(folder) / "videos", Path(folder) / "cache"
        root.mkdir()
        os.environ["VIDIS_CACHE"] = str(cache)
        print(
            f"writing {args.videos} videos of {args.frames} frames ({args.width}x{args.height}) ...",
            flush=True,
        )
        write_videos(root, args.videos, args.frames, args.width, args.height)
        options = {
            "root": str(root), "image_size": args.image_size, "num_frames": args.num_frames,
            "clips_per_video": args.clips_per_video, "val_fraction": 0.0, "test_fraction": 0.0,
        }  # fmt: skip
        timings = {}
        started = time.perf_counter()
        make_dataset("video_folder", "train", **options)
        timings["first_pass_seconds"] = time.perf_counter() - started
        started = time.perf_counter()
        dataset = make_dataset("video_folder", "train", **options)
        timings["warm_construction_seconds"] = time.perf_counter() - started
        order = np.random.default_rng(0).permutation(len(dataset))
        batches = [order[i : i + args.batch] for i in range(0, len(order), args.batch)]
        started = time.perf_counter()
        cached = [dataset.batch(b)["video"] for b in batches]
        timings["epoch_cached_seconds"] = time.perf_counter() - started
        started = time.perf_counter()
        decoded = [np.stack([decode_clip(dataset, int(i)) for i in b]) for b in batches]
        timings["epoch_decoding_seconds"] = time.perf_counter() - started
        same = all(
            torch.equal(c, torch.from_numpy(d).permute(0, 1, 4, 2, 3).float().div(255))
            for c, d in zip(cached, decoded)
        )
        cache_bytes = sum(p.stat().st_size for p in (cache / "video_folder").glob("*.npy"))
    record = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if argv is None else " ".join(argv),
        "machine": f"{platform.machine()}, {args.threads} threads",
        "torch": torch.__version__,
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "clips_per_epoch": len(dataset),
        **timings,
        "epoch_speedup_from_cache": timings["epoch_decoding_seconds"] / timings["epoch_cached_seconds"],
        "cached_equals_decoded": same,
        "cache_bytes": cache_bytes,
        "load_average_start": load_start,
        "load_average_end": os.getloadavg(),
    }
    print(f"{len(dataset)} clips per epoch ({args.videos} videos x {args.clips_per_video})")
    for name, value in timings.items():
        print(f"  {name:<28}{value:8.2f}")
    print(f"  epoch speedup from the cache {record['epoch_speedup_from_cache']:8.1f}x (clips equal: {same})")
    print(
        f"  cache size {cache_bytes / 2**20:.1f} MiB; load average start {load_start}, end {os.getloadavg()}"
    )
    append_result(args.out, record)
    return record


if __name__ == "__main__":
    main()

"""TensorBoard event files beside `log.csv`, when the optional `tensorboard` package is installed.

`train.tensorboard=true` (the default) writes `RUN/tensorboard/events.out.tfevents.*`: every
value `log.csv` gets, as the scalar `SPLIT/NAME` at its step, and at every validation the swap
grid of the first validation clips (cell (i, j) = content of clip i, motion of clip j; the
first row and column are the clips themselves) as an image of three frames side by side
(first, middle and last). `tensorboard --logdir RUN` (or the folder of several runs) shows
them. Without the package nothing is written and the run says so once.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

from ..viz import frame_strip, video_grid

SWAP_CLIPS = 4  # the swap grid's clips (a 5 x 5 grid of cells)


def summary_writer_class():
    """torch's SummaryWriter, or None when the tensorboard package is missing."""
    try:
        from torch.utils.tensorboard import SummaryWriter  # noqa: PLC0415  (needs `tensorboard`)
    except ImportError:
        return None
    return SummaryWriter


class TensorBoardLog:
    """Writes scalars and the swap grid to RUN/tensorboard; a fresh run clears the folder, a
    resumed one hides the events written after the step it resumes from (`purge_step`)."""

    def __init__(self, run_dir: Path, resume_step: int | None):
        writer_class = summary_writer_class()
        self.folder = Path(run_dir) / "tensorboard"
        self.writer = None
        if writer_class is None:
            print(
                "train.tensorboard: the tensorboard package is not installed "
                "(pip install 'vidis[tensorboard]'); "
                "log.csv only"
            )
            return
        if resume_step is None and self.folder.is_dir():
            shutil.rmtree(self.folder)  # the events of an earlier run in this folder
        # resumed from step s: the events an interrupted run wrote after s are hidden
        self.writer = writer_class(
            str(self.folder), purge_step=None if resume_step is None else resume_step + 1
        )

    def scalars(self, split: str, values: dict[str, float], step: int):
        if self.writer is not None:
            for name, value in values.items():
                self.writer.add_scalar(f"{split}/{name}", value, step)

    @torch.no_grad()
    def swap_grid(self, model, video: torch.Tensor, step: int):
        """The swap grid of `video` (N, T, C, H, W) as the image `val/swap_grid`."""
        if self.writer is None or "swap" not in model.capabilities or video.shape[0] < 2:
            return
        N = video.shape[0]
        rows = [torch.cat([torch.zeros_like(video[:1]), video]).float().cpu()]  # header: motion sources
        for i in range(N):
            swapped = model.swap(video[i : i + 1].expand(N, *video.shape[1:]), video)  # (N, T, C, H, W)
            rows.append(torch.cat([video[i : i + 1], swapped]).float().cpu())
        frames = video_grid(rows)  # (T, H', W', 3) uint8
        T = frames.shape[0]
        image = frame_strip(frames[sorted({0, T // 2, T - 1})])  # (H', 3 W' + pads, 3)
        self.writer.add_image("val/swap_grid", image, step, dataformats="HWC")

    def flush(self):
        if self.writer is not None:
            self.writer.flush()

    def close(self):
        if self.writer is not None:
            self.writer.close()

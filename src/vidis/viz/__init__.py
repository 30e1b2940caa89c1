"""Pictures of videos: grids, film strips, GIFs and PNGs, training plots and an HTML report."""

from __future__ import annotations

from .plots import plot_bar_table, plot_training_curves, read_log
from .report import Section, metrics_table, write_report
from .video import frame_strip, save_gif, save_png, to_uint8, video_grid, video_strip

__all__ = [
    "Section",
    "frame_strip",
    "metrics_table",
    "plot_bar_table",
    "plot_training_curves",
    "read_log",
    "save_gif",
    "save_png",
    "to_uint8",
    "video_grid",
    "video_strip",
    "write_report",
]

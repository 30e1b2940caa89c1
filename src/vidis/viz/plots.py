"""Matplotlib figures: training curves from a run's log.csv, and metric bars across models.

Figures are drawn with the Agg canvas directly (no pyplot), so nothing touches a display or
matplotlib's global state.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .video import atomic_path

SPLIT_STYLE = {
    "train": {"color": "tab:blue", "linewidth": 1.0},
    "val": {"color": "tab:orange", "linewidth": 1.5, "marker": "o", "markersize": 3},
}
SMOOTH_ABOVE = 100  # train curves with more points also get a moving average


def _figure(figsize: tuple[float, float]) -> Figure:
    fig = Figure(figsize=figsize, dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, out_png: str | os.PathLike) -> Path:
    fig.tight_layout()
    out_png = Path(out_png)
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, format="png")
    return out_png


def read_log(log_csv_path: str | os.PathLike) -> dict[str, dict[str, tuple]]:
    """Read a long-format log (step,split,metric,value) -> {metric: {split: (steps, values)}}.

    Metrics and splits keep the order in which they first appear; points are sorted by step.
    Rows with an unparseable or non-finite value are skipped.
    """
    series: dict[str, dict[str, list[tuple[float, float]]]] = {}
    with open(log_csv_path, newline="") as f:
        for row in csv.DictReader(f):
            try:
                step, value = float(row["step"]), float(row["value"])
            except (TypeError, ValueError, KeyError):
                continue
            if not math.isfinite(value):
                continue
            series.setdefault(row["metric"], {}).setdefault(row["split"], []).append((step, value))
    out = {}
    for metric, splits in series.items():
        out[metric] = {}
        for split, points in splits.items():
            points.sort(key=lambda p: p[0])
            out[metric][split] = (
                np.array([p[0] for p in points]),
                np.array([p[1] for p in points]),
            )
    return out


def _use_log_scale(values: list[np.ndarray]) -> bool:
    """True when every value is positive and they span more than two decades."""
    allv = np.concatenate(values)
    return bool(allv.size and allv.min() > 0 and allv.max() / allv.min() > 100)


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    kernel = np.ones(window) / window
    return np.convolve(values, kernel, mode="valid")


def plot_training_curves(
    log_csv_path: str | os.PathLike, out_png: str | os.PathLike, max_metrics: int = 6
) -> Path | None:
    """One subplot per metric (the first `max_metrics`), a line per split (train, val).

    The y axis is logarithmic where all values are positive and span more than two decades.
    Returns the PNG path, or None when the log is missing or has no usable rows.
    """
    if not Path(log_csv_path).is_file():
        return None
    series = read_log(log_csv_path)
    if not series:
        return None
    metrics = list(series)[:max_metrics]
    n_cols = min(3, len(metrics))
    n_rows = math.ceil(len(metrics) / n_cols)
    fig = _figure(figsize=(3.3 * n_cols, 2.6 * n_rows))
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        splits = series[metric]
        for split, (steps, values) in splits.items():
            style = SPLIT_STYLE.get(split, {"linewidth": 1.0})
            if split == "train" and len(values) > SMOOTH_ABOVE:
                window = max(2, len(values) // 50)
                ax.plot(steps, values, alpha=0.25, **style)
                ax.plot(steps[window - 1 :], _moving_average(values, window), label=split, **style)
            else:
                ax.plot(steps, values, label=split, **style)
        if _use_log_scale([v for _, v in splits.values()]):
            ax.set_yscale("log")
        ax.set_title(metric, fontsize=10)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    return _save(fig, out_png)


def plot_bar_table(
    rows: Mapping[str, Mapping[str, float]],
    out_png: str | os.PathLike,
    title: str = "",
    reference: Mapping[str, float] | None = None,
    reference_label: str = "paper",
) -> Path:
    """Bars of a few metrics across models: one subplot per metric, one bar per model.

    rows: {model: {metric: value}}; a missing value leaves a gap. reference: optional
    {metric: value} drawn as a dashed line, named with `reference_label` in the subplot title
    (e.g. "paper vs ours").
    """
    if not rows:
        raise ValueError("plot_bar_table: no rows to plot")
    models = list(rows)
    metrics = list(dict.fromkeys(m for values in rows.values() for m in values))
    if not metrics:
        raise ValueError("plot_bar_table: the rows hold no metrics")
    reference = dict(reference or {})
    colors = matplotlib.colormaps["tab10"].colors
    fig = _figure(figsize=(max(3.0, 0.6 * len(models) + 1.2) * len(metrics), 3.2))
    axes = fig.subplots(1, len(metrics), squeeze=False)
    x = np.arange(len(models))
    for ax, metric in zip(axes[0], metrics, strict=True):
        values = np.array([float(rows[m].get(metric, np.nan)) for m in models])
        bars = ax.bar(x, values, color=[colors[i % len(colors)] for i in range(len(models))])
        top = np.nanmax(np.abs([*values, reference.get(metric, np.nan)]))
        for bar, value in zip(bars, values, strict=True):
            if not np.isfinite(value):
                continue
            inside = value > 0 and value >= 0.2 * top  # label inside tall bars, above short ones
            ax.annotate(
                f"{value:.3g}",
                (bar.get_x() + bar.get_width() / 2, value),
                ha="center",
                va="top" if inside else "bottom",
                xytext=(0, -2 if inside else 2),
                textcoords="offset points",
                fontsize=7,
                color="white" if inside else "black",
                fontweight="bold" if inside else "normal",
            )
        heading = metric
        if metric in reference:
            ax.axhline(reference[metric], color="black", linestyle="--", linewidth=1)
            heading = f"{metric}   (- - {reference_label}: {reference[metric]:.3g})"
        ax.set_title(heading, fontsize=10)
        ax.set_xticks(x, models, rotation=30, ha="right", fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(True, axis="y", alpha=0.3)
        ax.margins(y=0.15)
    if title:
        fig.suptitle(title, fontsize=11)
    return _save(fig, out_png)

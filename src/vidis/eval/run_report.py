"""A run folder's `report.html`: what was trained, how well it reconstructs, what it can do.

Every section of `metrics.json` is shown with the training step it was computed at
(`metrics[section]["step"]`) and marked stale when that differs from the checkpoint's step, or
"step unknown" when the section does not say. Judged scores name the judge that gave them (its
file and its own accuracy) where metrics.json holds them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from ..train.checkpoint import checkpoint_path, read_checkpoint
from ..train.spec import RunSpec
from ..viz.plots import plot_training_curves
from ..viz.report import Section, metrics_table, write_report

# Figures in the order a reader wants them: what the model does first, then how it trained.
FIGURES = [
    ("Content/motion swap (rows: content source, columns: motion source)", ["swap.gif", "swap.png"]),
    (
        "Swaps against the ground truth (rows: A, B, the true swap the dataset renders, the model's swap)",
        ["swap_vs_truth.gif", "swap_vs_truth.png"],
    ),
    ("Content interpolation", ["interpolate_content.gif"]),
    ("Motion interpolation", ["interpolate_motion.gif"]),
    (
        "Reconstruction (top: test clips, bottom: reconstructions)",
        ["reconstruction.gif", "reconstruction.png"],
    ),
]


def checkpoint_step(run_dir) -> int | None:
    """The step of the run's last checkpoint, or None when there is none or it cannot be read."""
    try:
        return int(read_checkpoint(checkpoint_path(run_dir))["step"])
    except Exception:  # a missing or damaged checkpoint: the report still shows what there is
        return None


def section_step(values: Mapping, step: int | None) -> tuple[str, bool]:
    """(a note on the step a metrics section was computed at, whether it is stale)."""
    computed = values.get("step")
    if not isinstance(computed, int):
        return "step unknown", False
    if step is not None and computed != step:
        return f"STALE: computed at step {computed:,}, the checkpoint is at step {step:,}", True
    return f"computed at step {computed:,}", False


def _rows(values: Mapping) -> list[dict]:
    """Table rows of a metrics section; None (an undefined score) shows as "undefined"."""
    rows = metrics_table({k: v for k, v in values.items() if k != "step"})
    return [{**row, "value": "undefined" if row["value"] is None else row["value"]} for row in rows]


def write_run_report(run_dir) -> Path:
    run_dir = Path(run_dir)
    spec = RunSpec.load(run_dir)
    metrics_path = run_dir / "metrics.json"
    metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
    step = checkpoint_step(run_dir)
    figures = run_dir / "figures"
    sections = []
    for title, names in FIGURES:
        images = [f"figures/{n}" for n in names if (figures / n).exists()]
        if images:
            text = ""
            if names[0] == "swap.gif" and isinstance(metrics.get("judge"), Mapping):
                note, stale = section_step(metrics["judge"], step)
                text = judge_summary(metrics["judge"]) + f" ({note}.)"
            if names[0] == "swap_vs_truth.gif" and isinstance(metrics.get("gt_swaps"), Mapping):
                note, stale = section_step(metrics["gt_swaps"], step)
                text = gt_swaps_summary(metrics["gt_swaps"]) + f" ({note}.)"
            sections.append(Section(title, text=text, images=images))
    scalars = {k: v for k, v in metrics.items() if not isinstance(v, Mapping)}
    run_rows = [{"metric": "checkpoint step", "value": step if step is not None else "no checkpoint"}]
    run_rows += [{"metric": f"metrics.json {k}", "value": v} for k, v in scalars.items()]
    sections.append(Section("Run", table=run_rows))
    for group, values in metrics.items():
        if isinstance(values, Mapping):
            note, stale = section_step(values, step)
            title = f"Metrics: {group} ({note})"
            text = judge_used(values) if group == "judge" else ""
            if stale:
                text = (
                    f"These numbers are from an older model than the checkpoint: rerun `vidis eval "
                    f"{run_dir}` to refresh them. " + text
                ).strip()
            sections.append(Section(title, text=text, table=_rows(values)))
    curves = plot_training_curves(run_dir / "log.csv", figures / "training_curves.png")
    if curves is not None:
        sections.append(Section("Training curves", images=["figures/training_curves.png"]))
    config_rows = [{"section": s, "settings": json.dumps(v)} for s, v in spec.to_dict().items()]
    sections.append(Section("Configuration", table=config_rows))
    title = f"vidis run: {spec.model} on {spec.data} ({spec.preset})"
    return write_report(run_dir / "report.html", title, sections)


def _first(values: Mapping, *keys):
    return next((values[k] for k in keys if values.get(k) is not None), None)


def judge_used(judge: Mapping) -> str:
    """Which judge gave these scores: its file and its own accuracy on real test clips, from the
    keys judge_file/file and judge_accuracy/accuracy where metrics.json holds them."""
    path = _first(judge, "judge_file", "file")
    accuracy = _first(judge, "judge_accuracy", "accuracy")
    if isinstance(accuracy, Mapping):
        accuracy = ", ".join(
            f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in accuracy.items()
        )
    elif isinstance(accuracy, float):
        accuracy = f"{accuracy:.3f}"
    if path is None and accuracy is None:
        return "Judge used: not recorded in metrics.json (file and own accuracy unknown)."
    return (
        f"Judge used: {path or 'file unknown'}; its own accuracy on real test clips: {accuracy or 'unknown'}."
    )


def judge_summary(judge: dict) -> str:
    """One sentence of the judge's swap scores, each beside its ceilings (full list: Metrics: judge)."""

    def score(key: str) -> str:
        return f"{judge[key]:.3f}" if isinstance(judge.get(key), (int, float)) else "–"

    swaps = _first(judge, "num_swaps", "judge_num_swaps", "num_clips")
    on = (
        f"Judge on swaps ({swaps:,} swaps)"
        if isinstance(swaps, int)
        else "Judge on swaps (number not recorded)"
    )
    return (
        f"{on}: content of A (the row) recognised "
        f"{score('content_accuracy')} (on real clips {score('real_content_accuracy')}, on this "
        f"model's reconstructions {score('recon_content_accuracy')}); motion of B (the column) "
        f"{score('motion_accuracy')} (real {score('real_motion_accuracy')}, reconstructions "
        f"{score('recon_motion_accuracy')}). Leaked: B's content {score('content_from_motion_source')}, "
        f"A's motion {score('motion_from_content_source')}. Judge-FD {score('fd')}. " + judge_used(judge)
    )


def gt_swaps_summary(gt: Mapping) -> str:
    """One sentence: the swap against the true swap, beside copying B, copying A and the model's
    own reconstruction of the true swap (the most a swap can reach)."""

    def pair(source: str) -> str:
        mse, ssim = gt.get(f"{source}_mse"), gt.get(f"{source}_ssim")
        if not isinstance(mse, (int, float)) or not isinstance(ssim, (int, float)):
            return "–"
        return f"MSE {mse:.4f}, SSIM {ssim:.3f}"

    n = gt.get("num_clips")
    clips = f"{n:,} pairs" if isinstance(n, int) else "? pairs"
    text = (
        f"Against the true swap ({clips}, best digit order): the model's swap {pair('swap')}; "
        f"copying B {pair('copy_b')}; copying A {pair('copy_a')}"
    )
    if "recon_mse" in gt:
        text += f"; the model's reconstruction of the true swap (its ceiling) {pair('recon')}"
    return text + "."

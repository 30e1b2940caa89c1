"""A run folder's `report.html`: what was trained, how well it reconstructs, what it can do."""

from __future__ import annotations

import json
from pathlib import Path

from ..train.spec import RunSpec
from ..viz.plots import plot_training_curves
from ..viz.report import Section, write_report

# Figures in the order a reader wants them: what the model does first, then how it trained.
FIGURES = [
    ("Content/motion swap (rows: content source, columns: motion source)", ["swap.gif", "swap.png"]),
    ("Content interpolation", ["interpolate_content.gif"]),
    ("Motion interpolation", ["interpolate_motion.gif"]),
    (
        "Reconstruction (top: test clips, bottom: reconstructions)",
        ["reconstruction.gif", "reconstruction.png"],
    ),
]


def write_run_report(run_dir) -> Path:
    run_dir = Path(run_dir)
    spec = RunSpec.load(run_dir)
    metrics_path = run_dir / "metrics.json"
    metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
    figures = run_dir / "figures"
    sections = []
    for title, names in FIGURES:
        images = [f"figures/{n}" for n in names if (figures / n).exists()]
        if images:
            text = ""
            if names[0] == "swap.gif" and "judge" in metrics:
                text = judge_summary(metrics["judge"])
            sections.append(Section(title, text=text, images=images))
    for group, values in metrics.items():
        if isinstance(values, dict):
            rows = [{"metric": k, "value": v} for k, v in values.items()]
            sections.append(Section(f"Metrics: {group}", table=rows))
    curves = plot_training_curves(run_dir / "log.csv", figures / "training_curves.png")
    if curves is not None:
        sections.append(Section("Training curves", images=["figures/training_curves.png"]))
    config_rows = [{"section": s, "settings": json.dumps(v)} for s, v in spec.to_dict().items()]
    sections.append(Section("Configuration", table=config_rows))
    title = f"vidis run: {spec.model} on {spec.data} ({spec.preset})"
    return write_report(run_dir / "report.html", title, sections)


def judge_summary(judge: dict) -> str:
    """One sentence of the judge's swap scores, each beside its ceilings (full list: Metrics: judge)."""

    def score(key: str) -> str:
        return f"{judge[key]:.3f}" if isinstance(judge.get(key), (int, float)) else "–"

    return (
        f"Judge on swaps: content of A (the row) recognised "
        f"{score('content_accuracy')} (on real clips {score('real_content_accuracy')}, on this "
        f"model's reconstructions {score('recon_content_accuracy')}); motion of B (the column) "
        f"{score('motion_accuracy')} (real {score('real_motion_accuracy')}, reconstructions "
        f"{score('recon_motion_accuracy')}). Leaked: B's content {score('content_from_motion_source')}, "
        f"A's motion {score('motion_from_content_source')}. Judge-FD {score('fd')}."
    )

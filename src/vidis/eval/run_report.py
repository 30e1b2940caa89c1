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
                text = "Judge on swaps: " + ", ".join(
                    f"{k} = {v:.3g}" for k, v in metrics["judge"].items() if isinstance(v, (int, float))
                )
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

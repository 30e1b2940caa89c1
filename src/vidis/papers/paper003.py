"""Paper 003 (Li et al., "Stochastic video generation with disentangled representations";
shared/papers/003_5b0058f2d5e0dba8.txt): Fig. 3's curves, Fig. 4's samples and the content
stability the paper claims, for DR-SVG (`drsvg`) against its baseline SVG-LP (`svg_lp`).

`reproduce(preset, out)` trains (or reuses, or resumes) both models at `preset` in `out/<model>`,
then on the first test clips, each made context + 25 frames long (the models train on 5 + 10):

- Fig. 3: per-frame SSIM and PSNR, the mean over N samples (what the figure plots) with 95%
  intervals across clips, and the best of N beside it (`figures/fig3.png`, `fig3.csv`). SSIM
  rows beside the paper use SVG's evaluation SSIM (7x7 uniform window, `ssim_skimage`); vidis's
  11x11 Gaussian SSIM has its own rows.
- the table at steps 5, 10, 15, 20, 25 after the context (`table.md`). The paper prints no
  numbers, only Fig. 3's curves, and shared/papers holds the text without the figure's image:
  the paper column says so and stays empty rather than guessing values.
- content stability (`vidis.eval.prediction.content_stability`): how often the dataset's judge
  reads, in 5-frame windows of the predicted frames, the digits it reads in the context. The
  paper says SVG changes digits and DR-SVG keeps them; this measures it.
- Fig. 4 (`figures/fig4.gif/.png`): ground truth, each model's best sample (highest SSIM) and
  random samples; swap grids (section 4.3) and each model's swaps against the true swap.

Sizes per preset (`SETTINGS`): test clips and samples, fewer at `small` to finish in minutes.
Results are written as each model is measured (`results.json`); a table cell of a model not yet
measured says so. Every training is a run folder a later call resumes or reuses.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import torch

from ..config import to_dict
from ..errors import VidisError
from ..eval.figures import swap_grid
from ..eval.prediction import (
    best_and_random,
    content_stability,
    evaluate_prediction,
    long_test_set,
    plot_prediction_curves,
    prediction_figure,
    trivial_predictions,
    write_prediction_csv,
)
from ..train.checkpoint import load_model
from ..train.spec import RunSpec
from ..train.trainer import pick_device
from ..viz.report import Section, write_report
from ..viz.tables import Table, to_html, to_markdown
from .paper000 import run_overrides, train_or_reuse

MODELS = ("drsvg", "svg_lp")
LABELS = {"drsvg": "DR-SVG", "svg_lp": "SVG-LP"}
HORIZON = 25  # predicted frames at evaluation (Fig. 4: 5 observed + 25 predicted)
TABLE_STEPS = (5, 10, 15, 20, 25)
# Per preset: test clips, samples per clip (Fig. 3 and Fig. 4), clips and samples for content
# stability. The paper: 500 test clips, 100 samples.
SETTINGS = {
    "smoke": {"clips": 4, "samples": 3, "stability_clips": 4, "stability_samples": 2},
    "small": {"clips": 100, "samples": 20, "stability_clips": 100, "stability_samples": 5},
    "paper": {"clips": 500, "samples": 100, "stability_clips": 200, "stability_samples": 10},
}
# Context for the docs (Franceschi et al. 2020, Stochastic Moving MNIST, 5 -> 20 frames, best of
# 100 samples, PSNR / SSIM): not paper 003's setting (it plots the mean of 100 samples).
ANCHORS = {"SRVP": (16.93, 0.780), "SVG-LP": (14.50, 0.709)}
ROWS = [  # (curve, label)
    ("mean_ssim_skimage", "SSIM, mean of N samples (SVG's SSIM: 7x7 uniform): Fig. 3"),
    ("mean_psnr", "PSNR (dB), mean of N samples: Fig. 3"),
    ("best_ssim_skimage", "SSIM, best of N samples (SVG's SSIM)"),
    ("best_psnr", "PSNR (dB), best of N samples"),
    ("mean_ssim", "SSIM, mean of N samples (vidis: 11x11 Gaussian)"),
    ("best_ssim", "SSIM, best of N samples (vidis: 11x11 Gaussian)"),
]


REFERENCE_LABELS = {"black": "all-black frames", "last_frame": "last observed frame repeated"}
STABILITY_ROWS = [  # (content_stability key, label)
    ("kept", "Content kept: the judge reads the context's digits in the predicted window"),
    ("correct", "  the judge reads the clip's true digits in the predicted window"),
    ("real_kept", "  reference: the judge on the true future reads the context's digits"),
]


def train_seconds(run: Path, batch_size: int) -> float:
    """Training time from log.csv: each logged interval's steps x batch / its clips per second
    (validation and checkpoints not included)."""
    seconds, last = 0.0, 0
    with open(run / "log.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row["split"] == "train" and row["metric"] == "clips_per_s":
                step = int(row["step"])
                seconds += (step - last) * batch_size / float(row["value"])
                last = step
    return seconds


def settings_for(preset: str) -> dict:
    return SETTINGS.get(preset, SETTINGS["smoke" if preset.startswith("smoke") else "paper"])


def judge_options(data_options: dict) -> dict:
    """The judge reads clips of any length: its dataset options leave out the clip length."""
    return {k: v for k, v in data_options.items() if k != "num_frames"}


def _load(out: Path) -> dict:
    path = out / "results.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _save(out: Path, results: dict):
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")


@torch.no_grad()
def judged_swaps(model, test, judge, num_clips: int, device) -> dict:
    """The judge on swaps of clip i (content) with clip i + n/2 (motion), as the judge protocol."""
    from ..eval.judge_scores import judge_swaps  # noqa: PLC0415

    n = min(num_clips, len(test)) // 2 * 2
    a, b = test.batch(range(n // 2)), test.batch(range(n // 2, n))
    swaps = torch.cat([model.swap(a["video"][i : i + 10].to(device), b["video"][i : i + 10].to(device)).cpu()
                       for i in range(0, n // 2, 10)])
    scores = judge_swaps(judge, swaps, a["factors"], b["factors"], real_videos=None)
    return {"judge_num_swaps": n // 2, **{f"judge_{k}": v for k, v in scores.items()}}


def evaluate_model(name: str, run: Path, preset: str, num_clips: int, device, judge) -> dict:
    """Everything measured for one trained model (one entry of results.json)."""
    from ..eval.gt_swaps import ground_truth_swap_scores  # noqa: PLC0415

    s = settings_for(preset)
    model = load_model(run, device=device)
    spec = RunSpec.load(run)
    options = to_dict(spec.data_config)
    context = model.config.context_frames
    test = long_test_set(spec.data, options, context + HORIZON)
    clips = min(num_clips, s["clips"])
    print(f"{name}: Fig. 3 curves on {clips} test clips x {s['samples']} samples, {HORIZON} frames")
    row = {"steps_trained": model.step, "parameters": model.num_parameters(), "device": str(device),
           "overrides": run_overrides(spec), "train_horizon": options["num_frames"] - context,
           "train_minutes": round(train_seconds(run, spec.train.batch_size) / 60, 1)}
    row["prediction"] = evaluate_prediction(model, test, context, num_samples=s["samples"], num_clips=clips,
                                            device=device, train_horizon=row["train_horizon"])
    if judge is not None:
        print(f"{name}: content stability on {s['stability_clips']} clips x {s['stability_samples']} samples")
        row["stability"] = content_stability(model, test, judge, context, s["stability_samples"],
                                             min(num_clips, s["stability_clips"]), device=device)
        row.update(judged_swaps(model, long_test_set(spec.data, options, options["num_frames"]), judge,
                                clips, device))
    short = long_test_set(spec.data, options, options["num_frames"])
    if getattr(short, "can_render_swaps", False):
        row["gt_swaps"] = ground_truth_swap_scores(model, short, num_clips=clips, device=device)
    return row


def table(results: dict, preset: str) -> Table:
    """SSIM / PSNR at steps 5..25 after the context, each model beside the paper's (empty) column."""
    header = ["metric", "step"] + [f"{LABELS[m]}: {who}" for m in MODELS for who in ("paper Fig. 3", "vidis")]
    references = results.get("references", {})
    header += [f"reference: {label}" for label in REFERENCE_LABELS.values()]
    rows = []
    for key, label in ROWS:
        for step in TABLE_STEPS:
            cells = [label if step == TABLE_STEPS[0] else "", str(step)]
            for m in MODELS:
                cells.append("not in the text" if key.startswith("mean_") and "vidis" not in label else "–")
                cells.append(_curve_cell(results.get(m), key, step))
            metric = key.split("_", 1)[1]  # one fixed guess: its best and mean are the same
            for name in REFERENCE_LABELS:
                values = references.get(name, {}).get("per_frame", {}).get(metric)
                digits = 2 if "psnr" in key else 3
                cells.append("not yet measured" if values is None else
                             "–" if step > len(values) else f"{values[step - 1]:.{digits}f}")
            rows.append(cells)
    stability = {m: (results.get(m) or {}).get("stability") for m in MODELS}
    windows = next((s["windows"] for s in stability.values() if s), [])
    for key, label in STABILITY_ROWS:
        for i, window in enumerate(windows):
            cells = [label if i == 0 else "", window]
            for m in MODELS:
                value = (stability[m] or {}).get(f"{key}_{i + 1}")
                cells += ["–", "not yet measured" if value is None else f"{value:.3f}"]
            rows.append(cells + ["–"] * len(REFERENCE_LABELS))
    first = next((results[m] for m in MODELS if m in results), {})
    p = first.get("prediction", {})
    notes = [
        f"vidis preset `{preset}`: {p.get('num_clips', '?')} test clips, {p.get('num_samples', '?')} "
        f"samples per clip, {p.get('context_frames', '?')} observed frames, trained on "
        f"{first.get('train_horizon', '?')} predicted frames, evaluated on {HORIZON}; ± 95% Student-t "
        "interval across clips.",
        "Paper column: paper 003 gives Fig. 3's curves (mean of 100 samples, 500 test clips, 95% intervals) "
        "and no numbers; shared/papers holds its text without the figure's image, so no value is read "
        "off it here ('not in the text'). '–': the paper has no such curve.",
        "'not yet measured': the model's run is not trained or evaluated yet (run the command again).",
        "Reference columns: two predictions that need no model, scored on the same clips: all-black "
        "frames, and the last observed frame repeated. A curve says something about a model only "
        "where it stands above both.",
        "For context, not this setting: on Stochastic Moving MNIST (5 -> 20, best of 100), Franceschi et al. "
        f"(2020) report SRVP {ANCHORS['SRVP'][0]} dB / {ANCHORS['SRVP'][1]} SSIM and SVG-LP "
        f"{ANCHORS['SVG-LP'][0]} / {ANCHORS['SVG-LP'][1]}.",
    ]
    return Table(f"Paper 003, Fig. 3 at steps {', '.join(map(str, TABLE_STEPS))} (vidis preset `{preset}`)",
                 header, rows, notes)


def _curve_cell(row: dict | None, key: str, step: int) -> str:
    if not row or "prediction" not in row:
        return "not yet measured"
    p = row["prediction"]
    if step > p["horizon"]:
        return "–"
    value, half = p["per_frame"][key][step - 1], p["per_frame_ci95"][key][step - 1]
    digits = 2 if "psnr" in key else 3
    return f"{value:.{digits}f} ± {half:.{digits}f}"


def reproduce(
    preset: str = "small",
    out="runs/paper003",
    num_clips: int = 500,
    device: str = "auto",
    progress: bool = True,
    overrides: dict | None = None,
    judge_steps: int | None = None,
    reuse: bool = False,
) -> dict:
    """Train/reuse/resume both models, measure them, write table.md, results.json, figures, report.html.

    num_clips caps the test clips (SETTINGS gives each preset's own). At `smoke` the quick judge
    scores (near chance: for tests). reuse: use runs whose configuration differs from this call's.
    """
    from ..eval.judge import get_or_train_judge  # noqa: PLC0415

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    device = str(pick_device(device))
    results = _load(out)
    runs = {m: train_or_reuse(m, preset, out / m, overrides or {}, progress, reuse) for m in MODELS}
    spec = RunSpec.load(runs["drsvg"])
    options = to_dict(spec.data_config)
    quick = {"quick": True} if preset.startswith("smoke") else {}
    judge = get_or_train_judge(spec.data, judge_options(options), device=device, progress=progress,
                               **({"steps": judge_steps} if judge_steps else quick))
    clips = min(num_clips, settings_for(preset)["clips"])
    if results.get("references", {}).get("black", {}).get("num_clips") != clips:
        test = long_test_set(spec.data, options, spec.model_config.context_frames + HORIZON)
        results["references"] = trivial_predictions(test, spec.model_config.context_frames, clips)
        _save(out, results)
    for m in MODELS:
        step = torch.load(out / m / "checkpoints" / "last.pt", map_location="cpu", weights_only=True)["step"]
        if results.get(m, {}).get("steps_trained") == step and results[m].get("num_clips_cap") == num_clips:
            print(f"{m}: already measured at step {step} (results.json)")
            continue
        row = evaluate_model(m, runs[m], preset, num_clips, device, judge)
        results[m] = {**row, "num_clips_cap": num_clips}
        _save(out, results)
    write_outputs(out, results, preset, {m: load_model(runs[m], device=device) for m in MODELS}, device)
    return results


def write_outputs(out: Path, results: dict, preset: str, models: dict, device) -> Path:
    """table.md, figures (Fig. 3 curves and CSV, Fig. 4, swap grids) and report.html."""
    figures = out / "figures"
    measured = {LABELS[m]: results[m]["prediction"] for m in MODELS if "prediction" in results.get(m, {})}
    if not measured:
        raise VidisError(f"nothing measured in {out} yet")
    (out / "table.md").write_text(to_markdown(table(results, preset)))
    write_prediction_csv(measured, figures / "fig3.csv")
    plot_prediction_curves(measured, figures / "fig3.png", title=f"paper 003 Fig. 3, vidis preset {preset}",
                           references=results.get("references"))
    spec = RunSpec.load(out / "drsvg")
    options = to_dict(spec.data_config)
    model = models["drsvg"]
    context = model.config.context_frames
    test = long_test_set(spec.data, options, context + HORIZON)
    clips = test.batch(range(min(2, len(test))))["video"].to(device)
    samples = settings_for(preset)["samples"]
    rows = {}
    for m in MODELS:
        for name, video in best_and_random(models[m], clips, context, samples, num_random=2).items():
            rows[f"{LABELS[m]} {name}"] = video
    best_first = dict(sorted(rows.items(), key=lambda kv: "random" in kv[0]))
    prediction_figure(clips, best_first, figures / "fig4.gif")
    short = test.batch(range(min(5, len(test))))["video"][:, : options["num_frames"]].to(device)
    for m in MODELS:
        swap_grid(models[m], short, figures / f"swap_{m}.gif")
    sections = [
        Section("Fig. 3: SSIM and PSNR per predicted frame", text=(
            "Solid: mean of the samples (what the paper plots); dashed: best of the samples; shaded: 95% "
            "intervals across clips; dotted green line: the end of the training horizon; grey: all-black "
            "frames and the last observed frame repeated, the scores of predictions that need no model."),
            images=["figures/fig3.png"]),
        Section("Table", html=to_html(table(results, preset))),
        Section("Fig. 4: ground truth, best sample and random samples", text=(
            "Two test clips; rows: ground truth, each model's best sample (highest SSIM over the predicted "
            "frames), then random samples."), images=["figures/fig4.gif", "figures/fig4.png"]),
        Section("Swaps (section 4.3)", text=(
            "Cell (i, j): clip i regenerated from its first frame with clip j's latents (DR-SVG: i's "
            "content, j's pose; SVG-LP: all of j's z)."),
            images=[f"figures/swap_{m}.gif" for m in MODELS]),
        Section("Measured values", table=[
            {"model": LABELS[m], **{k: v for k, v in results[m].items() if isinstance(v, (int, float, str))}}
            for m in MODELS if m in results]),
    ]
    return write_report(out / "report.html", f"vidis: paper 003 reproduced ({preset})", sections)

"""The leaderboard's evaluation of one trained run (see `vidis.eval.leaderboard`).

`evaluate_run` loads a run's last checkpoint and measures, on the first `num_clips` clips of the
dataset's fixed test split: every protocol of `eval.protocols` that applies (sections by protocol:
"test", "probes", "judge", "disentanglement", "gt_swaps", "prediction"), judged swaps for any
dataset ("swaps"), paper 002's D-score ("dscore") and generation scores ("generation"). A
measurement that raises becomes {"error": message} in its section; the others stand. The result
is cached in RUN/leaderboard_eval.json with the step, checkpoint, clips, judge and settings it was
measured with, and reused while they match. A run is evaluated under its run-folder lock
(`vidis.train.run_lock`): while another process trains or evaluates it, `evaluate_run` raises
`RunInUseError` rather than measure it a second time.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from ..metrics.stats import conditional_entropy, frechet_distance, inception_score, marginal_entropy

EVAL_FILE = "leaderboard_eval.json"
BATCH_SIZE = 50
SWAP_FIGURE_PAIRS = 4  # pairs (i, i + 1) shown for every model
SWAPS_FILE = "leaderboard_swaps.pt"  # a run's swaps of those pairs, uint8 (N, T, C, H, W)


def evaluate_run(run_dir, test, judge, num_clips: int, device: str, context: dict, figures: Path) -> dict:
    """{section: {metric: value}} of the run (module doc), from the cache when it matches."""
    from ..train.checkpoint import checkpoint_path, load_model, read_checkpoint  # noqa: PLC0415
    from ..train.run_lock import acquire_run_lock, release_run_lock  # noqa: PLC0415

    run_dir = Path(run_dir)
    step = read_checkpoint(checkpoint_path(run_dir))["step"]
    key = _cache_key(num_clips, judge, context, step=step, checkpoint="last")
    cache = run_dir / EVAL_FILE
    saved = _read_cache(cache, key, "results")
    if saved is not None:
        return saved
    lock = acquire_run_lock(run_dir, "evaluating")  # RunInUseError while another process works here
    try:
        saved = _read_cache(cache, key, "results")  # written by a process that held the lock before
        if saved is not None:
            return saved
        model = load_model(run_dir, device=device)
        results = measure(model, test, judge, num_clips, device, context)
        results["figures"] = swap_figures(model, test, figures, run_dir.name, device)
        if "swap" in model.capabilities:
            torch.save(figure_swaps(model, test, device), run_dir / SWAPS_FILE)
        _write_cache(cache, key, "results", results)
        return results
    finally:
        release_run_lock(lock)


# Rows that need no model, measured on the same clips by the same code as the pairs: a model's
# number means something only beside what these trivial outputs already earn.
REFERENCES = {
    "ref: copy of A": "the content source A itself as the swap (ignores B)",
    "ref: copy of B": "the motion source B itself as the swap (ignores A)",
    "ref: all black": "all-black frames as every reconstruction, swap and prediction",
    "ref: last frame": "the last observed frame repeated as the prediction",
}
REFERENCES_FILE = "references.json"


class _Trivial:
    """A stand-in model whose swap is `pick(a, b)` and reconstruction `pick(x, x)`."""

    def __init__(self, name: str, pick, capabilities=("swap",)):
        self.name, self.pick, self.capabilities = name, pick, frozenset(capabilities)

    def eval(self):
        return self

    def swap(self, video_a, video_b):
        return self.pick(video_a, video_b)

    def reconstruct(self, video):
        return self.pick(video, video)


def _black(a, b):
    return torch.zeros_like(a)


@torch.no_grad()
def reference_rows(test, judge, n: int, device: str, context: dict, prediction: dict | None) -> dict:
    """{row name of REFERENCES: results with the pairs' sections and keys} on the first `n` test
    clips: reconstructions (all black), swaps against the true swap and judged (copy of A, copy
    of B, all black), and predictions (all black, last frame) with the context and horizon of a
    predicting pair's `prediction` section (none without it)."""
    from .gt_swaps import ground_truth_swap_scores  # noqa: PLC0415
    from .prediction import long_test_set, trivial_predictions  # noqa: PLC0415
    from .reconstruction import evaluate_reconstruction  # noqa: PLC0415

    copies = {
        "ref: copy of A": _Trivial("copy of A", lambda a, b: a),
        "ref: copy of B": _Trivial("copy of B", lambda a, b: b),
        "ref: all black": _Trivial("all black", _black, ("swap", "reconstruct")),
    }
    rows: dict = {name: {} for name in REFERENCES}
    black = copies["ref: all black"]
    reconstruction = _guard(evaluate_reconstruction, black, test, n, BATCH_SIZE, device, False)
    rows["ref: all black"]["test"] = reconstruction
    if getattr(test, "can_render_swaps", False):
        truth = _guard(ground_truth_swap_scores, black, test, n, BATCH_SIZE, device)
        sources = {"ref: copy of A": "copy_a", "ref: copy of B": "copy_b", "ref: all black": "swap"}
        for name, source in sources.items():  # under the pairs' keys (their swap_*)
            scores = {f"swap_{m}": truth.get(f"{source}_{m}") for m in ("mse", "ssim")}
            rows[name]["gt_swaps"] = truth if "error" in truth else scores
    if judge is not None:
        for name, stand_in in copies.items():
            rows[name]["swaps"] = _guard(judged_swaps, stand_in, test, judge, n, device)
    if prediction and prediction.get("context_frames"):
        context_frames, horizon = prediction["context_frames"], prediction["horizon"]
        clips = test
        if context_frames + horizon != test.video_shape[0]:
            clips = long_test_set(context["data_name"], context["data_options"], context_frames + horizon)
        trivial = trivial_predictions(clips, context_frames, n, BATCH_SIZE)
        for name, key in (("ref: all black", "black"), ("ref: last frame", "last_frame")):
            ssim_curve = trivial[key]["per_frame"]["ssim"]  # one deterministic output: best = mean
            curves = {"best_ssim": ssim_curve, "mean_ssim": ssim_curve}
            rows[name]["prediction"] = horizon_means(
                {"per_frame": curves, "train_horizon": prediction.get("train_horizon")}
            )
    return {name: results for name, results in rows.items() if results}


def cached_references(folder: Path, test, judge, n: int, device: str, context: dict, prediction) -> dict:
    """`reference_rows`, read back from folder/references.json while its clips, judge, settings
    and prediction context match."""
    fields = ("context_frames", "horizon", "train_horizon")
    key = _cache_key(n, judge, context, prediction={k: (prediction or {}).get(k) for k in fields})
    path = Path(folder) / REFERENCES_FILE
    saved = _read_cache(path, key, "rows")
    if saved is not None:
        return saved
    rows = reference_rows(test, judge, n, device, context, prediction)
    _write_cache(path, key, "rows", rows)
    return rows


def _cache_key(num_clips: int, judge, context: dict, **extra) -> dict:
    """What a cached evaluation was measured with (as it reads back from JSON)."""
    from .leaderboard import EVAL_VERSION  # noqa: PLC0415

    key = {
        "version": EVAL_VERSION,
        **extra,
        "num_clips": num_clips,
        "judge": str(getattr(judge, "path", "") or "") if judge is not None else None,
        "context": {k: v for k, v in context.items() if k != "progress"},
    }
    return json.loads(json.dumps(key, default=str))


def _write_cache(path: Path, key: dict, field: str, value):
    """The JSON file `_read_cache` reads back: {"key": key, field: value}."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"key": key, field: value}, indent=2, default=str) + "\n")


def _read_cache(path: Path, key: dict, field: str):
    """saved[field] of the JSON file at `path` if it was measured with `key`, else None (a
    missing or damaged file is measured again)."""
    if not path.exists():
        return None
    try:
        saved = json.loads(path.read_text())
        return saved[field] if saved.get("key") == key else None
    except (ValueError, KeyError, TypeError):
        return None


def _guard(function, *args, **kwargs) -> dict:
    try:
        return function(*args, **kwargs)
    except KeyboardInterrupt:
        raise
    except Exception as err:  # noqa: BLE001  (one failing measurement leaves the others)
        return {"error": " ".join(f"{type(err).__name__}: {err}".split())}


@torch.no_grad()
def measure(model, test, judge, num_clips: int, device: str, context: dict) -> dict:
    from .protocols import select_protocols  # noqa: PLC0415

    model.eval()
    n = min(num_clips, len(test))
    results: dict = {}
    chosen, skipped = select_protocols(model, test, judge=judge is not None)
    for protocol in chosen:
        sections = _guard(protocol.run, model, test, n, BATCH_SIZE, device, **context)
        if "error" in sections:
            sections = {protocol.name: sections}
        results.update(sections)
    results["not_applied"] = skipped
    probes = results.get("probes", {})
    separations = [v for k, v in probes.items() if k.endswith("_separation") and v is not None]
    if separations:
        probes["mean_separation"] = float(np.mean(separations))
    if isinstance(results.get("prediction"), dict):
        results["prediction"].update(horizon_means(results["prediction"]))
    if judge is not None and "swap" in model.capabilities:
        results["swaps"] = _guard(judged_swaps, model, test, judge, n, device)
    results["dscore"] = _guard(dscore, model, test, n, device, context)
    if judge is not None and "generate" in model.capabilities:
        results["generation"] = _guard(generation, model, test, judge, n, device)
    return results


def horizon_means(prediction: dict) -> dict:
    """{best,mean}_ssim over the frames of the training horizon ("_train_horizon") and over the
    frames past it ("_beyond", where the protocol predicted further), from the per-frame curves."""
    curves, cut = prediction.get("per_frame", {}), prediction.get("train_horizon")
    out = {}
    for name in ("best_ssim", "mean_ssim"):
        values = curves.get(name)
        if not values or not cut:
            continue
        out[f"{name}_train_horizon"] = float(np.mean(values[:cut]))
        if len(values) > cut:
            out[f"{name}_beyond"] = float(np.mean(values[cut:]))
    return out


@torch.no_grad()
def judged_swaps(model, test, judge, n: int, device: str) -> dict:
    """The judge on swaps of clip i's content with clip (i + 1) mod n's motion (`judge_swaps`):
    content kept, motion followed, and what leaked from the wrong source."""
    from .judge_scores import judge_swaps  # noqa: PLC0415

    if n < 2:
        return {"error": "judged swaps need at least 2 clips"}
    swaps, content, motion = [], [], []
    partner = (torch.arange(n) + 1) % n
    for start in range(0, n, BATCH_SIZE):
        a = list(range(start, min(n, start + BATCH_SIZE)))
        batch_a, batch_b = test.batch(a), test.batch(partner[a].tolist())
        out = model.swap(batch_a["video"].to(device), batch_b["video"].to(device))
        swaps.append(out.float().clamp(0, 1).cpu())
        content.append(batch_a["factors"])
        motion.append(batch_b["factors"])
    cat = lambda parts: {k: torch.cat([p[k] for p in parts]) for k in parts[0]}  # noqa: E731
    scores = judge_swaps(judge, torch.cat(swaps), cat(content), cat(motion), None, with_judge_info=False)
    return {k: v for k, v in scores.items() if isinstance(v, float)}


def dscore(model, test, n: int, device: str, context: dict) -> dict:
    """Paper 002's eq. 19 on per-frame features (`dscore.encode_frames`: a paper-002 model's own
    features, else content repeated per frame then motion). Static task: the dataset's first
    per-clip static factor; temporal task: its first per-frame dynamic factor, else the order of
    3 frames (`order_triplets`). Fitted on `n` training clips, scored on `n` test clips.
    "declared": the model's own split (its content dims); "best_split": the maximum over every
    division, only with at most DSCORE_MAX_FEATURES features."""
    from ..data import make_dataset  # noqa: PLC0415
    from .dscore import Task, _per_frame, d_score, encode_frames, order_triplets  # noqa: PLC0415
    from .leaderboard import DSCORE_MAX_FEATURES  # noqa: PLC0415

    static = [f for f in test.factors if f.kind == "static" and not f.per_frame]
    if not static:
        return {"error": f"{test.name} declares no per-clip static factor"}
    dynamic = [f for f in test.factors if f.kind == "dynamic" and f.per_frame]
    options = context.get("data_options") or {}
    train = make_dataset(test.name, "train", seed=context.get("seed", 0), **options)
    fit_h, fit_f, static_dims = encode_frames(model, train, range(min(n, len(train))), BATCH_SIZE, device)
    score_h, score_f, _ = encode_frames(model, test, range(n), BATCH_SIZE, device)
    T, D = fit_h.shape[1], fit_h.shape[-1]
    flat = lambda h: h.reshape(-1, D)  # noqa: E731

    def frame_task(factor):
        return Task(
            factor.name,
            flat(fit_h),
            _per_frame(fit_f[factor.name], T),
            flat(score_h),
            _per_frame(score_f[factor.name], score_h.shape[1]),
        )

    static_task = frame_task(static[0])
    if dynamic:
        temporal_task = frame_task(dynamic[0])
    else:
        seed = context.get("seed", 0)
        fit_x, fit_y = order_triplets(fit_h, seed)
        score_x, score_y = order_triplets(score_h, seed + 1)
        temporal_task = Task("temporal order of 3 frames", fit_x, fit_y, score_x, score_y)
    out: dict = {"static_task": static_task.name, "temporal_task": temporal_task.name, "features": D}
    if static_dims and 0 < len(static_dims) < D:
        declared = d_score(static_task, temporal_task, static_dims)
        out["declared"] = declared["d_score"]
        out["declared_static_dims"] = len(static_dims)
    else:
        out["declared"] = None
        out["declared_note"] = "no content/motion split of the per-frame features"
    if 2 <= D <= DSCORE_MAX_FEATURES:
        best = d_score(static_task, temporal_task)
        out["best_split"] = best["d_score"]
        out["best_split_static_dims"] = best["static_dims"]
    return out


@torch.no_grad()
def generation(model, test, judge, n: int, device: str) -> dict:
    """`n` clips from the model's prior through the judge: IS, H(y|x), H(y) of each static factor
    (averaged over them) and judge-FD against the first `n` real test clips."""
    from .judge_scores import judge_outputs  # noqa: PLC0415

    T = test.video_shape[0]
    torch.manual_seed(0)
    samples = torch.cat(
        [model.generate(min(BATCH_SIZE, n - s), T).float().clamp(0, 1).cpu() for s in range(0, n, BATCH_SIZE)]
    )
    real = torch.cat([test.batch(range(s, min(n, s + BATCH_SIZE)))["video"] for s in range(0, n, BATCH_SIZE)])
    logits, _, feats = judge_outputs(judge, samples)
    _, _, real_feats = judge_outputs(judge, real)
    static = [f.name for f in judge.factors if f.kind == "static"]
    probs = [logits[name].double().softmax(-1).flatten(0, -2) for name in static]
    out = {"num_clips": n, "judge_fd": frechet_distance(feats, real_feats)}
    if probs:
        out["is"] = float(np.mean([inception_score(p) for p in probs]))
        out["h_y_given_x"] = float(np.mean([conditional_entropy(p) for p in probs]))
        out["h_y"] = float(np.mean([marginal_entropy(p) for p in probs]))
    return out


@torch.no_grad()
def swap_figures(model, test, folder: Path, name: str, device: str) -> list[str]:
    """The same pairs (i, i + 1) for every model: beside the true swap where the dataset renders
    it (`swap_vs_truth_figure`), else a swap grid; paths relative to the leaderboard folder."""
    from .figures import swap_grid, swap_vs_truth_figure  # noqa: PLC0415

    if "swap" not in model.capabilities:
        return []
    count = min(SWAP_FIGURE_PAIRS, len(test) - 1)
    if count < 1:
        return []
    folder = Path(folder) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        if getattr(test, "can_render_swaps", False):
            pairs = [(i, i + 1) for i in range(count)]
            paths = swap_vs_truth_figure(model, test, pairs, folder / f"{name}-swaps", device=device)
        else:
            clips = test.batch(range(count + 1))["video"].to(device)
            paths = swap_grid(model, clips, folder / f"{name}-swaps")
    except Exception as err:  # noqa: BLE001  (a figure never sinks the row)
        print(f"leaderboard: no swap figure for {name}: {type(err).__name__}: {err}")
        return []
    return [str(Path(folder.parent.name) / "figures" / Path(p).name) for p in paths]


def figure_pairs(test) -> tuple[list[int], list[int]]:
    """The pairs every model's swaps are shown for: (i, i + 1), i < SWAP_FIGURE_PAIRS."""
    count = max(0, min(SWAP_FIGURE_PAIRS, len(test) - 1))
    return list(range(count)), list(range(1, count + 1))


@torch.no_grad()
def figure_swaps(model, test, device: str) -> torch.Tensor:
    """The model's swaps of `figure_pairs`, uint8 (N, T, C, H, W)."""
    index_a, index_b = figure_pairs(test)
    video_a = test.batch(index_a)["video"].to(device)
    video_b = test.batch(index_b)["video"].to(device)
    swapped = model.swap(video_a, video_b).float().clamp(0, 1).cpu()
    return (swapped * 255).round().to(torch.uint8)


def comparison_figure(test, swaps: dict, out: Path) -> list[Path]:
    """One figure for a dataset: rows A (content source), B (motion source), the true swap
    (identity ordering) where the dataset renders it, then each model's swap of the same pairs
    (`swaps`: {row name: uint8 (N, T, C, H, W)}); one column per pair. out.gif and out.png
    (STILL_FRAMES frames of each clip side by side)."""
    from ..viz import save_gif, save_png, video_grid  # noqa: PLC0415
    from ..viz.video import _add_row_labels  # noqa: PLC0415
    from .figures import STILL_FRAMES  # noqa: PLC0415

    index_a, index_b = figure_pairs(test)
    rows = [test.batch(index_a)["video"], test.batch(index_b)["video"]]
    names = ["A (content)", "B (motion)"]
    if getattr(test, "can_render_swaps", False):
        from .gt_swaps import true_swaps  # noqa: PLC0415

        rows.append(true_swaps(test, index_a, index_b))
        names.append("true swap")
    for name, video in swaps.items():
        rows.append(video.float() / 255)
        names.append(name)
    height, pad = rows[0].shape[-2], 2
    grid = video_grid(rows, pad=pad)  # (T, H', W', 3)
    frames = np.stack([_add_row_labels(frame, names, height, pad, 0.5) for frame in grid])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    T = frames.shape[0]
    keep = torch.linspace(0, T - 1, min(T, STILL_FRAMES)).round().long().tolist()
    still = np.concatenate(list(frames[keep]), axis=1)  # the kept frames side by side
    return [save_gif(frames, out.with_suffix(".gif"), scale=2), save_png(still, out.with_suffix(".png"))]

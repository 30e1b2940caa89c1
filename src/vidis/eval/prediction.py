"""The prediction protocol: best-of-N and mean-of-N of sampled futures, streamed in chunks.

A prediction model (capability "predict", e.g. SVG-LP and DR-SVG, papers 003 and 004) sees
the first `context_frames` of a clip and samples N futures of `horizon` frames
(`VideoModel.predict_chunks`). Each sample is scored against the true future per frame with
every metric of `METRICS`:

- `ssim`: vidis's SSIM, 11x11 Gaussian window (`vidis.metrics.ssim`);
- `ssim_skimage`: SSIM as SVG's evaluation computed it (edenton/svg `utils.eval_seq`, calling
  scikit-image's `compare_ssim` with its defaults of the time on float32 frames): a 7x7
  uniform window, sample covariance, and data_range 2, the span of scikit-image's float dtype
  range [-1, 1] (scikit-image >= 0.19 refuses float images without a data_range; older
  versions took that range). The rows printed beside SVG's and paper 003's numbers;
- `psnr`: 10 log10(1 / MSE) per frame (`compare_psnr`'s data_range 1 for images >= 0);
- `mse`: per-frame mean squared error.

Per clip, and for each metric m:

- best-of-N (`best_m`): the sample with the best clip-mean of m (highest; lowest for MSE), and
  that sample's per-frame curve. This is how stochastic prediction is usually reported (SVG's
  "best of 100 samples"): the ground truth is one of many plausible futures;
- mean-of-N (`mean_m`): the average over the N samples, per frame (what paper 003's Fig. 3
  plots);
- `at_best_ssim_m`: metric m of the sample with the best vidis SSIM (paper 003's Fig. 4 shows
  "the one with the highest SSIM"; `at_best_ssim_skimage_m` the same for the skimage SSIM).

Samples arrive in chunks and only running per-clip results are kept (best scores, their
per-frame curves, running sums), never all N samples: memory is O(chunk) whatever N. Ties keep
the earliest sample, as an argmax over all N would. The horizon may be longer than the clips the
model was trained on: build the evaluation clips long enough with
`prediction_test_set(run_dir, num_frames=context + horizon)` (or `long_test_set`).

`evaluate_prediction` gives, for every curve, the mean over clips with a 95% confidence interval
across clips (Student's t, n - 1 degrees of freedom), per frame and for the clip mean;
`write_prediction_csv` and `plot_prediction_curves` write them out; `content_stability` says how
often a judge reads the context's digits in the predicted frames.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from pathlib import Path

import torch

from ..errors import DataError, VidisError
from ..metrics import mse, psnr, ssim


def ssim_skimage(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """SSIM as SVG's evaluation computed it: 7x7 uniform window, sample covariance, data_range 2."""
    return ssim(pred, target, data_range=2.0, window_size=7, window="uniform", sample_covariance=True)


# name -> (per-frame function (pred, target) -> (B, T), higher is better)
METRICS = {"ssim": (ssim, True), "ssim_skimage": (ssim_skimage, True), "psnr": (psnr, True),
           "mse": (mse, False)}
SELECTORS = ("ssim", "ssim_skimage")  # the samples whose other metrics are reported (`at_best_...`)
SCORE_ELEMENTS = 1 << 22  # values scored at once by `BestOfN.update` (bounds SSIM's memory)
PER_FRAME = ("best_ssim", "best_mse", "mean_ssim", "mean_mse")  # the first curves (kept for callers)


def curve_names() -> list[str]:
    names = [f"{kind}_{m}" for m in METRICS for kind in ("best", "mean")]
    names += [f"at_best_{s}_{m}" for s in SELECTORS for m in METRICS if m != s]
    return names


class BestOfN:
    """Running best-of-N and mean-of-N of sample chunks against one batch of true futures.

    future: (B, T, C, H, W). `update(chunk)` takes samples (n, B, T, C, H, W); `compute()`
    returns per clip (B,) and per frame (B, T) values (float64, on the CPU).
    """

    def __init__(self, future: torch.Tensor):
        self.future = future
        B, T = future.shape[:2]
        self.count = 0
        new = lambda fill: torch.full((B,), fill, dtype=torch.float64)  # noqa: E731
        self.best_score = {m: new(-math.inf if up else math.inf) for m, (_, up) in METRICS.items()}
        self.best_index = {m: torch.zeros(B, dtype=torch.long) for m in METRICS}
        # the per-frame curves of every metric at each metric's best sample: best_frames[s][m]
        self.best_frames = {s: {m: torch.zeros(B, T, dtype=torch.float64) for m in METRICS} for s in METRICS}
        self.sums = {m: torch.zeros(B, T, dtype=torch.float64) for m in METRICS}

    def update(self, chunk: torch.Tensor):
        if chunk.dim() != 6 or chunk.shape[1:] != self.future.shape:
            raise VidisError(
                f"expected samples (n, {', '.join(map(str, self.future.shape))}), got {tuple(chunk.shape)}"
            )
        n = chunk.shape[0]
        target = self.future.expand(n, *self.future.shape).flatten(0, 1)  # (n*B, T, C, H, W)
        samples = chunk.flatten(0, 1)
        # the metrics in slices of at most SCORE_ELEMENTS values each: SSIM's float64 maps hold about
        # 15x its input, so a whole chunk of 64x64 RGB clips (10 samples x 50 clips x 20 frames)
        # needed 12 GB; slices give the same per-clip values in bounded memory
        step = max(1, SCORE_ELEMENTS // samples[0].numel())
        scores = {
            m: torch.cat([fn(samples[i : i + step], target[i : i + step]).double().cpu()
                          for i in range(0, len(samples), step)]).view(n, *self.future.shape[:2])  # (n, B, T)
            for m, (fn, _) in METRICS.items()
        }
        for m, values in scores.items():
            self.sums[m] += values.sum(0)
        for i in range(n):  # in sample order: a tie keeps the earlier sample
            for s, (_, higher) in METRICS.items():
                score = scores[s][i].mean(1)  # (B,)
                better = score > self.best_score[s] if higher else score < self.best_score[s]
                self.best_score[s] = torch.where(better, score, self.best_score[s])
                self.best_index[s][better] = self.count + i
                for m in METRICS:
                    self.best_frames[s][m][better] = scores[m][i][better]
        self.count += n

    def compute(self) -> dict[str, torch.Tensor]:
        """Per frame (B, T): every name of `curve_names()`; per clip (B,): the same names with
        `_clip` (frame means); and best_{m}_index (B,) for every metric m."""
        if self.count == 0:
            raise VidisError("no samples were scored")
        frames = {}
        for m in METRICS:
            frames[f"best_{m}"] = self.best_frames[m][m]
            frames[f"mean_{m}"] = self.sums[m] / self.count
        for s in SELECTORS:
            for m in METRICS:
                if m != s:
                    frames[f"at_best_{s}_{m}"] = self.best_frames[s][m]
        out = dict(frames)
        out.update({f"{name}_clip": values.mean(1) for name, values in frames.items()})
        for m in METRICS:
            out[f"best_{m}_index"] = self.best_index[m].clone()
        return out


def score_samples(chunks: Iterable[torch.Tensor], future: torch.Tensor) -> dict[str, torch.Tensor]:
    """Best-of-N and mean-of-N of sample chunks (each (n, B, T, C, H, W)) against future (B, T, ...)."""
    scores = BestOfN(future)
    for chunk in chunks:
        scores.update(chunk)
    return scores.compute()


def t_quantile(count: int, level: float = 0.95) -> float:
    """The two-sided Student-t quantile for a `level` interval of a mean of `count` values."""
    from scipy.stats import t  # noqa: PLC0415

    return float(t.ppf(0.5 + level / 2, count - 1))


def mean_and_ci(values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """values (N, ...) -> (mean over N, half-width of its 95% Student-t interval; NaN for N < 2)."""
    values = values.double()
    mean = values.mean(0)
    if values.shape[0] < 2:
        return mean, torch.full_like(mean, math.nan)
    half = t_quantile(values.shape[0]) * values.std(0) / values.shape[0] ** 0.5
    return mean, half


@torch.no_grad()
def evaluate_prediction(
    model,
    dataset,
    context_frames: int,
    num_samples: int = 100,
    num_clips: int = 256,
    batch_size: int = 16,
    chunk_size: int = 10,
    device: str | torch.device = "cpu",
    seed: int = 0,
    train_horizon: int | None = None,
) -> dict:
    """Best-of-N and mean-of-N of every metric on the first `num_clips` clips of `dataset`.

    Each clip's first `context_frames` frames are the context, the rest the future to predict
    (horizon = clip length - context_frames). One generator seeded with `seed` draws every
    sample, so the numbers repeat. Returns, per curve name: the mean over clips of the clip mean,
    its standard error (`_se`) and 95% interval half-width (`_ci95`); `per_frame` and
    `per_frame_ci95` (lists of length horizon). `train_horizon` (the predicted frames the model
    was trained on) is recorded for plots.
    """
    model.require("predict")
    num_frames = dataset.video_shape[0]
    horizon = num_frames - context_frames
    if context_frames < 1 or horizon < 1:
        raise VidisError(
            f"need 1 <= context_frames < clip length; got context_frames={context_frames} "
            f"for {num_frames}-frame clips"
        )
    if num_clips < 1 or num_samples < 1 or batch_size < 1 or chunk_size < 1:
        raise VidisError("num_clips, num_samples, batch_size and chunk_size must be >= 1")
    model.eval()
    device = torch.device(device)
    generator = torch.Generator(device).manual_seed(seed)
    n = min(num_clips, len(dataset))
    per_frame: dict[str, list[torch.Tensor]] = {}
    for start in range(0, n, batch_size):
        video = dataset.batch(range(start, min(n, start + batch_size)))["video"].to(device)
        context, future = video[:, :context_frames], video[:, context_frames:]  # (B, Tc, ...), (B, H, ...)
        chunks = model.predict_chunks(context, horizon, num_samples, chunk_size, generator)
        scores = score_samples(chunks, future)
        for name in curve_names():
            per_frame.setdefault(name, []).append(scores[name])
    out: dict = {"num_clips": n, "num_samples": num_samples, "context_frames": context_frames,
                 "horizon": horizon, "confidence": "95% Student-t interval across clips"}
    if train_horizon is not None:
        out["train_horizon"] = train_horizon
    out["per_frame"], out["per_frame_ci95"] = {}, {}
    for name in curve_names():
        frames = torch.cat(per_frame[name])  # (N, horizon)
        clips = frames.mean(1)  # (N,)
        out[name] = float(clips.mean())
        out[f"{name}_se"] = float(clips.std() / clips.numel() ** 0.5) if clips.numel() > 1 else math.nan
        out[f"{name}_ci95"] = float(mean_and_ci(clips)[1])
        mean, half = mean_and_ci(frames)
        out["per_frame"][name] = mean.tolist()
        out["per_frame_ci95"][name] = half.tolist()
    return out


TRIVIAL = {  # name -> (label, (context (B, Tc, ...), horizon) -> prediction (B, horizon, ...))
    "black": ("all-black frames", lambda context, horizon: torch.zeros_like(context[:, -1:]).expand(
        -1, horizon, *context.shape[2:])),
    "last_frame": ("last observed frame repeated", lambda context, horizon: context[:, -1:].expand(
        -1, horizon, *context.shape[2:])),
}


@torch.no_grad()
def trivial_predictions(dataset, context_frames: int, num_clips: int, batch_size: int = 50) -> dict:
    """Every metric of two predictions that need no model (`TRIVIAL`: all-black frames, the last
    observed frame repeated) on the first `num_clips` clips, as `evaluate_prediction` scores one
    sample: {name: {"label", "num_clips", "per_frame": {metric: [mean over clips per frame]},
    metric: mean over clips and frames}}. A model's curve means something only above these.
    """
    num_frames = dataset.video_shape[0]
    horizon = num_frames - context_frames
    if context_frames < 1 or horizon < 1:
        raise VidisError(f"need 1 <= context_frames < clip length {num_frames}, got {context_frames}")
    n = min(num_clips, len(dataset))
    sums = {name: {m: torch.zeros(horizon, dtype=torch.float64) for m in METRICS} for name in TRIVIAL}
    for start in range(0, n, batch_size):
        video = dataset.batch(range(start, min(n, start + batch_size)))["video"]
        context, future = video[:, :context_frames], video[:, context_frames:]
        for name, (_, predict) in TRIVIAL.items():
            guess = predict(context, horizon).contiguous()
            for m, (fn, _) in METRICS.items():
                sums[name][m] += fn(guess, future).double().sum(0)
    out = {}
    for name, (label, _) in TRIVIAL.items():
        per_frame = {m: (values / n).tolist() for m, values in sums[name].items()}
        out[name] = {"label": label, "num_clips": n, "per_frame": per_frame,
                     **{m: float(sum(v) / len(v)) for m, v in per_frame.items()}}
    return out


def prediction_test_set(run_dir, num_frames: int, split: str = "test"):
    """A run's own evaluation clips (seed EVAL_SEED), `num_frames` long (context + horizon).

    The horizon may exceed the run's training clips: only the clip length changes.
    """
    from ..config import to_dict  # noqa: PLC0415
    from ..train.spec import RunSpec  # noqa: PLC0415

    spec = RunSpec.load(run_dir)
    return long_test_set(spec.data, to_dict(spec.data_config), num_frames, split)


def long_test_set(data_name: str, data_options: dict, num_frames: int, split: str = "test"):
    """The fixed `split` clips of a dataset with these options, made `num_frames` long."""
    from ..data import eval_dataset  # noqa: PLC0415

    if "num_frames" not in data_options:
        raise DataError(f"{data_name} has no num_frames option, so its clips cannot be made longer")
    return eval_dataset(data_name, split, **{**data_options, "num_frames": num_frames})


# -- writing the curves ---------------------------------------------------------------------------


def write_prediction_csv(results: dict[str, dict], path, references: dict | None = None) -> Path:
    """results {label (e.g. a model): evaluate_prediction output} -> CSV rows
    label, curve, step (1 = first predicted frame), frame (0-based in the clip), mean, ci95_low, ci95_high;
    `references` (from `trivial_predictions`) add rows labelled "reference: ...", one curve per
    metric, without intervals."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["label", "curve", "step", "frame", "mean", "ci95_low", "ci95_high"])
        for label, result in results.items():
            context = result["context_frames"]
            for name, values in result["per_frame"].items():
                for i, value in enumerate(values):
                    half = result["per_frame_ci95"][name][i]
                    writer.writerow([label, name, i + 1, context + i, f"{value:.6g}", f"{value - half:.6g}",
                                     f"{value + half:.6g}"])
        context = next(iter(results.values()))["context_frames"] if results else 0
        for ref in (references or {}).values():
            for name, values in ref["per_frame"].items():
                for i, value in enumerate(values):
                    label = f"reference: {ref['label']}"
                    writer.writerow([label, name, i + 1, context + i, f"{value:.6g}", "", ""])
    return path


PLOTTED = (("ssim_skimage", "SSIM (7x7 uniform, as SVG's code)"), ("psnr", "PSNR (dB)"),
           ("ssim", "SSIM (vidis: 11x11 Gaussian)"))


def plot_prediction_curves(
    results: dict[str, dict], path, title: str = "", references: dict | None = None
) -> Path:
    """Per metric a panel: mean-of-N (solid) and best-of-N (dashed) per frame with shaded 95%
    intervals, one colour per label; a dotted line where the training horizon ends (paper 003
    Fig. 3); `references` (from `trivial_predictions`) as thin grey lines."""
    from ..viz.plots import _figure, _save  # noqa: PLC0415

    fig = _figure((4.2 * len(PLOTTED), 3.4))
    axes = fig.subplots(1, len(PLOTTED))
    for ax, (metric, label) in zip(axes, PLOTTED):
        for k, (name, result) in enumerate(results.items()):
            context = result["context_frames"]
            steps = list(range(context + 1, context + result["horizon"] + 1))  # 1-based frame numbers
            colour = f"C{k}"
            for kind, style in (("mean", "-"), ("best", "--")):
                values = result["per_frame"][f"{kind}_{metric}"]
                half = result["per_frame_ci95"][f"{kind}_{metric}"]
                ax.plot(steps, values, style, color=colour,
                        label=f"{name}: {kind} of {result['num_samples']}")
                low = [v - h for v, h in zip(values, half)]
                high = [v + h for v, h in zip(values, half)]
                ax.fill_between(steps, low, high, color=colour, alpha=0.15, linewidth=0)
            if result.get("train_horizon"):
                ax.axvline(context + result["train_horizon"] + 0.5, color="green", linestyle=":")
        for ref, style in zip((references or {}).values(), ("-.", ":")):
            context = next(iter(results.values()))["context_frames"]
            values = ref["per_frame"][metric]
            ax.plot(range(context + 1, context + len(values) + 1), values, style, color="grey",
                    linewidth=1, label=ref["label"])
        ax.set_xlabel("frame")
        ax.set_ylabel(label)
    axes[0].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    return _save(fig, path)


# -- content stability (a judge reads the digits of the predicted frames) ---------------------------


def _static_hits(judge, predicted: dict, reference: dict) -> torch.Tensor:
    """(N,) bool: every static factor of `predicted` equals `reference`'s; exchangeable slots
    (digit0, digit1, ...) compared as order-free multisets."""
    from .judge_nets import exchangeable_groups  # noqa: PLC0415
    from .judge_scores import content_set_accuracy  # noqa: PLC0415

    groups = [[f.name for f in g] for g in exchangeable_groups(judge.factors).values()]
    slots = {n for g in groups for n in g}
    static = [f.name for f in judge.factors if f.kind == "static" and not f.per_frame]
    hits = torch.ones(len(next(iter(predicted.values()))), dtype=torch.bool)
    for names in groups:
        hits &= content_set_accuracy(torch.stack([predicted[n].cpu() for n in names], 1),
                                     torch.stack([reference[n].cpu() for n in names], 1))
    for name in static:
        if name not in slots:
            hits &= predicted[name].cpu() == reference[name].cpu()
    return hits


@torch.no_grad()
def content_stability(
    model, dataset, judge, context_frames: int, num_samples: int = 10, num_clips: int = 100,
    batch_size: int = 10, window: int = 5, device="cpu", seed: int = 0,
) -> dict:
    """How often the judge reads the context's content (digit classes) in predicted frames.

    The judge reads the context frames, each `window`-frame window of a predicted future (and
    of the true future, as a reference) and the whole predicted future. Per window w:
    `kept_w` = the fraction of samples whose predicted window shows the digits the judge reads in
    the context; `correct_w` = ... the clip's true digits; `real_kept_w` / `real_correct_w` the
    same for the true future (what a perfect predictor would score with this judge).
    `kept_all` / `correct_all`: the whole predicted future judged as one clip.
    """
    from .judge_scores import judge_outputs  # noqa: PLC0415

    model.eval()
    horizon = dataset.video_shape[0] - context_frames
    windows = [(s, min(s + window, horizon)) for s in range(0, horizon, window)]
    generator = torch.Generator(device).manual_seed(seed)
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}

    def add(name: str, hits: torch.Tensor):
        sums[name] = sums.get(name, 0.0) + float(hits.float().sum())
        counts[name] = counts.get(name, 0) + hits.numel()

    n = min(num_clips, len(dataset))
    for start in range(0, n, batch_size):
        batch = dataset.batch(range(start, min(n, start + batch_size)))
        video = batch["video"].to(device)
        labels = batch["factors"]
        context, future = video[:, :context_frames], video[:, context_frames:]
        _, read_context, _ = judge_outputs(judge, context)
        samples = model.predict(context, horizon, num_samples, generator).flatten(0, 1)  # (n*B, H, ...)
        repeat = lambda d: {k: v.repeat(num_samples, *[1] * (v.dim() - 1)) for k, v in d.items()}  # noqa: E731
        context_n, labels_n = repeat(read_context), repeat(labels)
        for w, (a, b) in enumerate(windows):
            _, read, _ = judge_outputs(judge, samples[:, a:b])
            add(f"kept_{w + 1}", _static_hits(judge, read, context_n))
            add(f"correct_{w + 1}", _static_hits(judge, read, labels_n))
            _, real, _ = judge_outputs(judge, future[:, a:b])
            add(f"real_kept_{w + 1}", _static_hits(judge, real, read_context))
            add(f"real_correct_{w + 1}", _static_hits(judge, real, labels))
        _, read, _ = judge_outputs(judge, samples)
        add("kept_all", _static_hits(judge, read, context_n))
        add("correct_all", _static_hits(judge, read, labels_n))
    out = {name: sums[name] / counts[name] for name in sums}
    out.update(num_clips=n, num_samples=num_samples, window=window,
               windows=[f"frames {context_frames + a + 1}-{context_frames + b}" for a, b in windows])
    return out


def run_prediction_protocol(model, dataset, num_clips, batch_size, device, data_name=None, data_options=None,
                            horizon: int | None = None, num_samples: int = 100, **_) -> dict:
    """What `vidis eval --protocol prediction` runs: `evaluate_prediction` with the model's
    `context_frames`, on clips made `context + horizon` long where `horizon` (or the model's
    `eval_horizon`) is given, beyond the training clips; else on `dataset` as it is."""
    context = getattr(model, "context_frames", None) or model.config.context_frames
    train_horizon = dataset.video_shape[0] - context
    horizon = horizon or getattr(model.config, "eval_horizon", None)
    if horizon and data_name and data_options is not None and "num_frames" in data_options:
        dataset = long_test_set(data_name, data_options, context + horizon)
    return {"prediction": evaluate_prediction(model, dataset, context, num_samples=num_samples,
                                              num_clips=num_clips, batch_size=batch_size, device=device,
                                              train_horizon=train_horizon)}


# -- figures: ground truth, best sample, random samples (paper 003 Fig. 4) -------------------------


@torch.no_grad()
def best_and_random(model, video: torch.Tensor, context_frames: int, num_samples: int,
                    num_random: int = 2, chunk_size: int = 10, seed: int = 0) -> dict[str, torch.Tensor]:
    """For clips `video` (B, T, ...): {"best": the sample of highest vidis SSIM over the predicted
    frames, "random 1".. : the first `num_random` samples (samples are i.i.d., so any fixed ones
    are random ones)}, each (B, T, ...) with the true context in front; memory O(chunk)."""
    model.eval()
    context, future = video[:, :context_frames], video[:, context_frames:]
    horizon = future.shape[1]
    generator = torch.Generator(video.device).manual_seed(seed)
    best_score = torch.full((video.shape[0],), -math.inf, dtype=torch.float64)
    best = future.clone()
    kept, seen = [], 0
    for chunk in model.predict_chunks(context, horizon, num_samples, chunk_size, generator):
        target = future.repeat(chunk.shape[0], 1, 1, 1, 1)  # (n*B, H, C, H, W)
        scores = ssim(chunk.flatten(0, 1), target).view(*chunk.shape[:2], -1)  # (n, B, H)
        for i, clip_scores in enumerate(scores.mean(2).cpu()):  # (B,) per sample, in order
            better = clip_scores > best_score
            best_score = torch.where(better, clip_scores, best_score)
            best[better.to(best.device)] = chunk[i][better.to(best.device)]
        kept += list(chunk[: max(0, num_random - seen)])
        seen += chunk.shape[0]
    rows = {"best": torch.cat([context, best], 1)}
    for k, sample in enumerate(kept):
        rows[f"random {k + 1}"] = torch.cat([context, sample], 1)
    return rows


def prediction_figure(video: torch.Tensor, rows: dict[str, torch.Tensor], out) -> list[Path]:
    """out.gif (rows: ground truth, then each row of `rows`; columns: clips) and out.png (a film
    strip per clip and row, labelled)."""
    from ..viz import save_gif, save_png, video_grid, video_strip  # noqa: PLC0415

    out = Path(out).with_suffix(".gif")
    out.parent.mkdir(parents=True, exist_ok=True)
    named = {"ground truth": video.float().cpu(), **{k: v.float().cpu() for k, v in rows.items()}}
    gif = save_gif(video_grid(list(named.values())), out, scale=2)
    strips, labels = [], []
    for b in range(video.shape[0]):
        for name, clips in named.items():
            strips.append(clips[b])
            labels.append(f"clip {b}: {name}")
    png = save_png(video_strip(strips, labels=labels), out.with_suffix(".png"))
    return [gif, png]

"""The prediction protocol's extensions for paper 003: every metric's best-of-N on oracle samples,
SVG's SSIM against scikit-image, confidence intervals, CSV and plot, and content stability."""

import csv
import json

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity
from tiny_models import TinyConfig, TinyTwoOptimizer

from vidis.eval.prediction import (
    METRICS,
    BestOfN,
    content_stability,
    curve_names,
    evaluate_prediction,
    mean_and_ci,
    plot_prediction_curves,
    ssim_skimage,
    write_prediction_csv,
)
from vidis.types import Factor


def test_best_of_n_on_oracle_samples_picks_the_least_noisy_one():
    """Sample k of clip b is the future plus noise of scale sigma[k, b]; sample `exact[b]` is the
    future itself. Every metric's best sample is that one, whatever the chunking."""
    gen = torch.Generator().manual_seed(0)
    future = torch.rand(3, 4, 1, 16, 16, generator=gen)
    n = 7
    sigma = torch.rand(n, 3, generator=gen) * 0.3 + 0.05
    exact = torch.tensor([5, 0, 3])
    sigma[exact, torch.arange(3)] = 0.0
    noise = torch.randn(n, *future.shape, generator=gen)
    samples = (future + sigma[:, :, None, None, None, None] * noise).clamp(0, 1)
    scores = BestOfN(future)
    for chunk in samples.split(3):
        scores.update(chunk)
    out = scores.compute()
    for metric in METRICS:
        assert torch.equal(out[f"best_{metric}_index"], exact), metric
    assert torch.allclose(out["best_ssim"], torch.ones(3, 4, dtype=torch.float64))
    assert torch.equal(out["best_mse"], torch.zeros(3, 4, dtype=torch.float64))
    assert torch.isinf(out["at_best_ssim_psnr"]).all()  # the exact sample's PSNR
    # without the exact sample, the least noisy one wins (noise levels far apart)
    sigma = torch.tensor([[0.3, 0.02, 0.15], [0.01, 0.2, 0.4], [0.2, 0.3, 0.05]])
    samples = (future + sigma[:, :, None, None, None, None] * noise[:3]).clamp(0, 1)
    out = BestOfN(future)
    out.update(samples)
    result = out.compute()
    for metric in METRICS:
        assert torch.equal(result[f"best_{metric}_index"], sigma.argmin(0)), metric
    assert (result["best_psnr_clip"] >= result["mean_psnr_clip"]).all()


def test_ssim_skimage_is_svgs_compare_ssim():
    """SVG's eval_seq called compare_ssim(gt, pred) on float32 frames: 7x7 uniform window, sample
    covariance, data_range 2 (the float dtype range then). Per frame, against scikit-image."""
    gen = torch.Generator().manual_seed(1)
    pred, target = torch.rand(2, 3, 1, 64, 64, generator=gen), torch.rand(2, 3, 1, 64, 64, generator=gen)
    target[0, 0] = pred[0, 0] * 0.8  # one pair of similar frames
    ours = ssim_skimage(pred, target)
    for b in range(2):
        for t in range(3):
            reference = structural_similarity(target[b, t, 0].numpy().astype(np.float64),
                                              pred[b, t, 0].numpy().astype(np.float64), data_range=2.0)
            assert ours[b, t].item() == pytest.approx(reference, abs=1e-6)


def test_confidence_interval_is_students_t_across_clips():
    from scipy import stats

    values = torch.tensor([[0.1, 1.0], [0.4, 2.0], [0.35, 0.0], [0.8, 1.5]])
    mean, half = mean_and_ci(values)
    for j in range(2):
        column = values[:, j]
        low, high = stats.t.interval(0.95, 3, loc=column.mean().item(), scale=stats.sem(column.numpy()))
        assert mean[j].item() - half[j].item() == pytest.approx(low)
        assert mean[j].item() + half[j].item() == pytest.approx(high)
    assert torch.isnan(mean_and_ci(values[:1])[1]).all()


class ClipSet:
    """A fixed set of clips with declared digit slots (labels from a marker pixel)."""

    def __init__(self, video: torch.Tensor, digits: torch.Tensor):
        self.video, self.digits = video, digits
        self.video_shape = tuple(video.shape[1:])
        self.factors = [Factor("digit0", "static", 10), Factor("digit1", "static", 10)]

    def __len__(self):
        return len(self.video)

    def batch(self, indices):
        indices = list(indices)
        return {"video": self.video[indices],
                "factors": {"digit0": self.digits[indices, 0], "digit1": self.digits[indices, 1]}}


class MarkerJudge(torch.nn.Module):
    """Reads digit0 / digit1 from pixels (0, 0) and (0, 1) of a clip's first frame (x 10)."""

    factors = [Factor("digit0", "static", 10), Factor("digit1", "static", 10)]

    def __init__(self):
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))

    def evaluate(self, video):
        classes = (video[:, 0, 0, 0, :2] * 10).round().long().clamp(0, 9)  # (B, 2)
        predictions = {"digit0": classes[:, 0], "digit1": classes[:, 1]}
        logits = {k: torch.nn.functional.one_hot(v, 10).float() for k, v in predictions.items()}
        return logits, predictions, torch.zeros(len(video), 1)


class HalfChanging(TinyTwoOptimizer):
    """Sample 0 repeats the last context frame; sample 1 also swaps the two marker pixels, and
    from its third predicted frame on writes digit 9 into the first."""

    def sample_predictions(self, context, horizon, num_samples, generator):
        frames = context[:, -1:].expand(-1, horizon, -1, -1, -1).clone()  # (B, H, C, H, W)
        changed = frames.clone()
        changed[..., 0, 0], changed[..., 0, 1] = frames[..., 0, 1], frames[..., 0, 0]  # same multiset
        changed[:, 2:, :, 0, 0] = 0.9
        return torch.stack([frames, changed][:num_samples])


def test_content_stability_by_construction():
    digits = torch.tensor([[3, 7], [1, 1], [4, 2]])
    video = torch.zeros(3, 6, 1, 8, 8)
    video[:, :, 0, 0, 0] = digits[:, :1] / 10
    video[:, :, 0, 0, 1] = digits[:, 1:] / 10
    model = HalfChanging(TinyConfig(), (6, 1, 8, 8)).eval()
    model.name = "half"
    out = content_stability(model, ClipSet(video, digits), MarkerJudge(), context_frames=2, num_samples=2,
                            num_clips=3, batch_size=2, window=2)
    # horizon 4: windows of predicted frames 1-2 (both samples keep the multiset) and 3-4
    # (sample 1 shows a 9 in frame 3, which the judge reads as the window's first frame)
    assert out["kept_1"] == 1.0 and out["correct_1"] == 1.0
    assert out["kept_2"] == 0.5 and out["real_kept_2"] == 1.0
    assert out["kept_all"] == 1.0  # the whole future is read at its first frame
    assert out["windows"] == ["frames 3-4", "frames 5-6"]


def test_evaluate_prediction_curves_csv_and_plot(tmp_path):
    gen = torch.Generator().manual_seed(0)
    clips = ClipSet(torch.rand(5, 6, 1, 16, 16, generator=gen), torch.zeros(5, 2, dtype=torch.long))
    model = TinyTwoOptimizer(TinyConfig(predict_noise=0.2), (6, 1, 16, 16)).eval()
    model.name = "tiny"
    out = evaluate_prediction(model, clips, 2, num_samples=4, num_clips=5, batch_size=2, chunk_size=3,
                              train_horizon=2)
    assert set(curve_names()) <= set(out["per_frame"]) and len(out["per_frame"]["mean_psnr"]) == 4
    assert out["best_ssim_skimage"] >= out["mean_ssim_skimage"] and out["best_psnr"] >= out["mean_psnr"]
    assert all(h > 0 for h in out["per_frame_ci95"]["mean_ssim"])
    path = write_prediction_csv({"tiny": out}, tmp_path / "curves.csv")
    rows = list(csv.DictReader(open(path)))
    assert len(rows) == len(curve_names()) * 4 and rows[0]["frame"] == "2"
    plot = plot_prediction_curves({"tiny": out, "again": out}, tmp_path / "curves.png", title="t")
    assert plot.stat().st_size > 1000


def test_vidis_predict_writes_ground_truth_best_and_random_samples(tmp_path, capsys):
    from vidis.cli import main

    run = tmp_path / "run"
    train = ["train", "--model", "svg_lp", "--preset", "smoke", "--set", "train.steps=2", "--out", str(run)]
    assert main([*train, "--no-progress"]) == 0
    out = tmp_path / "figs"
    args = ["predict", str(run), "--horizon", "3", "--samples", "4", "--random", "2", "--num", "2"]
    assert main([*args, "--out", str(out), "--device", "cpu"]) == 0
    assert "best of 4 samples" in capsys.readouterr().out
    assert (out / "prediction.gif").stat().st_size > 0 and (out / "prediction.png").stat().st_size > 0
    with pytest.raises(SystemExit):  # argparse: the models need >= 2 observed frames
        main(["predict", str(run), "--context", "1"])


def test_best_and_random_rows_keep_the_context_and_pick_the_best():
    gen = torch.Generator().manual_seed(0)
    video = torch.rand(3, 6, 1, 16, 16, generator=gen)
    model = TinyTwoOptimizer(TinyConfig(predict_noise=0.3), (6, 1, 16, 16)).eval()
    model.name = "tiny"
    from vidis.eval.prediction import best_and_random, score_samples

    rows = best_and_random(model, video, 2, num_samples=7, num_random=2, chunk_size=3, seed=4)
    assert list(rows) == ["best", "random 1", "random 2"]
    assert all(torch.equal(r[:, :2], video[:, :2]) for r in rows.values())
    samples = model.predict(video[:, :2], 4, 7, torch.Generator().manual_seed(4))
    best = score_samples([samples], video[:, 2:])["best_ssim_index"]
    assert torch.equal(rows["best"][:, 2:], samples[best, torch.arange(3)])
    assert torch.equal(rows["random 1"][:, 2:], samples[0])


def test_the_prediction_protocol_predicts_past_the_training_clips():
    """run_prediction_protocol (what `vidis eval --protocol prediction` should call) makes the
    test clips context + eval_horizon long and records the training horizon."""
    from vidis.data import eval_dataset
    from vidis.eval.prediction import run_prediction_protocol
    from vidis.train.spec import build_model, make_spec

    spec = make_spec("svg_lp", preset="smoke", overrides={"model": {"eval_horizon": 5}})
    options = {"num_digits": 1, "num_frames": 4, "image_size": 32, "num_test": 3}
    model = build_model(spec, (4, 1, 32, 32)).eval()
    test = eval_dataset("moving_mnist", "test", **options)
    out = run_prediction_protocol(model, test, 3, 3, "cpu", data_name="moving_mnist", data_options=options,
                                  num_samples=2)["prediction"]
    assert out["horizon"] == 5 and out["train_horizon"] == 2 and out["num_clips"] == 3


def test_vidis_eval_prediction_writes_curves_beside_the_trivial_references(tmp_path, capsys):
    from vidis.cli import main

    run = tmp_path / "run"
    train = ["train", "--model", "svg_lp", "--preset", "smoke", "--set", "train.steps=2", "--out", str(run)]
    assert main([*train, "--no-progress"]) == 0
    args = ["eval", str(run), "--protocol", "prediction", "--num-clips", "3", "--samples", "4"]
    assert main([*args, "--device", "cpu", "--no-progress", "--no-report"]) == 0
    out = capsys.readouterr().out
    assert "prediction_curves.png" in out and "num_samples" in out
    assert json.loads((run / "metrics.json").read_text())["prediction"]["num_samples"] == 4
    rows = list(csv.DictReader(open(run / "figures" / "prediction_curves.csv")))
    labels = {r["label"] for r in rows}
    assert labels == {"svg_lp", "reference: all-black frames", "reference: last observed frame repeated"}
    black = [float(r["mean"]) for r in rows
             if r["label"] == "reference: all-black frames" and r["curve"] == "mse"]
    assert black and all(v > 0 for v in black)  # digits are not black: a black guess has an error
    assert (run / "figures" / "prediction_curves.png").stat().st_size > 1000


def test_eval_prints_nested_values_as_a_pointer_not_as_a_wall_of_text(capsys):
    from vidis.commands import print_section

    print_section("prediction", {"mean_ssim": 0.5, "per_frame": {"mean_ssim": [0.1] * 25}, "step": 3})
    out = capsys.readouterr().out
    assert "mean_ssim" in out and "(per_frame: in metrics.json)" in out
    assert max(len(line) for line in out.splitlines()) < 80

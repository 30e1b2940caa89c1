"""Paper 000 like for like: each row beside a paper number follows the public code's formula.

The reference formulas below are written from a reading of the public code
(m3hmetkoc/disentangled-VAE at 8d7b2fe: evaluation/metrics.py, evaluation/disentanglement.py,
evaluation_2.py), not copied from it, and evaluated on fixed inputs.
"""

import math

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from vidis.errors import VidisError
from vidis.eval.disentanglement import (
    code_mean_abs_correlation,
    code_swap_pairs,
    motion_energy,
    paper000_scores,
    pooled_motion_correlation,
)
from vidis.papers import paper000
from vidis.types import Factor, Latents


class FakeDataset:
    """Random clips with a content label, vidis's motion label and (optionally) the code's."""

    def __init__(self, n=40, frames=5, size=16, code_label=True, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.video = torch.rand(n, frames, 1, size, size, generator=g)
        self.labels = {
            "digit0": torch.randint(0, 3, (n,), generator=g),
            "direction": torch.randint(0, 2, (n,), generator=g),
        }
        self.labels["direction_code"] = 1 - self.labels["direction"]  # differs on every clip
        self.factors = [Factor("digit0", "static", 3), Factor("direction", "dynamic", 2)]
        if code_label:
            self.factors.append(Factor("direction_code", "dynamic", 2))
        self.video_shape = tuple(self.video.shape[1:])

    def __len__(self):
        return len(self.video)

    def batch(self, indices):
        indices = list(indices)
        names = [f.name for f in self.factors]
        return {"video": self.video[indices], "factors": {k: self.labels[k][indices] for k in names}}


class LabelModel:
    """Content latent = one-hot digit, motion latent = one-hot of `motion_from`; swaps per `mode`."""

    capabilities = frozenset({"reconstruct", "swap"})

    def __init__(self, dataset, motion_from="direction_code", mode="b"):
        self.dataset, self.motion_from, self.mode = dataset, motion_from, mode
        self.calls = 0

    def eval(self):
        return self

    def _index(self, video):
        flat = self.dataset.video.flatten(1)
        return [int((flat == v.flatten()).all(1).nonzero()[0]) for v in video]

    def encode(self, video):
        index = self._index(video)
        noise = torch.randn(len(index), 3) * 0.01
        content = torch.nn.functional.one_hot(self.dataset.labels["digit0"][index], 3).float() + noise
        motion = torch.nn.functional.one_hot(self.dataset.labels[self.motion_from][index], 2).float()
        return Latents(content, motion + torch.randn(len(index), 2) * 0.01)

    def swap(self, video_a, video_b):
        if self.mode == "static":
            return video_a[:, :1].expand_as(video_a).clone()  # constant over time: no motion at all
        return video_b.clone() if self.mode == "b" else 0.5 * video_a + 0.5 * video_b

    def reconstruct(self, video):
        self.calls += 1
        return (video * 0.9 + 0.05).clone()


# -- Table 2 -----------------------------------------------------------------------------------


def _reference_pooled_correlation(b, swap):
    """The code: per-frame mean |x_{t+1} - x_t| of B and of the swap, all pairs and frames
    flattened into one sample each, then numpy's Pearson correlation."""
    energy_b = np.abs(np.diff(b, axis=1)).mean(axis=(2, 3, 4)).ravel()
    energy_s = np.abs(np.diff(swap, axis=1)).mean(axis=(2, 3, 4)).ravel()
    return np.corrcoef(energy_b, energy_s)[0, 1]


def test_pooled_motion_correlation_is_one_pearson_over_all_pairs_and_frames():
    g = torch.Generator().manual_seed(1)
    b = torch.rand(6, 5, 1, 8, 8, generator=g, dtype=torch.float64)
    swap = 0.3 * b + 0.7 * torch.rand(6, 5, 1, 8, 8, generator=g, dtype=torch.float64)
    pooled = pooled_motion_correlation(motion_energy(b), motion_energy(swap))
    assert pooled == pytest.approx(_reference_pooled_correlation(b.numpy(), swap.numpy()), abs=1e-6)
    per_pair = np.mean([np.corrcoef(eb, es)[0, 1] for eb, es in zip(motion_energy(b), motion_energy(swap))])
    assert abs(pooled - per_pair) > 1e-3  # vidis's per-pair mean is a different number


def test_pooled_motion_correlation_of_a_static_output_is_undefined():
    b = torch.rand(4, 5, 1, 8, 8)
    static = b[:, :1].expand_as(b)
    assert pooled_motion_correlation(motion_energy(b), motion_energy(static)) is None
    with np.errstate(invalid="ignore", divide="ignore"):
        assert np.isnan(_reference_pooled_correlation(b.numpy(), static.numpy()))


def test_code_swap_pairs_are_even_and_odd_clips():
    a, b = code_swap_pairs(1000)
    assert a.tolist()[:3] == [0, 2, 4] and b.tolist()[:3] == [1, 3, 5] and len(a) == 100
    a, b = code_swap_pairs(7)
    assert a.tolist() == [0, 2, 4] and b.tolist() == [1, 3, 5]


def test_code_mean_abs_correlation_is_undefined_for_a_constant_dimension():
    rng = np.random.default_rng(0)
    content, motion = torch.from_numpy(rng.normal(size=(50, 3))), torch.from_numpy(rng.normal(size=(50, 2)))
    reference = np.abs(np.corrcoef(content.T.numpy(), motion.T.numpy())[:3, 3:]).mean()
    assert code_mean_abs_correlation(content, motion) == pytest.approx(reference)
    motion[:, 1] = 0.5
    assert code_mean_abs_correlation(content, motion) is None


def test_paper_rows_use_the_codes_motion_label_and_name_both():
    data = FakeDataset(n=60)
    # The motion latent encodes the code's label: the paper rows read it perfectly, vidis's
    # label (its complement here) equally, since one determines the other.
    scores = paper000_scores(LabelModel(data, "direction_code"), data, num_clips=60, batch_size=25)
    assert scores["motion_label"] == "direction_code" and scores["motion_label_vidis"] == "direction"
    assert scores["motion_from_motion"] == 1.0
    assert "motion_disentanglement_vidis_label" in scores
    assert scores["motion_from_motion_se"] == 0.0 and scores["probe_test_clips"] == 12

    # A dataset without the code's label: the rows use the caller's label, no second set.
    plain = FakeDataset(n=60, code_label=False)
    scores = paper000_scores(LabelModel(plain, "direction"), plain, num_clips=60, batch_size=25)
    assert scores["motion_label"] == "direction" and "motion_label_vidis" not in scores
    with pytest.raises(VidisError, match="direction_x"):
        paper000_scores(LabelModel(plain), plain, num_clips=60, motion_label="direction_x")


def test_swap_rows_follow_the_code_on_its_pairs():
    data = FakeDataset(n=30)
    mix = paper000_scores(LabelModel(data, mode="mix"), data, num_clips=30, batch_size=7)
    assert mix["swap_pairs_code"] == 15
    a, b = data.video[0:30:2].double(), data.video[1:30:2].double()
    swap = 0.5 * a + 0.5 * b
    # content preservation: 1 - mean over pairs and pixels of |mean_t A - mean_t swap|
    expected = 1 - (a.mean(1) - swap.mean(1)).abs().mean()
    assert mix["average_frame_similarity"] == pytest.approx(float(expected), abs=1e-6)
    correlation = _reference_pooled_correlation(b.numpy(), swap.numpy())
    assert mix["motion_correlation"] == pytest.approx(correlation, abs=1e-6)
    assert mix["overall_swap_quality"] == pytest.approx(
        (float(expected) + max(0.0, correlation)) / 2, abs=1e-6
    )

    static = paper000_scores(LabelModel(data, mode="static"), data, num_clips=30, batch_size=7)
    assert static["motion_correlation"] is None and static["motion_correlation_per_pair"] is None
    assert static["motion_correlation_per_pair_undefined"] == 30
    # the code's max(0, nan) is 0: swap quality is half the content preservation
    assert static["overall_swap_quality"] == pytest.approx(static["average_frame_similarity"] / 2)


# -- Table 1 -----------------------------------------------------------------------------------


def test_code_reconstruction_follows_the_codes_batches():
    data = FakeDataset(n=40, size=16)
    model = LabelModel(data)
    got = paper000.code_reconstruction(model, data, num_clips=40, batch_size=16)
    assert got["code_recon_clips"] == 32 and got["code_batch_size"] == 16  # whole batches only
    psnrs, ssims, mses, tcs = [], [], [], []
    for start in (0, 16):
        video = data.video[start : start + 16].double().numpy()
        recon = np.clip(video * 0.9 + 0.05, 0, 1)
        batch_mse = ((recon - video) ** 2).mean()
        mses.append(batch_mse)
        psnrs.append(10 * np.log10(1 / batch_mse))
        ssims.append(
            np.mean(
                [
                    structural_similarity(video[b, t, 0], recon[b, t, 0], data_range=1.0, win_size=7)
                    for b in range(16)
                    for t in range(video.shape[1])
                ]
            )
        )
        tcs.append(np.abs(np.diff(recon, axis=1)).mean())
    assert got["mse_code"] == pytest.approx(np.mean(mses), rel=1e-5)
    assert got["psnr_batch16"] == pytest.approx(np.mean(psnrs), rel=1e-5)
    assert got["ssim_7x7_uniform"] == pytest.approx(np.mean(ssims), abs=1e-5)
    assert got["temporal_consistency_code"] == pytest.approx(np.mean(tcs), rel=1e-5)


def test_code_forward_time_runs_the_codes_warmups_and_runs():
    data = FakeDataset(n=8)
    model = LabelModel(data)
    value = paper000.code_forward_ms(model, data.video[:4])
    assert model.calls == paper000.CODE_FORWARD_WARMUP + paper000.CODE_FORWARD_RUNS == 60
    assert value > 0 and math.isfinite(value)


def test_paper_numbers_are_the_codes_json():
    # figures/comparison_results.json and figures/disentanglement_metrics.json of the code
    assert paper000.PAPER_TABLE1["psnr_batch16"]["dvae"] == 16.85
    assert paper000.PAPER_TABLE1["ssim_7x7_uniform"]["lstm_vae"] == 0.7713
    assert paper000.PAPER_CODE_JSON["content_from_content"] - paper000.PAPER_CODE_JSON[
        "content_from_motion"
    ] == pytest.approx(paper000.PAPER_TABLE2["content_disentanglement"])
    assert paper000.MODELS == ("frame_vae", "lstm_vae", "dvae")


# -- reproduce: reusing runs ---------------------------------------------------------------------


def _finished_run(tmp_path, overrides=None):
    from vidis.train.spec import make_spec

    run = tmp_path / "dvae"
    (run / "checkpoints").mkdir(parents=True)
    spec = make_spec("dvae", preset="smoke", overrides=overrides)
    spec.save(run / "config.json")
    torch.save(
        {"model": {}, "step": spec.train.steps, "video_shape": [4, 1, 64, 64]},
        run / "checkpoints" / "last.pt",
    )
    return run


def test_reproduce_refuses_a_run_with_other_settings_unless_reuse(tmp_path, capsys):
    run = _finished_run(tmp_path)
    assert paper000.train_or_reuse("dvae", "smoke", run, {}, progress=False) == run  # same spec
    with pytest.raises(paper000.RunMismatch, match=r"train\.lr: run has 0\.\d+, asked 0\.5.*--reuse"):
        paper000.train_or_reuse("dvae", "smoke", run, {"train": {"lr": 0.5}}, progress=False)
    with pytest.raises(paper000.RunMismatch, match=r"run\.preset: run has 'smoke', asked 'small'"):
        paper000.train_or_reuse("dvae", "small", run, {}, progress=False)
    reused = paper000.train_or_reuse("dvae", "smoke", run, {"train": {"lr": 0.5}}, progress=False, reuse=True)
    assert reused == run and "differing from this call: train.lr" in capsys.readouterr().out


def test_run_overrides_are_what_differs_from_the_preset(tmp_path):
    from vidis.train.spec import RunSpec

    run = _finished_run(tmp_path, {"train": {"lr": 0.5}, "model": {"content_dim": 3}})
    assert paper000.run_overrides(RunSpec.load(run)) == {"model.content_dim": 3, "train.lr": 0.5}


def test_smoke_gets_a_quick_judge():
    assert paper000.judge_settings_for("smoke", None) == {"quick": True}
    assert paper000.judge_settings_for("smoke", 7) == {"steps": 7}
    assert paper000.judge_settings_for("small", None) == {}  # the judge's default

"""Metrics: image metrics against scikit-image, statistics by construction and against scipy."""

import math

import numpy as np
import pytest
import scipy.linalg
import torch
from scipy.ndimage import gaussian_filter
from skimage.metrics import mean_squared_error, peak_signal_noise_ratio, structural_similarity

from vidis.errors import VidisError
from vidis.metrics import (
    MetricInputError,
    batch_psnr,
    binomial_standard_error,
    conditional_entropy,
    frechet_distance,
    inception_score,
    marginal_entropy,
    mean_abs_cross_correlation,
    mse,
    pearson,
    psnr,
    ssim,
    temporal_consistency,
)

SHAPES = [(2, 3, 1, 32, 32), (2, 3, 3, 32, 32), (2, 3, 1, 64, 64), (2, 3, 3, 64, 64)]


def _noisy_pair(shape, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.random(shape)
    b = np.clip(a + 0.2 * rng.normal(size=shape), 0, 1)
    return a, b


def _structured_pair(shape, seed=0):
    """Smoothed random blobs, and a square moving one pixel a frame over a noisy background."""
    rng = np.random.default_rng(seed)
    blobs = gaussian_filter(rng.random(shape), sigma=(0, 0, 0, 3, 3))
    blobs = (blobs - blobs.min()) / (blobs.max() - blobs.min())  # stretch to [0, 1]
    square = 0.1 * rng.random(shape)
    for t in range(shape[1]):
        square[:, t, :, 8 : 8 + shape[3] // 3, 4 + t : 4 + t + shape[4] // 3] = 0.9
    return blobs, square


def _per_frame(fn, a, b):
    """Apply a scikit-image metric to each (C, H, W) frame: (B, T)."""
    return np.array([[fn(a[i, j], b[i, j]) for j in range(a.shape[1])] for i in range(a.shape[0])])


def _sk_ssim(x, y):
    return structural_similarity(
        x,
        y,
        data_range=1.0,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        channel_axis=0,
    )


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("make", [_noisy_pair, _structured_pair])
def test_image_metrics_match_skimage(shape, make):
    a, b = make(shape)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    assert ssim(ta, tb).shape == (2, 3)
    np.testing.assert_allclose(ssim(ta, tb).numpy(), _per_frame(_sk_ssim, a, b), atol=1e-6)
    np.testing.assert_allclose(mse(ta, tb).numpy(), _per_frame(mean_squared_error, a, b))
    sk_psnr = _per_frame(lambda x, y: peak_signal_noise_ratio(x, y, data_range=1.0), a, b)
    np.testing.assert_allclose(psnr(ta, tb).numpy(), sk_psnr)


def test_float32_input_matches_skimage_on_same_values():
    a, b = _structured_pair((1, 2, 3, 32, 32))
    ta, tb = torch.tensor(a, dtype=torch.float32), torch.tensor(b, dtype=torch.float32)
    ref = _per_frame(_sk_ssim, ta.double().numpy(), tb.double().numpy())
    np.testing.assert_allclose(ssim(ta, tb).numpy(), ref, atol=1e-6)


def test_ssim_data_range_scales_like_skimage():
    a, b = _structured_pair((1, 1, 1, 32, 32))
    sk = structural_similarity(
        a[0, 0, 0] * 255,
        b[0, 0, 0] * 255,
        data_range=255.0,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
    )
    ours = ssim(torch.from_numpy(a) * 255, torch.from_numpy(b) * 255, data_range=255.0)
    assert ours.item() == pytest.approx(sk, abs=1e-6)


def test_identical_frames():
    x = torch.rand(2, 3, 3, 32, 32)
    np.testing.assert_allclose(ssim(x, x).numpy(), 1.0, atol=1e-12)
    assert torch.isinf(psnr(x, x)).all() and (psnr(x, x) > 0).all()
    assert (mse(x, x) == 0).all()


def test_psnr_known_value_and_float64_safety():
    x = torch.zeros(1, 1, 1, 8, 8)
    assert psnr(x, x + 0.1).item() == pytest.approx(20.0)
    # a difference far below float32's resolution near 1 still gives a finite PSNR
    y = torch.full((1, 1, 1, 8, 8), 1e-20, dtype=torch.float64)
    assert psnr(x.double(), y).item() == pytest.approx(400.0)


def test_ssim_symmetric_and_lower_for_worse_copies():
    a, b = _structured_pair((2, 3, 3, 32, 32))
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    torch.testing.assert_close(ssim(ta, tb), ssim(tb, ta))
    noise = torch.randn_like(ta, generator=torch.Generator().manual_seed(0))
    light, heavy = (ta + 0.05 * noise).clamp(0, 1), (ta + 0.3 * noise).clamp(0, 1)
    assert (ssim(ta, light) > ssim(ta, heavy)).all()


def test_temporal_consistency():
    static = torch.rand(1, 1, 3, 8, 8).expand(2, 5, 3, 8, 8)
    assert (temporal_consistency(static) == 0).all()
    ramp = torch.linspace(0, 1, 5).view(1, 5, 1, 1, 1).expand(2, 5, 3, 8, 8)
    torch.testing.assert_close(temporal_consistency(ramp), torch.full((2,), 0.25).double())
    assert temporal_consistency(static).shape == (2,)


@pytest.mark.parametrize("fn", [mse, psnr, ssim])
def test_four_d_input_is_rejected(fn):
    x = torch.rand(4, 64, 64)
    with pytest.raises(ValueError, match=r"expected video of shape \(B, T, C, H, W\), got \(4, 64"):
        fn(x, x)


@pytest.mark.parametrize("fn", [mse, psnr, ssim])
def test_mismatched_shapes_are_rejected(fn):
    with pytest.raises(MetricInputError, match=r"\(B, T, C, H, W\)") as err:
        fn(torch.rand(1, 2, 1, 32, 32), torch.rand(1, 3, 1, 32, 32))
    assert isinstance(err.value, VidisError) and isinstance(err.value, ValueError)


def test_small_frames_and_short_clips_are_rejected():
    with pytest.raises(MetricInputError, match="11x11"):
        ssim(torch.rand(1, 1, 1, 8, 32), torch.rand(1, 1, 1, 8, 32))
    with pytest.raises(MetricInputError, match="expected video of shape"):
        temporal_consistency(torch.rand(3, 1, 8, 8))
    with pytest.raises(MetricInputError, match="2 frames"):
        temporal_consistency(torch.rand(2, 1, 1, 8, 8))


# --- dataset-level statistics -------------------------------------------------------------------


@pytest.mark.parametrize("k", [2, 5, 10])
def test_oracle_one_hot_scores(k):
    probs = np.eye(k)[np.arange(20 * k) % k]  # (20K, K), each class 20 times
    assert inception_score(probs) == pytest.approx(k)
    assert conditional_entropy(probs) == 0.0
    assert marginal_entropy(probs) == pytest.approx(math.log(k))


def test_uniform_predictions_score_one():
    probs = torch.full((50, 4), 0.25)
    assert inception_score(probs) == pytest.approx(1.0)
    assert conditional_entropy(probs) == pytest.approx(math.log(4))
    assert marginal_entropy(probs) == pytest.approx(math.log(4))


def test_inception_score_is_exp_of_entropy_gap():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(200, 6)) * 2
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    gap = marginal_entropy(probs) - conditional_entropy(probs)
    assert inception_score(probs) == pytest.approx(math.exp(gap))
    assert 1.0 < inception_score(probs) < 6.0


def test_probs_are_validated():
    with pytest.raises(MetricInputError, match=r"\(N, K\)"):
        inception_score(np.ones(4) / 4)
    with pytest.raises(MetricInputError, match="summing to 1"):
        marginal_entropy(np.ones((3, 4)))


def _reference_frechet(a, b):
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s_a @ s_b).real
    return ((mu_a - mu_b) ** 2).sum() + np.trace(s_a + s_b - 2 * covmean)


def test_frechet_identical_shifted_and_reference():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 8)) @ rng.normal(size=(8, 8))  # correlated features
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    d = rng.normal(size=8)
    assert frechet_distance(a, a + d) == pytest.approx((d**2).sum(), rel=1e-8)
    b = rng.normal(size=(400, 8)) * 1.5 + 0.3
    assert frechet_distance(a, b) == pytest.approx(_reference_frechet(a, b), rel=1e-6)
    assert frechet_distance(torch.from_numpy(a), torch.from_numpy(b)) == frechet_distance(a, b)


def test_frechet_handles_rank_deficient_and_one_dim():
    rng = np.random.default_rng(1)
    a = np.repeat(rng.normal(size=(100, 1)), 3, axis=1)  # rank-1 covariance
    b = rng.normal(size=(100, 3))
    value = frechet_distance(a, b)
    assert math.isfinite(value) and value > 0
    x = rng.normal(size=200)
    assert frechet_distance(x, x + 2.0) == pytest.approx(4.0)


def test_cross_correlation():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(5000, 4))
    assert mean_abs_cross_correlation(z[:, :1], 3 * z[:, :1] + 1) == pytest.approx(1.0)
    assert mean_abs_cross_correlation(z[:, :1], np.repeat(-z[:, :1], 3, 1)) == pytest.approx(1.0)
    assert mean_abs_cross_correlation(z, rng.normal(size=(5000, 6))) < 0.1
    # duplicated latents: the diagonal is 1, the off-diagonal small
    assert mean_abs_cross_correlation(z, z) == pytest.approx(0.25, abs=0.02)


def test_constant_dimensions_give_zero_and_constant_pearson_is_undefined():
    rng = np.random.default_rng(0)
    a = np.column_stack([rng.normal(size=100), np.full(100, 0.1)])
    b = np.column_stack([a[:, 0], np.zeros(100)])
    value = mean_abs_cross_correlation(a, b)
    assert value == pytest.approx(0.25)  # only the (0, 0) pair correlates, with |r| = 1
    # A constant sample has no correlation: undefined (NaN, as numpy says), never 0.
    assert math.isnan(pearson(np.full(10, 0.3), np.arange(10)))
    with np.errstate(invalid="ignore", divide="ignore"):
        assert np.isnan(np.corrcoef(np.zeros(10), np.arange(10))[0, 1])


def test_pearson_against_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    y = 0.5 * x + rng.normal(size=300)
    assert pearson(x, y) == pytest.approx(np.corrcoef(x, y)[0, 1])
    assert pearson(torch.from_numpy(x), -x) == pytest.approx(-1.0)
    with pytest.raises(MetricInputError):
        pearson(x, y[:10])


def test_metrics_match_skimage_on_real_moving_mnist_clips():
    """Real clips against a blurred, noisy copy and against a different real clip."""
    from vidis.data import make_dataset

    clips = (
        make_dataset("moving_mnist", "test", num_frames=6).batch(range(3))["video"].double()
    )  # (3, 6, 1, 64, 64)
    rng = np.random.default_rng(0)
    blurred = gaussian_filter(clips.numpy(), sigma=(0, 0, 0, 1, 1)) + rng.normal(0, 0.05, clips.shape)
    for other in (torch.from_numpy(np.clip(blurred, 0, 1)), clips.roll(1, 0)):
        ours = ssim(other, clips)
        reference = torch.from_numpy(_per_frame(_sk_ssim, other.numpy(), clips.numpy()))
        assert torch.allclose(ours, reference, atol=1e-6)
        sk_psnr = _per_frame(
            lambda x, y: peak_signal_noise_ratio(y, x, data_range=1.0), other.numpy(), clips.numpy()
        )
        assert torch.allclose(psnr(other, clips), torch.from_numpy(sk_psnr), atol=1e-6)


# -- paper 000's public code: SSIM of scikit-image's defaults, PSNR per batch -------------------


@pytest.mark.parametrize("make", [_noisy_pair, _structured_pair])
def test_uniform_7x7_ssim_matches_skimage_defaults(make):
    """skimage's default SSIM (7x7 uniform window, sample covariance), as paper 000's code calls
    it: structural_similarity(target_frame, pred_frame, data_range=1.0, win_size=7)."""
    pred, target = make((2, 3, 1, 32, 32), seed=1)
    ours = ssim(torch.from_numpy(pred), torch.from_numpy(target), window_size=7, window="uniform",
                sample_covariance=True)
    ref = np.array([[structural_similarity(target[b, t, 0], pred[b, t, 0], data_range=1.0, win_size=7)
                     for t in range(3)] for b in range(2)])
    np.testing.assert_allclose(ours.numpy(), ref, rtol=0, atol=1e-12)
    # The 11x11 Gaussian (vidis's definition) is a different number on the same frames.
    gaussian = ssim(torch.from_numpy(pred), torch.from_numpy(target))
    assert (gaussian - ours).abs().max() > 1e-3


def test_uniform_ssim_by_hand_on_one_window():
    """A 7x7 frame has one valid window: SSIM is the formula over all 49 pixels, with the
    variances and covariance normalised by 48 (sample) or 49 (population)."""
    rng = np.random.default_rng(3)
    x, y = rng.random((7, 7)), rng.random((7, 7))
    c1, c2 = 0.01**2, 0.03**2
    for ddof, sample in ((1, True), (0, False)):
        cov = np.cov(x.ravel(), y.ravel(), ddof=ddof)
        ref = ((2 * x.mean() * y.mean() + c1) * (2 * cov[0, 1] + c2)) / (
            (x.mean() ** 2 + y.mean() ** 2 + c1) * (cov[0, 0] + cov[1, 1] + c2)
        )
        value = ssim(torch.from_numpy(x)[None, None, None], torch.from_numpy(y)[None, None, None],
                     window_size=7, window="uniform", sample_covariance=sample)
        assert float(value) == pytest.approx(ref, abs=1e-12)
    with pytest.raises(MetricInputError):
        ssim(torch.zeros(1, 1, 1, 8, 8), torch.zeros(1, 1, 1, 8, 8), window_size=7, window="box")


def test_batch_psnr_is_psnr_of_the_batch_mse():
    pred, target = _noisy_pair((4, 3, 1, 16, 16))
    pred, target = torch.from_numpy(pred), torch.from_numpy(target)
    whole = 10 * math.log10(1 / float(((pred - target) ** 2).mean()))
    assert float(batch_psnr(pred, target)) == pytest.approx(whole, abs=1e-12)
    assert float(batch_psnr(pred, target)) == pytest.approx(
        peak_signal_noise_ratio(target.numpy(), pred.numpy(), data_range=1.0), abs=1e-10
    )
    # The mean of per-batch PSNRs (paper 000's code) is at least the PSNR of the mean MSE
    # (-log is convex): batches with MSE 0.01 and 0.04 give (20 + 13.98) / 2, not 10 log10(1/0.025).
    zeros = torch.zeros(2, 1, 1, 4, 4, dtype=torch.float64)
    first, second = batch_psnr(zeros, zeros + 0.1), batch_psnr(zeros, zeros + 0.2)
    assert float(first + second) / 2 == pytest.approx((20 + 10 * math.log10(25)) / 2)
    pooled = batch_psnr(torch.cat([zeros, zeros]), torch.cat([zeros + 0.1, zeros + 0.2]))
    assert float(pooled) == pytest.approx(10 * math.log10(1 / 0.025))
    assert float(first + second) / 2 > float(pooled)


def test_binomial_standard_error():
    assert binomial_standard_error(0.83, 200) == pytest.approx(math.sqrt(0.83 * 0.17 / 200))
    assert binomial_standard_error(1.0, 10) == 0.0
    with pytest.raises(MetricInputError):
        binomial_standard_error(0.5, 0)
    with pytest.raises(MetricInputError):
        binomial_standard_error(1.5, 10)

"""Dataset-level statistics: classifier-based scores, Frechet distance and latent correlations.

Every function takes numpy arrays or torch tensors (moved to CPU), computes in float64 and
returns a Python float. Entropies are in nats.
"""

from __future__ import annotations

import numpy as np
import torch

from vidis.metrics.image import MetricInputError

__all__ = [
    "binomial_standard_error",
    "conditional_entropy",
    "frechet_distance",
    "inception_score",
    "marginal_entropy",
    "mean_abs_cross_correlation",
    "pearson",
]


def _as_array(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def _check_probs(probs) -> np.ndarray:
    p = _as_array(probs)
    if p.ndim != 2 or p.shape[0] == 0:
        raise MetricInputError(f"expected class probabilities of shape (N, K), got {p.shape}")
    if (p < 0).any() or not np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        raise MetricInputError("class probabilities must be non-negative with rows summing to 1")
    return p


def _entropy(p: np.ndarray) -> np.ndarray:
    """-sum_k p_k log p_k over the last axis, with 0 log 0 = 0."""
    logp = np.log(np.where(p > 0, p, 1.0))
    return -(p * logp).sum(axis=-1)


def conditional_entropy(probs) -> float:
    """H(y|x) = mean over x of -sum_k p(k|x) log p(k|x), in nats; 0 for confident one-hot rows.

    probs: (N, K) class probabilities p(y|x) of N samples.

    >>> conditional_entropy(np.eye(3))
    0.0
    """
    return float(_entropy(_check_probs(probs)).mean())


def marginal_entropy(probs) -> float:
    """H(y) = -sum_k p(k) log p(k) with p(y) = mean over x of p(y|x), in nats.

    log K when the N samples use the K classes equally; 0 when all fall in one class.
    probs: (N, K).

    >>> round(marginal_entropy(np.eye(4)), 6) == round(float(np.log(4)), 6)
    True
    """
    return float(_entropy(_check_probs(probs).mean(axis=0)))


def inception_score(probs) -> float:
    """IS = exp(E_x KL(p(y|x) || p(y))) = exp(H(y) - H(y|x)), with p(y) = mean_x p(y|x).

    Ranges from 1 (every prediction equals the marginal, e.g. uniform) to K (confident one-hot
    predictions that use the K classes equally). probs: (N, K).

    >>> round(inception_score(np.eye(5)), 6)
    5.0
    >>> round(inception_score(np.full((10, 5), 0.2)), 6)
    1.0
    """
    p = _check_probs(probs)
    p_y = p.mean(axis=0, keepdims=True)  # (1, K)
    ratio = np.where(p > 0, p / np.where(p_y > 0, p_y, 1.0), 1.0)  # 0 log 0 = 0
    kl = (p * np.log(ratio)).sum(axis=1)  # (N,)
    return float(np.exp(kl.mean()))


def _check_features(x, name: str) -> np.ndarray:
    x = _as_array(x)
    if x.ndim == 1:
        x = x[:, None]  # (N,) -> (N, 1)
    if x.ndim != 2:
        raise MetricInputError(f"{name}: expected features of shape (N, D), got {x.shape}")
    return x


def _sqrt_psd(m: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric positive semi-definite matrix (eigenvalues < 0 -> 0)."""
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(feats_a, feats_b) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (as in FID / FVD).

        d^2 = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))

    with sample means mu and covariances S (ddof=1). Tr((S_a S_b)^(1/2)) is computed as the sum of
    square roots of the eigenvalues of the symmetric PSD matrix S_a^(1/2) S_b S_a^(1/2), which
    has the same spectrum as S_a S_b: no complex parts, no sqrtm iterations. Tiny negative
    round-off in the result is clipped to 0.

    feats_a: (Na, D), feats_b: (Nb, D), Na, Nb >= 2.

    >>> a = np.random.default_rng(0).normal(size=(100, 3))
    >>> round(frechet_distance(a, a + [1.0, 2.0, 2.0]), 6)
    9.0
    """
    a = _check_features(feats_a, "feats_a")
    b = _check_features(feats_b, "feats_b")
    if a.shape[1] != b.shape[1]:
        raise MetricInputError(f"feature dimensions differ: {a.shape} and {b.shape}")
    if len(a) < 2 or len(b) < 2:
        raise MetricInputError(f"need at least 2 samples per set, got {len(a)} and {len(b)}")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))  # (D, D)
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    sqrt_a = _sqrt_psd(cov_a)
    m = sqrt_a @ cov_b @ sqrt_a  # symmetric PSD, same eigenvalues as cov_a @ cov_b
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0.0, None)).sum()
    d2 = ((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2.0 * tr_sqrt
    return float(max(d2, 0.0))


def _zscore(x: np.ndarray) -> np.ndarray:
    """Column z-scores (population std); constant columns (max == min) become all zeros."""
    constant = x.max(axis=0) == x.min(axis=0)
    centred = x - x.mean(axis=0)
    std = np.where(constant, 1.0, centred.std(axis=0))
    return np.where(constant, 0.0, centred / std)


def mean_abs_cross_correlation(a, b) -> float:
    """Mean over all pairs (i, j) of |corr(a[:, i], b[:, j])| (Pearson), in [0, 1].

    a: (N, Da), b: (N, Db) latents of the same N samples (1-D inputs count as one dimension).
    A constant dimension has correlation 0 with everything (not NaN). 1 for b = a with Da = 1;
    near 0 (about sqrt(2 / (pi N))) for independent dimensions.

    >>> x = np.arange(10.0)
    >>> mean_abs_cross_correlation(x, np.stack([-2 * x, np.ones(10)], axis=1))
    0.5
    """
    a = _check_features(a, "a")
    b = _check_features(b, "b")
    if len(a) != len(b):
        raise MetricInputError(f"a and b need the same number of samples, got {len(a)}, {len(b)}")
    corr = _zscore(a).T @ _zscore(b) / len(a)  # (Da, Db)
    return float(np.abs(np.clip(corr, -1.0, 1.0)).mean())


def pearson(x, y) -> float:
    """Pearson correlation cov(x, y) / (std(x) std(y)) of two equally long samples (flattened).

    Returns NaN when x or y is constant: the correlation is undefined there (as numpy's
    `corrcoef` says), and reporting 0 would claim "uncorrelated". Pooling several sequences
    into one correlation is `pearson(x.flatten(), y.flatten())`.

    >>> round(pearson([1, 2, 3], [2, 4, 7]), 6)
    0.993399
    >>> pearson([1, 2, 3], [5, 5, 5])
    nan
    """
    x, y = _as_array(x).reshape(-1, 1), _as_array(y).reshape(-1, 1)  # (N, 1)
    if len(x) != len(y) or len(x) == 0:
        raise MetricInputError(f"x and y need the same non-zero length, got {len(x)}, {len(y)}")
    if x.max() == x.min() or y.max() == y.min():
        return float("nan")
    return float(np.clip((_zscore(x) * _zscore(y)).mean(), -1.0, 1.0))


def binomial_standard_error(accuracy: float, num_test: int) -> float:
    """Standard error sqrt(p (1 - p) / n) of an accuracy p measured on n independent test items.

    >>> round(binomial_standard_error(0.5, 100), 6)
    0.05
    """
    if num_test < 1:
        raise MetricInputError(f"num_test must be >= 1, got {num_test}")
    if not 0.0 <= accuracy <= 1.0:
        raise MetricInputError(f"accuracy must be in [0, 1], got {accuracy}")
    return float(np.sqrt(accuracy * (1.0 - accuracy) / num_test))

"""Linear probes: how well a latent predicts a label, and prediction-based disentanglement.

A probe is a standardised multinomial logistic regression trained on a seeded (stratified where
possible) train split and scored on the held-out split, so scores are reproducible. Every
accuracy comes with its binomial standard error sqrt(p (1 - p) / n_test): 200 test clips
(1,000 clips, 20% held out) give about +-0.03.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from ..metrics.stats import binomial_standard_error

__all__ = ["chance_accuracy", "prediction_disentanglement", "probe_accuracy", "probe_score"]


def _as_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _check_labels(labels) -> np.ndarray:
    y = _as_numpy(labels)
    if y.ndim != 1 or len(y) == 0:
        raise ValueError(f"expected labels of shape (N,), got {y.shape}")
    return y


def chance_accuracy(labels) -> float:
    """Majority-class rate max_k count(k) / N: the accuracy of always guessing the commonest label.

    labels: (N,).

    >>> chance_accuracy([0, 0, 0, 1])
    0.75
    """
    _, counts = np.unique(_check_labels(labels), return_counts=True)
    return float(counts.max() / counts.sum())


def probe_accuracy(
    features,
    labels,
    seed: int = 0,
    test_fraction: float = 0.2,
    max_iter: int = 1000,
) -> float:
    """Held-out accuracy of a logistic-regression probe predicting `labels` from `features`.

    features: (N, D), or (N, T, D) per-frame latents, flattened to (N, T*D).
    labels: (N,) integer or string class labels with at least 2 classes.
    The split is stratified by label when every class can appear on both sides, else random;
    the StandardScaler is fitted on the train part only. Returns accuracy in [0, 1]
    (`probe_score` also returns the number of test samples).
    """
    return probe_score(features, labels, seed, test_fraction, max_iter)[0]


def probe_score(
    features,
    labels,
    seed: int = 0,
    test_fraction: float = 0.2,
    max_iter: int = 1000,
) -> tuple[float, int]:
    """(accuracy, number of held-out test samples) of the probe `probe_accuracy` describes."""
    x = _as_numpy(features).astype(np.float64)
    y = _check_labels(labels)
    if x.ndim == 3:
        x = x.reshape(len(x), -1)  # (N, T, D) -> (N, T*D)
    if x.ndim != 2:
        raise ValueError(f"expected features of shape (N, D) or (N, T, D), got {x.shape}")
    if len(x) != len(y):
        raise ValueError(f"features and labels differ in length: {len(x)} and {len(y)}")
    if len(np.unique(y)) < 2:
        raise ValueError("probe_accuracy needs labels with at least 2 classes, got 1")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")

    try:
        x_tr, x_te, y_tr, y_te = train_test_split(
            x, y, test_size=test_fraction, random_state=seed, stratify=y
        )
    except ValueError:  # a class with 1 sample, or fewer test samples than classes
        x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_fraction, random_state=seed)
    if len(np.unique(y_tr)) < 2:
        raise ValueError("the probe's train split holds a single class; use more samples")

    scaler = StandardScaler().fit(x_tr)
    clf = LogisticRegression(max_iter=max_iter, random_state=seed)
    clf.fit(scaler.transform(x_tr), y_tr)
    return float(clf.score(scaler.transform(x_te), y_te)), len(y_te)


def prediction_disentanglement(
    content,
    motion,
    content_labels,
    motion_labels,
    seed: int = 0,
) -> dict[str, float]:
    """Prediction-based disentanglement (paper 000, section 4.3 / Table 2).

        content_disentanglement = acc(content labels | content latent)
                                  - acc(content labels | motion latent)
        motion_disentanglement  = acc(motion labels | motion latent)
                                  - acc(motion labels | content latent)
        overall_disentanglement = mean of the two

    Each accuracy is `probe_accuracy` with the same seed, and `{name}_se` its binomial standard
    error sqrt(p (1 - p) / n_test); `probe_test_clips` is n_test. Scores near 1 mean each latent
    holds its own factor and not the other; near 0 or negative means they are mixed or swapped.
    content: (N, Dc) or (N, T, Dc); motion: (N, Dm) or (N, T, Dm); labels: (N,).

    Paper 000's public code (evaluation/disentanglement.py, `prediction_accuracy`) does the same
    with an unseeded, unstratified 80/20 split and LogisticRegression(max_iter=1000) on
    StandardScaler-ed latents: the same estimate on one other random split.
    """
    probes = {
        "content_from_content": (content, content_labels),
        "content_from_motion": (motion, content_labels),
        "motion_from_motion": (motion, motion_labels),
        "motion_from_content": (content, motion_labels),
    }
    out: dict[str, float] = {}
    for name, (features, labels) in probes.items():
        accuracy, num_test = probe_score(features, labels, seed=seed)
        out[name] = accuracy
        out[f"{name}_se"] = binomial_standard_error(accuracy, num_test)
        out["probe_test_clips"] = num_test
    content_score = out["content_from_content"] - out["content_from_motion"]
    motion_score = out["motion_from_motion"] - out["motion_from_content"]
    out["content_disentanglement"] = content_score
    out["motion_disentanglement"] = motion_score
    out["overall_disentanglement"] = (content_score + motion_score) / 2
    return out

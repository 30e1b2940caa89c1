"""Linear probes and prediction-based disentanglement on latents with known information."""

import numpy as np
import pytest
import torch

from vidis.eval.probes import chance_accuracy, prediction_disentanglement, probe_accuracy, probe_score


def _one_hot_latent(labels, n_classes, rng, noise=0.3, extra_dims=4):
    """one_hot(label) + Gaussian noise, padded with pure-noise dimensions: (N, K + extra_dims)."""
    signal = np.eye(n_classes)[labels]
    x = np.concatenate([signal, np.zeros((len(labels), extra_dims))], axis=1)
    return x + noise * rng.normal(size=x.shape)


def test_chance_accuracy():
    assert chance_accuracy([0, 1, 2, 3] * 5) == 0.25
    assert chance_accuracy(torch.tensor([1, 1, 1, 0])) == 0.75


def test_labels_as_features_score_one():
    labels = np.arange(400) % 5
    assert probe_accuracy(np.eye(5)[labels], labels) == pytest.approx(1.0)


def test_noise_features_score_near_chance():
    rng = np.random.default_rng(0)
    labels = np.arange(2000) % 4
    acc = probe_accuracy(rng.normal(size=(2000, 8)), labels)
    assert abs(acc - chance_accuracy(labels)) < 0.05


def test_per_frame_features_are_flattened():
    rng = np.random.default_rng(0)
    labels = np.arange(300) % 3
    frames = rng.normal(size=(300, 4, 2))  # (N, T, D)
    frames[np.arange(300), 2, 0] += 8 * labels  # the label shows in frame 2 only
    assert probe_accuracy(torch.from_numpy(frames).float(), torch.from_numpy(labels)) > 0.95


def test_probe_is_deterministic_and_handles_rare_classes():
    rng = np.random.default_rng(0)
    x, labels = rng.normal(size=(100, 3)), np.arange(100) % 2
    assert probe_accuracy(x, labels, seed=3) == probe_accuracy(x, labels, seed=3)
    rare = labels.copy()
    rare[0] = 2  # a class with one member: stratifying is impossible, falls back to a plain split
    assert 0.0 <= probe_accuracy(x, rare) <= 1.0


def test_probe_rejects_bad_input():
    with pytest.raises(ValueError, match="at least 2 classes"):
        probe_accuracy(np.zeros((10, 2)), np.zeros(10))
    with pytest.raises(ValueError, match="differ in length"):
        probe_accuracy(np.zeros((10, 2)), np.arange(9) % 2)
    with pytest.raises(ValueError, match=r"\(N, D\) or \(N, T, D\)"):
        probe_accuracy(np.zeros((10, 2, 2, 2)), np.arange(10) % 2)


def test_prediction_disentanglement():
    rng = np.random.default_rng(0)
    n = 600
    content_labels, motion_labels = rng.integers(0, 4, n), rng.integers(0, 3, n)
    content = _one_hot_latent(content_labels, 4, rng)
    motion = _one_hot_latent(motion_labels, 3, rng)

    scores = prediction_disentanglement(content, motion, content_labels, motion_labels)
    assert set(scores) == {
        "content_from_content",
        "content_from_motion",
        "motion_from_motion",
        "motion_from_content",
        "content_from_content_se",
        "content_from_motion_se",
        "motion_from_motion_se",
        "motion_from_content_se",
        "probe_test_clips",
        "content_disentanglement",
        "motion_disentanglement",
        "overall_disentanglement",
    }
    assert scores["probe_test_clips"] == 120  # 20% of 600 held out
    for name in ("content_from_content", "motion_from_content"):
        p = scores[name]
        assert scores[f"{name}_se"] == pytest.approx((p * (1 - p) / 120) ** 0.5)
    assert scores["content_from_content"] > 0.9 and scores["motion_from_motion"] > 0.9
    assert scores["content_disentanglement"] > 0.5 and scores["motion_disentanglement"] > 0.5
    mean = (scores["content_disentanglement"] + scores["motion_disentanglement"]) / 2
    assert scores["overall_disentanglement"] == pytest.approx(mean)

    swapped = prediction_disentanglement(motion, content, content_labels, motion_labels)
    assert swapped["content_disentanglement"] < 0 and swapped["motion_disentanglement"] < 0
    assert swapped["overall_disentanglement"] < 0


def test_probe_score_counts_the_held_out_clips():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 1000)
    features = rng.normal(size=(1000, 4))
    accuracy, num_test = probe_score(features, labels)
    assert num_test == 200  # paper 000's code also holds out 200 of its 1,000 clips
    assert accuracy == probe_accuracy(features, labels)

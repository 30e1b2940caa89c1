"""Paper 002's D-score (eq. 19) and transfer accuracy, checked on features whose answer is known."""

import math

import numpy as np
import pytest
import torch

from vidis.data import make_dataset
from vidis.errors import ConfigError
from vidis.eval.dscore import (
    Task,
    bouncing_mnist_tasks,
    classifier_accuracy,
    d_score,
    encode_frames,
    order_triplets,
    rotating_objects_tasks,
    transfer_accuracy,
)
from vidis.train.spec import build_model, make_spec


def circle(labels, num_classes):
    """Each class a point on the unit circle: linearly separable one-vs-rest in 2 dimensions."""
    angle = 2 * np.pi * labels / num_classes
    return np.stack([np.cos(angle), np.sin(angle)], 1)


def tasks_from(features_fn, n=600, seed=0):
    """Static task (10 classes) and temporal task (9 classes) on features_fn(y_s, y_t, rng)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(2):  # fit, score
        y_s, y_t = rng.integers(0, 10, n), rng.integers(0, 9, n)
        out.append((features_fn(y_s, y_t, rng), y_s, y_t))
    (fx, fs, ft), (sx, ss, st) = out
    return Task("static", fx, fs, sx, ss), Task("temporal", fx, ft, sx, st)


def labels_as_features(y_s, y_t, rng):
    """dims 0-1: the static label, dims 2-3: the temporal label, plus a little noise."""
    return np.concatenate([circle(y_s, 10), circle(y_t, 9)], 1) + 0.01 * rng.standard_normal((len(y_s), 4))


def random_features(y_s, y_t, rng):
    return rng.standard_normal((len(y_s), 4))


def test_labels_score_high_and_random_features_score_one():
    static, temporal = tasks_from(labels_as_features)
    own = d_score(static, temporal, static_dims=[0, 1])
    # each part classifies its own task perfectly and the other at chance (~0.1): D ~ sqrt(10 * 9)
    assert own["acc_static_task_from_static_dims"] > 0.95
    assert own["acc_temporal_task_from_temporal_dims"] > 0.95
    assert own["d_score"] > 6
    best = d_score(static, temporal)  # the max over all 7 divisions finds the same split
    assert best["static_dims"] == [0, 1] and best["d_score"] == pytest.approx(own["d_score"])
    assert best["splits_evaluated"] == best["splits_total"] == 7
    static, temporal = tasks_from(random_features)
    noise = d_score(static, temporal)
    assert 0.7 < noise["d_score"] < 1.6  # a max over 14 ratios of chance accuracies
    assert d_score(static, temporal, static_dims=[0, 1])["d_score"] < noise["d_score"] + 1e-12


def test_reversed_split_scores_the_reciprocal():
    static, temporal = tasks_from(labels_as_features)
    right = d_score(static, temporal, static_dims=[0, 1])["d_score"]
    wrong = d_score(static, temporal, static_dims=[2, 3])["d_score"]
    assert right * wrong == pytest.approx(1.0)


def test_max_splits_subsamples_divisions():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 8))
    y = rng.integers(0, 2, 40)
    task = Task("t", x, y, x, y)
    full_count = d_score(task, task, max_splits=None)["splits_total"]
    assert full_count == 127  # 2^8 / 2 - 1 unordered divisions into two non-empty parts
    sampled = d_score(task, task, max_splits=10, seed=1)
    assert sampled["splits_evaluated"] == 10 and sampled["splits_total"] == 127


def test_rbf_variant_and_order_triplets():
    """Frames whose feature is their own time index: the order task is solvable (RBF), a
    linear SVM on the concatenated triplet is not (the middle frame must lie between the others)."""
    n, T = 800, 16
    rng = np.random.default_rng(0)
    offset = rng.uniform(0, 10, (n, 1, 1))
    clips = offset + np.arange(T, dtype=float)[None, :, None]  # (n, T, 1)
    x, y = order_triplets(clips, seed=0)
    assert x.shape == (n, 3, 1) and 0.4 < y.mean() < 0.6
    middle = x[:, 1, 0] - x[:, [0, 2], 0].mean(1)
    assert np.allclose(middle[y == 1], 0) and np.all(np.abs(middle[y == 0]) > 2)  # positives: monotone
    spans = np.abs(x[:, 0, 0] - x[:, 2, 0])
    assert set(np.round(spans[y == 1])) == {4.0} and set(np.round(spans[y == 0])) == {2.0}
    x2, y2 = order_triplets(clips, seed=1)
    task = Task("order", x, y, x2, y2)
    assert transfer_accuracy(task, variant="rbf") > 0.9
    assert transfer_accuracy(task, variant="linear") < 0.75
    with pytest.raises(ConfigError, match="linear, rbf"):
        classifier_accuracy(x[:, 0], y, x2[:, 0], y2, variant="poly")


def test_zero_accuracy_counts_half_a_sample():
    task = Task("t", np.zeros((4, 2)), np.array([0, 0, 0, 0]), np.zeros((4, 2)), np.array([1, 1, 1, 1]))
    assert task.accuracy([0]) == pytest.approx(1 / 8)
    assert math.isfinite(d_score(task, task, static_dims=[0])["d_score"])


def test_encode_frames_and_mnist_tasks_from_a_model():
    spec = make_spec("factored_vae", preset="smoke")
    torch.manual_seed(0)
    model = build_model(spec, (4, 1, 64, 64)).eval()
    options = {"num_digits": 1, "num_frames": 4, "num_test": 6}
    train = make_dataset("moving_mnist", "train", 0, **options)
    test = make_dataset("moving_mnist", "test", 0, **options)
    features, factors, static_dims = encode_frames(model, test, range(3), batch_size=2)
    assert features.shape == (3, 4, 4) and factors["cell"].shape == (3, 4) and static_dims == (0, 1)
    static, temporal = bouncing_mnist_tasks(model, train, test, num_fit=5, num_score=6, batch_size=3)
    assert static.fit_x.shape == (20, 4) and static.score_y.shape == (24,)
    assert temporal.fit_y.max() < 9 and static.score_y.max() < 10
    dvae = build_model(make_spec("dvae", preset="smoke", overrides={"data": options}), (4, 1, 64, 64)).eval()
    features, _, static_dims = encode_frames(dvae, test, range(2))
    assert features.shape == (2, 4, 16) and static_dims == tuple(range(8))  # content 8, motion 8


def test_rotating_objects_tasks_use_held_out_objects():
    spec = make_spec("slow_vae", "rotating_objects", "smoke-chairs")
    torch.manual_seed(0)
    model = build_model(spec, (6, 1, 64, 64)).eval()
    options = {"num_frames": 6, "num_objects": 5, "num_test": 8, "num_val": 2}
    train = make_dataset("rotating_objects", "train", 0, **options)
    test = make_dataset("rotating_objects", "test", 0, **options)
    static, temporal = rotating_objects_tasks(model, train, test, num_fit=3, num_score=4, batch_size=4)
    # 2 x num_score test clips: clips 0-3 fit the identity classifier, clips 4-7 score it
    assert static.fit_x.shape == (4 * 6, 8) and static.score_x.shape == (4 * 6, 8)
    assert set(static.fit_y) | set(static.score_y) <= set(range(5, 15))  # the held-out objects only
    assert temporal.fit_x.shape == (3, 3, 8) and temporal.score_x.shape == (8, 3, 8)  # a triplet per clip
    assert set(temporal.fit_y) <= {0, 1}


def test_encode_frames_keeps_the_frames_every_latent_part_covers():
    """A model whose per-frame motion covers frames 1..T-1 (SVG's z_t): features and per-frame
    labels are those of the last T-1 frames, content repeated on each."""
    import torch

    from vidis.types import Latents

    class Partial:
        static_dims = None

        def eval(self):
            return self

        def encode(self, video):
            B, T = video.shape[:2]
            content = torch.arange(B, dtype=torch.float32)[:, None]  # (B, 1) per clip
            motion = torch.arange(1, T, dtype=torch.float32).expand(B, -1)[..., None]  # (B, T-1, 1)
            return Latents(content, motion)

    from vidis.data import make_dataset

    data = make_dataset("moving_mnist", "test", num_frames=5, num_test=4)
    features, factors, static_dims = encode_frames(Partial(), data, range(3), batch_size=2)
    assert features.shape == (3, 4, 2) and static_dims == (0,)
    assert (features[:, :, 1] == [1, 2, 3, 4]).all()  # the motion of frames 1..4
    full = data.batch(range(3))["factors"]["cell"].numpy()
    assert (factors["cell"] == full[:, 1:]).all()

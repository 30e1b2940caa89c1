"""Paper 002's D-score (eq. 19) and transfer accuracy (section 4.4).

Given per-frame features H (posterior means) and two classification tasks, a static one (y_s:
which digit, which object) and a temporal one (y_t: where the digit is, whether three frames
are in temporal order), eq. 19 scores a split of the features into H_s and H_t:

    a_s(S) = acc(S, y_s) / acc(S, y_t),   a_t(S) = acc(S, y_t) / acc(S, y_s)
    D = sqrt(a_s(H_s) a_t(H_t))

Each accuracy is a classifier fitted on one set of encodings and scored on held-out ones.
`factored_vae` is scored on its own split (h^s, h^t); a model without one on the best split:
the maximum over every division of its features into two non-empty parts (section 4.1). The
reversed division scores 1 / D, so each unordered division is fitted once and max(D, 1/D)
kept, as the public code's `test_temporal_chair_disentanglement` does (`d_scores.append(1.0 /
d_score)`). With many features (8 give 127 divisions) `max_splits` evaluates a seeded random
sample of divisions; the result says how many were evaluated out of how many.

Classifiers (`VARIANTS`):
- "linear" (the paper's "l2-svm"): scikit-learn `LinearSVC(dual=False)` (squared hinge, L2
  penalty, C = 1) on features standardised with the fit set's mean and deviation.
- "rbf" (the public code, `vhvae_test.py`): `SVC()` with its defaults (RBF kernel, C = 1,
  gamma "scale"; the code ran an older scikit-learn whose default gamma was 1 / n_features) on
  raw features.
An accuracy of 0 (possible only on tiny score sets) is counted as half a correct sample, 1 / (2
n), so every ratio is defined.

Tasks, as `vhvae_test.py` sets them up (`bouncing_mnist_tasks`, `rotating_objects_tasks`):
- Bouncing MNIST: static = the digit's class, temporal = its 3x3 grid cell, per frame; fitted
  on frames of training-split clips, scored on frames of test-split clips (test digits are a
  disjoint pool of MNIST images).
- Rotating objects: static = which of the 10 held-out objects (test split; the first half of
  the test clips' frames fit the classifier, the second half score it); temporal = is a
  triplet of frames in temporal order, one triplet per clip (fitted on training-split clips,
  scored on test-split clips, `order_triplets`). Chance is 0.1 and 0.5.

Transfer accuracy (Tables 2-3): the static task's accuracy from `factored_vae`'s static
features or from all of a baseline's features, with the same classifier.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC

from ..errors import ConfigError

VARIANTS = ("linear", "rbf")
__all__ = [
    "VARIANTS",
    "Task",
    "bouncing_mnist_tasks",
    "d_score",
    "encode_frames",
    "order_triplets",
    "rotating_objects_tasks",
    "transfer_accuracy",
]


def check_variant(variant: str):
    if variant not in VARIANTS:
        raise ConfigError(f"D-score classifier must be one of {', '.join(VARIANTS)}, got {variant!r}")


def classifier_accuracy(fit_x, fit_y, score_x, score_y, variant: str = "linear") -> float:
    """Accuracy on (score_x, score_y) of the `variant` classifier fitted on (fit_x, fit_y).

    x: (n, d) float; y: (n,) int. A single class in the fit set predicts that class.
    """
    check_variant(variant)
    fit_x, score_x = np.asarray(fit_x, np.float64), np.asarray(score_x, np.float64)
    fit_y, score_y = np.asarray(fit_y), np.asarray(score_y)
    classes = np.unique(fit_y)
    if len(classes) < 2:
        return float(np.mean(score_y == classes[0]))
    if variant == "linear":
        scaler = StandardScaler().fit(fit_x)
        fit_x, score_x = scaler.transform(fit_x), scaler.transform(score_x)
        model = LinearSVC(dual=False, max_iter=5000)
    else:
        model = SVC()
    model.fit(fit_x, fit_y)
    return float(model.score(score_x, score_y))


@dataclass
class Task:
    """A classification task on features: x is (n, D) per frame or (n, k, D) per k-frame group
    (the last axis is always the D features that a split selects); y is (n,)."""

    name: str
    fit_x: np.ndarray
    fit_y: np.ndarray
    score_x: np.ndarray
    score_y: np.ndarray

    @property
    def num_features(self) -> int:
        return self.fit_x.shape[-1]

    @property
    def chance(self) -> float:
        """Majority-class rate of the score set."""
        _, counts = np.unique(self.score_y, return_counts=True)
        return float(counts.max() / counts.sum())

    def accuracy(self, dims, variant: str = "linear") -> float:
        """Accuracy from the features `dims` (selected on the last axis, then flattened)."""
        dims = list(dims)
        fit = self.fit_x[..., dims].reshape(len(self.fit_x), -1)
        score = self.score_x[..., dims].reshape(len(self.score_x), -1)
        value = classifier_accuracy(fit, self.fit_y, score, self.score_y, variant)
        return max(value, 1 / (2 * len(self.score_y)))  # 0 -> half a sample: ratios stay defined


def _split_score(acc: dict, static: tuple, temporal: tuple) -> float:
    """sqrt(a_s(S) a_t(T)) from accuracies acc[(dims, task)]."""
    a_s = acc[static, "static"] / acc[static, "temporal"]
    a_t = acc[temporal, "temporal"] / acc[temporal, "static"]
    return math.sqrt(a_s * a_t)


def d_score(
    static_task: Task,
    temporal_task: Task,
    static_dims=None,
    variant: str = "linear",
    max_splits: int | None = None,
    seed: int = 0,
) -> dict:
    """Eq. 19. static_dims given: the score of that split (rest = temporal). None: the maximum
    over divisions of the features (see the module doc).

    Returns d_score, static_dims, temporal_dims (of the best split), the four accuracies
    acc_{static,temporal}_task_from_{static,temporal}_dims, chance of each task, splits_evaluated
    and splits_total (unordered divisions).
    """
    check_variant(variant)
    D = static_task.num_features
    if temporal_task.num_features != D:
        raise ValueError(f"the two tasks' features differ: {D} and {temporal_task.num_features}")
    if D < 2:
        raise ValueError(f"the D-score needs at least 2 features to split, got {D}")
    everything = tuple(range(D))
    if static_dims is not None:
        first = tuple(sorted(int(d) for d in static_dims))
        if not first or len(first) == D or not set(first) <= set(everything):
            raise ValueError(f"static_dims must be a non-empty proper subset of range({D}), "
                             f"got {static_dims}")
        divisions = [first]
    else:  # one side of each unordered division: the subsets holding feature 0, bar the whole set
        divisions = [
            (0, *rest) for size in range(D - 1) for rest in itertools.combinations(range(1, D), size)
        ]
    total = len(divisions)
    if static_dims is None and max_splits is not None and total > max_splits:
        rng = np.random.default_rng(seed)
        divisions = [divisions[i] for i in sorted(rng.choice(total, size=max_splits, replace=False))]
    tasks = {"static": static_task, "temporal": temporal_task}
    acc: dict = {}
    best = None
    for first in divisions:
        second = tuple(d for d in everything if d not in first)
        for dims in (first, second):
            for name, task in tasks.items():
                if (dims, name) not in acc:
                    acc[dims, name] = task.accuracy(dims, variant)
        candidates = [(_split_score(acc, first, second), first, second)]
        if static_dims is None:
            candidates.append((_split_score(acc, second, first), second, first))
        for candidate in candidates:
            if best is None or candidate[0] > best[0]:
                best = candidate
    score, static, temporal = best
    return {
        "d_score": score,
        "static_dims": list(static),
        "temporal_dims": list(temporal),
        "acc_static_task_from_static_dims": acc[static, "static"],
        "acc_temporal_task_from_static_dims": acc[static, "temporal"],
        "acc_static_task_from_temporal_dims": acc[temporal, "static"],
        "acc_temporal_task_from_temporal_dims": acc[temporal, "temporal"],
        "static_task_chance": static_task.chance,
        "temporal_task_chance": temporal_task.chance,
        "splits_evaluated": len(divisions),
        "splits_total": total,
        "variant": variant,
    }


def transfer_accuracy(static_task: Task, dims=None, variant: str = "linear") -> float:
    """Section 4.4: the static task's accuracy from features `dims` (None: all)."""
    dims = range(static_task.num_features) if dims is None else dims
    return static_task.accuracy(dims, variant)


# -- encodings ------------------------------------------------------------------------------------


@torch.no_grad()
def encode_frames(model, dataset, indices, batch_size: int = 50, device="cpu"):
    """(features (n, T, D), factors {name: (n,) or (n, T)}, static_dims) of clips `indices`.

    Paper 002's models give their posterior means per frame and their own `static_dims` (None
    without a split). Any other model: its content (per clip, repeated on every frame, or per
    frame) then its motion, concatenated; static_dims are the content's. Where a part covers
    fewer frames than the clip (SVG's z_t exists for frames 1..T-1), the features and per-frame
    labels are those of the last frames every part covers.
    """
    model.eval()
    features, factors = [], {}
    static_dims = getattr(model, "static_dims", None)
    indices = list(indices)
    for start in range(0, len(indices), batch_size):
        batch = dataset.batch(indices[start : start + batch_size])
        video = batch["video"].to(device)
        T = video.shape[1]
        if hasattr(model, "frame_features"):
            h = model.frame_features(video)
        else:
            latents = model.encode(video)
            parts = [p if p.dim() == 3 else p[:, None].expand(-1, T, -1)  # (B, T, D_part)
                     for p in (latents.content, latents.motion)]
            # per-frame latents of the last frames only (SVG's z_t: frames 1..T-1): keep the
            # frames every part has, the last ones, and the labels of those frames
            kept = min(p.shape[1] for p in parts)
            parts = [p[:, -kept:] for p in parts]
            static_dims = tuple(range(parts[0].shape[-1])) or None
            h = torch.cat(parts, -1)
        features.append(h.float().cpu())
        for name, labels in batch["factors"].items():
            if labels.dim() == 2:  # per frame: the frames the features describe
                labels = labels[:, -h.shape[1]:]
            factors.setdefault(name, []).append(labels)
    factors = {k: torch.cat(v).numpy() for k, v in factors.items()}
    return torch.cat(features).numpy(), factors, static_dims


def _per_frame(labels: np.ndarray, num_frames: int) -> np.ndarray:
    """(n,) per clip or (n, T) per frame -> (n * T,)."""
    if labels.ndim == 1:
        labels = np.repeat(labels[:, None], num_frames, 1)
    return labels.reshape(-1)


def bouncing_mnist_tasks(model, train_set, test_set, num_fit: int = 500, num_score: int = 500,
                         batch_size: int = 50, device="cpu") -> tuple[Task, Task]:
    """(static: digit class, temporal: 3x3 cell), per frame, fitted on `num_fit` training clips'
    frames and scored on `num_score` test clips' frames."""
    fit_h, fit_f, _ = encode_frames(model, train_set, range(min(num_fit, len(train_set))), batch_size, device)
    score_h, score_f, _ = encode_frames(model, test_set, range(min(num_score, len(test_set))), batch_size,
                                        device)
    T = fit_h.shape[1]
    fit_x, score_x = fit_h.reshape(-1, fit_h.shape[-1]), score_h.reshape(-1, score_h.shape[-1])

    def task(name, factor):
        fit_y, score_y = _per_frame(fit_f[factor], T), _per_frame(score_f[factor], score_h.shape[1])
        return Task(name, fit_x, fit_y, score_x, score_y)

    return task("digit class", "digit0"), task("3x3 cell", "cell")


def order_triplets(features: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """One triplet per clip for the temporal-order task: features (n, T, D) -> x (n, 3, D), y (n,).

    From a random 5-frame window s..s+4 take frames (s, s+2, s+4); reverse them with p = 0.5;
    then with p = 0.5 keep them (label 1: in order, forwards or backwards, as the paper's "1-2-3
    and 3-2-1 are true") or reorder them (label 0) into (first, third, second) or (second, first,
    third) with p = 0.5 each (the paper's "1-3-2 and 2-1-3 are false"). Why these: both
    positives and negatives hold the same three frames, so only their order tells them apart;
    after the random reversal the negatives cover all four non-monotone orders; the clips turn
    either way (reversed at random), so backwards is as much "in order" as forwards. Chance 0.5.
    """
    n, T, _ = features.shape
    if T < 5:
        raise ValueError(f"the order task needs clips of at least 5 frames, got {T}")
    rng = np.random.default_rng(seed)
    start = rng.integers(0, T - 4, size=n)  # (n,)
    frames = start[:, None] + np.array([0, 2, 4])  # (n, 3)
    frames = np.where(rng.random(n)[:, None] < 0.5, frames[:, ::-1], frames)
    label = (rng.random(n) < 0.5).astype(np.int64)  # 1: in order
    negative_order = np.where(rng.random(n)[:, None] < 0.5, [0, 2, 1], [1, 0, 2])  # (n, 3)
    order = np.where(label[:, None] == 1, [0, 1, 2], negative_order)
    frames = np.take_along_axis(frames, order, 1)
    return features[np.arange(n)[:, None], frames], label  # (n, 3, D), (n,)


def rotating_objects_tasks(model, train_set, test_set, num_fit: int = 500, num_score: int = 500,
                           batch_size: int = 50, device="cpu", seed: int = 0) -> tuple[Task, Task]:
    """(static: which held-out object, temporal: triplet order); see the module doc."""
    clips = range(min(2 * num_score, len(test_set)))
    test_h, test_f, _ = encode_frames(model, test_set, clips, batch_size, device)
    half = len(test_h) // 2
    T = test_h.shape[1]
    identity = _per_frame(test_f["identity"], T).reshape(len(test_h), T)
    static = Task(
        "object identity (held out)",
        test_h[:half].reshape(-1, test_h.shape[-1]), identity[:half].reshape(-1),
        test_h[half:].reshape(-1, test_h.shape[-1]), identity[half:].reshape(-1),
    )
    fit_h, _, _ = encode_frames(model, train_set, range(min(num_fit, len(train_set))), batch_size, device)
    fit_x, fit_y = order_triplets(fit_h, seed)
    score_x, score_y = order_triplets(test_h, seed + 1)
    return static, Task("temporal order of 3 frames", fit_x, fit_y, score_x, score_y)

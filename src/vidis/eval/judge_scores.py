"""Scoring with a trained judge (`vidis.eval.judge` trains, caches and loads it): its own accuracy
on real clips, its outputs on any clips, and the judge metrics of swaps and samples (accuracy per
factor against the content or motion source, the order-free content set, IS, H(y|x), H(y) and
judge-FD; see `judge.py`'s docstring for what each means and what judge-FD is not).
"""

from __future__ import annotations

from collections import Counter

import torch

from ..metrics.stats import conditional_entropy, frechet_distance, inception_score, marginal_entropy
from .judge_nets import Judge, exchangeable_groups

__all__ = [
    "NUM_TEST_CLIPS",
    "content_set_accuracy",
    "describe_judge",
    "judge_accuracy",
    "judge_info",
    "judge_outputs",
    "judge_swaps",
]

NUM_TEST_CLIPS = 1000  # real test clips a judge's own accuracy is measured on


@torch.no_grad()
def judge_accuracy(
    judge: Judge, dataset, num_clips: int = NUM_TEST_CLIPS, batch_size: int = 50, device="cpu"
) -> dict[str, float]:
    """Accuracy per factor (per-frame factors: over all frames) on the first `num_clips` clips,
    and, for exchangeable slots (digit0, digit1, ...): "content_set" (the clip's multiset of
    classes right), "content_all" (every slot right, in order) and "content_each" (the
    fraction of the clip's digits found in the predicted multiset: each digit read, whatever
    its order)."""
    judge.eval()
    n = min(num_clips, len(dataset))
    correct, total = Counter(), Counter()
    slots = _slot_groups(judge)
    for start in range(0, n, batch_size):
        batch = dataset.batch(range(start, min(n, start + batch_size)))
        predicted = {k: v.cpu() for k, v in judge.predict(batch["video"].to(device)).items()}
        labels = batch["factors"]
        for f in judge.factors:
            hit = predicted[f.name] == labels[f.name]
            correct[f.name] += int(hit.sum())
            total[f.name] += hit.numel()
        if slots:
            correct["content_set"] += int(_set_hits(predicted, labels, slots).sum())
            every = torch.stack([predicted[n] == labels[n] for g in slots for n in g], 1).all(1)
            correct["content_all"] += int(every.sum())
            found, total_slots = _found(predicted, labels, slots)
            correct["content_each"] += found
            total["content_each"] += total_slots
            total["content_set"] += len(every)
            total["content_all"] += len(every)
    return {name: correct[name] / total[name] for name in total}


def content_set_accuracy(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per clip: is the multiset of predicted digit classes the target's multiset?

    predicted, target: (N, K) classes of digit0..digit{K-1}. Digits are exchangeable (digit k
    is the k-th from the left in the first frame, and a swap puts A's digits on B's
    trajectories), so (3, 7) against (7, 3) is correct and (3, 3) against (3, 7) is not.
    Returns a bool tensor (N,).
    """
    return (predicted.sort(dim=1).values == target.sort(dim=1).values).all(dim=1)


def _slot_groups(judge) -> list[list[str]]:
    """Names of each group of exchangeable slots (e.g. [["digit0", "digit1"]])."""
    return [[f.name for f in group] for group in exchangeable_groups(judge.factors).values()]


def _set_hits(predicted: dict, labels: dict, groups: list[list[str]]) -> torch.Tensor:
    """(N,) bool: every group's predicted multiset of classes is the labels' multiset."""
    hits = [
        content_set_accuracy(
            torch.stack([predicted[n].cpu() for n in names], 1),  # (N, K)
            torch.stack([labels[n].cpu() for n in names], 1),  # (N, K)
        )
        for names in groups
    ]
    return torch.stack(hits, 1).all(1)


def _found(predicted: dict, labels: dict, groups: list[list[str]]) -> tuple[int, int]:
    """(slots whose class is in the predicted multiset, counted with multiplicity; all slots)."""
    found = total = 0
    for names in groups:
        classes = 1 + max(int(d[n].max()) for d in (predicted, labels) for n in names)
        counts = [
            sum(torch.nn.functional.one_hot(d[n].cpu(), classes) for n in names)  # (N, C)
            for d in (predicted, labels)
        ]
        found += int(torch.minimum(*counts).sum())  # size of the multisets' intersection
        total += len(names) * len(labels[names[0]])
    return found, total


def _accuracy(predicted: torch.Tensor, labels: torch.Tensor) -> float:
    return float((predicted.cpu() == labels.cpu()).float().mean())


def _group_accuracy(predicted: dict, labels: dict, names: list[str], groups: list[list[str]]) -> float:
    """Mean accuracy over `names`, each group of slots replaced by its set accuracy where all given."""
    slots = {n for g in groups for n in g}
    scores = [_accuracy(predicted[n], labels[n]) for n in names if n not in slots]
    for g in groups:
        if set(g) <= set(names):
            scores.append(float(_set_hits(predicted, labels, [g]).float().mean()))
    return sum(scores) / len(scores)


@torch.no_grad()
def judge_outputs(judge: Judge, videos: torch.Tensor, batch_size: int = 50, device=None):
    """(logits dict, predictions dict, features (N, F)) of the judge on `videos` (N, T, C, H, W)."""
    judge.eval()
    device = device or next(judge.parameters()).device
    logits, predictions, feats = {}, {}, []
    for start in range(0, len(videos), batch_size):
        video = videos[start : start + batch_size].to(device).float()
        batch_logits, batch_predictions, batch_feats = judge.evaluate(video)
        feats.append(batch_feats.cpu())
        for name, value in batch_logits.items():
            logits.setdefault(name, []).append(value.cpu())
            predictions.setdefault(name, []).append(batch_predictions[name].cpu())
    cat = lambda parts: {k: torch.cat(v) for k, v in parts.items()}  # noqa: E731
    return cat(logits), cat(predictions), torch.cat(feats)


def judge_info(judge: Judge) -> dict[str, float | str]:
    """Which judge scored (judge_file, judge_kind) and its own accuracy on real test clips
    (judge_test_acc_{factor}, judge_test_acc_content_set, ...; judge_test_clips), so every judged
    number can be printed beside them."""
    report = getattr(judge, "report", {}) or {}
    info: dict[str, float | str] = {
        "judge_file": str(judge.path) if getattr(judge, "path", None) else "(not cached)",
        "judge_kind": str(report.get("kind", "unknown")),
    }
    for name, value in report.get("factor_accuracy", {}).items():
        info[f"judge_test_acc_{name}"] = value
    if "num_test_clips" in report:
        info["judge_test_clips"] = report["num_test_clips"]
    return info


def judge_swaps(
    judge: Judge,
    swaps: torch.Tensor,
    content_factors: dict[str, torch.Tensor],
    motion_factors: dict[str, torch.Tensor],
    real_videos: torch.Tensor | None,
    batch_size: int = 50,
    with_judge_info: bool = True,
) -> dict[str, float | str]:
    """Judge metrics of `swaps` (N, T, C, H, W) = content of clips A with motion of clips B.

    content_factors: labels of A ({name: (N,) or (N, T)}), used for static factors;
    motion_factors: labels of B, used for dynamic factors. Returns acc_{factor}; acc_content_set
    (datasets with exchangeable slots digit0..digit{K-1}: the order-free multiset); content_accuracy
    (mean over static factors, the set accuracy standing in for the slots where defined);
    motion_accuracy (mean over dynamic factors); is_/h_y_given_x_/h_y_{static factor}; judge_fd
    against `real_videos` (N', ...), left out when `real_videos` is None; and, unless
    `with_judge_info=False`, `judge_info(judge)`: the judge's file, kind and own test accuracy.

    Where each source's dict holds the other group's labels too, the same scores against the
    *wrong* source say what leaked: content_from_motion_source (B's content recognised in the
    swap: the motion latent carried identity) and motion_from_content_source (A's motion
    recognised). A swap that copies B scores content_from_motion_source = 1.
    """
    logits, predicted, feats = judge_outputs(judge, swaps, batch_size)
    static = [f.name for f in judge.factors if f.kind == "static"]
    dynamic = [f.name for f in judge.factors if f.kind == "dynamic"]
    groups = _slot_groups(judge)
    out: dict[str, float | str] = {}
    for name in static:
        out[f"acc_{name}"] = _accuracy(predicted[name], content_factors[name])
    for name in dynamic:
        out[f"acc_{name}"] = _accuracy(predicted[name], motion_factors[name])
    if groups:
        out["acc_content_set"] = float(_set_hits(predicted, content_factors, groups).float().mean())
    if static:
        out["content_accuracy"] = _group_accuracy(predicted, content_factors, static, groups)
    if dynamic:
        out["motion_accuracy"] = _group_accuracy(predicted, motion_factors, dynamic, groups)
    if static and set(static) <= set(motion_factors):
        out["content_from_motion_source"] = _group_accuracy(predicted, motion_factors, static, groups)
    if dynamic and set(dynamic) <= set(content_factors):
        out["motion_from_content_source"] = _group_accuracy(predicted, content_factors, dynamic, groups)
    for f in judge.factors:
        if f.kind == "static":
            probs = logits[f.name].double().softmax(-1).flatten(0, -2)  # (N, K) (or (N*T, K))
            out[f"is_{f.name}"] = inception_score(probs)
            out[f"h_y_given_x_{f.name}"] = conditional_entropy(probs)
            out[f"h_y_{f.name}"] = marginal_entropy(probs)
    if real_videos is not None:
        _, _, real_feats = judge_outputs(judge, real_videos, batch_size)
        out["judge_fd"] = frechet_distance(feats, real_feats)
    if with_judge_info:
        out.update(judge_info(judge))
    return out


def describe_judge(judge: Judge) -> str:
    """One line: "judge: FILE (KIND, N steps), test accuracy digit0 0.98, ... on N real clips"."""
    report = getattr(judge, "report", {}) or {}
    accuracy = ", ".join(f"{k} {v:.3f}" for k, v in report.get("factor_accuracy", {}).items())
    count = lambda key: f"{report[key]:,}" if isinstance(report.get(key), int) else "?"  # noqa: E731
    return (
        f"judge: {judge.path or '(not cached)'} ({report.get('kind', 'unknown')}, {count('steps')} "
        f"steps); its accuracy on {count('num_test_clips')} real test clips: {accuracy or 'not measured'}"
    )

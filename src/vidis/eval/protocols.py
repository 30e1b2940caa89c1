"""Evaluation protocols: what `vidis eval RUN` can measure, and which of it applies to a run.

A protocol is a name, a test `applies(model, dataset) -> (bool, reason)` that reads only the
model's `capabilities` and the dataset's declared factors (never a model's name), and
`run(model, dataset, num_clips, batch_size, device, **context) -> {section: {metric: value}}`.
`vidis eval RUN` runs every protocol that applies and is not judged; `--judge` adds the judged
ones (they train and cache a judge on first use); `--protocol NAME` picks some.

Registered here:
- reconstruction -> section "test": MSE, PSNR, SSIM, temporal consistency (`reconstruction.py`).
- probes -> section "probes": a linear probe of every declared factor from each latent group
  (`probes.py`); see `probe_scores`.
- judge (judged) -> sections "judge" and "disentanglement": paper 000's Table 2 scores with the
  dataset's judge on swaps; needs factors digit0 and direction.
- gt_swaps -> section "gt_swaps": swaps scored against the ground-truth swap that a procedural
  dataset renders (`gt_swaps.py`); needs `dataset.can_render_swaps` and a model that can swap.
- prediction -> section "prediction": `prediction.py`, for models that can predict.

metrics.json holds one section per protocol output; `update_metrics` stamps each section with
the training step and the checkpoint ("last" or "best") it was measured at, and drops sections
that an earlier evaluation measured at another step or checkpoint and this one did not recompute,
so the file never presents old numbers beside new ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import CapabilityError, ConfigError

__all__ = [
    "PROTOCOLS",
    "Protocol",
    "collect_groups",
    "probe_scores",
    "select_protocols",
    "update_metrics",
]


@dataclass(frozen=True)
class Protocol:
    name: str
    applies: Callable  # (model, dataset) -> (bool, reason)
    run: Callable  # (model, dataset, num_clips, batch_size, device, **context) -> {section: dict}
    judged: bool = False  # needs a judge (run by --judge or by name)
    help: str = ""


PROTOCOLS: dict[str, Protocol] = {}


def register_protocol(name: str, applies: Callable, judged: bool = False, help: str = ""):
    def wrap(run):
        if name in PROTOCOLS:
            raise RuntimeError(f"protocol {name!r} registered twice")
        PROTOCOLS[name] = Protocol(name, applies, run, judged, help)
        return run

    return wrap


def select_protocols(model, dataset, names: list[str] | None = None, judge: bool = False):
    """(protocols to run, {name: reason} of those left out).

    names None: every protocol that applies, the judged ones only with `judge`. Named protocols
    must exist (ConfigError listing them) and apply (CapabilityError with the reason).
    """
    if names:
        unknown = [n for n in names if n not in PROTOCOLS]
        if unknown:
            raise ConfigError(
                f"unknown protocol {', '.join(map(repr, unknown))}; available: {', '.join(PROTOCOLS)}"
            )
        wanted = list(dict.fromkeys(names))
        if judge:
            wanted += [n for n, p in PROTOCOLS.items() if p.judged and n not in wanted]
        for name in wanted:
            ok, reason = PROTOCOLS[name].applies(model, dataset)
            if not ok:
                raise CapabilityError(f"protocol {name} does not apply to this run: {reason}")
        return [PROTOCOLS[n] for n in wanted], {}
    chosen, skipped = [], {}
    for name, protocol in PROTOCOLS.items():
        ok, reason = protocol.applies(model, dataset)
        if not ok:
            skipped[name] = reason
        elif protocol.judged and not judge:
            skipped[name] = "judged: add --judge"
        else:
            chosen.append(protocol)
    return chosen, skipped


def update_metrics(path, sections: dict[str, dict], step: int, checkpoint: str, **top):
    """Merge freshly measured `sections` into metrics.json at `path` and write it.

    Every section gets "step" and "checkpoint". An older section is kept only if it was measured
    at the same step and checkpoint; others are dropped. `top` (e.g. parameters) goes to the top
    level beside "step" and "checkpoint". Returns (the metrics written, names of dropped sections).
    """
    path = Path(path)
    try:
        old = json.loads(path.read_text()) if path.exists() else {}
    except (ValueError, UnicodeDecodeError):
        old = {}  # a damaged metrics.json is rewritten from this evaluation alone
    old = old if isinstance(old, dict) else {}
    metrics: dict = {}
    dropped = []
    for name, values in old.items():
        if not isinstance(values, dict) or name in sections:
            continue
        if values.get("step") == step and values.get("checkpoint") == checkpoint:
            metrics[name] = values
        else:
            dropped.append(name)
    for name, values in sections.items():
        metrics[name] = {**values, "step": step, "checkpoint": checkpoint}
    metrics.update(top, step=step, checkpoint=checkpoint)
    path.write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics, dropped


def _has(capability: str):
    def applies(model, dataset):
        if capability in getattr(model, "capabilities", ()):
            return True, ""
        return False, f"{model.name} cannot {capability}"

    return applies


# -- reconstruction ------------------------------------------------------------------------------


@register_protocol("reconstruction", _has("reconstruct"), help="MSE, PSNR, SSIM of reconstructions")
def run_reconstruction(model, dataset, num_clips, batch_size, device, progress=True, **_):
    from .reconstruction import evaluate_reconstruction  # noqa: PLC0415

    return {"test": evaluate_reconstruction(model, dataset, num_clips, batch_size, device, progress)}


# -- probes --------------------------------------------------------------------------------------

DEFAULT_GROUPS = {"content": ("content",), "motion": ("motion",)}


@torch.no_grad()
def collect_groups(model, dataset, num_clips: int, batch_size: int, device="cpu"):
    """Encode the first `num_clips` clips: ({group: (N, D) flattened parts}, {factor: (N,) or (N, T)}).

    A group's parts (model.latent_groups, default content and motion) are each flattened per clip
    ((N, T, D) -> (N, T*D)) and concatenated.
    """
    groups_of = getattr(model, "latent_groups", None) or DEFAULT_GROUPS
    model.eval()
    n = min(num_clips, len(dataset))
    groups: dict[str, list[torch.Tensor]] = {g: [] for g in groups_of}
    factors: dict[str, list[torch.Tensor]] = {}
    for start in range(0, n, batch_size):
        batch = dataset.batch(range(start, min(n, start + batch_size)))
        latents = model.encode(batch["video"].to(device))
        for group, parts in groups_of.items():
            flat = [latents.part(p).float().flatten(1).cpu() for p in parts]  # (B, D_p)
            groups[group].append(torch.cat(flat, 1))
        for name, labels in batch["factors"].items():
            factors.setdefault(name, []).append(labels)
    return {g: torch.cat(v) for g, v in groups.items()}, {k: torch.cat(v) for k, v in factors.items()}


def _probes_apply(model, dataset):
    if not getattr(dataset, "factors", None):
        return False, f"{dataset.name} declares no factors"
    return True, ""


@register_protocol("probes", _probes_apply, help="linear probes of every factor from each latent group")
def probe_scores(model, dataset, num_clips, batch_size, device, seed: int = 0, **_) -> dict:
    """Held-out accuracy of a linear probe (`probe_accuracy`) of every declared factor from every
    latent group, with the majority-class rate beside it.

    Keys: {factor}_from_{group}, {factor}_chance and, where the model has content and motion
    groups, {factor}_separation = acc(own group) - acc(other group), own = content for a static
    factor and motion for a dynamic one: paper 000's prediction disentanglement (section 4.3) per
    factor. A per-frame factor is probed at the first frame's label. A factor whose probe cannot
    be fitted (too few clips or a single class) gets null.
    """
    from .probes import chance_accuracy, probe_accuracy  # noqa: PLC0415

    groups, factors = collect_groups(model, dataset, num_clips, batch_size, device)
    out: dict[str, float | None] = {"num_clips": len(next(iter(groups.values())))}
    for factor in dataset.factors:
        labels = factors[factor.name]
        labels = labels[:, 0] if labels.dim() == 2 else labels  # per-frame: the first frame's label
        accuracy = {}
        for group, latent in groups.items():
            try:
                accuracy[group] = probe_accuracy(latent, labels, seed=seed)
            except ValueError:
                accuracy[group] = None
            out[f"{factor.name}_from_{group}"] = accuracy[group]
        out[f"{factor.name}_chance"] = chance_accuracy(labels)
        own, other = ("content", "motion") if factor.kind == "static" else ("motion", "content")
        if accuracy.get(own) is not None and accuracy.get(other) is not None:
            out[f"{factor.name}_separation"] = accuracy[own] - accuracy[other]
    return {"probes": out}


# -- judged swaps (paper 000's scores) ------------------------------------------------------------

JUDGE_FACTORS = {"digit0", "direction"}


def _judge_applies(model, dataset):
    if not {"content", "motion"} <= set(getattr(model, "latent_groups", ("content", "motion"))):
        return False, f"{model.name} has no content/motion split"
    names = {f.name for f in getattr(dataset, "factors", [])}
    if not JUDGE_FACTORS <= names:
        return False, f"needs factors digit0 and direction; {dataset.name} has {sorted(names) or 'none'}"
    return True, ""


@register_protocol("judge", _judge_applies, judged=True, help="probes and judged swaps (paper 000)")
def run_judge(
    model,
    dataset,
    num_clips,
    batch_size,
    device,
    data_name=None,
    data_options=None,
    progress=True,
    judge_steps=None,
    quick_judge=False,
    **_,
):
    from .disentanglement import paper000_scores  # noqa: PLC0415
    from .judge import get_or_train_judge  # noqa: PLC0415
    from .judge_scores import describe_judge  # noqa: PLC0415

    if min(num_clips, len(dataset)) < 2:
        raise ConfigError("the judge protocol needs at least 2 clips (--num-clips 2 or more)")
    settings = {"steps": judge_steps} if judge_steps else {}
    judge = get_or_train_judge(
        data_name or dataset.name,
        data_options or {},
        device=device,
        progress=progress,
        quick=quick_judge,
        **settings,
    )
    print(describe_judge(judge))
    scores = paper000_scores(model, dataset, num_clips, batch_size, device=device, judge=judge)
    return {
        "judge": {k.removeprefix("judge_"): v for k, v in scores.items() if k.startswith("judge_")},
        "disentanglement": {k: v for k, v in scores.items() if not k.startswith("judge_")},
    }


# -- ground-truth swaps ---------------------------------------------------------------------------


def _gt_swaps_applies(model, dataset):
    if not getattr(dataset, "can_render_swaps", False):
        return False, f"{dataset.name} cannot render ground-truth swaps"
    if "swap" not in getattr(model, "capabilities", ()):
        return False, f"{model.name} cannot swap"
    try:
        from .gt_swaps import ground_truth_swap_scores  # noqa: F401, PLC0415
    except ImportError as err:
        return False, f"unavailable in this install ({err})"
    return True, ""


@register_protocol("gt_swaps", _gt_swaps_applies, help="swaps against the dataset's true swap")
def run_gt_swaps(model, dataset, num_clips, batch_size, device, **_):
    from .gt_swaps import ground_truth_swap_scores  # noqa: PLC0415

    return {"gt_swaps": ground_truth_swap_scores(model, dataset, num_clips, batch_size, device)}


# -- prediction -----------------------------------------------------------------------------------


def _context_frames(model) -> int | None:
    """How many observed frames a prediction model conditions on (its config's `context_frames`)."""
    return getattr(model, "context_frames", None) or getattr(model.config, "context_frames", None)


def _prediction_applies(model, dataset):
    ok, reason = _has("predict")(model, dataset)
    if not ok:
        return ok, reason
    if _context_frames(model) is None:
        return False, f"{model.name} declares no context_frames"
    try:
        from .prediction import evaluate_prediction  # noqa: F401, PLC0415
    except ImportError as err:
        return False, f"unavailable in this install ({err})"
    return True, ""


@register_protocol("prediction", _prediction_applies, help="future frames from a context")
def run_prediction(model, dataset, num_clips, batch_size, device, **context):
    """Past the training clips where the model declares an `eval_horizon` (eval/prediction.py)."""
    from .prediction import run_prediction_protocol  # noqa: PLC0415

    return run_prediction_protocol(model, dataset, num_clips, batch_size, device, **context)

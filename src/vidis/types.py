"""The shared vocabulary of vidis: latents, model outputs, training stages and dataset factors.

A video is a float32 tensor (B, T, C, H, W) with values in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import torch


@dataclass
class Latents:
    """What a model's encoder returns.

    content: (B, Dc) per clip, or (B, T, Dc) where the model has per-frame static variables.
    motion:  (B, Dm) per clip, or (B, T, Dm) per frame.
    extra:   model-specific parts (e.g. VDSM's dynamics), each with batch first.
    """

    content: torch.Tensor
    motion: torch.Tensor
    extra: dict[str, torch.Tensor] = field(default_factory=dict)

    def part(self, name: str) -> torch.Tensor:
        """The part called `name`: "content", "motion" or a key of `extra`."""
        if name in ("content", "motion"):
            return getattr(self, name)
        if name not in self.extra:
            raise ValueError(f"latents have no part {name!r}; they have: {', '.join(self.part_names())}")
        return self.extra[name]

    def part_names(self) -> list[str]:
        return ["content", "motion", *self.extra]

    def replace(self, parts: dict[str, torch.Tensor]) -> Latents:
        """A copy with the named parts replaced (names as in `part`)."""
        for name in parts:
            self.part(name)  # raises on an unknown part
        extra = {k: parts.get(k, v) for k, v in self.extra.items()}
        return Latents(parts.get("content", self.content), parts.get("motion", self.motion), extra)

    def map(self, fn) -> Latents:
        """Apply `fn` to every tensor (e.g. `.detach()`, indexing a batch)."""
        return Latents(fn(self.content), fn(self.motion), {k: fn(v) for k, v in self.extra.items()})

    @staticmethod
    def cat(parts: list[Latents]) -> Latents:
        """Concatenate along the batch dimension."""
        return Latents(
            torch.cat([p.content for p in parts]),
            torch.cat([p.motion for p in parts]),
            {k: torch.cat([p.extra[k] for p in parts]) for k in parts[0].extra},
        )


@dataclass
class ModelOutput:
    """What `loss` returns: the scalar to minimise and named terms to log (all detached floats)."""

    loss: torch.Tensor
    terms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Stage:
    """One stage of a model's training (e.g. VDSM: pre-train, then train with parts frozen).

    name:       shown in log.csv (as the stage's index), the progress bar and checkpoints.
    steps:      how many steps it lasts; None is allowed for the last stage only. The run's
                length stays train.steps: a stage that would end after it is cut, and the
                last stage runs until train.steps whatever its `steps`.
    batch_size: its batch size; None uses train.batch_size.
    data:       dataset option overrides for this stage's train and val clips (its "data view"),
                e.g. {"num_frames": 8}.
    optimizers: the names (from `configure_optimizers`) given to `train_step`; None: all.
    trainable:  module names (as in `named_modules`, e.g. "encoder" or "decoder.lstm") whose
                parameters train; every other parameter is frozen (requires_grad False, left
                out of the optimisers) and every module outside them stays in eval mode (its
                BatchNorm statistics do not change). None: everything trains.
    """

    name: str
    steps: int | None = None
    batch_size: int | None = None
    data: dict = field(default_factory=dict)
    optimizers: tuple[str, ...] | None = None
    trainable: tuple[str, ...] | None = None

    def __post_init__(self):
        if self.steps is not None and self.steps < 1:
            raise ValueError(f"stage {self.name!r}: steps must be >= 1 or None, got {self.steps}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError(f"stage {self.name!r}: batch_size must be >= 1, got {self.batch_size}")

    @property
    def clips_per_item(self) -> int:
        """Clips in one item of this stage's data view (`clips_per_identity` groups several clips of
        one identity into one item, e.g. VDSM's stage 1); a budget counted in clips uses it."""
        return int(self.data.get("clips_per_identity", 1))


@dataclass(frozen=True)
class Factor:
    """A ground-truth factor a dataset declares, so probes and judges can work from it alone.

    kind: "static" (constant over the clip: identity, appearance) or "dynamic" (motion).
    per_frame: True when the label is a (T,) sequence (e.g. a position bucket per frame),
        False when it is one label per clip.
    """

    name: str
    kind: Literal["static", "dynamic"]
    num_classes: int
    per_frame: bool = False

    def __post_init__(self):
        if self.kind not in ("static", "dynamic"):
            raise ValueError(f"Factor.kind must be 'static' or 'dynamic', got {self.kind!r}")

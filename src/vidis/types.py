"""The shared vocabulary of vidis: latents, model outputs and dataset factors.

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

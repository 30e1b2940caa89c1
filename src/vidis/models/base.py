"""The model protocol every vidis model follows (see shared/DESIGN.md).

A model implements `encode`, `decode` and `loss`; the base class derives `reconstruct`,
`swap`, `interpolate` and `generate` from them, and a default single-optimiser
`train_step`. Models with several optimisers or stages override `configure_optimizers` and
`train_step`, so the trainer never branches on a model's name.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import ClassVar

import torch
from torch import nn

from ..config import TrainConfig
from ..errors import CapabilityError, ConfigError
from ..types import Latents, ModelOutput

CAPABILITIES = ("reconstruct", "swap", "interpolate", "generate", "predict")
PRESETS = ("smoke", "small", "paper", "paper-code")


def check_video(video: torch.Tensor, channels: int | None = None, size: int | None = None):
    """Raise a clear error unless `video` is (B, T, C, H, W) with the expected C and H = W."""
    if not isinstance(video, torch.Tensor) or video.dim() != 5:
        shape = tuple(video.shape) if isinstance(video, torch.Tensor) else type(video).__name__
        raise ValueError(f"expected video of shape (B, T, C, H, W) with values in [0, 1], got {shape}")
    if channels is not None and video.shape[2] != channels:
        raise ValueError(f"expected {channels} channel(s), got video of shape {tuple(video.shape)}")
    if size is not None and video.shape[-2:] != (size, size):
        raise ValueError(f"expected {size}x{size} frames, got video of shape {tuple(video.shape)}")


class VideoModel(nn.Module):
    """Base class of every vidis model.

    Subclasses set `Config` (a dataclass), `capabilities`, `presets` (preset name ->
    {"model": {...}, "data": {...}, "train": {...}} overrides) and `default_data`.
    `video_shape` is the dataset's (T, C, H, W).
    """

    name: ClassVar[str]
    Config: ClassVar[type]
    capabilities: ClassVar[frozenset[str]] = frozenset({"reconstruct", "swap", "interpolate"})
    presets: ClassVar[dict[str, dict[str, dict]]] = {}
    default_data: ClassVar[str] = "moving_mnist"

    def __init__(self, config, video_shape: tuple[int, int, int, int]):
        super().__init__()
        self.config = config
        self.video_shape = tuple(video_shape)

    # -- what each model implements ---------------------------------------------------------
    def encode(self, video: torch.Tensor) -> Latents:
        """video (B, T, C, H, W) -> Latents (posterior means in eval mode)."""
        raise NotImplementedError

    def decode(self, latents: Latents, num_frames: int) -> torch.Tensor:
        """Latents -> video (B, num_frames, C, H, W) with values in [0, 1]."""
        raise NotImplementedError

    def loss(self, batch: dict, step: int) -> ModelOutput:
        raise NotImplementedError

    # -- training ---------------------------------------------------------------------------
    @classmethod
    def preset(cls, name: str) -> dict[str, dict]:
        if name not in cls.presets:
            raise ConfigError(f"{cls.name} has no preset {name!r}; it has: {', '.join(cls.presets)}")
        return cls.presets[name]

    def configure_optimizers(self, train: TrainConfig) -> dict[str, torch.optim.Optimizer]:
        """One Adam over all parameters; override for several optimisers."""
        adam = torch.optim.Adam(
            self.parameters(),
            lr=train.lr,
            betas=(train.adam_beta1, train.adam_beta2),
            weight_decay=train.weight_decay,
        )
        return {"main": adam}

    def autocast(self, train: TrainConfig, device: torch.device):
        if train.amp == "bf16":
            return torch.autocast(device.type, dtype=torch.bfloat16)
        return nullcontext()

    def train_step(self, batch: dict, step: int, optimizers: dict, train: TrainConfig) -> dict:
        """One optimisation step. Returns detached scalar tensors (no host sync here)."""
        optimizer = optimizers["main"]
        optimizer.zero_grad(set_to_none=True)
        with self.autocast(train, batch["video"].device):
            out = self.loss(batch, step)
        out.loss.backward()
        if train.grad_clip > 0:
            out.terms["grad_norm"] = nn.utils.clip_grad_norm_(self.parameters(), train.grad_clip)
        optimizer.step()
        return {"loss": out.loss.detach(), **out.terms}

    # -- what the protocol derives ----------------------------------------------------------
    def require(self, capability: str):
        if capability not in self.capabilities:
            raise CapabilityError(
                f"{self.name} cannot {capability}; it can: {', '.join(sorted(self.capabilities))}"
            )

    def check(self, video: torch.Tensor):
        check_video(video, self.video_shape[1], self.video_shape[2])

    @torch.no_grad()
    def reconstruct(self, video: torch.Tensor) -> torch.Tensor:
        self.require("reconstruct")
        self.check(video)
        return self.decode(self.encode(video), video.shape[1])

    def combine(self, content_from: Latents, motion_from: Latents) -> Latents:
        """Content (and what the model counts as content) of one clip, the rest of another."""
        return Latents(content_from.content, motion_from.motion, dict(motion_from.extra))

    @torch.no_grad()
    def swap(self, video_a: torch.Tensor, video_b: torch.Tensor) -> torch.Tensor:
        """Decode the content of `video_a` with the motion of `video_b`: (B, T_b, C, H, W)."""
        self.require("swap")
        self.check(video_a)
        self.check(video_b)
        if video_a.shape[0] != video_b.shape[0]:
            raise ValueError(f"swap needs equal batch sizes, got {video_a.shape[0]} and {video_b.shape[0]}")
        latents = self.combine(self.encode(video_a), self.encode(video_b))
        return self.decode(latents, video_b.shape[1])

    @torch.no_grad()
    def interpolate(
        self, video_a: torch.Tensor, video_b: torch.Tensor, factor: str = "content", steps: int = 7
    ) -> torch.Tensor:
        """Move one factor linearly from clip A's to clip B's, keeping the other at A's.

        Returns (steps, B, T, C, H, W); step 0 is A's reconstruction.
        """
        self.require("interpolate")
        if factor not in ("content", "motion"):
            raise ValueError(f"factor must be 'content' or 'motion', got {factor!r}")
        self.check(video_a)
        self.check(video_b)
        la, lb = self.encode(video_a), self.encode(video_b)
        frames = []
        for alpha in torch.linspace(0, 1, steps).tolist():

            if factor == "content":
                lat = Latents(torch.lerp(la.content, lb.content, alpha), la.motion, dict(la.extra))
            else:
                extra = {k: torch.lerp(v, lb.extra[k], alpha) for k, v in la.extra.items()}
                lat = Latents(la.content, torch.lerp(la.motion, lb.motion, alpha), extra)
            frames.append(self.decode(lat, video_a.shape[1]))
        return torch.stack(frames)

    def sample_latents(self, n: int, num_frames: int) -> Latents:
        raise CapabilityError(f"{self.name} has no prior to sample from")

    @torch.no_grad()
    def generate(self, n: int, num_frames: int | None = None) -> torch.Tensor:
        self.require("generate")
        num_frames = num_frames or self.video_shape[0]
        return self.decode(self.sample_latents(n, num_frames), num_frames)

    def predict(self, context: torch.Tensor, horizon: int, num_samples: int = 1) -> torch.Tensor:
        """context (B, Tc, C, H, W) -> (num_samples, B, horizon, C, H, W)."""
        raise CapabilityError(f"{self.name} is not a prediction model")

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

"""The model protocol every vidis model follows (see shared/DESIGN.md).

A model implements `encode`, `decode` and `loss`; the base class derives `reconstruct`,
`swap`, `interpolate` and `generate` from them, a default single-optimiser `train_step` and a
default `validation_step`. What a model may declare or override, so that the trainer never
branches on a model's name:

- `latent_groups`: which latent parts ("content", "motion", keys of `Latents.extra`) form
  each group. `combine` (swaps) takes every part of the "content" group from clip A and
  every other part from clip B; `interpolate(factor=GROUP)` moves one group with `mix`
  (default: a linear blend of each part; override it where blending means nothing, e.g. a
  mixture-of-experts weight vector).
- `configure_optimizers(train)`: named optimisers (`torch.optim.Optimizer` or
  `vidis.train.optim.Optim` with its scheduler); the default is one Adam named "main" over
  the trainable parameters, with `train.lr_schedule`'s scheduler. A model with several
  optimisers owns its `train_step` and calls `vidis.train.optim.optimizer_step` per optimiser.
- `stages(train)`: a list of `vidis.types.Stage` (steps, batch size, data view, optimisers,
  trainable modules); empty (the default) trains in one piece. The trainer applies a stage
  with `apply_stage`, which freezes the other modules; `train()` keeps frozen modules in
  eval mode, so their BatchNorm statistics never move.
- `validation_step(batch, step)`: scalar tensors averaged over the validation clips; the
  default gives the loss terms and the reconstruction MSE. `validation_metric` names the
  value that `train.keep_best` minimises.
- `posterior(video)`: the parameters of q(z | video) (model-specific structure; `encode`
  returns their means), where the model has one.
- `sample_predictions(context, horizon, num_samples, generator)`: a prediction model's
  samples; `predict` and `predict_chunks` (samples drawn chunk by chunk, for best-of-N without
  all N in memory, see `vidis.eval.prediction`) are derived from it.
- `presets`: any names; the four scales are `PRESETS`, and `preset_names()` lists every name
  a registered model declares.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext
from typing import ClassVar

import torch
from torch import nn

from ..config import TrainConfig
from ..errors import CapabilityError, ConfigError
from ..types import Latents, ModelOutput, Stage

CAPABILITIES = ("reconstruct", "swap", "interpolate", "generate", "predict")
PRESETS = ("smoke", "small", "paper", "paper-code")  # the four scales every model declares


def preset_names() -> list[str]:
    """Every preset name a registered model declares: the four scales first, then the rest sorted."""
    from ..registry import MODELS, _load_all  # noqa: PLC0415  (registry imports the models)

    _load_all()
    declared = {name for cls in MODELS.values() for name in cls.presets}
    return [*PRESETS, *sorted(declared - set(PRESETS))]


def check_video(
    video: torch.Tensor, channels: int | None = None, size: int | tuple[int, int] | None = None
):
    """Raise a clear error unless `video` is (B, T, C, H, W) with the expected C and (H, W).

    size: H = W = size (an int) or (H, W) for non-square frames.
    """
    if not isinstance(video, torch.Tensor) or video.dim() != 5:
        shape = tuple(video.shape) if isinstance(video, torch.Tensor) else type(video).__name__
        raise ValueError(f"expected video of shape (B, T, C, H, W) with values in [0, 1], got {shape}")
    if channels is not None and video.shape[2] != channels:
        raise ValueError(f"expected {channels} channel(s), got video of shape {tuple(video.shape)}")
    if size is not None:
        height, width = (size, size) if isinstance(size, int) else tuple(size)
        if tuple(video.shape[-2:]) != (height, width):
            raise ValueError(f"expected {height}x{width} frames, got video of shape {tuple(video.shape)}")


def _inside(name: str, prefix: str) -> bool:
    """Is module/parameter `name` the module `prefix` or inside it?"""
    return prefix == "" or name == prefix or name.startswith(prefix + ".")


class VideoModel(nn.Module):
    """Base class of every vidis model.

    Subclasses set `Config` (a dataclass), `capabilities`, `presets` (preset name ->
    {"model": {...}, "data": {...}, "train": {...}} overrides), `default_data` and, where
    the latents have more than content and motion, `latent_groups`. `video_shape` is the
    dataset's (T, C, H, W).
    """

    name: ClassVar[str]
    Config: ClassVar[type]
    capabilities: ClassVar[frozenset[str]] = frozenset({"reconstruct", "swap", "interpolate"})
    presets: ClassVar[dict[str, dict[str, dict]]] = {}
    default_data: ClassVar[str] = "moving_mnist"
    # group name -> latent parts ("content", "motion" or keys of Latents.extra)
    latent_groups: ClassVar[dict[str, tuple[str, ...]]] = {"content": ("content",), "motion": ("motion",)}
    validation_metric: ClassVar[str] = "loss"  # the validation value train.keep_best minimises

    def __init__(self, config, video_shape: tuple[int, int, int, int]):
        super().__init__()
        self.config = config
        self.video_shape = tuple(video_shape)
        self.frozen_modules: tuple[str, ...] = ()  # set by apply_stage; kept in eval mode
        self._stage_frozen: set[str] = set()  # parameter names apply_stage froze
        self.stage: Stage | None = None

    # -- what each model implements ---------------------------------------------------------
    def encode(self, video: torch.Tensor) -> Latents:
        """video (B, T, C, H, W) -> Latents (posterior means in eval mode)."""
        raise NotImplementedError

    def decode(self, latents: Latents, num_frames: int) -> torch.Tensor:
        """Latents -> video (B, num_frames, C, H, W) with values in [0, 1]."""
        raise NotImplementedError

    def loss(self, batch: dict, step: int) -> ModelOutput:
        raise NotImplementedError

    def posterior(self, video: torch.Tensor):
        """video (B, T, C, H, W) -> the parameters of q(z | video) (e.g. means and log-variances).

        The structure is the model's own (its docstring says it); `encode` returns the means.
        """
        raise CapabilityError(f"{self.name} has no posterior distribution to return")

    # -- training ---------------------------------------------------------------------------
    @classmethod
    def preset(cls, name: str) -> dict[str, dict]:
        if name not in cls.presets:
            raise ConfigError(f"{cls.name} has no preset {name!r}; it has: {', '.join(cls.presets)}")
        return cls.presets[name]

    def stages(self, train: TrainConfig) -> list[Stage]:
        """The model's training stages, in order; [] trains in one piece (the default)."""
        return []

    def scaled_stages(self, factor: float) -> dict:
        """Model config overrides that make every stage (and the schedules that span it) `factor`
        times as long, so that a shorter budget keeps the stages' shares (the leaderboard's
        budget rule); {} where the stage lengths live elsewhere or there are none (the default)."""
        return {}

    def configure_optimizers(self, train: TrainConfig) -> dict:
        """One Adam over the trainable parameters, with train.lr_schedule's scheduler.

        Returns {name: torch.optim.Optimizer | vidis.train.optim.Optim}. Override for several
        optimisers; give them only parameters with requires_grad (frozen ones are refused).
        """
        from ..train.optim import Optim, make_scheduler  # noqa: PLC0415

        adam = torch.optim.Adam(
            [p for p in self.parameters() if p.requires_grad],
            lr=train.lr,
            betas=(train.adam_beta1, train.adam_beta2),
            weight_decay=train.weight_decay,
        )
        return {"main": Optim(adam, make_scheduler(adam, train))}

    def autocast(self, train: TrainConfig, device: torch.device):
        if train.amp == "bf16":
            return torch.autocast(device.type, dtype=torch.bfloat16)
        return nullcontext()

    def train_step(self, batch: dict, step: int, optimizers: dict, train: TrainConfig) -> dict:
        """One optimisation step. Returns detached scalar tensors (no host sync here).

        `optimizers` maps names to `vidis.train.optim.Optim` (the current stage's only).
        """
        from ..train.optim import optimizer_step  # noqa: PLC0415

        with self.autocast(train, batch["video"].device):
            out = self.loss(batch, step)
        grad_norm = optimizer_step(self, optimizers["main"], out.loss, train)
        terms = {"loss": out.loss.detach(), **out.terms}
        if grad_norm is not None:
            terms["grad_norm"] = grad_norm
        return terms

    @torch.no_grad()
    def validation_step(self, batch: dict, step: int) -> dict[str, torch.Tensor]:
        """Scalar tensors for one validation batch (the trainer averages them over clips).

        Default: the loss and its terms, and the reconstruction MSE where the model can
        reconstruct. A GAN (no single loss) or a prediction model (scored through `predict`)
        overrides it; keep `validation_metric` among the keys when train.keep_best is used.
        """
        from ..metrics import mse  # noqa: PLC0415

        out = self.loss(batch, step)
        terms = {"loss": out.loss, **out.terms}
        if "reconstruct" in self.capabilities:
            terms["mse"] = mse(self.reconstruct(batch["video"]), batch["video"]).mean()
        return terms

    def apply_stage(self, stage: Stage | None):
        """Freeze every parameter outside `stage.trainable` and keep those modules in eval mode.

        None (or a stage with trainable=None) undoes what an earlier stage froze. Parameters
        the model itself created with requires_grad=False stay frozen in every stage.
        """
        self.stage = stage
        for name, param in self.named_parameters():  # undo the previous stage
            if name in self._stage_frozen:
                param.requires_grad_(True)
        self._stage_frozen = set()
        self.frozen_modules = ()
        trainable = None if stage is None else stage.trainable
        if trainable is not None:
            modules = dict(self.named_modules())
            unknown = [name for name in trainable if name not in modules or name == ""]
            if unknown:
                raise ConfigError(
                    f"{self.name}: stage {stage.name!r} names unknown modules {unknown}; "
                    f"top-level modules: {', '.join(n for n, _ in self.named_children())}"
                )
            for name, param in self.named_parameters():
                if param.requires_grad and not any(_inside(name, t) for t in trainable):
                    param.requires_grad_(False)
                    self._stage_frozen.add(name)
            # modules neither inside a trainable one nor holding one: frozen, eval mode
            self.frozen_modules = tuple(
                name
                for name in modules
                if name and not any(_inside(name, t) or _inside(t, name) for t in trainable)
            )
        self.train(self.training)

    def train(self, mode: bool = True):
        """nn.Module.train, then frozen modules (see `apply_stage`) back to eval mode."""
        super().train(mode)
        for name in getattr(self, "frozen_modules", ()):
            self.get_submodule(name).eval()
        return self

    def num_parameters(self, trainable_only: bool = False) -> int:
        """All parameters, or only those that train (requires_grad) in the current stage."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    # -- what the protocol derives ----------------------------------------------------------
    def require(self, capability: str):
        if capability not in self.capabilities:
            raise CapabilityError(
                f"{self.name} cannot {capability}; it can: {', '.join(sorted(self.capabilities))}"
            )

    def require_square_frames(self):
        """For models whose networks assume H == W: a ConfigError naming the model otherwise."""
        _, _, H, W = self.video_shape
        if H != W:
            raise ConfigError(f"{self.name} needs square frames, got {H}x{W}")

    def check(self, video: torch.Tensor):
        check_video(video, self.video_shape[1], self.video_shape[2:])

    @torch.no_grad()
    def reconstruct(self, video: torch.Tensor) -> torch.Tensor:
        self.require("reconstruct")
        self.check(video)
        return self.decode(self.encode(video), video.shape[1])

    def group(self, name: str) -> tuple[str, ...]:
        """The latent parts of group `name` (see `latent_groups`)."""
        if name not in self.latent_groups:
            raise ValueError(
                f"factor must be one of {', '.join(map(repr, self.latent_groups))} "
                f"(the latent groups of {self.name}), got {name!r}"
            )
        return self.latent_groups[name]

    def combine(self, content_from: Latents, motion_from: Latents) -> Latents:
        """Every part of the "content" group from one clip, every other part from the other."""
        parts = {name: content_from.part(name) for name in self.group("content")}
        return motion_from.replace(parts)

    def mix(self, latent_a: Latents, latent_b: Latents, group: str, alpha: float) -> Latents:
        """Latent A with the parts of `group` moved a fraction `alpha` of the way to B's.

        Default: a linear blend of each part. Override where a linear blend means nothing.
        """
        parts = {
            name: torch.lerp(latent_a.part(name), latent_b.part(name), alpha) for name in self.group(group)
        }
        return latent_a.replace(parts)

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
        """Move one latent group (`factor`, a key of `latent_groups`) from clip A's to clip B's.

        Every other part stays A's. Returns (steps, B, T, C, H, W); step 0 is A's reconstruction.
        """
        self.require("interpolate")
        self.group(factor)
        if steps < 1:
            raise ValueError(f"interpolate needs steps >= 1, got {steps}")
        self.check(video_a)
        self.check(video_b)
        latent_a, latent_b = self.encode(video_a), self.encode(video_b)
        frames = []
        for alpha in torch.linspace(0, 1, steps).tolist():
            frames.append(self.decode(self.mix(latent_a, latent_b, factor, alpha), video_a.shape[1]))
        return torch.stack(frames)

    def sample_latents(self, n: int, num_frames: int) -> Latents:
        raise CapabilityError(f"{self.name} has no prior to sample from")

    @torch.no_grad()
    def generate(self, n: int, num_frames: int | None = None) -> torch.Tensor:
        self.require("generate")
        num_frames = num_frames or self.video_shape[0]
        return self.decode(self.sample_latents(n, num_frames), num_frames)

    # -- prediction -------------------------------------------------------------------------
    def sample_predictions(
        self, context: torch.Tensor, horizon: int, num_samples: int, generator: torch.Generator | None
    ) -> torch.Tensor:
        """What a prediction model implements: context (B, Tc, C, H, W) -> (num_samples, B,
        horizon, C, H, W), every random number drawn from `generator` when one is given."""
        raise CapabilityError(f"{self.name} is not a prediction model")

    def _check_prediction(self, context: torch.Tensor, horizon: int, num_samples: int):
        if "predict" not in self.capabilities:
            raise CapabilityError(
                f"{self.name} is not a prediction model; it can: {', '.join(sorted(self.capabilities))}"
            )
        self.check(context)
        if horizon < 1 or num_samples < 1:
            raise ValueError(f"predict needs horizon >= 1 and num_samples >= 1, got {horizon}, {num_samples}")

    @torch.no_grad()
    def predict_chunks(
        self,
        context: torch.Tensor,
        horizon: int,
        num_samples: int = 1,
        chunk_size: int | None = None,
        generator: torch.Generator | None = None,
    ) -> Iterator[torch.Tensor]:
        """Yield the `num_samples` futures of each clip in chunks of at most `chunk_size`.

        context (B, Tc, C, H, W) -> chunks (n, B, horizon, C, H, W), n <= chunk_size, drawn one
        chunk after the other from `generator`. `horizon` may exceed the training clips' length.
        """
        self._check_prediction(context, horizon, num_samples)
        chunk_size = chunk_size or num_samples
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        for start in range(0, num_samples, chunk_size):
            n = min(chunk_size, num_samples - start)
            yield self.sample_predictions(context, horizon, n, generator)

    @torch.no_grad()
    def predict(
        self,
        context: torch.Tensor,
        horizon: int,
        num_samples: int = 1,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """context (B, Tc, C, H, W) -> (num_samples, B, horizon, C, H, W).

        The same `generator` seed gives the same samples.
        """
        return torch.cat(list(self.predict_chunks(context, horizon, num_samples, None, generator)))

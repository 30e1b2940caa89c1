"""Per-frame VAE: the baseline of paper 000 (section 3.8, "Baseline VAE").

Paper 002's VAE baseline is not this model but `vae002` (models/factored_vae.py): that paper
keeps its own network (Tables 4-5) and parameter count equal across its three models.

Each frame goes through the same CNN encoder (all frames folded into the batch); per-frame
Gaussian posteriors q(z_t | x_t) come from two linear heads; a per-frame CNN decoder with a
Bernoulli likelihood reconstructs each frame (BCE on logits, paper 000 eq. 5).

- `average_over_time=True` (paper 000's baseline): the clip's latent is the time average of
  the frame posteriors (mean and log-variance averaged), and every frame is decoded from it,
  so reconstructions are static (paper 000 Table 1 reports temporal consistency 0). The
  content latent is that average; the motion latent (each frame's deviation from it) is
  ignored by the decoder, so a swap keeps A's clip whatever B is.
- `average_over_time=False` (a per-frame VAE, not paper 002's baseline): each frame is decoded from its own
  z_t; content = mean over time of z_t, motion = z_t - content, and decode adds them back.

Loss (paper 000 eq. 6): BCE summed over pixels and frames + beta * KL, averaged over clips;
beta rises linearly from 0 over `kl_anneal_steps`. Latents are sampled in train mode and are
the posterior means in eval mode.

Parameters at `paper` (latent 128, the text's blocks): 2,956,609; Table 1 gives 4,791,681.

**`paper-code`: the paper's public code** (m3hmetkoc/disentangled-VAE, commit 8d7b2fe,
`models/baseline_vae.py`). It builds the public network exactly, 4,791,681 parameters
(`figures/comparison_results.json`, Table 1): the frame CNN (LeakyReLU(0.2), no conv biases
before BatchNorm: `block_style="code"`) then a linear 4096 -> 512 + LeakyReLU
(`frame_features`), heads to a 256-wide latent, and a decoder from z alone (linear to
256 x 4 x 4 + LeakyReLU, transposed convolutions). Its training follows
`configs/medium_baseline.json`, the repository's only baseline config that builds this
network (`small_baseline.json` is narrower) and, like the LSTM-VAE's, uses BCE and 0.25
free bits; which config produced Table 1 is not recorded there. As that config and
`training/trainer.py` do:

- KL weight 0 for 10 epochs, then rising linearly to 0.4 over 35 epochs, changed once per
  epoch (trainer.py:115-134); an epoch of 10,000 clips is 313 batches (the last of 16), so
  `kl_anneal_start` 3,130, `kl_anneal_steps` 10,955, `kl_anneal_every` 313. Validation uses
  the full 0.4 (trainer.py:243; `eval_at_full_beta`).
- free bits 0.25 per latent dimension and clip (baseline_vae.py:231-237; `free_bits`);
  logged `kl` is the clamped KL, `kl_raw` the plain one.
- Adam 2e-4 with L2 weight decay 1e-5, gradient norm clipped at 3, cosine learning-rate decay,
  100 epochs = 31,300 steps of 32 clips (vidis draws full batches, so this is 1,001,600
  clips against the public 1,000,000), validation on all 1,000 validation clips once per
  epoch, the best-validation checkpoint kept (`train.keep_best`).

Still different: BCE on logits rather than on clamped sigmoid probabilities, the cosine decay
per step to 0 rather than per epoch to 1e-6, and vidis's Moving MNIST (see dvae.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..errors import ConfigError
from ..nn import (
    ConvDecoder,
    ConvEncoder,
    reparameterize,
    single_latent_vae_loss,
)
from ..registry import register_model
from ..types import Latents, ModelOutput
from .base import VideoModel
from .dvae import public_code_train


@dataclass
class FrameVAEConfig:
    latent_dim: int = 128
    channels: tuple[int, ...] = (32, 64, 128, 256)
    beta: float = 1.0
    kl_anneal_steps: int = 0
    average_over_time: bool = True
    # the public code's options (paper-code), see the module doc
    frame_features: int = 0  # >0: linear + activation after the frame CNN, to this width
    block_style: str = "text"  # "text": ReLU, conv biases; "code": the public code's (nn/conv.py)
    free_bits: float = 0.0  # minimum KL per latent dimension and clip
    kl_anneal_start: int = 0  # steps at KL weight 0 before the anneal
    kl_anneal_every: int = 1  # the KL weight changes every this many steps
    eval_at_full_beta: bool = False  # validation loss with the KL weight `beta`, not the annealed one

    def validate(self):
        for name in ("latent_dim", "kl_anneal_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"frame_vae: model.{name} must be positive, got {getattr(self, name)!r}")
        if not self.channels or min(self.channels) < 1:
            raise ConfigError(f"frame_vae: model.channels must be positive, got {self.channels!r}")
        for name in ("beta", "kl_anneal_steps", "frame_features", "free_bits", "kl_anneal_start"):
            if getattr(self, name) < 0:
                raise ConfigError(f"frame_vae: model.{name} must be >= 0, got {getattr(self, name)!r}")
        if self.block_style not in ("text", "code"):
            raise ConfigError(f"frame_vae: model.block_style must be text or code, got {self.block_style!r}")


SMOKE = {
    "model": {"latent_dim": 8, "channels": (4, 8, 8, 8)},
    "data": {"num_frames": 6},
    "train": {"steps": 4, "batch_size": 4, "eval_every": 2, "eval_batches": 1, "log_every": 1},
}


@register_model("frame_vae")
class FrameVAE(VideoModel):
    Config = FrameVAEConfig
    presets = {
        "smoke": SMOKE,
        "small": {
            "model": {"latent_dim": 64, "channels": (16, 32, 64, 128), "kl_anneal_steps": 200},
            "train": {"steps": 600, "batch_size": 16, "lr": 1e-3, "eval_every": 200},
        },
        # paper 000 section 3.6: batch 32, Adam 3e-4, 50 epochs of 10,000 clips, beta 0 -> 1
        # over the first 20 epochs.
        "paper": {
            "model": {"kl_anneal_steps": 6250},
            "data": {"num_train": 10000},
            "train": {"steps": 15625, "batch_size": 32, "lr": 3e-4, "eval_every": 1250},
        },
        # the public code's network and configs/medium_baseline.json, see the module doc
        "paper-code": {
            "model": {"latent_dim": 256, "frame_features": 512, "block_style": "code", "beta": 0.4,
                      "kl_anneal_start": 3130, "kl_anneal_steps": 10955, "kl_anneal_every": 313,
                      "free_bits": 0.25, "eval_at_full_beta": True},
            "data": {"num_train": 10000, "num_val": 1000},
            "train": public_code_train(epochs=100, steps_per_epoch=313, val_clips=1000, lr=2e-4,
                                       grad_clip=3.0),
        },
    }

    def __init__(self, config: FrameVAEConfig, video_shape):
        super().__init__(config, video_shape)
        _, C, H, _ = video_shape
        self.encoder = ConvEncoder(C, config.channels, H, config.frame_features, config.block_style)
        self.to_mean = nn.Linear(self.encoder.out_features, config.latent_dim)
        self.to_logvar = nn.Linear(self.encoder.out_features, config.latent_dim)
        self.decoder = ConvDecoder(config.latent_dim, tuple(reversed(config.channels)), C, H,
                                   config.block_style)

    def posterior(self, video: torch.Tensor):
        B, T = video.shape[:2]
        features = self.encoder(video.flatten(0, 1))  # (B*T, F)
        mean = self.to_mean(features).view(B, T, -1)  # (B, T, D)
        logvar = self.to_logvar(features).view(B, T, -1)
        if self.config.average_over_time:
            return mean.mean(1), logvar.mean(1), mean  # (B, D), (B, D), per-frame means
        return mean, logvar, mean

    def decode_logits(self, z: torch.Tensor, num_frames: int) -> torch.Tensor:
        """z (B, D) (averaged) or (B, T, D) -> logits (B, T, C, H, W)."""
        _, C, H, W = self.video_shape
        if z.dim() == 2:  # one latent per clip: decode once, repeat over time
            return self.decoder(z).view(-1, 1, C, H, W).expand(-1, num_frames, -1, -1, -1)
        B, T = z.shape[:2]
        return self.decoder(z.flatten(0, 1)).view(B, T, C, H, W)

    def encode(self, video: torch.Tensor) -> Latents:
        self.check(video)
        mean, _, frame_means = self.posterior(video)
        content = frame_means.mean(1)  # (B, D)
        return Latents(content, frame_means - content[:, None])  # motion (B, T, D)

    def decode(self, latents: Latents, num_frames: int) -> torch.Tensor:
        if self.config.average_over_time:
            z = latents.content
        else:
            if latents.motion.shape[1] != num_frames:
                raise ValueError(
                    f"frame_vae decodes one frame per motion latent: got {latents.motion.shape[1]} "
                    f"latents for {num_frames} frames"
                )
            z = latents.content[:, None] + latents.motion
        return torch.sigmoid(self.decode_logits(z, num_frames))

    def loss(self, batch: dict, step: int) -> ModelOutput:
        video = batch["video"]  # (B, T, C, H, W)
        T = video.shape[1]
        mean, logvar, _ = self.posterior(video)
        z = reparameterize(mean, logvar, sample=self.training)
        logits = self.decode_logits(z, T)
        return single_latent_vae_loss(logits, video, mean, logvar, self.config, step, self.training)

"""LSTM-VAE: the temporal baseline of paper 000 (`shared/papers/000_ebc939cfb4e05775.txt`, 3.8).

"Uses a bidirectional LSTM encoder to process frame features, producing a unified latent
representation that captures both content and motion. The decoder uses an LSTM to generate
frame features, which are then decoded by a CNN."

- encoder: every frame through the DCGAN encoder (`nn.ConvEncoder`, all frames folded into
  the batch; 256 x 4 x 4 = 4096 features at 64x64), a BiLSTM (128 per direction, as the
  disentangled model's, section 3.6) over those features, its two final hidden states
  concatenated, two linear heads -> one Gaussian latent z of dimension 256 = Jc + Jm, so
  that probes compare like with like against the disentangled VAE.
- decoder: an LSTM (512) fed z at every step (as the disentangled VAE's eq. 17), each hidden
  state decoded by `nn.ConvDecoder` into a frame's logits (no z concatenation: the text
  says only that the LSTM generates frame features that a CNN decodes).
- loss: BCE on logits summed over pixels and frames, averaged over clips, + beta_t * KL
  (paper 000 eqs. 20-22 with a single latent); z sampled in train mode, the mean in eval mode.

Latents for probing and swaps: content = the first half of z, motion = the second half,
as the paper's evaluation does. The split is arbitrary: nothing in the model makes one half
carry content and the other motion, so a "swap" mixes two halves of one entangled code and
a probe on either half measures where the training happened to put information.

Parameters: ours 9,516,609 at the `paper` preset vs the paper's 10,441,857 (Table 1). The
paper's public code gives the table's number exactly, with 2-layer LSTMs; module by module
(ours at `paper` -> public code, which `paper-code` builds):

    frame CNN             690,080 -> 2,787,264  + linear 4096 -> 512 (+ LeakyReLU)
    BiLSTM              4,327,424 -> 3,153,920  2 layers of 256 per direction on 512 inputs
                                                (ours: 1 layer of 128 on the 4096 features)
    heads                 131,584 ->   262,656  read 512 features
    decoder LSTM        1,576,960 -> 1,447,680  2 layers, 256 wide, (h_0, c_0) from z by
                                                linears, fed its own previous output;
                                                linear 256 -> 512
    decoder CNN         2,790,561 -> 2,790,337  no conv biases before BatchNorm

**`paper-code`: the paper's public code** (m3hmetkoc/disentangled-VAE, commit 8d7b2fe;
`models/lstm_vae.py` there, configured by `configs/lstm_simple.json`, the LSTM twin of the
dvae's `disentangled_simple.json`: 12,000 clips, free bits 0.25; the other 2-layer config,
`lstm_vae.json`, uses 15,000 clips, KL weight 0.5 and free bits 0.3). It builds the public network exactly,
10,441,857 parameters (`figures/comparison_results.json`, Table 1): the module list above,
with LeakyReLU(0.2) and no conv biases before BatchNorm (`block_style="code"`), and trains
as that config and `training/trainer.py` do:

- KL weight 0 for 10 epochs, then rising linearly to 0.4 over 40 epochs, changed once per
  epoch (trainer.py:115-134): `kl_anneal_start` 3,750, `kl_anneal_steps` 15,000,
  `kl_anneal_every` 375 steps (12,000 clips / 32). Validation uses the full 0.4
  (trainer.py:243; `eval_at_full_beta`), so the best checkpoint is chosen on one objective.
- free bits: each latent dimension's KL raised to at least 0.25 per clip before the sum
  (lstm_vae.py:191-197; `free_bits`); logged `kl` is that, `kl_raw` the plain KL.
- Adam 3e-4 with L2 weight decay 1e-5, gradient norm clipped at 5, cosine learning-rate
  decay, batch 32, 120 epochs of 12,000 clips = 45,000 steps, validation on all 1,200
  validation clips once per epoch, the best-validation checkpoint kept (`train.keep_best`).
  No temporal term: the config's weight is 0 and the trainer does not pass it (trainer.py:170-177).

Still different from the public code: BCE on logits rather than on clamped sigmoid
probabilities, the cosine decay per step to 0 rather than per epoch to 1e-6, and vidis's
Moving MNIST (see dvae.py).

The text gives neither the layer counts nor the widths of this baseline; we use the
disentangled VAE's (section 3.6) so that the two differ only where the paper says they do.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..errors import ConfigError
from ..nn import (
    ConvDecoder,
    ConvEncoder,
    LatentLSTM,
    reparameterize,
    single_latent_vae_loss,
)
from ..registry import register_model
from ..types import Latents, ModelOutput
from .base import VideoModel
from .dvae import PAPER_CODE_DATA, PAPER_DATA, PAPER_TRAIN, check_positive, public_code_train


@dataclass
class LSTMVAEConfig:
    latent_dim: int = 256  # = Jc + Jm of the disentangled VAE; split in halves for probing
    channels: tuple[int, ...] = (32, 64, 128, 256)  # frame CNN; the decoder CNN mirrors it
    encoder_hidden: int = 128  # BiLSTM width per direction
    decoder_hidden: int = 512  # frame features from the decoder LSTM
    decoder_lstm_hidden: int = 0  # 0: the LSTM is decoder_hidden wide; >0: LSTM + linear
    beta: float = 1.0
    kl_anneal_steps: int = 0
    # the public code's options (paper-code), see the module doc
    frame_features: int = 0  # >0: linear + activation after the frame CNN, to this width
    encoder_layers: int = 1  # BiLSTM layers
    decoder_layers: int = 1  # decoder LSTM layers
    block_style: str = "text"  # "text": ReLU, conv biases; "code": the public code's (nn/conv.py)
    decoder_lstm_input: str = "latent"  # "latent": z at every step; "feedback": nn/recurrent.py
    free_bits: float = 0.0  # minimum KL per latent dimension and clip
    kl_anneal_start: int = 0  # steps at KL weight 0 before the anneal
    kl_anneal_every: int = 1  # the KL weight changes every this many steps
    eval_at_full_beta: bool = False  # validation loss with the KL weight `beta`, not the annealed one

    def validate(self):
        check_positive(self, ("latent_dim", "channels", "encoder_hidden", "decoder_hidden",
                              "encoder_layers", "decoder_layers", "kl_anneal_every"), "lstm_vae")
        for name in ("frame_features", "free_bits", "kl_anneal_start"):
            if getattr(self, name) < 0:
                raise ConfigError(f"lstm_vae: model.{name} must be >= 0, got {getattr(self, name)!r}")
        if self.latent_dim % 2:
            raise ConfigError(f"lstm_vae: model.latent_dim must be even (content and motion halves), "
                              f"got {self.latent_dim}")


@register_model("lstm_vae")
class LSTMVAE(VideoModel):
    Config = LSTMVAEConfig
    capabilities = frozenset({"reconstruct", "swap", "interpolate", "generate"})
    presets = {
        "smoke": {"model": {"latent_dim": 8, "channels": (4, 8, 8, 8), "encoder_hidden": 8,
                            "decoder_hidden": 16},
                  "data": {"num_frames": 6},
                  "train": {"steps": 4, "batch_size": 4, "eval_every": 2, "eval_batches": 1, "log_every": 1}},
        "small": {"model": {"latent_dim": 64, "channels": (16, 32, 64, 128), "encoder_hidden": 64,
                            "decoder_hidden": 128, "kl_anneal_steps": 500},
                  "train": {"steps": 1500, "batch_size": 16, "lr": 1e-3, "eval_every": 500,
                            "log_every": 25}},
        # paper 000 section 3.6 (shared by all its models): see dvae.py.
        "paper": {"model": {"kl_anneal_steps": 6250}, "data": PAPER_DATA, "train": PAPER_TRAIN},
        # the public code's network and configs/lstm_simple.json, see the module doc
        "paper-code": {
            "model": {"frame_features": 512, "encoder_hidden": 256, "encoder_layers": 2,
                      "decoder_lstm_hidden": 256, "decoder_layers": 2, "decoder_lstm_input": "feedback",
                      "block_style": "code", "beta": 0.4, "kl_anneal_start": 3750,
                      "kl_anneal_steps": 15000, "kl_anneal_every": 375, "free_bits": 0.25,
                      "eval_at_full_beta": True},
            "data": PAPER_CODE_DATA,
            "train": public_code_train(epochs=120, steps_per_epoch=375, val_clips=1200, lr=3e-4,
                                       grad_clip=5.0),
        },
    }

    def __init__(self, config: LSTMVAEConfig, video_shape):
        super().__init__(config, video_shape)
        _, C, H, _ = video_shape
        c = config
        self.frame_encoder = ConvEncoder(C, c.channels, H, c.frame_features, c.block_style)
        self.encoder_lstm = nn.LSTM(self.frame_encoder.out_features, c.encoder_hidden,
                                    num_layers=c.encoder_layers, batch_first=True, bidirectional=True)
        self.to_mean = nn.Linear(2 * c.encoder_hidden, c.latent_dim)
        self.to_logvar = nn.Linear(2 * c.encoder_hidden, c.latent_dim)
        self.decoder_lstm = LatentLSTM(c.latent_dim, c.decoder_hidden, c.decoder_lstm_hidden,
                                       layers=c.decoder_layers, input=c.decoder_lstm_input)
        self.frame_decoder = ConvDecoder(c.decoder_hidden, tuple(reversed(c.channels)), C, H, c.block_style)
        self.to(memory_format=torch.channels_last)  # faster convolutions on CPU, see dvae.py

    def posterior(self, video: torch.Tensor):
        """video (B, T, C, H, W) -> mean, logvar (B, latent_dim)."""
        B, T = video.shape[:2]
        features = self.frame_encoder(video.flatten(0, 1)).view(B, T, -1)  # (B, T, F)
        _, (final, _) = self.encoder_lstm(features)  # final: (2 * layers, B, He)
        final = torch.cat([final[-2], final[-1]], dim=-1)  # (B, 2*He): the last layer, both directions
        return self.to_mean(final), self.to_logvar(final)

    def decode_logits(self, z: torch.Tensor, num_frames: int) -> torch.Tensor:
        """z (B, latent_dim) -> frame logits (B, T, C, H, W)."""
        _, C, H, W = self.video_shape
        hidden = self.decoder_lstm(z, num_frames)  # (B, T, decoder_hidden)
        return self.frame_decoder(hidden.flatten(0, 1)).view(z.shape[0], num_frames, C, H, W)

    def encode(self, video: torch.Tensor) -> Latents:
        self.check(video)
        mean, _ = self.posterior(video)
        half = self.config.latent_dim // 2
        return Latents(mean[:, :half], mean[:, half:])  # an arbitrary split, see the module doc

    def decode(self, latents: Latents, num_frames: int) -> torch.Tensor:
        z = torch.cat([latents.content, latents.motion], dim=-1)  # (B, latent_dim)
        return torch.sigmoid(self.decode_logits(z, num_frames))

    def sample_latents(self, n: int, num_frames: int) -> Latents:
        z = torch.randn(n, self.config.latent_dim, device=self.to_mean.weight.device)
        half = self.config.latent_dim // 2
        return Latents(z[:, :half], z[:, half:])

    def loss(self, batch: dict, step: int) -> ModelOutput:
        video = batch["video"]  # (B, T, C, H, W)
        self.check(video)
        T = video.shape[1]
        mean, logvar = self.posterior(video)
        z = reparameterize(mean, logvar, sample=self.training)
        logits = self.decode_logits(z, T)
        return single_latent_vae_loss(logits, video, mean, logvar, self.config, step, self.training)

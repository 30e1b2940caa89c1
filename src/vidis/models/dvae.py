"""Disentangled Video VAE: paper 000 (`shared/papers/000_ebc939cfb4e05775.txt`), sections 3.3-3.7.

Two encoders see different views of the clip, so content and motion are separated by
construction:

- content (eqs. 9-12): the time-averaged frame x̄ = mean_t x_t goes through the DCGAN
  encoder (`nn.ConvEncoder`, channels 32-64-128-256) and two linear heads give mu_c and
  log sigma_c^2 (Jc = 128). Shuffling the frames cannot change it.
- motion (eqs. 13-15): the T-1 differences Δx_t = x_{t+1} - x_t go through a light per-frame
  CNN (all differences folded into the batch), then a BiLSTM (128 per direction); the two
  final hidden states, concatenated, give mu_m and log sigma_m^2 (Jm = 128). Adding one
  image to every frame cannot change it.
  The paper leaves the light CNN unspecified; we use `nn.ConvEncoder` with channels
  16-32-64-64 (kernel 4, stride 2, BatchNorm, ReLU; 64 x 4 x 4 at 64x64) and a linear layer
  with ReLU to 256 features per difference frame.
- decoder (eqs. 16-19): an LSTM fed [z_c; z_m] at every one of the T steps gives d_t (512
  wide, eq. 17); f_t = [d_t; z_c] (eq. 18) goes through `nn.ConvDecoder` (linear to
  256 x 4 x 4, transposed convolutions 256-128-64-32-C) to the logits of frame t (eq. 19).
  All T frames go through the CNN as one (B*T, ...) batch.

Loss (eqs. 20-22): BCE on logits summed over pixels and frames, averaged over clips, plus
beta_t * (KL_c + KL_m) against N(0, I) priors, beta_t rising linearly from 0 to `beta` over
`kl_anneal_steps` (section 3.7's KL annealing).

Paper text vs the paper's public code (preset `paper-code`): the public code's decoder LSTM
is 256 wide and followed by a linear layer (+ LeakyReLU 0.2) to 512 features, it is trained
with beta = 0.4 fixed from the first step and gradients clipped at norm 5.
`decoder_lstm_hidden=256` reproduces the 256-wide LSTM + linear 256 -> 512; the rest of the
architecture stays the paper text's.

Parameters: ours 7,461,457 at the `paper` preset vs the paper's 12,934,625 (Table 1). The
paper's public code gives the table's number exactly; module by module (ours -> public code):

    content CNN + heads   1,738,912 -> 2,918,592  linear 4096 -> 512 (+ LeakyReLU) after the
                                                  CNN, the heads read 512 features
    motion CNN              369,680 -> 4,203,360  2 convolutions 16-32, then a linear
                                                  32 x 16 x 16 = 8192 -> 512
    motion BiLSTM           395,264 -> 1,576,960  256 per direction on 512 inputs (section
                                                  3.6 says 128 per direction)
    motion heads             65,792 ->   131,328  read 512 features
    decoder LSTM          1,576,960 ->   789,760  (h_0, c_0) = two linears of [z_c; z_m]; a
                                                  256-wide LSTM fed its own previous output
                                                  (a learned first input); linear 256 -> 512
    decoder CNN           3,314,849 -> 3,314,625  no conv biases before BatchNorm

We keep the text's architecture (eqs. 9-19, 128 per direction). The `paper-code` preset
takes from the public code only the decoder LSTM width and the training (beta 0.4 fixed,
clipping at 5); its other differences above are not configurable here.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..errors import ConfigError
from ..nn import ConvDecoder, ConvEncoder, bernoulli_vae_loss, gaussian_kl_standard, reparameterize
from ..registry import register_model
from ..train.schedules import linear_warmup
from ..types import Latents, ModelOutput
from .base import VideoModel


class LatentLSTM(nn.Module):
    """A latent fed at every step of an LSTM: z (B, D) -> hidden states (B, T, out_features).

    lstm_hidden = 0: the LSTM is `out_features` wide (paper 000 eq. 17, d_t in R^512).
    lstm_hidden > 0: an LSTM that wide, then a linear layer + LeakyReLU(0.2) to
    `out_features` (the paper's public code: 256 -> 512).
    """

    def __init__(self, in_features: int, out_features: int, lstm_hidden: int = 0):
        super().__init__()
        width = lstm_hidden or out_features
        self.lstm = nn.LSTM(in_features, width, batch_first=True)
        if lstm_hidden:
            self.project = nn.Sequential(nn.Linear(width, out_features), nn.LeakyReLU(0.2, True))
        else:
            self.project = nn.Identity()

    def forward(self, z: torch.Tensor, num_frames: int) -> torch.Tensor:
        steps = z[:, None].expand(-1, num_frames, -1)  # (B, T, D): the same input at every step
        hidden, _ = self.lstm(steps)  # (B, T, width)
        return self.project(hidden)  # (B, T, out_features)


def check_positive(config, names: tuple[str, ...], model: str):
    for name in names:
        value = getattr(config, name)
        values = value if isinstance(value, tuple) else (value,)
        if not values or min(values) < 1:
            raise ConfigError(f"{model}: model.{name} must be positive, got {value!r}")
    if config.decoder_lstm_hidden < 0:
        raise ConfigError(f"{model}: model.decoder_lstm_hidden must be >= 0, "
                          f"got {config.decoder_lstm_hidden}")
    if config.beta < 0 or config.kl_anneal_steps < 0:
        raise ConfigError(f"{model}: model.beta and model.kl_anneal_steps must be >= 0")


@dataclass
class DVAEConfig:
    content_dim: int = 128  # Jc
    motion_dim: int = 128  # Jm
    channels: tuple[int, ...] = (32, 64, 128, 256)  # content CNN; the decoder CNN mirrors it
    motion_channels: tuple[int, ...] = (16, 32, 64, 64)  # light CNN on frame differences
    motion_features: int = 256  # per difference frame, into the BiLSTM
    motion_hidden: int = 128  # BiLSTM width per direction
    decoder_hidden: int = 512  # d_t
    decoder_lstm_hidden: int = 0  # 0: the LSTM is decoder_hidden wide; >0: LSTM + linear
    beta: float = 1.0
    kl_anneal_steps: int = 0

    def validate(self):
        check_positive(self, ("content_dim", "motion_dim", "channels", "motion_channels",
                              "motion_features", "motion_hidden", "decoder_hidden"), "dvae")


# paper 000 section 3.6: batch 32, Adam 3e-4, 50 epochs of a fixed set of 10,000 clips
# (15,625 steps), beta 0 -> 1 over the first 20 epochs (6,250 steps).
PAPER_DATA = {"num_train": 10000}
PAPER_TRAIN = {"steps": 15625, "batch_size": 32, "lr": 3e-4, "eval_every": 1250}
SMOKE = {
    "model": {"content_dim": 8, "motion_dim": 8, "channels": (4, 8, 8, 8), "motion_channels": (4, 4, 8, 8),
              "motion_features": 16, "motion_hidden": 8, "decoder_hidden": 16},
    "data": {"num_frames": 6},
    "train": {"steps": 4, "batch_size": 4, "eval_every": 2, "eval_batches": 1, "log_every": 1},
}


@register_model("dvae")
class DisentangledVideoVAE(VideoModel):
    Config = DVAEConfig
    capabilities = frozenset({"reconstruct", "swap", "interpolate", "generate"})
    presets = {
        "smoke": SMOKE,
        # ~10.5 minutes on a quiet 2-core CPU (89 clips/s, 3,500 steps, 2026-11-24; 7.4 with
        # --set train.amp=bf16 on a CPU with bf16 units), 2 digits, 20 frames. It gives blurry
        # digits that swaps move as the motion source does (judge: B's direction 0.31, grid
        # cell 0.43; 2,000 steps gave 0.24 and 0.33); identity is not readable, in swaps or in
        # reconstructions (judge: 1%). With 1 digit the content latent keeps the path (the
        # averaged frame shows it), so swaps follow the content source: keep 2 digits.
        "small": {"model": {"content_dim": 32, "motion_dim": 32, "channels": (16, 32, 64, 128),
                            "motion_channels": (8, 16, 32, 32), "motion_features": 128,
                            "motion_hidden": 64, "decoder_hidden": 128, "kl_anneal_steps": 500},
                  "train": {"steps": 3500, "batch_size": 16, "lr": 1e-3, "eval_every": 500,
                            "log_every": 25}},
        "paper": {"model": {"kl_anneal_steps": 6250}, "data": PAPER_DATA, "train": PAPER_TRAIN},
        # What the paper's public code does: 256-wide decoder LSTM + linear to 512, beta 0.4
        # from the start, gradient norm clipped at 5.
        "paper-code": {"model": {"decoder_lstm_hidden": 256, "beta": 0.4, "kl_anneal_steps": 0},
                       "data": PAPER_DATA, "train": {**PAPER_TRAIN, "grad_clip": 5.0}},
    }

    def __init__(self, config: DVAEConfig, video_shape):
        super().__init__(config, video_shape)
        _, C, H, _ = video_shape
        c = config
        # content encoder (eqs. 9-11)
        self.content_encoder = ConvEncoder(C, c.channels, H)
        self.content_mean = nn.Linear(self.content_encoder.out_features, c.content_dim)
        self.content_logvar = nn.Linear(self.content_encoder.out_features, c.content_dim)
        # motion encoder (eqs. 13-14): light CNN per difference frame, then a BiLSTM
        motion_cnn = ConvEncoder(C, c.motion_channels, H)
        self.motion_cnn = nn.Sequential(
            motion_cnn, nn.Linear(motion_cnn.out_features, c.motion_features), nn.ReLU(True)
        )
        self.motion_lstm = nn.LSTM(c.motion_features, c.motion_hidden, batch_first=True, bidirectional=True)
        self.motion_mean = nn.Linear(2 * c.motion_hidden, c.motion_dim)
        self.motion_logvar = nn.Linear(2 * c.motion_hidden, c.motion_dim)
        # decoder (eqs. 17-19)
        self.decoder_lstm = LatentLSTM(c.content_dim + c.motion_dim, c.decoder_hidden, c.decoder_lstm_hidden)
        self.frame_decoder = ConvDecoder(c.decoder_hidden + c.content_dim, tuple(reversed(c.channels)), C, H)
        # Convolution weights in channels_last: oneDNN then runs the (transposed) convolutions
        # channels_last, about 20% faster per training step on CPU; results are unchanged.
        self.to(memory_format=torch.channels_last)

    def check(self, video: torch.Tensor):
        super().check(video)
        if video.shape[1] < 2:
            raise ValueError(
                f"dvae needs at least 2 frames (it encodes frame differences), got {tuple(video.shape)}"
            )

    def posterior(self, video: torch.Tensor):
        """video (B, T, C, H, W) -> (mu_c, logvar_c) (B, Jc) and (mu_m, logvar_m) (B, Jm)."""
        B, T = video.shape[:2]
        mean_frame = video.mean(1)  # (B, C, H, W), eq. 9
        content_features = self.content_encoder(mean_frame)  # (B, F)
        differences = video[:, 1:] - video[:, :-1]  # (B, T-1, C, H, W), eq. 13
        motion_features = self.motion_cnn(differences.flatten(0, 1)).view(B, T - 1, -1)  # (B, T-1, Fm)
        _, (final, _) = self.motion_lstm(motion_features)  # final: (2, B, Hm), forward and backward
        final = torch.cat([final[0], final[1]], dim=-1)  # (B, 2*Hm)
        return (
            (self.content_mean(content_features), self.content_logvar(content_features)),
            (self.motion_mean(final), self.motion_logvar(final)),
        )

    def decode_logits(self, content: torch.Tensor, motion: torch.Tensor, num_frames: int) -> torch.Tensor:
        """z_c (B, Jc), z_m (B, Jm) -> frame logits (B, T, C, H, W)."""
        _, C, H, W = self.video_shape
        B = content.shape[0]
        hidden = self.decoder_lstm(torch.cat([content, motion], dim=-1), num_frames)  # (B, T, 512), eq. 17
        repeated = content[:, None].expand(-1, num_frames, -1)  # (B, T, Jc)
        features = torch.cat([hidden, repeated], dim=-1)  # (B, T, 512 + Jc), eq. 18
        return self.frame_decoder(features.flatten(0, 1)).view(B, num_frames, C, H, W)  # eq. 19

    def encode(self, video: torch.Tensor) -> Latents:
        self.check(video)
        (content, _), (motion, _) = self.posterior(video)
        return Latents(content, motion)  # posterior means: (B, Jc), (B, Jm)

    def decode(self, latents: Latents, num_frames: int) -> torch.Tensor:
        return torch.sigmoid(self.decode_logits(latents.content, latents.motion, num_frames))

    def sample_latents(self, n: int, num_frames: int) -> Latents:
        device = self.content_mean.weight.device
        return Latents(torch.randn(n, self.config.content_dim, device=device),
                       torch.randn(n, self.config.motion_dim, device=device))

    def loss(self, batch: dict, step: int) -> ModelOutput:
        video = batch["video"]  # (B, T, C, H, W)
        self.check(video)
        T = video.shape[1]
        (mean_c, logvar_c), (mean_m, logvar_m) = self.posterior(video)
        content = reparameterize(mean_c, logvar_c)  # eq. 12
        motion = reparameterize(mean_m, logvar_m)  # eq. 15
        logits = self.decode_logits(content, motion, T)
        kls = {"kl_content": gaussian_kl_standard(mean_c, logvar_c),  # eq. 21
               "kl_motion": gaussian_kl_standard(mean_m, logvar_m)}
        beta = self.config.beta * linear_warmup(step, self.config.kl_anneal_steps)
        return bernoulli_vae_loss(logits, video, kls, beta)  # eqs. 20, 22

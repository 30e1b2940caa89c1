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
`kl_anneal_steps` (section 3.7's KL annealing). Latents are sampled in train mode and are the
posterior means in eval mode (never decided by grad mode).

Presets `smoke`, `small`, `paper` follow the text (`paper`: section 3.6). Parameters at
`paper`: 7,461,457, against Table 1's 12,934,625, which is what the public code builds.

**`paper-code`: the paper's public code** (m3hmetkoc/disentangled-VAE, commit 8d7b2fe; files
below are in that repository). It builds the public network exactly, 12,934,625 parameters
(`figures/comparison_results.json`), and trains as `configs/disentangled_simple.json` and
`training/trainer.py` do. Module by module (paper text -> public code):

    content CNN + heads   1,738,912 -> 2,918,592  + linear 4096 -> 512 + LeakyReLU before the
                                                  heads (encoders.py:43-46; content_features)
    motion CNN              369,680 -> 4,203,360  2 convolutions 16-32, then a linear
                                                  32 x 16 x 16 = 8192 -> 512 (encoders.py:56-96)
    motion BiLSTM           395,264 -> 1,576,960  256 per direction on 512 inputs (config
                                                  lstm_hidden 256; the text: 128 per direction)
    motion heads             65,792 ->   131,328  read 512 features
    decoder LSTM          1,576,960 ->   789,760  (h_0, c_0) = two linears of [z_c; z_m]; a
                                                  256-wide LSTM fed its own previous output from
                                                  a learned first input; linear 256 -> 512 +
                                                  LeakyReLU (decoders.py:196-269)
    decoder CNN           3,314,849 -> 3,314,625  LeakyReLU after its first linear, no conv
                                                  biases before BatchNorm (decoders.py:11-70)

Everywhere: LeakyReLU(0.2) instead of ReLU (`block_style="code"`). Training (text -> code):

- KL weight: 0 -> 1 over 20 epochs -> 0.4 from the first step. The config's annealing
  (`kl_start_epoch` 10, `warmup_epochs` 40) does not reach this model's loss:
  `beta_content` = `beta_motion` = 0.4 are set, and `compute_loss` uses them in place of the
  annealed `beta` (disentangled_vae.py:243-244, 261; trainer.py:156-167), which is only logged.
- extra terms (disentangled_vae.py:263-280, weights from the config): 0.05 x the temporal
  difference term (`nn.temporal_difference_loss`, on the decoder's probabilities) and
  0.02 x the squared cross-correlation of z_c and z_m over the batch
  (`nn.cross_correlation_penalty`, on the sampled latents), logged as `temporal` and
  `independence`. No free bits: this loss has none (the config's `free_bits` reaches only
  the baselines' loss, trainer.py:169-177).
- Adam 3e-4 with L2 weight decay 1e-5 (trainer.py:56-61), gradient norm clipped at 5,
  cosine learning-rate decay, batch 32, 100 epochs of 12,000 clips = 37,500 steps,
  validation on all 1,200 validation clips once per epoch (375 steps) and the checkpoint of
  the best validation loss kept (trainer.py:401-404; `train.keep_best`).

What still differs from the public code, and why:

- reconstruction: BCE on logits here, `F.binary_cross_entropy` on sigmoid probabilities
  there (its log clamped at -100). They are the same function wherever the sigmoid does not
  saturate in float32 (|logit| below about 16); logits are the numerically stable form.
- learning rate: vidis's cosine decays each step to 0 over `train.steps`; the public
  `CosineAnnealingLR(T_max=100, eta_min=1e-6)` steps once per epoch (trainer.py:96-101,
  373-375). The two differ by less than one epoch's decrement and the final 1e-6.
- data: vidis's Moving MNIST (real digits, disjoint train/test digit pools), not the public
  generator (data/moving_mnist.py there); batches come from a fixed permutation per epoch
  rather than a shuffling DataLoader.

**A labelled departure from the paper: `content_encoder="pooled"`** (presets `smoke-pooled`,
`small-pooled`, `paper-pooled`; the paper's encoder is `"mean_frame"`). For moving digits
the time-averaged frame is a streak along each digit's path, so z_c can hold A's trajectory
and a swap hands the decoder two conflicting paths (A's in z_c, B's in z_m). The pooled
content encoder runs the content CNN on every frame, averages each frame's feature map over
space (where a digit is, and so its path, is mostly averaged away), then the features over
time, so z_c is still blind to frame order but sees each digit's shape at each instant
rather than its smeared path. Cost: the content CNN runs T times instead of once; a training
step of `small-pooled` is 1.77 GFLOP per clip against 1.03 for `small` (7.11 against 4.20
at `paper`; `torch.utils.flop_counter.FlopCounterMode` over loss and backward, 20 frames).
It is not the paper's model: results under these presets are vidis's, never the paper's.
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
    activation,
    bernoulli_vae_loss,
    check_style,
    cross_correlation_penalty,
    gaussian_kl_standard,
    reparameterize,
    temporal_difference_loss,
)
from ..nn.recurrent import LSTM_INPUTS
from ..registry import register_model
from ..train.schedules import linear_warmup
from ..types import Latents, ModelOutput
from .base import VideoModel

CONTENT_ENCODERS = ("mean_frame", "pooled")


def check_positive(config, names: tuple[str, ...], model: str):
    for name in names:
        value = getattr(config, name)
        values = value if isinstance(value, tuple) else (value,)
        if not values or min(values) < 1:
            raise ConfigError(f"{model}: model.{name} must be positive, got {value!r}")
    for name in ("decoder_lstm_hidden", "beta", "kl_anneal_steps"):
        if getattr(config, name) < 0:
            raise ConfigError(f"{model}: model.{name} must be >= 0, got {getattr(config, name)!r}")
    check_style(config.block_style, "model.block_style")
    if config.decoder_lstm_input not in LSTM_INPUTS:
        raise ConfigError(f"{model}: model.decoder_lstm_input must be one of {', '.join(LSTM_INPUTS)}, "
                          f"got {config.decoder_lstm_input!r}")


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
    # "mean_frame": the paper (eq. 9); "pooled": a labelled departure, see the module doc
    content_encoder: str = "mean_frame"
    content_features: int = 0  # >0: linear + activation to this width before the heads (public code)
    block_style: str = "text"  # "text": ReLU, conv biases; "code": the public code's (nn/conv.py)
    decoder_lstm_input: str = "latent"  # "latent": eq. 17; "feedback": the public code's (nn/recurrent.py)
    temporal_weight: float = 0.0  # public code: 0.05 x nn.temporal_difference_loss
    independence_weight: float = 0.0  # public code: 0.02 x nn.cross_correlation_penalty

    def validate(self):
        check_positive(self, ("content_dim", "motion_dim", "channels", "motion_channels",
                              "motion_features", "motion_hidden", "decoder_hidden"), "dvae")
        if self.content_encoder not in CONTENT_ENCODERS:
            raise ConfigError(f"dvae: model.content_encoder must be one of {', '.join(CONTENT_ENCODERS)}, "
                              f"got {self.content_encoder!r}")
        for name in ("content_features", "temporal_weight", "independence_weight"):
            if getattr(self, name) < 0:
                raise ConfigError(f"dvae: model.{name} must be >= 0, got {getattr(self, name)!r}")


# paper 000 section 3.6: batch 32, Adam 3e-4, 50 epochs of a fixed set of 10,000 clips
# (15,625 steps), beta 0 -> 1 over the first 20 epochs (6,250 steps).
PAPER_DATA = {"num_train": 10000}
PAPER_TRAIN = {"steps": 15625, "batch_size": 32, "lr": 3e-4, "eval_every": 1250}


def public_code_train(epochs: int, steps_per_epoch: int, val_clips: int, lr: float, grad_clip: float) -> dict:
    """The public trainer's schedule in steps: Adam with L2 weight decay 1e-5, cosine decay,
    validation on every validation clip once per epoch, the best-validation checkpoint kept."""
    return {"steps": epochs * steps_per_epoch, "batch_size": 32, "lr": lr, "weight_decay": 1e-5,
            "grad_clip": grad_clip, "lr_schedule": "cosine", "keep_best": True,
            "eval_every": steps_per_epoch, "eval_batches": -(-val_clips // 32), "log_every": 25}


# configs/disentangled_simple.json: 12,000 training and 1,200 validation clips, batch 32
# (375 steps per epoch), 100 epochs, lr 3e-4, clipping 5.
PAPER_CODE_DATA = {"num_train": 12000, "num_val": 1200}
PAPER_CODE = {
    "model": {"motion_channels": (16, 32), "motion_features": 512, "motion_hidden": 256,
              "decoder_lstm_hidden": 256, "decoder_lstm_input": "feedback", "content_features": 512,
              "block_style": "code", "beta": 0.4, "kl_anneal_steps": 0,
              "temporal_weight": 0.05, "independence_weight": 0.02},
    "data": PAPER_CODE_DATA,
    "train": public_code_train(epochs=100, steps_per_epoch=375, val_clips=1200, lr=3e-4, grad_clip=5.0),
}
SMOKE = {
    "model": {"content_dim": 8, "motion_dim": 8, "channels": (4, 8, 8, 8), "motion_channels": (4, 4, 8, 8),
              "motion_features": 16, "motion_hidden": 8, "decoder_hidden": 16},
    "data": {"num_frames": 6},
    "train": {"steps": 4, "batch_size": 4, "eval_every": 2, "eval_batches": 1, "log_every": 1},
}
# ~10.5 minutes on a quiet 2-core CPU (89 clips/s, 3,500 steps, 2026-11-24; 7.4 with
# --set train.amp=bf16 on a CPU with bf16 units), 2 digits, 20 frames. It gives blurry
# digits that swaps move as the motion source does (judge: B's direction 0.31, grid
# cell 0.43; 2,000 steps gave 0.24 and 0.33); identity is not readable, in swaps or in
# reconstructions (judge: 1%). With 1 digit the content latent keeps the path (the
# averaged frame shows it), so swaps follow the content source: keep 2 digits.
SMALL = {
    "model": {"content_dim": 32, "motion_dim": 32, "channels": (16, 32, 64, 128),
              "motion_channels": (8, 16, 32, 32), "motion_features": 128,
              "motion_hidden": 64, "decoder_hidden": 128, "kl_anneal_steps": 500},
    "train": {"steps": 3500, "batch_size": 16, "lr": 1e-3, "eval_every": 500, "log_every": 25},
}
PAPER = {"model": {"kl_anneal_steps": 6250}, "data": PAPER_DATA, "train": PAPER_TRAIN}


def pooled(preset: dict) -> dict:
    """`preset` with the labelled departure: content from pooled per-frame features."""
    return {**preset, "model": {**preset.get("model", {}), "content_encoder": "pooled"}}


@register_model("dvae")
class DisentangledVideoVAE(VideoModel):
    Config = DVAEConfig
    capabilities = frozenset({"reconstruct", "swap", "interpolate", "generate"})
    presets = {
        "smoke": SMOKE,
        "small": SMALL,
        "paper": PAPER,
        "paper-code": PAPER_CODE,
        # not the paper: content from per-frame CNN features pooled over space and time
        "smoke-pooled": pooled(SMOKE),
        "small-pooled": pooled(SMALL),
        "paper-pooled": pooled(PAPER),
    }

    def __init__(self, config: DVAEConfig, video_shape):
        super().__init__(config, video_shape)
        _, C, H, _ = video_shape
        c = config
        # content encoder (eqs. 9-11); "pooled" runs it on every frame, pooled over space
        self.content_encoder = ConvEncoder(C, c.channels, H, c.content_features, c.block_style,
                                           pool=c.content_encoder == "pooled")
        self.content_mean = nn.Linear(self.content_encoder.out_features, c.content_dim)
        self.content_logvar = nn.Linear(self.content_encoder.out_features, c.content_dim)
        # motion encoder (eqs. 13-14): light CNN per difference frame, then a BiLSTM
        motion_cnn = ConvEncoder(C, c.motion_channels, H, style=c.block_style)
        self.motion_cnn = nn.Sequential(
            motion_cnn, nn.Linear(motion_cnn.out_features, c.motion_features), activation(c.block_style)
        )
        self.motion_lstm = nn.LSTM(c.motion_features, c.motion_hidden, batch_first=True, bidirectional=True)
        self.motion_mean = nn.Linear(2 * c.motion_hidden, c.motion_dim)
        self.motion_logvar = nn.Linear(2 * c.motion_hidden, c.motion_dim)
        # decoder (eqs. 17-19)
        self.decoder_lstm = LatentLSTM(c.content_dim + c.motion_dim, c.decoder_hidden, c.decoder_lstm_hidden,
                                       input=c.decoder_lstm_input)
        self.frame_decoder = ConvDecoder(c.decoder_hidden + c.content_dim, tuple(reversed(c.channels)), C, H,
                                         c.block_style)
        # Convolution weights in channels_last: oneDNN then runs the (transposed) convolutions
        # channels_last, about 20% faster per training step on CPU; results are unchanged.
        self.to(memory_format=torch.channels_last)

    def check(self, video: torch.Tensor):
        super().check(video)
        if video.shape[1] < 2:
            raise ValueError(
                f"dvae needs at least 2 frames (it encodes frame differences), got {tuple(video.shape)}"
            )

    def content_features(self, video: torch.Tensor) -> torch.Tensor:
        """video (B, T, C, H, W) -> the features the content heads read (B, F)."""
        B, T = video.shape[:2]
        if self.config.content_encoder == "pooled":  # the departure: every frame, pooled over space
            return self.content_encoder(video.flatten(0, 1)).view(B, T, -1).mean(1)  # (B, F)
        return self.content_encoder(video.mean(1))  # the mean frame (B, C, H, W), eq. 9

    def posterior(self, video: torch.Tensor):
        """video (B, T, C, H, W) -> (mu_c, logvar_c) (B, Jc) and (mu_m, logvar_m) (B, Jm)."""
        B, T = video.shape[:2]
        content_features = self.content_features(video)  # (B, F)
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
        c = self.config
        T = video.shape[1]
        (mean_c, logvar_c), (mean_m, logvar_m) = self.posterior(video)
        content = reparameterize(mean_c, logvar_c, sample=self.training)  # eq. 12
        motion = reparameterize(mean_m, logvar_m, sample=self.training)  # eq. 15
        logits = self.decode_logits(content, motion, T)
        kls = {"kl_content": gaussian_kl_standard(mean_c, logvar_c),  # eq. 21
               "kl_motion": gaussian_kl_standard(mean_m, logvar_m)}
        penalties = {}  # the public code's extra terms (paper-code), see the module doc
        if c.temporal_weight > 0:
            temporal = temporal_difference_loss(torch.sigmoid(logits), video)  # on probabilities
            penalties["temporal"] = (c.temporal_weight, temporal)
        if c.independence_weight > 0:
            penalties["independence"] = (c.independence_weight, cross_correlation_penalty(content, motion))
        beta = c.beta * linear_warmup(step, c.kl_anneal_steps)
        return bernoulli_vae_loss(logits, video, kls, beta, penalties)  # eqs. 20, 22

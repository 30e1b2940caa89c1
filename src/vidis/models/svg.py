"""SVG-LP: stochastic video prediction with a learned prior (Denton & Fergus 2018), paper 003's baseline.

Paper 003 (`shared/papers/003_5b0058f2d5e0dba8.txt`), eq. 2, built as its public code builds it
(edenton/svg: `train_svg_lp.py`, `generate_svg_lp.py`, `models/dcgan_64.py`, `models/lstm.py`).

Per transition t = 1..T-1 (frame x_t predicted from x_{0..t-1}):

    h_t = Enc(x_t)                                  DCGAN encoder, |h| = g_dim, skips at 4 scales
    q(z_t | x_{0..t})   = N(mu, sigma) = LSTM_phi(h_1..h_t)        posterior, one layer
    p(z_t | x_{0..t-1}) = N(mu, sigma) = LSTM_psi(h_0..h_{t-1})    learned prior, one layer
    g_t = LSTM_theta([h_{t-1}, z_t])                                frame predictor, two layers
    x^_t = Dec(g_t, skips of frame min(t-1, c-2))                   sigmoid output

Modules as the code: encoder = 4x4 stride-2 conv + BatchNorm + LeakyReLU(0.2) blocks with
nf, 2nf, 4nf, 8nf channels (64x64 -> 4x4), then a 4x4 conv + BatchNorm + tanh to g_dim; the
decoder mirrors it with U-Net skips (each transposed conv reads [its input, the encoder's map
of that size]) and a sigmoid. Each LSTM has a linear embedding in front; the posterior and
prior end in linear mu / log-variance heads, the predictor in linear + tanh to g_dim.
Weights N(0, 0.02) for conv and linear layers (biases 0), BatchNorm scales N(1, 0.02); LSTM
weights keep PyTorch's default, as `utils.init_weights` leaves `LSTMCell` alone.

Loss (as `train_svg_lp.py` scales it): sum over the T-1 transitions, context included, of the
MSE averaged over pixels and clips, plus beta x KL(q || p) summed over dimensions,
transitions and clips and divided by the batch size. Teacher forcing: the predictor always
reads the true previous frame. Logged: `mse` and `kl`, each per transition (as the code prints).

Prediction (`generate_svg_lp.py`), context x_0..x_{c-1}: for t < c, z_t is sampled from the
posterior on the true frames, the prior is only advanced, the predictor is advanced and its
output dropped; from t = c on, z_t is sampled from the prior, the decoded frame is encoded and
fed back, and the skips stay those of frame c-2. Every random number comes from the caller's
generator. Swap (paper section 4.3, for SVG): clip A's frames are regenerated from its first
frame and its skips with all of clip B's z (posterior means in eval mode).

Where vidis differs from the public code, and why:

- every frame of a clip is encoded once (the code encodes each frame twice, once as input and
  once as target): about a quarter fewer FLOPs. The encoder and decoder are still called once
  per time step on the B frames of that step, so BatchNorm normalises over the same frames as
  the code's. One call over all B x T frames was slower on the CPU, not faster: encoder +
  decoder forward + backward over 480 frames (nf 64) took 7.9-9.1 s in one call and 5.8-6.2 s
  in calls of 32 frames, 2 threads, quiet 2-core AMD EPYC, 2026-11-26 (large activations fall
  out of the cache), and it changed BatchNorm's statistics.
- BatchNorm at test time: the code leaves the encoder and decoder in train mode while it
  generates, so each frame is normalised with the statistics of the batch it was generated in.
  vidis uses the running averages (`test_batchnorm="running"`, the default) so that a clip's
  samples do not depend on the other clips, the number of samples or the chunking of
  best-of-N; `test_batchnorm="batch"` does what the code does (statistics of the n x B frames
  of each step; running averages untouched). With one clip, the 1x1 head of the encoder then
  sees n identical context frames, so "batch" needs several distinct clips per batch.
- the skips: the code freezes them at frame c-2 (0-based: `i < n_past` in its loop), one frame
  before "the last ground-truth frame" of paper 003's section 4.1; vidis does as the code.
- LSTMs: `nn.LSTM` over whole sequences where the inputs are known (training, context), the
  same cell step by step while generating; the same functions as the code's `LSTMCell` loops.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import ConfigError
from ..nn import reparameterize
from ..registry import register_model
from ..types import Latents, ModelOutput
from .base import VideoModel

TEST_BATCHNORM = ("running", "batch")


def gaussian_kl(mean_q, logvar_q, mean_p, logvar_p) -> torch.Tensor:
    """KL(N(mean_q, e^logvar_q) || N(mean_p, e^logvar_p)) summed over the last dimension (float32).

    = 0.5 * sum(logvar_p - logvar_q + (e^logvar_q + (mean_q - mean_p)^2) / e^logvar_p - 1).
    """
    mean_q, logvar_q, mean_p, logvar_p = (x.float() for x in (mean_q, logvar_q, mean_p, logvar_p))
    per_dim = logvar_p - logvar_q + (logvar_q.exp() + (mean_q - mean_p).pow(2)) / logvar_p.exp() - 1
    return 0.5 * per_dim.sum(-1)


def init_weights(module: nn.Module):
    """edenton/svg `utils.init_weights`: conv and linear weights N(0, 0.02), biases 0,
    BatchNorm scales N(1, 0.02); LSTM weights keep PyTorch's default."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def dcgan_widths(channels: int, image_size: int) -> list[int]:
    """nf, 2nf, 4nf, ... : one stride-2 block per halving from image_size down to 4."""
    blocks = int(round(math.log2(image_size))) - 2
    if image_size < 8 or 2 ** (blocks + 2) != image_size:
        raise ConfigError(f"the DCGAN encoder needs square frames of a power-of-2 size >= 8, "
                          f"got {image_size}")
    return [channels * 2**i for i in range(blocks)]


def _block(cin: int, cout: int, transpose: bool = False) -> nn.Sequential:
    conv = nn.ConvTranspose2d if transpose else nn.Conv2d
    return nn.Sequential(conv(cin, cout, 4, 2, 1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, inplace=True))


class FrameEncoder(nn.Module):
    """`models/dcgan_64.py` encoder: (N, C, S, S) -> h (N, g_dim) and the skip maps
    [(N, w_i, S / 2^(i+1), S / 2^(i+1))], largest first."""

    def __init__(self, in_channels: int, channels: int, g_dim: int, image_size: int):
        super().__init__()
        widths = dcgan_widths(channels, image_size)
        self.blocks = nn.ModuleList(_block(a, b) for a, b in zip([in_channels, *widths[:-1]], widths))
        self.head = nn.Sequential(nn.Conv2d(widths[-1], g_dim, 4, 1, 0), nn.BatchNorm2d(g_dim), nn.Tanh())

    def forward(self, frames: torch.Tensor):
        skips, x = [], frames
        for block in self.blocks:
            x = block(x)
            skips.append(x)
        return self.head(x).flatten(1), skips  # (N, g_dim), maps from the largest to the 4x4 one


class FrameDecoder(nn.Module):
    """`models/dcgan_64.py` decoder: g (N, g_dim) and the skip maps -> frames (N, C, S, S) in [0, 1]."""

    def __init__(self, out_channels: int, channels: int, g_dim: int, image_size: int):
        super().__init__()
        widths = dcgan_widths(channels, image_size)
        self.head = nn.Sequential(nn.ConvTranspose2d(g_dim, widths[-1], 4, 1, 0), nn.BatchNorm2d(widths[-1]),
                                  nn.LeakyReLU(0.2, True))
        ups = [_block(2 * widths[i], widths[i - 1], transpose=True) for i in range(len(widths) - 1, 0, -1)]
        self.ups = nn.ModuleList(ups)
        self.out = nn.Sequential(nn.ConvTranspose2d(2 * widths[0], out_channels, 4, 2, 1), nn.Sigmoid())

    def forward(self, g: torch.Tensor, skips: list[torch.Tensor]) -> torch.Tensor:
        x = self.head(g[:, :, None, None])  # (N, 8nf, 4, 4)
        for up, skip in zip(self.ups, reversed(skips[1:])):
            x = up(torch.cat([x, skip], 1))
        return self.out(torch.cat([x, skips[0]], 1))


class GaussianLSTM(nn.Module):
    """`models/lstm.py` gaussian_lstm: linear embed, LSTM, linear mu and log-variance heads.

    inputs (B, T, in) -> mean, logvar (B, T, out) and the LSTM state to continue from."""

    def __init__(self, in_features: int, out_features: int, hidden: int, layers: int):
        super().__init__()
        self.embed = nn.Linear(in_features, hidden)
        self.lstm = nn.LSTM(hidden, hidden, layers, batch_first=True)
        self.mean = nn.Linear(hidden, out_features)
        self.logvar = nn.Linear(hidden, out_features)

    def forward(self, inputs: torch.Tensor, state=None):
        out, state = self.lstm(self.embed(inputs), state)  # (B, T, hidden)
        return self.mean(out), self.logvar(out), state


class PredictorLSTM(nn.Module):
    """`models/lstm.py` lstm: linear embed, LSTM, linear + tanh out. (B, T, in) -> (B, T, out), state."""

    def __init__(self, in_features: int, out_features: int, hidden: int, layers: int):
        super().__init__()
        self.embed = nn.Linear(in_features, hidden)
        self.lstm = nn.LSTM(hidden, hidden, layers, batch_first=True)
        self.out = nn.Sequential(nn.Linear(hidden, out_features), nn.Tanh())

    def forward(self, inputs: torch.Tensor, state=None):
        out, state = self.lstm(self.embed(inputs), state)
        return self.out(out), state


def sample_gaussian(mean: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None):
    """mean + sigma * eps with eps drawn from `generator` (prediction's reproducible sampling)."""
    noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
    return mean + noise * torch.exp(0.5 * logvar)


@dataclass
class BackboneConfig:
    """What SVG-LP and DR-SVG share (paper 003 section 4.1; train_svg_lp.py's defaults)."""

    channels: int = 64  # nf of the DCGAN encoder and decoder
    g_dim: int = 128  # |h| = |g|
    rnn_size: int = 256
    predictor_layers: int = 2
    posterior_layers: int = 1
    prior_layers: int = 1
    beta: float = 1e-4
    context_frames: int = 5  # observed frames (n_past); training clips hold context + future
    eval_horizon: int = 25  # frames the prediction protocol predicts (Fig. 4: 25; training: 10)
    test_batchnorm: str = "running"  # "running" or "batch" (the public code), see the module doc
    requires_data: str = ""  # a dataset the preset is made for ("kth": paper-kth), checked at training

    def validate(self):
        for name in ("channels", "g_dim", "rnn_size", "predictor_layers", "posterior_layers", "prior_layers",
                     "eval_horizon"):
            if getattr(self, name) < 1:
                raise ConfigError(f"model.{name} must be >= 1, got {getattr(self, name)}")
        if self.beta < 0:
            raise ConfigError(f"model.beta must be >= 0, got {self.beta}")
        if self.context_frames < 2:
            raise ConfigError(f"model.context_frames must be >= 2 (skips come from frame c-2), "
                              f"got {self.context_frames}")
        if self.test_batchnorm not in TEST_BATCHNORM:
            raise ConfigError(f"model.test_batchnorm must be one of {', '.join(TEST_BATCHNORM)}, "
                              f"got {self.test_batchnorm!r}")


@dataclass
class SVGConfig(BackboneConfig):
    z_dim: int = 10  # SVG's Moving MNIST setting

    def validate(self):
        super().validate()
        if self.z_dim < 1:
            raise ConfigError(f"model.z_dim must be >= 1, got {self.z_dim}")


def paper_presets(model: dict, smoke: dict, small: dict, kth: dict) -> dict[str, dict]:
    """The presets both SVG models share, each with its own model section on top.

    paper: batch 100, Adam 0.002 (beta1 0.9), 5 observed + 10 predicted frames, 180k steps
    (train_svg_lp.py: 300 epochs of 600): for a GPU; truncate with train.max_minutes and say so.
    paper-smmnist: the same on Stochastic Moving MNIST (32x32 digits, velocities redrawn at each
    wall, overlaps added), where SVG's numbers were measured.
    """
    paper_train = {"steps": 180_000, "batch_size": 100, "lr": 0.002, "eval_every": 5000, "eval_batches": 2,
                   "log_every": 100}
    presets = {
        "smoke": smoke,
        "small": small,
        "paper": {"model": model, "data": {"num_frames": 15}, "train": paper_train},
        "paper-kth": {  # VGG encoder, persons 1-20 / 21-25: needs the KTH loader (Platform issue)
            "model": {**model, **kth, "beta": 1e-6, "context_frames": 10, "requires_data": "kth"},
            "data": {"num_frames": 20}, "train": paper_train,
        },
    }
    smmnist = {"dynamics": "stochastic", "digit_size": 32, "composite": "add", "num_frames": 15}
    presets["paper-smmnist"] = {"model": model, "data": smmnist, "train": paper_train}
    return presets


class SVGBackbone(VideoModel):
    """What SVG-LP and DR-SVG share: the DCGAN encoder and decoder with skips, the frame
    predictor, the skip schedule, the test-time BatchNorm mode and the training step's shape."""

    capabilities = frozenset({"predict", "swap"})
    default_data = "moving_mnist"

    def __init__(self, config, video_shape, z_features: int):
        super().__init__(config, video_shape)
        _, C, H, W = video_shape
        self.require_square_frames()
        c = config
        self.encoder = FrameEncoder(C, c.channels, c.g_dim, H)
        self.decoder = FrameDecoder(C, c.channels, c.g_dim, H)
        self.predictor = PredictorLSTM(c.g_dim + z_features, c.g_dim, c.rnn_size, c.predictor_layers)

    def check(self, video: torch.Tensor):
        super().check(video)
        if video.shape[1] < 2:
            raise ValueError(f"{self.name} needs at least 2 frames, got video of shape {tuple(video.shape)}")

    def configure_optimizers(self, train):
        if self.config.requires_data == "kth":
            raise ConfigError(
                "preset paper-kth needs SVG's VGG encoder for KTH (persons 1-20 train, 21-25 test), which "
                "vidis does not build yet; the `kth` dataset loads KTH from disk (docs/platform.md) for "
                "the other presets. Use --preset paper or paper-smmnist"
            )
        return super().configure_optimizers(train)

    # -- pieces ---------------------------------------------------------------------------------
    def encode_frames(self, video: torch.Tensor):
        """video (B, T, C, H, W) -> h (B, T, g_dim) and skips[t] = [(B, w, s, s)] per frame t,
        every frame encoded once, one encoder call per time step (BatchNorm over the B frames of
        a step, as the public code; see the module docstring for why not one call)."""
        hs, skips = [], []
        for t in range(video.shape[1]):
            h, maps = self.encoder(video[:, t])  # (B, g_dim), [(B, w, s, s)]
            hs.append(h)
            skips.append(maps)
        return torch.stack(hs, 1), skips

    def decode_targets(self, g: torch.Tensor, skips: list[list[torch.Tensor]]) -> torch.Tensor:
        """g (B, T-1, g_dim) of targets 1..T-1 with the skips of `encode_frames` -> (B, T-1, C, H, W):
        target t reads the skips of frame min(t-1, c-2), as the code; one decoder call per step."""
        k = min(self.config.context_frames - 1, g.shape[1])
        return torch.stack([self.decoder(g[:, t], skips[min(t, k - 1)]) for t in range(g.shape[1])], 1)

    @contextmanager
    def generation_batchnorm(self):
        """While generating in eval mode with test_batchnorm="batch": BatchNorm normalises with the
        batch's statistics (as the public code's train-mode generation) and leaves the running
        averages and counters as they were."""
        norms = [m for m in self.modules() if isinstance(m, nn.BatchNorm2d)]
        if self.training or self.config.test_batchnorm != "batch":
            yield
            return
        saved = [(m.momentum, m.num_batches_tracked.clone()) for m in norms]
        for m in norms:
            m.train()
            m.momentum = 0.0  # running = (1 - 0) * running + 0 * batch: unchanged
        try:
            yield
        finally:
            for m, (momentum, tracked) in zip(norms, saved):
                m.momentum = momentum
                m.num_batches_tracked.copy_(tracked)
                m.eval()

    def sample_predictions(self, context, horizon, num_samples, generator):
        if context.shape[1] < 2:
            raise ConfigError(f"{self.name} predicts from at least 2 context frames, got {context.shape[1]}")
        B = context.shape[0]
        with self.generation_batchnorm():
            frames = self.generate_future(context.repeat(num_samples, 1, 1, 1, 1), horizon, generator)
        return frames.view(num_samples, B, horizon, *self.video_shape[1:])  # sample-major

    def swap_latents(self, video_a: torch.Tensor, video_b: torch.Tensor) -> torch.Tensor:
        """The z_t (B, T-1, Z) that regenerate clip A in a swap (each model's own)."""
        raise NotImplementedError

    @torch.no_grad()
    def swap(self, video_a: torch.Tensor, video_b: torch.Tensor) -> torch.Tensor:
        """Clip A regenerated autoregressively from its first frame and its skips, with the z_t of
        `swap_latents` (posterior means in eval mode), paper 003 section 4.3: (B, T_b, C, H, W);
        frame 0 is A's."""
        self.require("swap")
        self.check(video_a)
        self.check(video_b)
        if video_a.shape[0] != video_b.shape[0] or video_a.shape[1] < video_b.shape[1]:
            raise ValueError(f"swap needs equal batch sizes and clip A at least as long as B, got "
                             f"{tuple(video_a.shape)} and {tuple(video_b.shape)}")
        video_a = video_a[:, : video_b.shape[1]]
        return self.regenerate(video_a, self.swap_latents(video_a, video_b))

    def regenerate(self, video: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Frames 1..T-1 generated from frame 0, each fed back, with the given z_t (B, T-1, Z) and
        the skips of `video`'s frames min(t-1, c-2)."""
        T = video.shape[1]
        last_skip = max(min(self.config.context_frames, T) - 2, 0)
        _, skips = self.encode_frames(video[:, : last_skip + 1])
        frame, state, frames = video[:, 0], None, [video[:, 0]]
        for t in range(1, T):
            h = self.encoder(frame)[0][:, None]  # (B, 1, g)
            g, state = self.predictor(torch.cat([h, z[:, t - 1 : t]], -1), state)
            k = min(t - 1, last_skip)
            frame = self.decoder(g[:, 0], skips[k])
            frames.append(frame)
        return torch.stack(frames, 1)


# -- SVG-LP --------------------------------------------------------------------------------------

SVG_SMOKE = {
    "model": {"channels": 4, "g_dim": 8, "z_dim": 2, "rnn_size": 8, "context_frames": 2},
    "data": {"num_digits": 1, "num_frames": 4, "image_size": 32, "num_val": 8, "num_test": 8},
    "train": {"steps": 4, "batch_size": 4, "lr": 0.002, "eval_every": 2, "eval_batches": 1, "log_every": 1},
}
# `small`: narrower (nf 16, |h| 64, LSTMs 128), batch 16, 5 + 10 frames, 28.0 GFLOP a step (28.3
# for drsvg). Timed on 2 busy cores (2026-11-26 08:21 UTC, load 7.7, the 2048^3 matmul at 26
# GFLOP/s against 190 quiet): 2.85 s a step at best; scaled by 26/190, about 0.4 s quiet, so
# 5,000 steps take about 33 minutes per model (an estimate, not a quiet measurement).
SVG_SMALL = {
    "model": {"channels": 16, "g_dim": 64, "rnn_size": 128},
    "data": {"num_frames": 15},
    "train": {"steps": 5000, "batch_size": 16, "lr": 0.002, "eval_every": 1000, "eval_batches": 2,
              "log_every": 50},
}


@register_model("svg_lp")
class SVGLP(SVGBackbone):
    Config = SVGConfig
    latent_groups = {"motion": ("motion",)}  # one set of latents: no content/motion split
    presets = paper_presets({}, SVG_SMOKE, SVG_SMALL, kth={})

    def __init__(self, config: SVGConfig, video_shape):
        super().__init__(config, video_shape, config.z_dim)
        c = config
        self.posterior_lstm = GaussianLSTM(c.g_dim, c.z_dim, c.rnn_size, c.posterior_layers)
        self.prior_lstm = GaussianLSTM(c.g_dim, c.z_dim, c.rnn_size, c.prior_layers)
        init_weights(self)

    def posterior(self, video: torch.Tensor):
        """video (B, T, ...) -> (mean, logvar) of q(z_t | x_{0..t}) and of p(z_t | x_{0..t-1}),
        each (B, T-1, z_dim), for t = 1..T-1."""
        h, _ = self.encode_frames(video)
        post_mean, post_logvar, _ = self.posterior_lstm(h[:, 1:])
        prior_mean, prior_logvar, _ = self.prior_lstm(h[:, :-1])
        return (post_mean, post_logvar), (prior_mean, prior_logvar)

    def encode(self, video: torch.Tensor) -> Latents:
        """Posterior means of z_1..z_{T-1} as the motion part (B, T-1, z_dim); content is empty."""
        self.check(video)
        (mean, _), _ = self.posterior(video)
        return Latents(mean.new_zeros(mean.shape[0], 0), mean)

    def loss(self, batch: dict, step: int) -> ModelOutput:
        video = batch["video"]  # (B, T, C, H, W)
        self.check(video)
        B, T = video.shape[:2]
        h, skips = self.encode_frames(video)  # (B, T, g)
        post_mean, post_logvar, _ = self.posterior_lstm(h[:, 1:])  # q(z_t | x_{0..t}), t = 1..T-1
        prior_mean, prior_logvar, _ = self.prior_lstm(h[:, :-1])  # p(z_t | x_{0..t-1})
        z = reparameterize(post_mean, post_logvar, sample=self.training)  # (B, T-1, z)
        g, _ = self.predictor(torch.cat([h[:, :-1], z], -1))  # teacher forcing: true x_{t-1}
        predicted = self.decode_targets(g, skips)  # (B, T-1, C, H, W)
        mse = (predicted.float() - video[:, 1:].float()).pow(2).mean(dim=(0, 2, 3, 4)).sum()  # eq. 2
        kl = gaussian_kl(post_mean, post_logvar, prior_mean, prior_logvar).sum() / B
        loss = mse + self.config.beta * kl
        return ModelOutput(loss, {"mse": mse.detach() / (T - 1), "kl": kl.detach() / (T - 1)})

    def generate_future(self, context: torch.Tensor, horizon: int, generator) -> torch.Tensor:
        """context (N, Tc, C, H, W) -> one sampled future (N, horizon, C, H, W)."""
        Tc = context.shape[1]
        h, skips = self.encode_frames(context)
        post_mean, post_logvar, _ = self.posterior_lstm(h[:, 1:])  # on the true frames
        z = sample_gaussian(post_mean, post_logvar, generator)
        _, _, prior_state = self.prior_lstm(h[:, :-1])  # only advanced
        _, predictor_state = self.predictor(torch.cat([h[:, :-1], z], -1))  # output dropped
        skip = skips[Tc - 2]  # frozen at frame c-2, as the code
        h_in, frames = h[:, -1:], []  # (N, 1, g): the last context frame
        for t in range(horizon):
            prior_mean, prior_logvar, prior_state = self.prior_lstm(h_in, prior_state)
            z = sample_gaussian(prior_mean, prior_logvar, generator)  # (N, 1, z)
            g, predictor_state = self.predictor(torch.cat([h_in, z], -1), predictor_state)
            frame = self.decoder(g[:, 0], skip)  # (N, C, H, W)
            frames.append(frame)
            if t < horizon - 1:
                h_in = self.encoder(frame)[0][:, None]
        return torch.stack(frames, 1)

    def swap_latents(self, video_a, video_b):
        """SVG has one set of latents: all of clip B's z."""
        (mean, logvar), _ = self.posterior(video_b)
        return reparameterize(mean, logvar, sample=self.training)  # (B, T-1, z)

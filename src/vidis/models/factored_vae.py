"""Paper 002's hierarchical VAE with a factored static/temporal prior, and its two baselines.

Grathwohl & Wilson, "Disentangling Space and Time in Video with Hierarchical Variational
Auto-encoders" (`shared/papers/002_f3c58e00d6d7be88.txt`), sections 3-4.

Three models share one per-frame network (Tables 4 and 5) and differ only in the prior:

- `factored_vae` (ours, section 3): each frame's latent h_i = [h^s_i; h^t_i]. Static prior
  (eq. 7): h^s_0 ~ N(0, I), h^s_i ~ N(h^s_0, sigma_s^2 I); temporal prior (eq. 8): a Gaussian
  random walk h^t_1 ~ N(0, I), h^t_i ~ N(h^t_{i-1}, sigma_t^2 I). `Latents.content` is the
  per-frame static part (B, T, Fs), `Latents.motion` the temporal part (B, T, Ft); a swap
  puts A's static code of frame i beside B's temporal code of frame i.
- `slow_vae` (section 4, "a probabilistic variant of slow feature analysis"): the random-walk
  prior of eq. 8 on every feature.
- `vae002` (section 4, "a standard variational auto-encoder that operates on individual
  frames"): N(0, I) on every frame's features. Its own key, not paper 000's `frame_vae`: the
  paper keeps the network (and so the parameter count) equal across the three models.

`slow_vae` and `vae002` have no content/motion split: their features are `Latents.extra
["features"]` (B, T, D) with empty content and motion, their one latent group is "features",
and they cannot swap (a clear CapabilityError); paper 002 scores them with the D-score over
all splits of their features and with transfer accuracy (`vidis.eval.dscore`).

Network (Tables 4-5), frames folded into the batch: 3x3 convolutions with channels
w-w-2w-2w-4w-4w-8w-8w (w = `width`, 16 in the paper), stride 2 on every second layer,
BatchNorm before ReLU; flatten (8w x 4 x 4 at 64x64) -> linear 256 + BatchNorm + ReLU ->
linear heads for the mean and log sigma^2. Decoder: linear 256 + BN + ReLU -> linear to
8w x 4 x 4 (2,048) + BN + ReLU -> transposed 3x3 convolutions 8w(s1)-4w(s2)-4w(s1)-2w(s2)-
2w(s1)-w(s2)-w(s1)-1(s2) with BN + ReLU except the last, which gives Bernoulli logits.

Objective (eq. 5 with eqs. 13-18): Bernoulli NLL summed over pixels plus beta times the KL,
both summed over the batch and divided by batch x frames (as the public code's loss), so beta
= 1 is the ELBO per frame. The KL is analytic, KL = E_q[log q] - E_q[log p(h^s)] -
E_q[log p(h^t)] (eq. 13), per feature j and clip, with q(h_i) = N(mu_i, v_i) per frame:

- eq. 14: E_q[log q] = -(N/2) log 2 pi - (1/2) sum_i (1 + log v_i).
- eq. 15: E_q[log p(h^t)] = -(1/2) log 2 pi - (1/2)(mu_1^2 + v_1) - ((N-1)/2) log(2 pi sigma_t^2)
  - (1/(2 sigma_t^2)) sum_{i>=2} [(mu_i - mu_{i-1})^2 + v_i + v_{i-1}].
- eqs. 10-11, 16-18: integrating h^s_0 out of eq. 7 gives h^s ~ N(0, Sigma), Sigma = s I + 1 1^T
  (s = sigma_s^2). The extracted eq. 11 is garbled; we derived its normaliser ourselves:
  Sigma^{-1} = (I - 1 1^T / (s + N)) / s and det Sigma = s^{N-1} (s + N) (matrix determinant
  lemma), so log C = -(N/2) log 2 pi - ((N-1)/2) log s - (1/2) log(s + N), and
  h^T Sigma^{-1} h = (mean(h^2) - mean(h)^2) / (s/N) + mean(h)^2 / (s/N + 1), eq. 10's
  exponent. Under q, E[mean(h^2)] = sum_i (mu_i^2 + v_i) / N (eq. 17) and E[mean(h)^2] =
  E[mean(h^2)] / N + (2 / N^2) sum_{i<k} mu_i mu_k (eq. 18). We compute the same quantity in a
  form free of cancellation: E[mean(h^2) - mean(h)^2] = (1/N) sum_i (mu_i - mu_bar)^2 +
  ((N - 1) / N^2) sum_i v_i and E[mean(h)^2] = mu_bar^2 + sum_i v_i / N^2
  (`static_log_prior_eqs_16_18` keeps the literal eqs. 16-18 for the tests).
- `vae002`: the usual KL(N(mu, v) || N(0, I)) per frame.

The tests check each term against a Monte-Carlo estimate of E_q[log q - log p] under the
prior's exact density (`tests/test_factored_vae.py`).

Presets. Moving MNIST as the paper uses it ("Bouncing MNIST"): one digit, 16 frames (the
data sections of smoke/small/paper/paper-code); Table 1's latent sizes: ours 2 + 2, baselines
4. The `-chairs` presets are Table 1's rotating-objects runs (ours 4 + 4, baselines 8), for
`--data rotating_objects` (their data sections hold only options both datasets have).
`paper` (section 4.2): batch 64 clips of 16 frames (1,024 frames; the text trains the VAE
baseline on batches of 1,024 single frames: here 64 clips of 16 frames, the same number of
images but 16 from each clip), Adam 1e-3 times 0.1 every 10,000 of 30,000 steps,
sigma_s^2 = sigma_t^2 = 0.01, beta 1 (2 and 4 through `--set model.beta=...`). `small` (a
2-core CPU): widths 8 and 128 instead of 16 and 256, 800 steps of 8 clips (docs/paper002.md
says how it was sized). Parameters at `paper`: 1,643,945 with 4 features, 1,647,025 with 8
(the same for the three models; the paper gives no count).

**`paper-code`: the public code** (wgrathwohl/DeepLearningRefuse, `vhvae.py`, `networks.py`
`video_variational_encoder_large` / `video_variational_decoder_large`). Differences from the
text, and what vidis does about them:

- weight decay 5e-4 on every layer's weights (its `_variable_with_weight_decay`, an L2 term
  wd * sum(w^2) / 2 in the loss, which is Adam's coupled `weight_decay`): `paper-code` sets
  `train.weight_decay=5e-4`; in these models it reaches weight matrices and kernels only,
  never biases or BatchNorm parameters, as in the code (every preset).
- the decoder's transposed convolutions come in the other order within each pair (stride 2
  first, then a stride-1 layer that narrows the channels, ending with a stride-1 layer to 1
  channel): `decoder_order="code"`, 8w(s2)-4w(s1)-4w(s2)-2w(s1)-2w(s2)-w(s1)-w(s2)-1(s1).
- its temporal KL (`D_kl_t`) is not eq. 15 + eq. 14: it treats the first frame and each
  difference h_i - h_{i-1} as independent Gaussians N(mu_i - mu_{i-1}, v_i + v_{i-1}) and
  sums their KLs to N(0, sigma_t^2), so its entropy part counts log(v_i + v_{i-1}) instead of
  log v_i. vidis keeps the paper's eqs. 14-15 at every preset (documented, not copied).
- the D-score's classifiers are RBF `SVC`s, not linear SVMs (`vidis.eval.dscore`, variant
  "rbf", used by `vidis reproduce 002 --preset paper-code`).
- not reproduced: its He ("MSFT") / N(0, 0.01) initialisation (PyTorch defaults here) and its
  BatchNorm, whose "moving" statistics are the last training batch's rather than an average.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..config import TrainConfig
from ..errors import CapabilityError, ConfigError
from ..nn import gaussian_kl_standard, reparameterize
from ..registry import register_model
from ..types import Latents, ModelOutput
from .base import VideoModel

LOG_2PI = math.log(2 * math.pi)
DECODER_ORDERS = ("text", "code")


# -- the prior's KL terms (eqs. 13-18), per clip ---------------------------------------------------


def entropy_term(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Eq. 14: E_q[log q(h)] for per-frame posteriors N(mean, exp(logvar)): (B, N, F) -> (B,)."""
    _, N, Fdim = mean.shape
    return -0.5 * N * Fdim * LOG_2PI - 0.5 * (1 + logvar).sum((1, 2))


def random_walk_log_prior(mean: torch.Tensor, logvar: torch.Tensor, sigma_t2: float) -> torch.Tensor:
    """Eq. 15: E_q[log p(h^t)] under the random walk of eq. 8: (B, N, F) -> (B,)."""
    _, N, Fdim = mean.shape
    var = logvar.exp()
    first = -0.5 * Fdim * LOG_2PI - 0.5 * (mean[:, 0].pow(2) + var[:, 0]).sum(-1)  # (B,)
    steps = (mean[:, 1:] - mean[:, :-1]).pow(2) + var[:, 1:] + var[:, :-1]  # (B, N-1, F)
    rest = -0.5 * (N - 1) * Fdim * math.log(2 * math.pi * sigma_t2) - steps.sum((1, 2)) / (2 * sigma_t2)
    return first + rest


def static_log_normaliser(num_frames: int, sigma_s2: float) -> float:
    """log C of eq. 11 (derived, see the module doc): the log density of N(0, s I + 1 1^T) at 0."""
    N, s = num_frames, sigma_s2
    return -0.5 * N * LOG_2PI - 0.5 * (N - 1) * math.log(s) - 0.5 * math.log(s + N)


def static_log_prior(mean: torch.Tensor, logvar: torch.Tensor, sigma_s2: float) -> torch.Tensor:
    """Eqs. 16-18: E_q[log p(h^s)] under the hierarchical Gaussian of eq. 7: (B, N, F) -> (B,).

    Same value as `static_log_prior_eqs_16_18`, written without the cancellation of
    mean(h^2) - mean(h)^2 (see the module doc).
    """
    _, N, Fdim = mean.shape
    s = sigma_s2
    var = logvar.exp()
    mean_bar = mean.mean(1, keepdim=True)  # (B, 1, F)
    spread = (mean - mean_bar).pow(2).sum(1) / N + (N - 1) / N**2 * var.sum(1)  # (B, F)
    mean_sq = mean_bar[:, 0].pow(2) + var.sum(1) / N**2  # (B, F): E[mean(h)^2]
    exponent = spread / (s / N) + mean_sq / (s / N + 1)  # (B, F)
    return -0.5 * exponent.sum(-1) + Fdim * static_log_normaliser(N, s)


def static_log_prior_eqs_16_18(mean: torch.Tensor, logvar: torch.Tensor, sigma_s2: float) -> torch.Tensor:
    """Eqs. 16-18 as printed (with the derived log C): (B, N, F) -> (B,). For tests."""
    _, N, Fdim = mean.shape
    s = sigma_s2
    e_sq = (mean.pow(2) + logvar.exp()).sum(1) / N  # eq. 17, (B, F)
    cross = torch.zeros_like(e_sq)
    for i in range(N - 1):
        cross = cross + mean[:, i] * mean[:, i + 1 :].sum(1)
    e_mean_sq = e_sq / N + 2 / N**2 * cross  # eq. 18
    value = -N / (2 * s) * e_sq - (N / (2 * (s + N)) - N / (2 * s)) * e_mean_sq  # eq. 16
    return value.sum(-1) + Fdim * static_log_normaliser(N, s)


def static_kl(mean, logvar, sigma_s2: float) -> torch.Tensor:
    """KL(q(h^s) || p(h^s)) per clip: (B, N, F) -> (B,)."""
    return entropy_term(mean, logvar) - static_log_prior(mean, logvar, sigma_s2)


def temporal_kl(mean, logvar, sigma_t2: float) -> torch.Tensor:
    """KL(q(h^t) || p(h^t)) per clip: (B, N, F) -> (B,)."""
    return entropy_term(mean, logvar) - random_walk_log_prior(mean, logvar, sigma_t2)


def sample_static_prior(n: int, num_frames: int, dim: int, sigma_s2: float) -> torch.Tensor:
    """Eq. 7: (n, T, F), h^s_0 ~ N(0, I), h^s_i = h^s_0 + sigma_s eps_i."""
    centre = torch.randn(n, 1, dim)
    return centre + math.sqrt(sigma_s2) * torch.randn(n, num_frames, dim)


def sample_random_walk(n: int, num_frames: int, dim: int, sigma_t2: float) -> torch.Tensor:
    """Eq. 8: (n, T, F), h^t_1 ~ N(0, I), h^t_i = h^t_{i-1} + sigma_t eps_i."""
    steps = math.sqrt(sigma_t2) * torch.randn(n, num_frames, dim)
    steps[:, 0] = torch.randn(n, dim)
    return steps.cumsum(1)


# -- the network of Tables 4 and 5 ----------------------------------------------------------------


def _conv_block(conv: nn.Module, channels: int) -> list[nn.Module]:
    return [conv, nn.BatchNorm2d(channels), nn.ReLU(inplace=True)]


class FrameEncoder(nn.Module):
    """Table 4: frames (N, C, S, S) -> (mean, logvar), each (N, latent_dim)."""

    def __init__(self, in_channels: int, image_size: int, latent_dim: int, width: int = 16,
                 hidden: int = 256):
        super().__init__()
        widths = [width, width, 2 * width, 2 * width, 4 * width, 4 * width, 8 * width, 8 * width]
        layers, prev = [], in_channels
        for i, ch in enumerate(widths):
            stride = 2 if i % 2 else 1  # "b" layers halve the size
            layers += _conv_block(nn.Conv2d(prev, ch, 3, stride, 1, bias=False), ch)
            prev = ch
        self.convs = nn.Sequential(*layers)
        side = image_size // 16
        self.fc = nn.Sequential(
            nn.Linear(prev * side * side, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True)
        )
        self.to_mean = nn.Linear(hidden, latent_dim)
        self.to_logvar = nn.Linear(hidden, latent_dim)

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.fc(self.convs(frames).flatten(1))  # (N, hidden)
        return self.to_mean(features), self.to_logvar(features)


class FrameDecoder(nn.Module):
    """Table 5 (order "text") or the public code's decoder (order "code"): (N, D) -> logits (N, C, S, S)."""

    def __init__(self, latent_dim: int, out_channels: int, image_size: int, width: int = 16,
                 hidden: int = 256, order: str = "text"):
        super().__init__()
        self.top = 8 * width
        self.side = image_size // 16
        self.fc = nn.Sequential(
            nn.Linear(latent_dim, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, self.top * self.side**2, bias=False), nn.BatchNorm1d(self.top * self.side**2),
            nn.ReLU(inplace=True),
        )
        w = width
        if order == "text":  # Table 5: (channels, stride), stride 1 then stride 2
            plan = [(8 * w, 1), (4 * w, 2), (4 * w, 1), (2 * w, 2), (2 * w, 1), (w, 2), (w, 1),
                    (out_channels, 2)]
        else:  # networks.py: stride 2 (same width) then stride 1 (narrower); last layer stride 1
            plan = [(8 * w, 2), (4 * w, 1), (4 * w, 2), (2 * w, 1), (2 * w, 2), (w, 1), (w, 2),
                    (out_channels, 1)]
        layers, prev = [], self.top
        for i, (ch, stride) in enumerate(plan):
            last = i == len(plan) - 1
            conv = nn.ConvTranspose2d(prev, ch, 3, stride, 1, output_padding=stride - 1, bias=last)
            layers += [conv] if last else _conv_block(conv, ch)
            prev = ch
        self.convs = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        hidden = self.fc(z).view(-1, self.top, self.side, self.side)  # (N, 8w, S/16, S/16)
        return self.convs(hidden)


# -- configs ---------------------------------------------------------------------------------------


@dataclass
class Paper002Config:
    """What the three models share. `latent_dim` sizes the baselines; factored_vae uses
    static_dim + temporal_dim instead (FactoredVAEConfig)."""

    latent_dim: int = 4
    width: int = 16  # first conv's channels (Table 4: 16); the rest are 1, 2, 2, 4, 4, 8, 8 times it
    hidden: int = 256  # encoder's Linear 5 and decoder's Linear 1 (Tables 4-5)
    beta: float = 1.0  # KL weight (eq. 5)
    sigma_s2: float = 0.01
    sigma_t2: float = 0.01
    decoder_order: str = "text"  # "text": Table 5; "code": the public code's networks.py
    lr_decay_every: int = 0  # >0: learning rate times lr_decay_factor every this many steps
    lr_decay_factor: float = 0.1

    def validate(self):
        for name in ("latent_dim", "width", "hidden", "lr_decay_every"):
            low = 0 if name == "lr_decay_every" else 1
            if getattr(self, name) < low:
                raise ConfigError(f"model.{name} must be >= {low}, got {getattr(self, name)!r}")
        if self.beta < 0:
            raise ConfigError(f"model.beta must be >= 0, got {self.beta!r}")
        for name in ("sigma_s2", "sigma_t2", "lr_decay_factor"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"model.{name} must be > 0, got {getattr(self, name)!r}")
        if self.decoder_order not in DECODER_ORDERS:
            raise ConfigError(f"model.decoder_order must be one of {', '.join(DECODER_ORDERS)}, "
                              f"got {self.decoder_order!r}")


@dataclass
class FactoredVAEConfig(Paper002Config):
    static_dim: int = 2  # features of h^s per frame
    temporal_dim: int = 2  # features of h^t per frame

    def validate(self):
        super().validate()
        for name in ("static_dim", "temporal_dim"):
            if getattr(self, name) < 1:
                raise ConfigError(f"model.{name} must be >= 1, got {getattr(self, name)!r}")


# -- presets ---------------------------------------------------------------------------------------

MNIST = {"num_digits": 1, "num_frames": 16}  # "Bouncing MNIST" as the paper uses it
SMOKE_TRAIN = {"steps": 4, "batch_size": 2, "eval_every": 2, "eval_batches": 1, "log_every": 1}
# `small`: 18 such runs (Table 1) fit 90 minutes of a quiet 2-core CPU; see docs/paper002.md
SMALL_TRAIN = {"steps": 800, "batch_size": 8, "lr": 1e-3, "eval_every": 400, "eval_batches": 2,
               "log_every": 20}
PAPER_TRAIN = {"steps": 30000, "batch_size": 64, "lr": 1e-3, "eval_every": 1000, "log_every": 50}
PAPER_MODEL = {"lr_decay_every": 10000, "lr_decay_factor": 0.1, "sigma_s2": 0.01, "sigma_t2": 0.01}
CODE_MODEL = {**PAPER_MODEL, "decoder_order": "code"}
SMALL_MODEL = {"width": 8, "hidden": 128}


def make_presets(sizes: dict, chair_sizes: dict) -> dict:
    """The four scales on Bouncing MNIST (Table 1 sizes `sizes`) and their `-chairs` twins."""
    presets = {}
    for suffix, model, data in (("", sizes, MNIST), ("-chairs", chair_sizes, {"num_frames": 16})):
        presets[f"smoke{suffix}"] = {
            "model": {**model, "width": 2, "hidden": 8},
            "data": {**data, "num_frames": 6, "num_val": 4, "num_test": 4},  # 6: the order task needs 5
            "train": SMOKE_TRAIN,
        }
        presets[f"small{suffix}"] = {"model": {**model, **SMALL_MODEL}, "data": data, "train": SMALL_TRAIN}
        presets[f"paper{suffix}"] = {"model": {**model, **PAPER_MODEL}, "data": data, "train": PAPER_TRAIN}
        presets[f"paper-code{suffix}"] = {
            "model": {**model, **CODE_MODEL}, "data": data, "train": {**PAPER_TRAIN, "weight_decay": 5e-4},
        }
    return presets


# -- the models ------------------------------------------------------------------------------------


class Paper002VAE(VideoModel):
    """The per-frame network of Tables 4-5 with a prior over the clip's frame latents.

    Subclasses give `kl_terms(mean, logvar) -> {name: (B,)}`, `sample_prior` and how the D
    features map to `Latents`. `posterior(video)` returns (mean, logvar), each (B, T, D).
    """

    Config = Paper002Config
    capabilities = frozenset({"reconstruct", "generate"})
    latent_groups = {"features": ("features",)}
    static_dims: tuple[int, ...] | None = None  # the model's own static features, where it has a split

    def __init__(self, config: Paper002Config, video_shape):
        super().__init__(config, video_shape)
        _, C, H, W = video_shape
        if H != W or H % 16:
            raise ConfigError(f"{self.name} needs square frames with a side divisible by 16, got {H}x{W}")
        self.encoder = FrameEncoder(C, H, self.latent_dim, config.width, config.hidden)
        self.decoder = FrameDecoder(self.latent_dim, C, H, config.width, config.hidden, config.decoder_order)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    # -- per-frame posterior and decoder
    def posterior(self, video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """video (B, T, C, H, W) -> (mean, logvar) of q(h_i | x_i) (eq. 12), each (B, T, D)."""
        B, T = video.shape[:2]
        mean, logvar = self.encoder(video.flatten(0, 1))  # (B*T, D) each
        return mean.view(B, T, -1), logvar.view(B, T, -1)

    def frame_features(self, video: torch.Tensor) -> torch.Tensor:
        """Posterior means per frame (B, T, D): what the D-score classifies."""
        self.check(video)
        return self.posterior(video)[0]

    def decode_logits(self, h: torch.Tensor) -> torch.Tensor:
        """h (B, T, D) -> logits (B, T, C, H, W)."""
        B, T = h.shape[:2]
        return self.decoder(h.flatten(0, 1)).view(B, T, *self.video_shape[1:])

    def to_latents(self, h: torch.Tensor) -> Latents:
        empty = h[..., :0]  # (B, T, 0): no content/motion split
        return Latents(empty, empty, {"features": h})

    def from_latents(self, latents: Latents) -> torch.Tensor:
        return latents.part("features")

    def encode(self, video: torch.Tensor) -> Latents:
        return self.to_latents(self.frame_features(video))

    def decode(self, latents: Latents, num_frames: int) -> torch.Tensor:
        h = self.from_latents(latents)  # (B, T, D)
        if h.shape[1] != num_frames:
            raise ValueError(f"{self.name} decodes one frame per latent: got {h.shape[1]} latents "
                             f"for {num_frames} frames")
        return torch.sigmoid(self.decode_logits(h))

    def swap(self, video_a, video_b):
        if "swap" not in self.capabilities:
            raise CapabilityError(
                f"{self.name} has no content/motion split, so it cannot swap (paper 002 scores it with "
                "the D-score over all splits of its features and with transfer accuracy); factored_vae can"
            )
        return super().swap(video_a, video_b)

    def sample_latents(self, n: int, num_frames: int) -> Latents:
        device = next(self.parameters()).device
        return self.to_latents(self.sample_prior(n, num_frames).to(device))

    # -- objective
    def kl_terms(self, mean, logvar) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def sample_prior(self, n: int, num_frames: int) -> torch.Tensor:
        raise NotImplementedError

    def loss(self, batch: dict, step: int) -> ModelOutput:
        """Eq. 5: NLL + beta KL, each summed and divided by batch x frames."""
        video = batch["video"]  # (B, T, C, H, W)
        B, T = video.shape[:2]
        mean, logvar = self.posterior(video)
        mean, logvar = mean.float(), logvar.float()
        h = reparameterize(mean, logvar, sample=self.training)  # (B, T, D)
        logits = self.decode_logits(h)
        recon = F.binary_cross_entropy_with_logits(logits.float(), video, reduction="sum") / (B * T)
        kls = {name: kl.sum() / (B * T) for name, kl in self.kl_terms(mean, logvar).items()}
        kl = sum(kls.values())
        beta = self.config.beta
        terms = {"recon": recon.detach(), "kl": kl.detach(), "beta": torch.tensor(beta)}
        if len(kls) > 1:
            terms.update({name: value.detach() for name, value in kls.items()})
        return ModelOutput(recon + beta * kl, terms)

    def configure_optimizers(self, train: TrainConfig) -> dict:
        """Adam; `train.weight_decay` on weight matrices and kernels only (the public code's
        `_variable_with_weight_decay`); the learning rate times `lr_decay_factor` every
        `lr_decay_every` steps (section 4.2), else `train.lr_schedule`."""
        from ..train.optim import Optim, make_scheduler  # noqa: PLC0415

        params = [p for p in self.parameters() if p.requires_grad]
        groups = [
            {"params": [p for p in params if p.dim() > 1], "weight_decay": train.weight_decay},
            {"params": [p for p in params if p.dim() <= 1], "weight_decay": 0.0},
        ]
        adam = torch.optim.Adam(groups, lr=train.lr, betas=(train.adam_beta1, train.adam_beta2))
        c = self.config
        if c.lr_decay_every > 0:
            scheduler = torch.optim.lr_scheduler.StepLR(adam, c.lr_decay_every, c.lr_decay_factor)
        else:
            scheduler = make_scheduler(adam, train)
        return {"main": Optim(adam, scheduler)}


@register_model("factored_vae")
class FactoredVAE(Paper002VAE):
    """Paper 002's factored VAE (section 3): a static hierarchical prior on h^s, a random walk on h^t."""

    Config = FactoredVAEConfig
    capabilities = frozenset({"reconstruct", "swap", "interpolate", "generate"})
    latent_groups = {"content": ("content",), "motion": ("motion",)}
    presets = make_presets({"static_dim": 2, "temporal_dim": 2}, {"static_dim": 4, "temporal_dim": 4})

    @property
    def latent_dim(self) -> int:
        return self.config.static_dim + self.config.temporal_dim

    @property
    def static_dims(self) -> tuple[int, ...]:
        return tuple(range(self.config.static_dim))

    def to_latents(self, h: torch.Tensor) -> Latents:
        Fs = self.config.static_dim
        return Latents(h[..., :Fs], h[..., Fs:])  # content (B, T, Fs), motion (B, T, Ft)

    def from_latents(self, latents: Latents) -> torch.Tensor:
        return torch.cat([latents.content, latents.motion], -1)

    def combine(self, content_from: Latents, motion_from: Latents) -> Latents:
        """A's static code of frame i with B's temporal code of frame i. Clips of other lengths:
        A's static codes averaged over its frames, on every frame of B."""
        content = content_from.content  # (B, Ta, Fs)
        Tb = motion_from.motion.shape[1]
        if content.shape[1] != Tb:
            content = content.mean(1, keepdim=True).expand(-1, Tb, -1)
        return motion_from.replace({"content": content})

    def kl_terms(self, mean, logvar):
        Fs = self.config.static_dim
        return {
            "kl_static": static_kl(mean[..., :Fs], logvar[..., :Fs], self.config.sigma_s2),
            "kl_temporal": temporal_kl(mean[..., Fs:], logvar[..., Fs:], self.config.sigma_t2),
        }

    def sample_prior(self, n: int, num_frames: int) -> torch.Tensor:
        c = self.config
        static = sample_static_prior(n, num_frames, c.static_dim, c.sigma_s2)
        return torch.cat([static, sample_random_walk(n, num_frames, c.temporal_dim, c.sigma_t2)], -1)


@register_model("slow_vae")
class SlowVAE(Paper002VAE):
    """Paper 002's slow-feature baseline (section 4): the random walk of eq. 8 on every feature."""

    presets = make_presets({"latent_dim": 4}, {"latent_dim": 8})

    def kl_terms(self, mean, logvar):
        return {"kl": temporal_kl(mean, logvar, self.config.sigma_t2)}

    def sample_prior(self, n: int, num_frames: int) -> torch.Tensor:
        return sample_random_walk(n, num_frames, self.config.latent_dim, self.config.sigma_t2)


@register_model("vae002")
class FrameVAE002(Paper002VAE):
    """Paper 002's VAE baseline (section 4): N(0, I) on every frame's features."""

    presets = make_presets({"latent_dim": 4}, {"latent_dim": 8})

    def kl_terms(self, mean, logvar):
        return {"kl": gaussian_kl_standard(mean, logvar).sum(1)}  # (B, T) -> (B,)

    def sample_prior(self, n: int, num_frames: int) -> torch.Tensor:
        return torch.randn(n, num_frames, self.config.latent_dim)

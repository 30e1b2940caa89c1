"""VDSM: Video Disentanglement via State-Space Modelling, paper 004
(`shared/papers/004_edbc3f1d80486fa2.txt`, section 3, eqs. 1-7, Figs. 2-4).

Generative model (eq. 1): identity s ~ p(s), mixture weights w = softmax(kappa * s) over N
decoders ("experts"), dynamics d ~ p(d), pose z_1 ~ N(0, I), z_t ~ N(mu_tr(z_{t-1}, d),
sigma_tr(z_{t-1}, d)) by the gated transition (eq. 6), frames x_t ~ Bernoulli(DEC_w(z_t, .)).
The decoder is a bank of N transposed-convolution decoders whose weights and biases are
blended per clip by w (`MixtureDecoder`).

Inference (eqs. 2, 5): a blur-pooled conv encoder of every frame (ENC, Zhang 2019's
anti-aliased downsampling) with a pose head (per-frame z loc/scale) and an identity head;
q(s | x) from the identity embeddings averaged over the frames through f_s, so s is exactly
invariant to frame order (the mean sorts each feature over time first: float sums in one
order); q(d | x) from the final hidden states of a BiLSTM over the pose
embeddings (f_d); a seq2seq decoder LSTM whose hidden and cell states start from d, fed its
own previous output, whose states h_t go with z_{t-1} and d into the combiner (eq. 5) that
gives q(z_t | z_{t-1}, x, d).

Loss: stage 1 (eq. 7, `pretrain`) treats frames as i.i.d. within a clip: BCE + lambda_z
KL(q(z_t | x_t) || N(0, I)) + lambda_s KL(q(s | x) || p(s)), training the encoder, f_s and the
decoder bank. Stage 2 (eq. 4, `sequence`) is the full ELBO: z from the combiner, KL of z_1
against N(0, I) and of z_t against the transition, lambda_d KL for d, lambda_s KL for s, with
the encoder and decoder frozen (the trainer's stage mechanism: `stages`). Every term is
summed over frames and latent dimensions and averaged over clips. Latents are sampled in
train mode and are posterior means in eval mode.

Latents: content = s (B, N), before the temperature and the softmax; motion = d (B, Dd);
extra "pose" = the pose sequence (B, T, Dz): the encoder's per-frame means until stage 2
has trained (`sequence_trained`), then the combiner's means rolled out from d, as the
paper's code reconstructs. Groups: content = (s,), motion = (d, pose). `decode` draws the
pose sequence and continues it past its end with the transition's means (generation longer
than the training clips). `mix` of the content group blends the mixture *weights*
linearly (s = log((1 - a) w_A + a w_B) / kappa), since a linear blend of s is not a blend of
experts.

`blend` picks how the decoder applies per-clip blended weights, none with a Python loop over
clips: "grouped" (the blended weights of each clip, one grouped transposed convolution per
layer with the clips as groups), "stacked" (a transposed convolution is linear in its
weights, so conv(x, sum_n w_n W_n) = conv([w_1 x; ...; w_N x], [W_1; ...; W_N]): one dense
convolution over N times the input channels), "experts" (a loop over the N experts, each a
batched convolution, outputs weighted per clip), "auto" (the default: grouped for every
layer; on a quiet 2-core CPU, 2026-11-26 10:50 UTC, load below 2, the decoder's forward +
backward of 8-frame clips took, grouped / grouped-but-stacked-output / stacked / loop: 0.29 /
0.83 / 1.27 / 0.28 s at `small`, batch 32, and 0.83 / 4.22 / 21.3 / 1.06 s at `paper`, batch 8;
an earlier rule that stacked the output layer came from timings under load 10 and is gone),
or "loop" (a Python loop over clips:
the reference the others replace, for tests and the benchmark only).

Where `paper` (the text) and `paper-code` (matthewvowels1/DisentanglingSequences,
`VDSM_release`: modules.py, VDSM.py, train_test.py, full_train.sh) differ:

- temperature: the text divides s by tau_s, "increasing" it; the code multiplies s by kappa
  (`temp_id`) rising 1 -> 10 on a cosine over the first half of stage 1, 10 in stage 2.
  `paper` multiplies by kappa rising linearly 1 -> 10 over stage 1 (the text gives no values).
- decoder input: the text concatenates z with s; the code with the softmax weights w
  (`decoder_input`).
- f_s: the text averages the identity embeddings, then applies f_s; the code applies f_s to
  each frame, then averages (`average_before_fs`). Both are frame-order invariant.
- stage-1 data: the code's batches hold two clips of one identity (16 frames): the sprites
  data view `clips_per_identity` 2 (`group_clips`); the text groups images of one identity.
- stage 2 trains the seq2seq, combiner, transition and f_s in the code; the text also the
  final encoder layers (pose and identity heads) (`finetune_heads`).
- KL weights: the text's linear ramps (stage 1: lambda_s 0.1 -> 1, lambda_z 30 -> 1; stage
  2: lambda_z 0.1 -> 1, lambda_s = lambda_d = 1); the code's `annealing()` with its
  full_train.sh values: lambda_s a cosine 0.1 -> 1 over the first third of each stage;
  lambda_z a quadratic spline through 30, 0.2, 0.4, 1 at 0, 1/2, 4/5 and the end of stage 1
  and 0.1, 0.4, 0.4, 1 in stage 2 (clipped to [0.005, 80]); lambda_d a cosine 0.1 -> 1 over
  stage 2 (`schedules`).
- priors: the text's are unit Gaussians; the code's p(s) has scale 1/N and p(d) 1/Dd.
- combiner: the text adds tanh(f(z_{t-1})) to [h_t, d]; the code first maps [h_t, d] through
  a linear + LeakyReLU to the LSTM width. Transition: the text's skip f5 reads [z_{t-1}, d];
  the code's reads z_{t-1} only and starts as the identity.
- the code's conv encoder uses `nn.LeakyReLU(True)`, i.e. negative slope 1.0 (no
  non-linearity); `paper-code` keeps that (`encoder_slope`), `paper` uses 0.01. The code's
  BiLSTM has dropout 0.1 and learned initial states; the decoder bank is initialised with
  kaiming_uniform(a=sqrt(5)) over each 5-D bank (`decoder_init` "code").
- both: Adam 1e-3, batch 20, 200 epochs of 50 batches per stage (20,000 steps), N = 40,
  Dz = 30, Dd = 50, LSTMs 3 x 512 (sizes from the code; the text gives none).

Not reproduced: Pyro's SVI (the same ELBO is written with torch.distributions-style closed
forms), the code's learned initial BiLSTM states (zeros here). Scales are softplus + 1e-4.
Parameters at `paper-code`: see `vidis list --params` (about 133M at N = 40, in the bank).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from ..registry import register_model
from ..types import Latents, ModelOutput, Stage
from .base import VideoModel

MIN_SCALE = 1e-4
BLENDS = ("auto", "grouped", "stacked", "experts", "loop")


@dataclass
class VDSMConfig:
    num_experts: int = 40  # N, also the size of s
    pose_dim: int = 30  # Dz
    dynamics_dim: int = 50  # Dd
    encoder_channels: tuple[int, ...] = (32, 32, 64, 64, 256)
    decoder_channels: tuple[int, ...] = (512, 256, 128, 64)
    identity_hidden: int = 128
    lstm_hidden: int = 512
    lstm_layers: int = 3
    lstm_dropout: float = 0.0
    transition_hidden: int = 512
    encoder_slope: float = 0.01
    decoder_input: str = "static"  # "static" (text: z with s) or "weights" (code: z with w)
    average_before_fs: bool = True
    combiner: str = "text"  # "text" or "code"
    transition_skip: str = "text"  # "text": f5([z, d]); "code": identity-initialised f5(z)
    priors: str = "unit"  # "unit" or "code" (p(s) scale 1/N, p(d) scale 1/Dd)
    schedules: str = "text"  # "text" (linear ramps) or "code" (train_test.py annealing())
    kappa_start: float = 1.0
    kappa_end: float = 10.0
    pretrain_steps: int = 10000  # stage 1 length; stage 2 runs to train.steps
    sequence_steps: int = 10000  # stage 2 length the schedules span
    group_clips: int = 1  # >1: stage 1 reads items of this many clips of one identity
    finetune_heads: bool = True  # stage 2 also trains the encoder's pose and identity heads
    blend: str = "auto"  # "auto", "grouped", "stacked", "experts" or "loop" (reference only)
    decoder_init: str = "torch"  # "torch" (per expert) or "code" (kaiming over the 5-D bank)
    encoder_norm: bool = False  # BatchNorm after each encoder conv (not in the paper; `small`)

    def validate(self):
        for name in ("num_experts", "pose_dim", "dynamics_dim", "identity_hidden", "lstm_hidden",
                     "lstm_layers", "transition_hidden", "pretrain_steps", "sequence_steps", "group_clips"):
            if getattr(self, name) < 1:
                raise ConfigError(f"vdsm: model.{name} must be >= 1, got {getattr(self, name)!r}")
        if len(self.encoder_channels) != 5 or min(self.encoder_channels) < 1:
            raise ConfigError(f"vdsm: model.encoder_channels must be 5 positive widths, "
                              f"got {self.encoder_channels}")
        choices = {"decoder_input": ("static", "weights"), "combiner": ("text", "code"),
                   "transition_skip": ("text", "code"), "priors": ("unit", "code"),
                   "schedules": ("text", "code"), "blend": BLENDS,
                   "decoder_init": ("torch", "code")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"vdsm: model.{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if not 0 <= self.lstm_dropout < 1 or self.kappa_start <= 0 or self.kappa_end <= 0:
            raise ConfigError("vdsm: need 0 <= lstm_dropout < 1 and kappa_start, kappa_end > 0")


def positive(x: torch.Tensor) -> torch.Tensor:
    return F.softplus(x) + MIN_SCALE


def frame_mean(x: torch.Tensor) -> torch.Tensor:
    """Mean over frames (B, T, D) -> (B, D), exactly invariant to frame order: each feature's
    values are sorted over time before the sum, so every order adds them in the same order."""
    return x.sort(1).values.mean(1)


def gaussian_kl(mean_q, scale_q, mean_p, scale_p) -> torch.Tensor:
    """KL(N(mean_q, scale_q^2) || N(mean_p, scale_p^2)), summed over the last dimension."""
    ratio = (scale_q / scale_p).pow(2)
    return 0.5 * (ratio + ((mean_q - mean_p) / scale_p).pow(2) - 1 - ratio.log()).sum(-1)


class BlurPool(nn.Module):
    """Anti-aliased downsampling (Zhang 2019): reflect pad (1, 2, 1, 2), a fixed depthwise
    [1, 3, 3, 1] x [1, 3, 3, 1] / 64 filter, stride 2."""

    def __init__(self, channels: int):
        super().__init__()
        taps = torch.tensor([1.0, 3.0, 3.0, 1.0])
        kernel = torch.outer(taps, taps) / 64
        self.register_buffer("kernel", kernel.expand(channels, 1, 4, 4).clone(), persistent=False)

    def forward(self, x):
        return F.conv2d(F.pad(x, (1, 2, 1, 2), mode="reflect"), self.kernel, stride=2, groups=x.shape[1])


class Encoder(nn.Module):
    """ENC: k4 s1 convolutions, the first four each followed by a BlurPool of stride 2, the
    last covering what is left (1x1 out); a pose head and an identity head (section 3.1)."""

    def __init__(self, channels: int, size: int, c: VDSMConfig):
        super().__init__()
        layers, width = [], channels
        for out in c.encoder_channels[:4]:
            layers += [nn.Conv2d(width, out, 4, 1, 1)]
            layers += [nn.BatchNorm2d(out)] if c.encoder_norm else []
            layers += [nn.LeakyReLU(c.encoder_slope), BlurPool(out)]
            width = out
        with torch.no_grad():
            left = nn.Sequential(*layers)(torch.zeros(1, channels, size, size)).shape[-1]
        layers += [nn.Conv2d(width, c.encoder_channels[4], left), nn.LeakyReLU(c.encoder_slope), nn.Flatten()]
        self.convs = nn.Sequential(*layers)
        features = c.encoder_channels[4]
        self.pose_head = nn.Linear(features, 2 * c.pose_dim)
        self.identity_head = nn.Sequential(nn.Linear(features, c.identity_hidden), nn.LeakyReLU(),
                                           nn.Linear(c.identity_hidden, 2 * c.num_experts))

    def forward(self, frames):
        """frames (M, C, H, W) -> pose (loc, scale) (M, Dz), identity (loc, scale) (M, N)."""
        features = self.convs(frames)  # (M, F)
        pose_loc, pose_scale = self.pose_head(features).chunk(2, -1)
        id_loc, id_scale = self.identity_head(features).chunk(2, -1)
        return (pose_loc, positive(pose_scale)), (id_loc, positive(id_scale))


class MixtureDecoder(nn.Module):
    """DEC: N transposed-convolution decoders blended per clip (section 3.1, "Mixture of
    Experts Decoder"): layer 0 maps the 1x1 input to 4x4 (k4 s1 p0), then k4 s2 p1 layers
    double the size up to the frame; LeakyReLU between layers, logits out."""

    def __init__(self, in_features: int, channels: int, size: int, c: VDSMConfig):
        super().__init__()
        made = 4 * 2 ** len(c.decoder_channels)
        if made != size:
            raise ConfigError(
                f"vdsm: {len(c.decoder_channels)} decoder_channels give {made}-pixel "
                f"frames, the data have {size}; use log2({size} / 4) widths"
            )
        widths = [in_features, *c.decoder_channels, channels]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for cin, cout in zip(widths[:-1], widths[1:]):
            bank = torch.empty(c.num_experts, cin, cout, 4, 4)
            if c.decoder_init == "code":  # kaiming_uniform(a=sqrt(5)) over the whole 5-D bank
                nn.init.kaiming_uniform_(bank, a=math.sqrt(5))
            else:  # each expert as torch initialises a ConvTranspose2d
                for expert in bank:
                    nn.init.kaiming_uniform_(expert, a=math.sqrt(5))
            self.weights.append(nn.Parameter(bank))
            self.biases.append(nn.Parameter(torch.zeros(c.num_experts, cout)))
        self.blend = c.blend

    @staticmethod
    def geometry(layer: int) -> tuple[int, int]:
        return (1, 0) if layer == 0 else (2, 1)  # (stride, padding)

    def forward(self, inputs: torch.Tensor, weights: torch.Tensor, blend: str | None = None) -> torch.Tensor:
        """inputs (B, T, F), mixture weights (B, N) -> logits (B, T, C, H, W)."""
        blend = blend or self.blend
        B, T = inputs.shape[:2]
        last = len(self.weights) - 1
        x = inputs.reshape(B, T, -1, 1, 1)  # (B, T, F, 1, 1)
        for layer, (bank, bias_bank) in enumerate(zip(self.weights, self.biases)):
            stride, padding = self.geometry(layer)
            bias = weights @ bias_bank  # (B, Cout)
            mode = "grouped" if blend == "auto" else blend
            if mode == "grouped":  # one grouped transposed convolution, the clips as groups
                blended = torch.einsum("bn,nioxy->bioxy", weights, bank)  # (B, Cin, Cout, 4, 4)
                cin, cout = bank.shape[1:3]
                frames = x.transpose(0, 1).reshape(T, B * cin, *x.shape[-2:])  # (T, B*Cin, h, w)
                blended = blended.reshape(B * cin, cout, 4, 4)
                y = F.conv_transpose2d(frames, blended, None, stride, padding, groups=B)
                y = y.view(T, B, cout, *y.shape[-2:]).transpose(0, 1)  # (B, T, Cout, h', w')
            elif mode == "stacked":  # conv(x, sum_n w_n W_n) = conv([w_1 x, ..., w_N x], [W_1; ...; W_N])
                N, cin, cout = bank.shape[:3]
                scaled = weights[:, None, :, None, None, None] * x[:, :, None]  # (B, T, N, Cin, h, w)
                stacked = scaled.flatten(0, 1).flatten(1, 2)  # (B*T, N*Cin, h, w)
                y = F.conv_transpose2d(stacked, bank.reshape(N * cin, cout, 4, 4), None, stride, padding)
                y = y.view(B, T, *y.shape[1:])
            elif mode == "experts":  # a loop over experts: conv(x, sum_n w_n W_n) = sum_n w_n conv(x, W_n)
                frames = x.flatten(0, 1)  # (B*T, Cin, h, w)
                y = 0
                for n in range(bank.shape[0]):
                    out = F.conv_transpose2d(frames, bank[n], None, stride, padding)
                    y = y + weights[:, n].repeat_interleave(T)[:, None, None, None] * out
                y = y.view(B, T, *y.shape[1:])
            elif mode == "loop":  # the per-clip loop the others replace (reference only)
                blended = torch.einsum("bn,nioxy->bioxy", weights, bank)
                y = torch.stack([F.conv_transpose2d(x[b], blended[b], None, stride, padding)
                                 for b in range(B)])
            else:
                raise ValueError(f"blend must be one of {BLENDS}, got {blend!r}")
            x = y + bias[:, None, :, None, None]
            if layer < last:
                x = F.leaky_relu(x, 0.01)
        return x  # (B, T, C, H, W) logits


class SeqDecoder(nn.Module):
    """The seq2seq decoder LSTM: (h_0, c_0) from d, fed its own previous output from a learned
    first input (section 3.1, "Dynamics Layer and LSTMs"); yields h_t (B, H) per step."""

    def __init__(self, c: VDSMConfig):
        super().__init__()
        self.layers, self.hidden = c.lstm_layers, c.lstm_hidden
        self.lstm = nn.LSTM(c.lstm_hidden, c.lstm_hidden, c.lstm_layers, batch_first=True)
        self.state = nn.Linear(c.dynamics_dim, 2 * c.lstm_layers * c.lstm_hidden)  # d -> (h_0, c_0)
        self.first_input = nn.Parameter(torch.zeros(c.lstm_hidden))

    def forward(self, dynamics, num_frames: int):
        B = dynamics.shape[0]
        state = self.state(dynamics).view(B, 2, self.layers, self.hidden)
        h = state[:, 0].transpose(0, 1).contiguous()  # (L, B, H)
        cell = state[:, 1].transpose(0, 1).contiguous()
        step_input = self.first_input.expand(B, 1, -1)  # (B, 1, H)
        for _ in range(num_frames):
            step_input, (h, cell) = self.lstm(step_input, (h, cell))
            yield step_input[:, 0]


class Combiner(nn.Module):
    """q(z_t | z_{t-1}, h_t, d) (eq. 5); positive scale."""

    def __init__(self, c: VDSMConfig):
        super().__init__()
        self.style = c.combiner
        width = c.lstm_hidden + c.dynamics_dim if c.combiner == "text" else c.lstm_hidden
        if c.combiner == "code":
            self.state = nn.Linear(c.lstm_hidden + c.dynamics_dim, c.lstm_hidden)
        self.from_pose = nn.Linear(c.pose_dim, width)
        self.loc = nn.Linear(width, c.pose_dim)
        self.scale = nn.Linear(width, c.pose_dim)
        self.first_pose = nn.Parameter(torch.zeros(c.pose_dim))  # z_0 fed to the first step

    def forward(self, previous, hidden, dynamics):
        state = torch.cat([hidden, dynamics], -1)  # (B, H + Dd)
        if self.style == "code":
            state = F.leaky_relu(self.state(state), 0.01)
        combined = 0.5 * (torch.tanh(self.from_pose(previous)) + state)
        return self.loc(combined), positive(self.scale(combined))


class GatedTransition(nn.Module):
    """p(z_t | z_{t-1}, d) (eq. 6): a gated mix of a proposed mean and a linear skip."""

    def __init__(self, c: VDSMConfig):
        super().__init__()
        zd, hidden = c.pose_dim + c.dynamics_dim, c.transition_hidden
        self.gate = nn.Sequential(nn.Linear(zd, hidden), nn.ReLU(), nn.Linear(hidden, c.pose_dim),
                                  nn.Sigmoid())
        self.proposal = nn.Sequential(nn.Linear(zd, hidden), nn.ReLU(), nn.Linear(hidden, c.pose_dim))
        self.skip_reads_dynamics = c.transition_skip == "text"
        self.skip = nn.Linear(zd if self.skip_reads_dynamics else c.pose_dim, c.pose_dim)
        if not self.skip_reads_dynamics:  # the code starts the skip as the identity
            with torch.no_grad():
                self.skip.weight.copy_(torch.eye(c.pose_dim))
                self.skip.bias.zero_()
        self.scale = nn.Linear(c.pose_dim, c.pose_dim)

    def forward(self, previous, dynamics):
        zd = torch.cat([previous, dynamics], -1)
        gate, proposal = self.gate(zd), self.proposal(zd)
        skip = self.skip(zd if self.skip_reads_dynamics else previous)
        return gate * proposal + (1 - gate) * skip, positive(self.scale(F.relu(proposal)))


def cosine_ramp(fraction: float, start: float, end: float, span: float) -> float:
    """The code's schedule shape: a half cosine from start to end over the first `span` of the stage."""
    x = min(1.0, fraction / span)
    return start + (end - start) * (1 - math.cos(math.pi * x)) / 2


def spline(fraction: float, knots: tuple[float, ...], values: tuple[float, ...]) -> float:
    """scipy's quadratic interpolating spline (the code's interp1d(kind="quadratic")), clipped."""
    from scipy.interpolate import make_interp_spline  # noqa: PLC0415

    return float(np.clip(make_interp_spline(knots, values, k=2)(min(max(fraction, 0.0), 1.0)), 0.005, 80))


SMOKE = {
    "model": {"num_experts": 3, "pose_dim": 4, "dynamics_dim": 4, "encoder_channels": (4, 4, 8, 8, 16),
              "decoder_channels": (16, 8, 8, 4), "identity_hidden": 8, "lstm_hidden": 8, "lstm_layers": 1,
              "transition_hidden": 8, "pretrain_steps": 2, "sequence_steps": 2},
    "data": {"num_frames": 4, "num_val": 8, "num_test": 8},
    "train": {"steps": 4, "batch_size": 4, "eval_every": 2, "eval_batches": 1, "log_every": 1},
}
# widths / 4, N = 8, LSTMs 1 x 128; see docs/paper004.md for its timing on 2 CPU cores. Two
# choices small's scale needed (results/paper004/README.md): stage 1 groups two clips of one
# identity (the text groups images of one identity; with one clip s held the action), and
# BatchNorm in the narrow encoder (without it the pose posterior collapsed even at lambda_z = 1:
# KL 450 -> 1 nats in 650 steps; with it 325 -> 157). The text's schedules: the code's let the
# pose carry B's identity into swaps.
SMALL = {
    "model": {"num_experts": 8, "pose_dim": 16, "dynamics_dim": 16, "encoder_channels": (8, 8, 16, 16, 64),
              "decoder_channels": (128, 64, 32, 16), "identity_hidden": 64, "lstm_hidden": 128,
              "lstm_layers": 1, "transition_hidden": 128, "pretrain_steps": 1500, "sequence_steps": 1500,
              "group_clips": 2, "encoder_norm": True},
    "train": {"steps": 3000, "batch_size": 20, "lr": 1e-3, "eval_every": 500, "eval_batches": 2,
              "log_every": 25},
}
# 200 epochs of 50 batches of 20 per stage, Adam 1e-3 (the code's; the text gives none)
PAPER_TRAIN = {"steps": 20000, "batch_size": 20, "lr": 1e-3, "eval_every": 1000, "log_every": 50}
PAPER_DATA = {"num_skin": 7, "num_top": 4, "num_pants": 5, "num_hair": 8, "num_held_out": 112}
PAPER = {"model": {}, "data": PAPER_DATA, "train": PAPER_TRAIN}
PAPER_CODE = {
    "model": {"decoder_input": "weights", "average_before_fs": False, "combiner": "code",
              "transition_skip": "code", "priors": "code", "schedules": "code", "group_clips": 2,
              "finetune_heads": False, "encoder_slope": 1.0, "lstm_dropout": 0.1, "decoder_init": "code"},
    "data": PAPER_DATA,
    "train": PAPER_TRAIN,
}


@register_model("vdsm")
class VDSM(VideoModel):
    Config = VDSMConfig
    capabilities = frozenset({"reconstruct", "swap", "interpolate", "generate"})
    default_data = "sprites"
    presets = {"smoke": SMOKE, "small": SMALL, "paper": PAPER, "paper-code": PAPER_CODE}
    latent_groups = {"content": ("content",), "motion": ("motion", "pose")}

    def __init__(self, config: VDSMConfig, video_shape):
        super().__init__(config, video_shape)
        config.validate()
        c = config
        _, C, H, W = video_shape
        self.require_square_frames()
        self.encoder = Encoder(C, H, c)
        self.static_layers = nn.ModuleDict({"loc": nn.Linear(c.num_experts, c.num_experts),
                                            "scale": nn.Linear(c.num_experts, c.num_experts)})  # f_s
        self.decoder = MixtureDecoder(c.pose_dim + c.num_experts, C, H, c)
        self.seq_encoder = nn.LSTM(c.pose_dim, c.lstm_hidden, c.lstm_layers, batch_first=True,
                                   bidirectional=True, dropout=c.lstm_dropout if c.lstm_layers > 1 else 0.0)
        self.dynamics_head = nn.Linear(2 * c.lstm_layers * c.lstm_hidden, 2 * c.dynamics_dim)  # f_d
        self.seq_decoder = SeqDecoder(c)
        self.combiner = Combiner(c)
        self.transition = GatedTransition(c)
        self.register_buffer("sequence_trained", torch.zeros((), dtype=torch.bool))
        unit = c.priors == "unit"
        self.prior_s_scale = 1.0 if unit else 1.0 / c.num_experts
        self.prior_d_scale = 1.0 if unit else 1.0 / c.dynamics_dim

    # -- stages and schedules -------------------------------------------------------------------
    def stages(self, train):
        c = self.config
        sequence = ["seq_encoder", "dynamics_head", "seq_decoder", "combiner", "transition", "static_layers"]
        if c.finetune_heads:
            sequence += ["encoder.pose_head", "encoder.identity_head"]
        data = {"clips_per_identity": c.group_clips} if c.group_clips > 1 else {}
        return [Stage("pretrain", steps=c.pretrain_steps, data=data,
                      trainable=("encoder", "static_layers", "decoder")),
                Stage("sequence", trainable=tuple(sequence))]

    def scaled_stages(self, factor: float) -> dict:
        """Both stages and their schedules `factor` times as long (at least one step each)."""
        c = self.config
        return {"pretrain_steps": max(1, round(c.pretrain_steps * factor)),
                "sequence_steps": max(1, round(c.sequence_steps * factor))}

    def schedule(self, step: int) -> dict[str, float]:
        """kappa and the KL weights lambda_z, lambda_s, lambda_d at `step` (module doc)."""
        c = self.config
        if step < c.pretrain_steps:
            f = step / max(1, c.pretrain_steps - 1)
            if c.schedules == "code":
                return {"kappa": cosine_ramp(f, c.kappa_start, c.kappa_end, 0.5),
                        "lambda_s": cosine_ramp(f, 0.1, 1.0, 1 / 3),
                        "lambda_z": spline(f, (0, 0.5, 0.8, 1), (30.0, 0.2, 0.4, 1.0)), "lambda_d": 0.0}
            return {"kappa": c.kappa_start + (c.kappa_end - c.kappa_start) * f, "lambda_s": 0.1 + 0.9 * f,
                    "lambda_z": 30.0 - 29.0 * f, "lambda_d": 0.0}
        f = min(1.0, (step - c.pretrain_steps) / max(1, c.sequence_steps - 1))
        if c.schedules == "code":
            return {"kappa": c.kappa_end, "lambda_s": cosine_ramp(f, 0.1, 1.0, 1 / 3),
                    "lambda_z": spline(f, (0, 0.5, 0.8, 1), (0.1, 0.4, 0.4, 1.0)),
                    "lambda_d": cosine_ramp(f, 0.1, 1.0, 1.0)}
        return {"kappa": c.kappa_end, "lambda_s": 1.0, "lambda_z": 0.1 + 0.9 * f, "lambda_d": 1.0}

    # -- inference --------------------------------------------------------------------------
    def frame_posteriors(self, video):
        """video (B, T, C, H, W) -> pose (loc, scale) (B, T, Dz), static (loc, scale) (B, N)."""
        self.check(video)
        B, T = video.shape[:2]
        (pose_loc, pose_scale), (id_loc, id_scale) = self.encoder(video.flatten(0, 1))
        pose = (pose_loc.view(B, T, -1), pose_scale.view(B, T, -1))
        id_loc, id_scale = id_loc.view(B, T, -1), id_scale.view(B, T, -1)
        f_s = self.static_layers
        if self.config.average_before_fs:  # text: f_s of the mean embedding
            s_loc = F.leaky_relu(f_s["loc"](frame_mean(id_loc)), 0.01)
            s_scale = positive(f_s["scale"](frame_mean(id_scale)))
        else:  # code: the mean of f_s per frame
            s_loc = frame_mean(F.leaky_relu(f_s["loc"](id_loc), 0.01))
            s_scale = frame_mean(positive(f_s["scale"](id_scale)))
        return pose, (s_loc, s_scale)

    def dynamics_posterior(self, pose_embeddings):
        """pose embeddings (B, T, Dz) -> d (loc, scale) (B, Dd) from the BiLSTM's final states."""
        _, (final, _) = self.seq_encoder(pose_embeddings)  # (2L, B, H)
        final = final.transpose(0, 1).flatten(1)  # (B, 2L*H)
        loc, scale = self.dynamics_head(final).chunk(2, -1)
        return F.leaky_relu(loc, 0.01), positive(scale)

    def rollout(self, dynamics, num_frames: int, sample: bool):
        """The seq2seq decoder and combiner from d: z (B, T, Dz) and q's (loc, scale) per step."""
        B = dynamics.shape[0]
        previous = self.combiner.first_pose.expand(B, -1)
        poses, locs, scales = [], [], []
        for hidden in self.seq_decoder(dynamics, num_frames):
            loc, scale = self.combiner(previous, hidden, dynamics)
            previous = loc + scale * torch.randn_like(loc) if sample else loc
            poses.append(previous)
            locs.append(loc)
            scales.append(scale)
        return torch.stack(poses, 1), torch.stack(locs, 1), torch.stack(scales, 1)

    def extend(self, pose, dynamics, num_frames: int, sample: bool = False):
        """Continue pose (B, T0, Dz) to num_frames with the transition (means unless `sample`)."""
        frames = list(pose.unbind(1))
        while len(frames) < num_frames:
            loc, scale = self.transition(frames[-1], dynamics)
            frames.append(loc + scale * torch.randn_like(loc) if sample else loc)
        return torch.stack(frames[:num_frames], 1)

    def posterior(self, video):
        """{"pose": (loc, scale) per frame, "static": (loc, scale), "dynamics": (loc, scale)}."""
        pose, static = self.frame_posteriors(video)
        return {"pose": pose, "static": static, "dynamics": self.dynamics_posterior(pose[0])}

    def encode(self, video) -> Latents:
        q = self.posterior(video)
        dynamics = q["dynamics"][0]
        pose = q["pose"][0]
        if bool(self.sequence_trained):
            pose = self.rollout(dynamics, video.shape[1], sample=False)[0]
        return Latents(q["static"][0], dynamics, {"pose": pose})

    # -- generation -------------------------------------------------------------------------
    def mixture_weights(self, static, kappa: float | None = None):
        """w = softmax(kappa * s): (B, N), rows summing to one."""
        return torch.softmax((self.config.kappa_end if kappa is None else kappa) * static, -1)

    def decode_logits(self, pose, static, kappa: float | None = None, blend: str | None = None):
        weights = self.mixture_weights(static, kappa)
        extra = static if self.config.decoder_input == "static" else weights
        inputs = torch.cat([pose, extra[:, None].expand(-1, pose.shape[1], -1)], -1)  # (B, T, Dz + N)
        return self.decoder(inputs, weights, blend)

    def decode(self, latents: Latents, num_frames: int):
        pose = self.extend(latents.part("pose"), latents.motion, num_frames)
        return torch.sigmoid(self.decode_logits(pose, latents.content))

    def mix(self, latent_a, latent_b, group, alpha):
        if group != "content":
            return super().mix(latent_a, latent_b, group, alpha)
        kappa = self.config.kappa_end
        weights_a, weights_b = self.mixture_weights(latent_a.content), self.mixture_weights(latent_b.content)
        blended = torch.lerp(weights_a, weights_b, alpha)
        return latent_a.replace({"content": blended.clamp_min(1e-12).log() / kappa})

    def sample_latents(self, n, num_frames):
        c = self.config
        device = self.combiner.first_pose.device
        static = self.prior_s_scale * torch.randn(n, c.num_experts, device=device)
        dynamics = self.prior_d_scale * torch.randn(n, c.dynamics_dim, device=device)
        first = torch.randn(n, 1, c.pose_dim, device=device)
        return Latents(static, dynamics, {"pose": self.extend(first, dynamics, num_frames, sample=True)})

    # -- objectives -------------------------------------------------------------------------
    def loss(self, batch, step):
        video = batch["video"]  # (B, T, C, H, W)
        B = video.shape[0]
        sample = self.training
        weights = self.schedule(step)
        (pose_loc, pose_scale), (s_loc, s_scale) = self.frame_posteriors(video)
        static = s_loc + s_scale * torch.randn_like(s_loc) if sample else s_loc
        prior_s = torch.full_like(s_loc, self.prior_s_scale)
        kl_s = gaussian_kl(s_loc, s_scale, torch.zeros_like(s_loc), prior_s)
        terms = {"kappa": weights["kappa"], "lambda_z": weights["lambda_z"], "lambda_s": weights["lambda_s"]}
        if step < self.config.pretrain_steps:  # eq. 7: i.i.d. frames
            pose = pose_loc + pose_scale * torch.randn_like(pose_loc) if sample else pose_loc
            kl_z = gaussian_kl(pose_loc, pose_scale, torch.zeros_like(pose_loc), torch.ones_like(pose_loc))
            kl_d = torch.zeros_like(kl_s)
        else:  # eq. 4: the full ELBO
            if sample and torch.is_grad_enabled():
                self.sequence_trained.fill_(True)
            d_loc, d_scale = self.dynamics_posterior(pose_loc)
            dynamics = d_loc + d_scale * torch.randn_like(d_loc) if sample else d_loc
            pose, q_loc, q_scale = self.rollout(dynamics, video.shape[1], sample)
            following = dynamics[:, None].expand(-1, pose.shape[1] - 1, -1)  # (B, T-1, Dd)
            p_loc, p_scale = self.transition(pose[:, :-1], following)
            p_loc = torch.cat([torch.zeros_like(q_loc[:, :1]), p_loc], 1)  # z_1 against N(0, I)
            p_scale = torch.cat([torch.ones_like(q_scale[:, :1]), p_scale], 1)
            kl_z = gaussian_kl(q_loc, q_scale, p_loc, p_scale)
            prior_d = torch.full_like(d_loc, self.prior_d_scale)
            kl_d = gaussian_kl(d_loc, d_scale, torch.zeros_like(d_loc), prior_d)
            terms["lambda_d"] = weights["lambda_d"]
        logits = self.decode_logits(pose, static, weights["kappa"])
        recon = F.binary_cross_entropy_with_logits(logits.float(), video, reduction="sum") / B
        kl_z, kl_s, kl_d = kl_z.sum() / B, kl_s.sum() / B, kl_d.sum() / B
        loss = recon + weights["lambda_z"] * kl_z + weights["lambda_s"] * kl_s + weights["lambda_d"] * kl_d
        terms.update(recon=recon.detach(), kl_z=kl_z.detach(), kl_s=kl_s.detach(), kl_d=kl_d.detach())
        return ModelOutput(loss, {k: torch.as_tensor(v) for k, v in terms.items()})

"""AVLAE: the adversarial video latent autoencoder with appearance and motion streams (paper 001).

Paper 001 (`shared/papers/001_26a6f148b2604256.txt`): Fig. 1, Algorithm 1, eqs. 6-10. No public
code exists; AVLAE extends ALAE (podgorskiy/ALAE, "paper-code" below means ALAE's code).

Networks (section 4, 5.2), all latents 128-d:

    F_A, F_M: z_A, z_M ~ N(0, I) -> w_A, w_M          5 FC layers, leaky ReLU each (mapping_a/_m)
    G: [w_A; w_M] -> clip (B, T, C, H, W)               factorised (1+2)D transposed convs (generator)
    E_A: one frame x_t -> w'_A; D_I: w'_A -> logit      2D convs; 3 FC layers (appearance_encoder,
                                                        image_discriminator)
    E_M = E_M* o flow: clip -> T-1 flows at 1/8 size   frozen flow estimator (`flow`), then
          -> w'_M                                       factorised (2+1)D convs (motion_encoder)
    D_V: (x, E_M(x)) -> logit                          factorised (2+1)D trunk, E_M's code
                                                        concatenated before 3 FC layers (eq. 8)

Training is Algorithm 1 in `train_step`, one persistent Adam per network (lr and betas from the
train section; the presets set lr 2e-4, betas (0.5, 0.999) as section 5.2). Adam is elementwise,
so one Adam per network is the same update as one per group; a network stepped in two steps
(E_A, E_M*, G) keeps one state, as ALAE's encoder and decoder optimisers do.

- step I (`step_discriminators`): x^ = G(F_A(z_A), F_M(z_M)) without gradient; x_t and x^_t are
  frames drawn independently per clip; eq. 8 updates E_M* and D_V, eq. 9 updates E_A and D_I.
- step II (`step_generator`): eqs. 8-9 on fresh samples update F_A, F_M and G (the critics'
  parameters get no gradient; the gradient reaches G through the frozen flow estimator).
- step III (`step_latent_reconstruction`): eq. 10, K1 ||F_M(z_M) - E_M(x^)||^2 + K2 ||F_A(z_A) -
  E_A(x^_t)||^2 (squared L2 summed over the 128 dimensions, averaged over clips), updates E_A,
  E_M* and G. F is evaluated without gradient, so F never changes here (ALAE's step III feeds
  G with F(z) and updates F through it; AVLAE's Algorithm 1 does not). A term with weight 0 is
  not computed at all, so its networks get no gradient and Adam leaves them untouched.

Adversarial loss (`model.gan_loss`), D's logit l:
- "nonsaturating" (default; ALAE's code): D minimises softplus(l_fake) + softplus(-l_real) plus
  the R1 penalty gamma/2 E||grad_real D||^2 (`model.r1_gamma`, 10 as ALAE); G minimises
  softplus(-l_fake).
- "minimax" (the text, eqs. 6-9): D the same cross-entropy; G minimises log(1 - D(x^)) =
  -softplus(l_fake); the text has no penalty: use `--set model.r1_gamma=0` for the text as written.
Why the default: in a short check (benchmarks/check_paper001_losses.py, docs/paper001.md) the
non-saturating critics stay near balance (cross-entropies 1.3 at 300 iterations), while with the
minimax form the video critic wins early (0.26 at 100) and G's loss saturates.

Ablations (Table 3): `model.rec_motion_weight` (K1) = 0 removes the w_M reconstruction term,
`model.rec_appearance_weight` (K2) = 0 the w_A term, `model.motion_encoder` = False removes E_M
(D_V then sees the clip alone; needs K1 = 0; the model can then only `generate`). Presets
`ablation-full`, `ablation-no-wm`, `ablation-no-wa`, `ablation-no-rec`, `ablation-no-em`: the
reduced `small` of the Table 3 analogue, each beside the full model at the same scale.

Latent groups: content = w_A = E_A(first frame), motion = w_M = E_M(clip); decode = G([w_A; w_M]);
generate draws z from N(0, I) with torch's global generator (torch.manual_seed reproduces it).

Where vidis departs from the paper and from ALAE's code (see docs/paper001.md):
- flow: coarse-to-fine Horn-Schunck (`vidis.models.flow`), not RAFT (no weights here), pooled to 1/8.
- R1 on D_V is taken w.r.t. the clip and the flow fields (D_V's two inputs), not through the flow
  estimator (no double backward through it); on D_I w.r.t. the real frame, as ALAE.
- no equalised learning rate, style modulation or progressive growing (ALAE's code); pixel norm
  of z before F (ALAE's mapping) and after each generator activation (no BatchNorm). F's layers are
  He-initialised (`mapping_init`), which keeps w at unit scale as equalised lr does at
  initialisation; PyTorch's default shrank w's spread to 0.01 and `small` collapsed.
- eq. 10 is summed over dimensions (the text; `rec_reduction` "mean" is ALAE's, used by `small`).
- options for stabilising the adversarial game, off by default (docs/paper001.md has the runs
  that tried them): `mapping_lr_scale` (ALAE's 0.1), `minibatch_std` (ProGAN's batch spread in
  D_I and D_V), `generator_output` "linear" (ALAE's to_rgb; clamped in eval mode).
- the paper gives no widths or batch size; the presets choose them (paper: G about 25M parameters).
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import CapabilityError, ConfigError
from ..registry import register_model
from ..train.optim import Optim, as_optim, average_gradients, make_scheduler
from ..types import Latents, ModelOutput
from .base import VideoModel
from .flow import FlowEstimator

GAN_LOSSES = ("nonsaturating", "minimax")
MAPPING_INITS = ("he", "torch")
SLOPE = 0.2  # leaky ReLU slope (ALAE)


@dataclass
class AVLAEConfig:
    latent_dim: int = 128  # z_A, z_M, w_A, w_M (section 5.2)
    mapping_layers: int = 5  # FC layers of F_A and F_M (section 5.2)
    generator_width: int = 32  # channels at full resolution; doubled per halving, capped
    encoder_width: int = 32  # channels of E_A's and D_V's first block; doubled per halving, capped
    max_channels: int = 512  # cap of E_A's and D_V's channels
    generator_max_channels: int = 512  # cap of G's channels
    motion_channels: int = 64  # E_M*'s channels
    discriminator_hidden: int = 512  # width of D_I's and D_V's FC layers
    flow_downsample: int = 8  # flow at 1/8 resolution (section 4.2)
    flow_alpha: float = 0.25  # Horn-Schunck smoothness
    flow_iterations: int = 30  # Jacobi steps per warp
    gan_loss: str = "nonsaturating"  # or "minimax" (the text)
    r1_gamma: float = 10.0  # R1 penalty on real inputs (ALAE); 0: none
    rec_motion_weight: float = 1.0  # K1 (eq. 10)
    rec_appearance_weight: float = 1.0  # K2 (eq. 10)
    motion_encoder: bool = True  # False: no E_M (Table 3, last row)
    mapping_init: str = "he"  # F's linear layers: "he" (unit-scale w, as ALAE's equalised lr) or "torch"
    rec_reduction: str = "sum"  # eq. 10's squared L2: "sum" over dimensions (the text) or "mean" (ALAE)
    mapping_lr_scale: float = 1.0  # F_A's and F_M's learning rate = train.lr x this (ALAE's mapping: 0.1)
    minibatch_std: bool = False  # D_I and D_V also read the batch's feature spread (ProGAN/StyleGAN)
    generator_output: str = "sigmoid"  # G's last activation: "sigmoid", or "linear" (ALAE; clamped in eval)

    def validate(self):
        for name in ("latent_dim", "mapping_layers", "generator_width", "encoder_width", "max_channels",
                     "generator_max_channels",
                     "motion_channels", "discriminator_hidden", "flow_downsample", "flow_iterations"):
            if getattr(self, name) < 1:
                raise ConfigError(f"model.{name} must be >= 1, got {getattr(self, name)}")
        choices = {"gan_loss": GAN_LOSSES, "mapping_init": MAPPING_INITS, "rec_reduction": ("sum", "mean"),
                   "generator_output": ("sigmoid", "linear")}
        for name, allowed in choices.items():
            value = getattr(self, name)
            if value not in allowed:
                raise ConfigError(f"model.{name} must be one of {', '.join(allowed)}, got {value!r}")
        if not self.mapping_lr_scale > 0:
            raise ConfigError(f"model.mapping_lr_scale must be > 0, got {self.mapping_lr_scale}")
        for name in ("r1_gamma", "rec_motion_weight", "rec_appearance_weight"):
            if getattr(self, name) < 0:
                raise ConfigError(f"model.{name} must be >= 0, got {getattr(self, name)}")
        if not self.flow_alpha > 0:
            raise ConfigError(f"model.flow_alpha must be > 0, got {self.flow_alpha}")
        if not self.motion_encoder and self.rec_motion_weight > 0:
            raise ConfigError("model.motion_encoder=false needs model.rec_motion_weight=0 (no E_M, no w_M "
                              "reconstruction; Table 3's last row)")


# -- building blocks --------------------------------------------------------------------------------
def pixel_norm(x: torch.Tensor, dim: int = 1) -> torch.Tensor:
    return x * torch.rsqrt(x.pow(2).mean(dim, keepdim=True) + 1e-8)


def lrelu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, SLOPE)


def fc_stack(sizes: list[int], last_activation: bool) -> nn.Sequential:
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if last_activation or i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(SLOPE))
    return nn.Sequential(*layers)


class Mapping(nn.Module):
    """F_A or F_M: z (B, D) -> w (B, D); pixel norm of z (ALAE), then FC + leaky ReLU x layers.

    init "he": weights N(0, 2 / ((1 + slope^2) fan_in)), biases 0, so w keeps unit scale through
    the layers, as ALAE's equalised learning rate gives at initialisation. "torch" (PyTorch's
    default, std 1 / sqrt(3 fan_in)) shrinks w by about 0.5 per layer: after 5 layers its
    per-dimension spread is about 0.01, every generated clip is nearly the same and `small`
    collapsed (results/paper001/README.md).
    """

    def __init__(self, dim: int, layers: int, init: str = "he"):
        super().__init__()
        self.net = fc_stack([dim] * (layers + 1), last_activation=True)
        if init == "he":
            for layer in self.net:
                if isinstance(layer, nn.Linear):
                    nn.init.kaiming_normal_(layer.weight, a=SLOPE, nonlinearity="leaky_relu")
                    nn.init.zeros_(layer.bias)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(pixel_norm(z))


def minibatch_std(features: torch.Tensor) -> torch.Tensor:
    """features (B, F) -> (B, F + 1): the standard deviation of each feature over the batch, averaged
    over features, appended to every row (ProGAN's minibatch standard deviation; a critic that
    sees it can tell a collapsed batch of identical samples from real ones)."""
    spread = features.float().std(0, unbiased=False).mean().to(features.dtype)  # 0 for a batch of one
    return torch.cat([features, spread.expand(features.shape[0], 1)], -1)


def halvings(size: int) -> int:
    """How many stride-2 steps take `size` (4 * 2^k) down to 4."""
    k = round(math.log2(size / 4)) if size >= 4 else -1
    if k < 0 or 4 * 2**k != size:
        raise ConfigError(f"avlae needs square frames of side 4 * 2^k (16, 32, 64, 128, ...), got {size}")
    return k


def time_halvings(frames: int, limit: int) -> int:
    """How many times `frames` halves exactly (at most `limit`)."""
    k = 0
    while k < limit and frames % 2**(k + 1) == 0:
        k += 1
    return k


class Generator(nn.Module):
    """G: w (B, 2 D) -> clip (B, T, C, H, W) in [0, 1].

    FC to (c0, T0, 4, 4); then per block a spatial transposed conv (1, 4, 4) / (1, 2, 2) and a
    temporal one (4, 1, 1) / (2, 1, 1) while T still has to grow (else a (3, 1, 1) conv), each
    followed by leaky ReLU and pixel norm; a (1, 3, 3) conv and a sigmoid give the frames, or
    (output "linear", as ALAE's to_rgb) the conv + 0.5, unbounded while training (the critics
    see it as it is) and clamped to [0, 1] in eval mode.
    """

    def __init__(self, in_dim: int, video_shape, width: int, max_channels: int, output: str = "sigmoid"):
        super().__init__()
        self.output = output
        T, C, H, _ = video_shape
        k = halvings(H)
        kt = time_halvings(T, k)
        self.start = (min(max_channels, width * 2**k), T // 2**kt)  # (c0, T0)
        self.fc = nn.Linear(in_dim, self.start[0] * self.start[1] * 16)
        self.blocks = nn.ModuleList()
        for i in range(k):
            cin, cout = min(max_channels, width * 2**(k - i)), min(max_channels, width * 2**(k - i - 1))
            spatial = nn.ConvTranspose3d(cin, cout, (1, 4, 4), (1, 2, 2), (0, 1, 1))
            up = i < kt
            temporal = (nn.ConvTranspose3d(cout, cout, (4, 1, 1), (2, 1, 1), (1, 0, 0)) if up
                        else nn.Conv3d(cout, cout, (3, 1, 1), 1, (1, 0, 0)))
            self.blocks.append(nn.ModuleList([spatial, temporal]))
        self.out = nn.Conv3d(min(max_channels, width), C, (1, 3, 3), 1, (0, 1, 1))

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        c0, t0 = self.start
        x = pixel_norm(lrelu(self.fc(w).view(-1, c0, t0, 4, 4)))  # (B, c0, T0, 4, 4)
        for spatial, temporal in self.blocks:
            x = pixel_norm(lrelu(spatial(x)))
            x = pixel_norm(lrelu(temporal(x)))
        y = self.out(x)
        if self.output == "sigmoid":
            y = torch.sigmoid(y)
        else:  # linear around mid-grey: no saturation while training; a valid clip in eval mode
            y = y + 0.5 if self.training else (y + 0.5).clamp(0, 1)
        return y.transpose(1, 2)  # (B, T, C, H, W)


class FrameEncoder(nn.Module):
    """E_A: frame (B, C, H, W) -> w'_A (B, D): strided 4x4 convs down to 4x4, then FC."""

    def __init__(self, channels: int, size: int, dim: int, width: int, max_channels: int):
        super().__init__()
        k = halvings(size)
        layers, cin = [nn.Conv2d(channels, width, 3, 1, 1), nn.LeakyReLU(SLOPE)], width
        for i in range(k):
            cout = min(max_channels, width * 2**(i + 1))
            layers += [nn.Conv2d(cin, cout, 4, 2, 1), nn.LeakyReLU(SLOPE)]
            cin = cout
        self.net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(cin * 16, dim))

    def forward(self, frame: torch.Tensor) -> torch.Tensor:
        return self.net(frame)


class Factorised3d(nn.Module):
    """A (2+1)D block: spatial (1, k, k) conv (stride s) then temporal (3, 1, 1) conv (stride st)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, time_stride: int):
        super().__init__()
        pad = (kernel - stride + 1) // 2 if stride > 1 else kernel // 2
        self.spatial = nn.Conv3d(cin, cout, (1, kernel, kernel), (1, stride, stride), (0, pad, pad))
        self.temporal = nn.Conv3d(cout, cout, (3, 1, 1), (time_stride, 1, 1), (1, 0, 0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return lrelu(self.temporal(lrelu(self.spatial(x))))


class VideoTrunk(nn.Module):
    """D_V's trunk: clip (B, C, T, H, W) -> features (B, F); (2+1)D blocks halve H, W (and T)."""

    def __init__(self, video_shape, width: int, max_channels: int):
        super().__init__()
        T, C, H, _ = video_shape
        k = halvings(H)
        blocks, cin, t = [Factorised3d(C, width, 3, 1, 1)], width, T
        for i in range(k):
            cout = min(max_channels, width * 2**(i + 1))
            stride_t = 2 if t > 1 else 1
            blocks.append(Factorised3d(cin, cout, 4, 2, stride_t))
            t = (t - 1) // stride_t + 1
            cin = cout
        self.net = nn.Sequential(*blocks, nn.Flatten())
        self.features = cin * t * 16

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        return self.net(video)


class MotionEncoder(nn.Module):
    """E_M*: flows (B, 2, T-1, h, w) -> w'_M (B, D): (2+1)D blocks (halving h, w down to <= 4), FC."""

    def __init__(self, steps: int, size: tuple[int, int], dim: int, channels: int):
        super().__init__()
        h, w = size
        blocks, cin = [Factorised3d(2, channels, 3, 1, 1)], channels
        while max(h, w) > 4:
            blocks.append(Factorised3d(cin, channels, 4, 2, 1))
            h, w = (h + 1) // 2, (w + 1) // 2
        blocks.append(Factorised3d(cin, channels, 3, 1, 1))
        self.net = nn.Sequential(*blocks, nn.Flatten(), nn.Linear(channels * steps * h * w, dim))

    def forward(self, flow: torch.Tensor) -> torch.Tensor:
        return self.net(flow)


# -- the model ----------------------------------------------------------------------------------------
SMOKE = {
    "model": {"latent_dim": 8, "mapping_layers": 2, "generator_width": 4, "encoder_width": 4,
              "max_channels": 8, "generator_max_channels": 8, "motion_channels": 4, "discriminator_hidden": 8,
              "flow_iterations": 5},
    "data": {"image_size": 16, "num_frames": 4, "num_val": 8, "num_test": 8},
    "train": {"steps": 4, "batch_size": 4, "lr": 2e-4, "adam_beta1": 0.5, "eval_every": 2, "eval_batches": 1,
              "log_every": 1},
}
# small: eq. 10 as a mean over dimensions (ALAE's code; the text's sum let step III's appearance
# term dominate: see docs/paper001.md's experiments) and a checkpoint kept at every validation, so
# that the reproduction can draw judge-FD over training and score the checkpoint with the lowest
# judge-FD on validation clips (GAN training at this scale collapses after a few hundred steps)
SMALL_MODEL = {"latent_dim": 64, "generator_width": 16, "encoder_width": 16, "max_channels": 128,
               "generator_max_channels": 128,
               "motion_channels": 32, "discriminator_hidden": 128, "flow_iterations": 10,
               "rec_reduction": "mean"}
SMALL = {
    "model": SMALL_MODEL,
    "data": {"image_size": 32, "num_frames": 8},
    "train": {"steps": 1500, "batch_size": 16, "lr": 2e-4, "adam_beta1": 0.5, "eval_every": 250,
              "eval_batches": 2, "log_every": 25, "keep_every": True},
}
# small: about 2 s per step on one loaded CPU core (docs/paper001.md), so 1500 steps < 60 minutes;
# the Table 3 analogue: five runs of at most 20 minutes on 2 CPU cores each (issue 14): 500 steps
ABLATION = {**SMALL, "train": {**SMALL["train"], "steps": 500, "eval_every": 250}}
ABLATIONS = {
    "ablation-full": {},
    "ablation-no-wm": {"rec_motion_weight": 0.0},  # K1 = 0
    "ablation-no-wa": {"rec_appearance_weight": 0.0},  # K2 = 0
    "ablation-no-rec": {"rec_motion_weight": 0.0, "rec_appearance_weight": 0.0},
    "ablation-no-em": {"rec_motion_weight": 0.0, "rec_appearance_weight": 0.0, "motion_encoder": False},
}
PAPER = {  # 128x128x16 (section 5.2); G 25.4M parameters (the paper: about 25M, section 5.3); for a GPU
    "model": {"generator_width": 64, "generator_max_channels": 768, "encoder_width": 32, "max_channels": 512},
    "data": {"image_size": 128, "num_frames": 16},
    "train": {"steps": 100_000, "batch_size": 16, "lr": 2e-4, "adam_beta1": 0.5, "eval_every": 2000,
              "eval_batches": 2, "log_every": 100},
}

# networks in Algorithm 1's order: (module name, step(s) that update it)
NETWORKS = ("mapping_a", "mapping_m", "generator", "appearance_encoder", "image_discriminator",
            "motion_encoder", "video_discriminator")


@register_model("avlae")
class AVLAE(VideoModel):
    Config = AVLAEConfig
    capabilities = frozenset({"reconstruct", "swap", "interpolate", "generate"})
    default_data = "sprites"
    latent_groups = {"content": ("content",), "motion": ("motion",)}
    validation_metric = "mse"
    presets = {"smoke": SMOKE, "small": SMALL, "paper": PAPER,
               **{name: {**ABLATION, "model": {**SMALL_MODEL, **m}} for name, m in ABLATIONS.items()}}

    def __init__(self, config: AVLAEConfig, video_shape):
        super().__init__(config, video_shape)
        config.validate()
        c = config
        T, C, H, W = video_shape
        self.require_square_frames()
        if T < 2:
            raise ConfigError(f"avlae needs clips of at least 2 frames (flow between frames), got {T}")
        D = c.latent_dim
        self.mapping_a = Mapping(D, c.mapping_layers, c.mapping_init)
        self.mapping_m = Mapping(D, c.mapping_layers, c.mapping_init)
        self.generator = Generator(2 * D, video_shape, c.generator_width, c.generator_max_channels,
                                   c.generator_output)
        self.appearance_encoder = FrameEncoder(C, H, D, c.encoder_width, c.max_channels)
        extra = 1 if c.minibatch_std else 0
        hidden = c.discriminator_hidden
        self.image_discriminator = fc_stack([D + extra, hidden, hidden, 1], False)
        self.flow = FlowEstimator(c.flow_downsample, alpha=c.flow_alpha, iterations=c.flow_iterations)
        self.motion_encoder = (MotionEncoder(T - 1, self.flow.output_size(H, W), D, c.motion_channels)
                               if c.motion_encoder else None)
        self.video_trunk = VideoTrunk(video_shape, c.encoder_width, c.max_channels)
        code = D if c.motion_encoder else 0
        self.video_head = fc_stack([self.video_trunk.features + code + extra, hidden, hidden, 1], False)
        if not c.motion_encoder:  # no E_M: nothing encodes motion
            self.capabilities = frozenset({"generate"})

    # -- the networks -----------------------------------------------------------------------------
    def networks(self) -> dict[str, list[nn.Module]]:
        """Optimiser name -> the modules it updates (D_V = trunk + head)."""
        nets = {"mapping_a": [self.mapping_a], "mapping_m": [self.mapping_m], "generator": [self.generator],
                "appearance_encoder": [self.appearance_encoder],
                "image_discriminator": [self.image_discriminator],
                "video_discriminator": [self.video_trunk, self.video_head]}
        if self.motion_encoder is not None:
            nets["motion_encoder"] = [self.motion_encoder]
        return nets

    def configure_optimizers(self, train) -> dict:
        """One Adam per network (Algorithm 1: lr 2e-4, betas (0.5, 0.999) in the presets)."""
        out = {}
        for name, modules in self.networks().items():
            params = [p for m in modules for p in m.parameters() if p.requires_grad]
            lr = train.lr * (self.config.mapping_lr_scale if name.startswith("mapping") else 1.0)
            adam = torch.optim.Adam(params, lr=lr, betas=(train.adam_beta1, train.adam_beta2))
            out[name] = Optim(adam, make_scheduler(adam, train))
        return out

    def map(self, z_a: torch.Tensor, z_m: torch.Tensor) -> torch.Tensor:
        """[F_A(z_A); F_M(z_M)]: (B, 2 D)."""
        return torch.cat([self.mapping_a(z_a), self.mapping_m(z_m)], -1)

    def motion_code(self, video: torch.Tensor, flow: torch.Tensor | None = None) -> torch.Tensor:
        """E_M(x) = E_M*(flow(x)): (B, D). video (B, T, C, H, W)."""
        if flow is None:
            flow = self.flow(video)
        return self.motion_encoder(flow.to(video.dtype))

    def video_logit(self, video: torch.Tensor, code: torch.Tensor | None) -> torch.Tensor:
        """D_V(x, E_M(x)) (eq. 8): (B,)."""
        features = self.video_trunk(video.transpose(1, 2))  # (B, F)
        if self.config.minibatch_std:
            features = minibatch_std(features)
        if code is not None:
            features = torch.cat([features, code], -1)
        return self.video_head(features).squeeze(-1)

    def image_logit(self, frame: torch.Tensor) -> torch.Tensor:
        """D_I(E_A(x_t)) (eq. 9): (B,)."""
        code = self.appearance_encoder(frame)  # (B, D)
        if self.config.minibatch_std:
            code = minibatch_std(code)
        return self.image_discriminator(code).squeeze(-1)

    def sample_z(self, n: int, device) -> tuple[torch.Tensor, torch.Tensor]:
        D = self.config.latent_dim
        return torch.randn(n, D, device=device), torch.randn(n, D, device=device)

    @staticmethod
    def random_frames(video: torch.Tensor) -> torch.Tensor:
        """One frame per clip, drawn uniformly: (B, T, C, H, W) -> (B, C, H, W)."""
        t = torch.randint(0, video.shape[1], (video.shape[0],), device=video.device)
        return video[torch.arange(video.shape[0], device=video.device), t]

    # -- protocol -----------------------------------------------------------------------------------
    def encode(self, video: torch.Tensor) -> Latents:
        """content = E_A(first frame) (B, D), motion = E_M(clip) (B, D)."""
        self.check(video)
        if self.motion_encoder is None:
            raise CapabilityError("avlae without its motion encoder (model.motion_encoder=false) "
                                  "cannot encode")
        return Latents(self.appearance_encoder(video[:, 0]), self.motion_code(video))

    def decode(self, latents: Latents, num_frames: int) -> torch.Tensor:
        T = self.video_shape[0]
        if num_frames > T:
            raise CapabilityError(f"avlae generates clips of {T} frames (its training length), "
                                  f"not {num_frames}")
        return self.generator(torch.cat([latents.content, latents.motion], -1))[:, :num_frames]

    def sample_latents(self, n: int, num_frames: int) -> Latents:
        z_a, z_m = self.sample_z(n, next(self.parameters()).device)
        return Latents(self.mapping_a(z_a), self.mapping_m(z_m))

    # -- losses ---------------------------------------------------------------------------------------
    @staticmethod
    def critic_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """-(log D(real) + log(1 - D(fake))) with D = sigmoid(logit): eqs. 8-9, both gan_loss forms."""
        return (F.softplus(-real.float()) + F.softplus(fake.float())).mean()

    def generator_loss(self, fake: torch.Tensor) -> torch.Tensor:
        if self.config.gan_loss == "minimax":
            return -F.softplus(fake.float()).mean()  # log(1 - D(x^)), the text
        return F.softplus(-fake.float()).mean()  # -log D(x^), ALAE's code

    def r1(self, logit: torch.Tensor, inputs: list[torch.Tensor]) -> torch.Tensor:
        """gamma / 2 * E ||d logit / d inputs||^2 (ALAE's R1 on real inputs)."""
        grads = torch.autograd.grad(logit.float().sum(), inputs, create_graph=True)
        return 0.5 * self.config.r1_gamma * sum(g.pow(2).flatten(1).sum(1) for g in grads).mean()

    def fake_clips(self, n: int, device) -> tuple[torch.Tensor, torch.Tensor]:
        """(w = [F_A(z_A); F_M(z_M)] (n, 2 D), x^ = G(w) (n, T, C, H, W))."""
        w = self.map(*self.sample_z(n, device))
        return w, self.generator(w)

    def discriminator_losses(self, video: torch.Tensor, fake: torch.Tensor, penalty: bool):
        """Step I's losses: (eq. 8 loss, eq. 9 loss, terms)."""
        real_frame, fake_frame = self.random_frames(video), self.random_frames(fake)  # independent t
        use_r1 = penalty and self.config.r1_gamma > 0
        if use_r1:
            real_frame = real_frame.detach().requires_grad_(True)
        real_i, fake_i = self.image_logit(real_frame), self.image_logit(fake_frame)
        loss_i = self.critic_loss(real_i, fake_i)
        terms = {"d_image": loss_i.detach()}
        if use_r1:
            r1_i = self.r1(real_i, [real_frame])
            loss_i = loss_i + r1_i
            terms["r1_image"] = r1_i.detach()
        real_clip = video.detach().requires_grad_(use_r1)
        inputs = [real_clip]
        real_code = fake_code = None
        if self.motion_encoder is not None:
            with torch.no_grad():
                real_flow = self.flow(video)  # the frozen estimator: no gradient needed for reals
            real_flow.requires_grad_(use_r1)
            inputs.append(real_flow)
            real_code, fake_code = self.motion_code(video, real_flow), self.motion_code(fake)
        real_v, fake_v = self.video_logit(real_clip, real_code), self.video_logit(fake, fake_code)
        loss_v = self.critic_loss(real_v, fake_v)
        terms["d_video"] = loss_v.detach()
        if use_r1:
            r1_v = self.r1(real_v, inputs)
            loss_v = loss_v + r1_v
            terms["r1_video"] = r1_v.detach()
        terms["d_real_accuracy"] = 0.5 * ((real_i > 0).float().mean() + (real_v > 0).float().mean()).detach()
        return loss_v, loss_i, terms

    def adversarial_loss(self, fake: torch.Tensor) -> torch.Tensor:
        """Step II: eqs. 8-9 for F and G, (B, T, C, H, W) -> scalar."""
        code = self.motion_code(fake) if self.motion_encoder is not None else None
        fake_i = self.image_logit(self.random_frames(fake))
        return self.generator_loss(fake_i) + self.generator_loss(self.video_logit(fake, code))

    def latent_reconstruction(self, w: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """Eq. 10 with w = [w_A; w_M] as targets; a term with weight 0 is not computed."""
        c, D = self.config, self.config.latent_dim
        loss, terms = fake.new_zeros((), dtype=torch.float32), {}
        scale = 1.0 / D if c.rec_reduction == "mean" else 1.0
        if c.rec_motion_weight > 0:
            rec_m = scale * (w[:, D:] - self.motion_code(fake)).float().pow(2).sum(1).mean()
            loss = loss + c.rec_motion_weight * rec_m
            terms["rec_motion"] = rec_m.detach()
        if c.rec_appearance_weight > 0:
            code = self.appearance_encoder(self.random_frames(fake))
            rec_a = scale * (w[:, :D] - code).float().pow(2).sum(1).mean()
            loss = loss + c.rec_appearance_weight * rec_a
            terms["rec_appearance"] = rec_a.detach()
        return loss, terms

    def loss(self, batch: dict, step: int) -> ModelOutput:
        """Every term of Algorithm 1 on one batch, without R1 (validation); the sum is for logging."""
        video = batch["video"]
        self.check(video)
        w, fake = self.fake_clips(video.shape[0], video.device)
        loss_v, loss_i, terms = self.discriminator_losses(video, fake, penalty=False)
        adversarial = self.adversarial_loss(fake)
        rec, rec_terms = self.latent_reconstruction(w, fake)
        terms.update(rec_terms, g_adversarial=adversarial.detach())
        return ModelOutput(loss_v + loss_i + adversarial + rec, terms)

    # -- Algorithm 1 ------------------------------------------------------------------------------------
    def _update(self, names: list[str], loss: torch.Tensor, optimizers: dict, train):
        """zero_grad the named optimisers, one backward, then average, clip and step each."""
        optims = [as_optim(optimizers[n]) for n in names if n in optimizers]
        for optim in optims:
            optim.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        for optim in optims:
            average_gradients(optim.params)
            clip = train.grad_clip if optim.grad_clip is None else optim.grad_clip
            if clip > 0:
                nn.utils.clip_grad_norm_(optim.params, clip)
            optim.optimizer.step()
            if optim.scheduler is not None:
                optim.scheduler.step()

    @contextmanager
    def frozen(self, names: list[str]):
        """requires_grad off for the named networks' parameters inside the block (then restored)."""
        nets = self.networks()
        params = [p for n in names if n in nets for m in nets[n] for p in m.parameters() if p.requires_grad]
        for p in params:
            p.requires_grad_(False)
        try:
            yield
        finally:
            for p in params:
                p.requires_grad_(True)

    def step_discriminators(self, video: torch.Tensor, optimizers: dict, train) -> dict:
        """Step I: E_M*, D_V on eq. 8; E_A, D_I on eq. 9; x^ made without gradient."""
        with self.autocast(train, video.device):
            with torch.no_grad():
                _, fake = self.fake_clips(video.shape[0], video.device)
            loss_v, loss_i, terms = self.discriminator_losses(video, fake, penalty=True)
        names = ["motion_encoder", "video_discriminator", "appearance_encoder", "image_discriminator"]
        self._update(names, loss_v + loss_i, optimizers, train)  # disjoint parameters: one backward
        return terms

    def step_generator(self, n: int, device, optimizers: dict, train) -> dict:
        """Step II: F_A, F_M, G on eqs. 8-9 (critics frozen for this backward)."""
        critics = ["appearance_encoder", "image_discriminator", "motion_encoder", "video_discriminator"]
        with self.frozen(critics), self.autocast(train, torch.device(device)):
            _, fake = self.fake_clips(n, device)
            loss = self.adversarial_loss(fake)
            self._update(["mapping_a", "mapping_m", "generator"], loss, optimizers, train)
        return {"g_adversarial": loss.detach()}

    def step_latent_reconstruction(self, n: int, device, optimizers: dict, train) -> dict:
        """Step III: E_A, E_M*, G on eq. 10; F evaluated without gradient (never updated here)."""
        c = self.config
        if c.rec_motion_weight == 0 and c.rec_appearance_weight == 0:
            return {}
        with self.autocast(train, torch.device(device)):
            with torch.no_grad():
                w = self.map(*self.sample_z(n, device))
            loss, terms = self.latent_reconstruction(w, self.generator(w))
        names = ["generator"]
        names += ["motion_encoder"] if c.rec_motion_weight > 0 else []
        names += ["appearance_encoder"] if c.rec_appearance_weight > 0 else []
        self._update(names, loss, optimizers, train)
        return terms

    def train_step(self, batch: dict, step: int, optimizers: dict, train) -> dict:
        """One iteration of Algorithm 1: steps I, II, III, each with fresh z."""
        video = batch["video"]
        self.check(video)
        terms = self.step_discriminators(video, optimizers, train)
        terms.update(self.step_generator(video.shape[0], video.device, optimizers, train))
        terms.update(self.step_latent_reconstruction(video.shape[0], video.device, optimizers, train))
        return terms

    @torch.no_grad()
    def validation_step(self, batch: dict, step: int) -> dict[str, torch.Tensor]:
        """The loss terms (no R1) and, where E_M exists, the reconstruction MSE G(E_A(x_1), E_M(x))."""
        out = self.loss(batch, step)
        terms = {"loss": out.loss, **out.terms}
        video = batch["video"]
        if self.motion_encoder is not None:
            terms["mse"] = (self.reconstruct(video) - video).pow(2).mean()
        else:  # no reconstruction: the squared distance of the mean sample to the mean clip
            terms["mse"] = (self.generate(video.shape[0]).mean(0) - video.mean(0)).pow(2).mean()
        return terms

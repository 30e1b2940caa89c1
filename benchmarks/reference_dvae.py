"""A reference-style training step of paper 000's disentangled video VAE, for timing only.

This mirrors how the paper's public code structures its model and training step (its
`DisentangledVAE`, `ContentEncoder`/`MotionEncoder`, `DisentangledDecoder`/`CNNDecoder`,
`compute_loss` and its trainer's inner loop). It was written from reading that code, not
copied; it is an independent re-implementation that reproduces its layer sizes and the
way its step is organised, so that `bench_train_step.py` can time vidis's `dvae` against
it in the same run. It is not used by vidis and not tested for learning anything.

What it reproduces (`arch="code"`, the public code's defaults):

- content: the time-averaged frame -> 4 convolutions 32-64-128-256 (kernel 4, stride 2,
  no bias, BatchNorm, LeakyReLU 0.2) -> 4096 -> linear 512 + LeakyReLU -> two linear
  heads to mu_c, logvar_c (128).
- motion: the T-1 frame differences, folded into the batch (as the public code does),
  -> 2 convolutions 16-32 (same block) -> 32 x 16 x 16 = 8192 -> linear 512 + LeakyReLU
  -> BiLSTM 256 per direction -> the two final hidden states (512) -> heads (128).
- decoder: (h_0, c_0) from [z_c; z_m] by two linear layers; a 256-wide LSTM called once
  per time step in a Python loop (1-step `nn.LSTM` calls), fed its own previous output
  (a learned first input); linear 256 -> 512 + LeakyReLU; [d_t; z_c] (640) -> linear to
  256 x 4 x 4 + LeakyReLU -> transposed convolutions 256-128-64-32 (no bias, BatchNorm,
  LeakyReLU) -> final transposed convolution to 1 channel (bias) -> Sigmoid. All frames
  go through the CNN decoder as one (B*T, ...) batch, as in the public code.
- loss: `F.binary_cross_entropy` on the sigmoid probabilities, reduction mean, times the
  number of pixels of one clip; KL of each posterior summed over dimensions and averaged
  over the batch, both weighted by beta = 0.4; 0.05 x the temporal-difference term and
  0.02 x the squared cross-correlation of the sampled latents (configs/disentangled_simple.json).
- step: zero_grad, forward, loss, backward, `clip_grad_norm_(..., 5)`, Adam (lr 3e-4,
  weight decay 1e-5) step, then
  `.item()` on every loss term and again on the four terms of its progress bar, every
  step (host syncs on an accelerator), as its training loop does.

Parameters at `arch="code"`: 12,934,625 (paper 000, Table 1: 12,934,625).

`arch="text"` keeps the same code structure (per-step Python LSTM loop, sigmoid + BCE,
per-step `.item()`s) but uses the layer sizes of vidis's `dvae` at its `paper` preset (the
paper text's architecture), so the two implementations can also be compared at equal
FLOPs: content CNN 32-64-128-256 with biases and ReLU straight into the heads; light CNN
16-32-64-64 -> linear 256 + ReLU; BiLSTM 128 per direction; a 512-wide decoder LSTM fed
[z_c; z_m] at every step from zero state; [d_t; z_c] -> the CNN decoder with biases and
ReLU, giving logits that a Sigmoid turns into probabilities; its loss leaves out the two
extra terms, as vidis's `paper` preset does.

`bench_train_step.py --public-code PATH` also times the public code's own model and loss
(imported from a local checkout, never shipped) and reports reference / public.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

ARCHS = ("code", "text")


def conv_stack(in_channels: int, channels, *, bias: bool, act: str) -> nn.Sequential:
    """Convolutions (kernel 4, stride 2, padding 1), each with BatchNorm and an activation."""
    layers, prev = [], in_channels
    for ch in channels:
        layers += [nn.Conv2d(prev, ch, 4, 2, 1, bias=bias), nn.BatchNorm2d(ch), activation(act)]
        prev = ch
    return nn.Sequential(*layers)


def activation(name: str) -> nn.Module:
    return nn.LeakyReLU(0.2, inplace=True) if name == "leaky" else nn.ReLU(inplace=True)


class FrameEncoder(nn.Module):
    """(N, C, S, S) -> (N, features): a conv stack, flattened, then optionally linear + activation."""

    def __init__(self, in_channels, channels, image_size, features, *, bias, act):
        super().__init__()
        self.conv = conv_stack(in_channels, channels, bias=bias, act=act)
        side = image_size // 2 ** len(channels)
        flat = channels[-1] * side * side
        if features:
            self.fc = nn.Sequential(nn.Linear(flat, features), activation(act))
            self.out_features = features
        else:
            self.fc = nn.Identity()
            self.out_features = flat

    def forward(self, x):
        return self.fc(self.conv(x).view(x.shape[0], -1))


class FrameDecoder(nn.Module):
    """(N, in_features) -> probabilities (N, C, S, S): linear to 256 x 4 x 4, transposed convs, Sigmoid."""

    def __init__(self, in_features, channels, out_channels, image_size, *, bias, act, act_after_fc):
        super().__init__()
        self.side = image_size // 2 ** len(channels)
        self.first = channels[0]
        fc = [nn.Linear(in_features, channels[0] * self.side * self.side)]
        if act_after_fc:
            fc.append(activation(act))
        self.fc = nn.Sequential(*fc)
        layers = []
        for ch_in, ch_out in zip(channels[:-1], channels[1:]):
            layers += [nn.ConvTranspose2d(ch_in, ch_out, 4, 2, 1, bias=bias), nn.BatchNorm2d(ch_out),
                       activation(act)]
        self.deconv = nn.Sequential(*layers)
        self.final = nn.ConvTranspose2d(channels[-1], out_channels, 4, 2, 1, bias=True)

    def forward(self, x):
        h = self.fc(x).view(x.shape[0], self.first, self.side, self.side)
        return torch.sigmoid(self.final(self.deconv(h)))


def sample(mu, logvar):
    std = torch.exp(0.5 * logvar)
    return mu + torch.randn_like(std) * std


class ReferenceDVAE(nn.Module):
    """video (B, T, C, S, S) -> dict with the reconstruction (probabilities) and both posteriors."""

    def __init__(self, arch: str = "code", in_channels: int = 1, image_size: int = 64,
                 content_dim: int = 128, motion_dim: int = 128):
        super().__init__()
        if arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, got {arch!r}")
        self.arch = arch
        code = arch == "code"
        bias, act = (False, "leaky") if code else (True, "relu")
        content_channels = (32, 64, 128, 256)
        motion_channels = (16, 32) if code else (16, 32, 64, 64)
        self.content_cnn = FrameEncoder(in_channels, content_channels, image_size, 512 if code else 0,
                                        bias=bias, act=act)
        self.content_mu = nn.Linear(self.content_cnn.out_features, content_dim)
        self.content_logvar = nn.Linear(self.content_cnn.out_features, content_dim)
        self.motion_cnn = FrameEncoder(in_channels, motion_channels, image_size, 512 if code else 256,
                                       bias=bias, act=act)
        enc_hidden = 256 if code else 128
        self.motion_lstm = nn.LSTM(self.motion_cnn.out_features, enc_hidden, batch_first=True,
                                   bidirectional=True)
        self.motion_mu = nn.Linear(2 * enc_hidden, motion_dim)
        self.motion_logvar = nn.Linear(2 * enc_hidden, motion_dim)
        latent = content_dim + motion_dim
        if code:
            dec_hidden = 256
            self.init_h = nn.Linear(latent, dec_hidden)
            self.init_c = nn.Linear(latent, dec_hidden)
            self.first_input = nn.Parameter(nn.init.xavier_uniform_(torch.empty(1, dec_hidden)))
            self.decoder_lstm = nn.LSTM(dec_hidden, dec_hidden, batch_first=True)
            self.frame_features = nn.Sequential(nn.Linear(dec_hidden, 512), nn.LeakyReLU(0.2, inplace=True))
        else:
            self.decoder_lstm = nn.LSTM(latent, 512, batch_first=True)
        self.frame_decoder = FrameDecoder(512 + content_dim, tuple(reversed(content_channels)), in_channels,
                                          image_size, bias=bias, act=act, act_after_fc=code)

    def decode(self, z_content, z_motion, num_frames: int):
        B = z_content.shape[0]
        z = torch.cat([z_content, z_motion], dim=-1)
        outputs = []
        if self.arch == "code":
            h = self.init_h(z)[None].contiguous()
            c = self.init_c(z)[None].contiguous()
            step_input = self.first_input.expand(B, -1)[:, None]
            for _ in range(num_frames):  # one 1-step LSTM call per frame
                out, (h, c) = self.decoder_lstm(step_input, (h, c))
                outputs.append(out)
                step_input = out
            features = self.frame_features(torch.cat(outputs, dim=1))
        else:
            state = None
            for _ in range(num_frames):  # the same latent fed at every step, one call per frame
                out, state = self.decoder_lstm(z[:, None], state)
                outputs.append(out)
            features = torch.cat(outputs, dim=1)
        features = torch.cat([features, z_content[:, None].expand(-1, num_frames, -1)], dim=-1)
        frames = self.frame_decoder(features.reshape(B * num_frames, -1))
        return frames.view(B, num_frames, *frames.shape[1:])

    def forward(self, video):
        B, T = video.shape[:2]
        content = self.content_cnn(video.mean(dim=1))
        mu_c, logvar_c = self.content_mu(content), self.content_logvar(content)
        diffs = video[:, 1:] - video[:, :-1]
        motion = self.motion_cnn(diffs.reshape(B * (T - 1), *diffs.shape[2:])).view(B, T - 1, -1)
        _, (h_n, _) = self.motion_lstm(motion)
        final = torch.cat([h_n[-2], h_n[-1]], dim=1)
        mu_m, logvar_m = self.motion_mu(final), self.motion_logvar(final)
        z_c, z_m = sample(mu_c, logvar_c), sample(mu_m, logvar_m)
        return {"recon": self.decode(z_c, z_m, T), "z_content": z_c, "z_motion": z_m,
                "mu_content": mu_c, "logvar_content": logvar_c, "mu_motion": mu_m, "logvar_motion": logvar_m}


def kl_standard(mu, logvar):
    """KL to N(0, I) per sample (summed over dimensions), averaged over the batch."""
    return (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)).mean()


def reference_loss(out: dict, video: torch.Tensor, beta: float = 0.4, temporal_weight: float = 0.05,
                   independence_weight: float = 0.02) -> dict:
    """The public `compute_loss` (models/disentangled_vae.py:222-292) as its trainer calls it
    with configs/disentangled_simple.json: BCE on probabilities (mean, times the pixels of one
    clip) + 0.4 * KL_c + 0.4 * KL_m + 0.05 * temporal + 0.02 * independence, where temporal is
    the MSE (mean) of consecutive-frame differences of recon and video times the pixels of one
    clip's T-1 differences, and independence the mean squared cross-correlation of the sampled
    latents, each dimension standardised over the batch."""
    recon = out["recon"]
    per_pixel = F.binary_cross_entropy(recon, video, reduction="mean")
    recon_loss = per_pixel * recon[0].numel()
    kl_c = kl_standard(out["mu_content"], out["logvar_content"])
    kl_m = kl_standard(out["mu_motion"], out["logvar_motion"])
    kl = beta * kl_c + beta * kl_m
    temporal = torch.tensor(0.0, device=recon.device)
    if temporal_weight > 0:
        recon_diff = recon[:, 1:] - recon[:, :-1]
        video_diff = video[:, 1:] - video[:, :-1]
        temporal = F.mse_loss(recon_diff, video_diff, reduction="mean") * recon_diff[0].numel()
    independence = torch.tensor(0.0, device=recon.device)
    if independence_weight > 0:
        zc, zm = out["z_content"], out["z_motion"]
        zc = (zc - zc.mean(0)) / (zc.std(0) + 1e-8)
        zm = (zm - zm.mean(0)) / (zm.std(0) + 1e-8)
        independence = (zc.t() @ zm / zc.shape[0]).pow(2).mean()
    total = recon_loss + kl + temporal_weight * temporal + independence_weight * independence
    return {"total_loss": total, "recon_loss": recon_loss, "recon_loss_per_pixel": per_pixel, "kl_loss": kl,
            "kl_content": kl_c, "kl_motion": kl_m, "temporal_loss": temporal,
            "independence_loss": independence, "beta": torch.tensor(beta)}


class ReferenceStep:
    """The public trainer's inner loop (training/trainer.py:192-218) with its optimiser
    (trainer.py:56-61: Adam, lr 3e-4, betas (0.9, 0.999), weight decay 1e-5), clipping at 5 and
    its per-step host reads: `.item()` of every loss term into the epoch sums, then of the four
    terms of its progress bar. The weights of the extra terms are the config's (0.05, 0.02);
    `arch="text"` runs pass 0 for both to match vidis's `paper` loss."""

    def __init__(self, model: ReferenceDVAE, lr: float = 3e-4, weight_decay: float = 1e-5,
                 beta: float = 0.4, grad_clip: float = 5.0, temporal_weight: float = 0.05,
                 independence_weight: float = 0.02):
        self.model = model.train()
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999),
                                          weight_decay=weight_decay)
        self.beta, self.grad_clip = beta, grad_clip
        self.temporal_weight, self.independence_weight = temporal_weight, independence_weight
        self.sums: dict[str, float] = {}

    def __call__(self, video: torch.Tensor) -> dict:
        self.optimizer.zero_grad()
        losses = reference_loss(self.model(video), video, self.beta, self.temporal_weight,
                                self.independence_weight)
        loss = losses["total_loss"]
        loss.backward()
        if self.grad_clip > 0:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        self.optimizer.step()
        for key, value in losses.items():  # running epoch sums: one host read per term
            self.sums[key] = self.sums.get(key, 0.0) + value.item()
        progress = {"loss": f"{loss.item():.4f}", "recon": f"{losses['recon_loss'].item():.4f}",
                    "kl": f"{losses['kl_loss'].item():.4f}", "beta": f"{self.beta:.3f}",
                    "pix": f"{losses['recon_loss_per_pixel'].item():.6f}"}
        return progress


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


if __name__ == "__main__":
    for arch in ARCHS:
        print(f"reference-style dvae, arch={arch}: {count_parameters(ReferenceDVAE(arch)):,} parameters")
    print("paper 000, Table 1: 12,934,625")

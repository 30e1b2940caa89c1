"""The DCGAN-style frame encoder and decoder of paper 000 (sections 3.3 and 3.5).

Encoder: convolutions (kernel 4, stride 2, padding 1), channels 1-32-64-128-256, each
followed by BatchNorm and an activation; a 64x64 frame becomes 256 x 4 x 4 = 4096 features.
Decoder: a linear layer to 256 x 4 x 4, then transposed convolutions 256-128-64-32-1 (the
last without norm or activation, giving logits).

`style` picks the details the paper's text and its public code (m3hmetkoc/disentangled-VAE
at 8d7b2fe, `models/encoders.py` and `models/decoders.py`) do differently:

- "text": ReLU, convolutions with biases, no activation after the decoder's first linear.
- "code": LeakyReLU(0.2), no convolution bias before a BatchNorm (encoders.py:32,
  decoders.py:40-41), a LeakyReLU after the decoder's first linear (decoders.py:30-33) and
  after the encoder's optional linear (encoders.py:43-46).
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import ConfigError

STYLES = ("text", "code")


def check_style(style: str, where: str = "model.block_style"):
    if style not in STYLES:
        raise ConfigError(f"{where} must be one of {', '.join(STYLES)}, got {style!r}")


def activation(style: str) -> nn.Module:
    """ReLU for the paper text's blocks, LeakyReLU(0.2) for its public code's."""
    check_style(style)
    return nn.LeakyReLU(0.2, inplace=True) if style == "code" else nn.ReLU(inplace=True)


def _check_size(image_size: int, layers: int) -> int:
    if image_size % (2**layers):
        raise ValueError(f"image_size must be divisible by {2**layers}, got {image_size}")
    return image_size // 2**layers


class ConvEncoder(nn.Module):
    """(N, C, S, S) -> (N, out_features).

    out_features = channels[-1] * (S / 2^L)^2 with L = len(channels) (the flattened map); with
    `pool`, channels[-1] (the map averaged over space); with `features` > 0, a linear layer and
    an activation to `features` come after either.
    """

    def __init__(self, in_channels: int = 1, channels=(32, 64, 128, 256), image_size: int = 64,
                 features: int = 0, style: str = "text", pool: bool = False):
        super().__init__()
        check_style(style)
        layers, prev = [], in_channels
        for ch in channels:
            conv = nn.Conv2d(prev, ch, 4, 2, 1, bias=style == "text")  # "code": no bias before BatchNorm
            layers += [conv, nn.BatchNorm2d(ch), activation(style)]
            prev = ch
        self.net = nn.Sequential(*layers)
        side = _check_size(image_size, len(channels))
        self.pool = pool
        flat = prev if pool else prev * side * side
        if features:
            self.fc = nn.Sequential(nn.Linear(flat, features), activation(style))
            self.out_features = features
        else:
            self.fc = nn.Identity()
            self.out_features = flat

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        maps = self.net(frames)  # (N, channels[-1], S / 2^L, S / 2^L)
        flat = maps.mean((2, 3)) if self.pool else maps.flatten(1)  # (N, channels[-1]) or (N, F)
        return self.fc(flat)


class ConvDecoder(nn.Module):
    """(N, in_features) -> logits (N, out_channels, S, S)."""

    def __init__(
        self, in_features: int, channels=(256, 128, 64, 32), out_channels: int = 1, image_size: int = 64,
        style: str = "text",
    ):
        super().__init__()
        check_style(style)
        self.side = _check_size(image_size, len(channels))
        self.first_channels = channels[0]
        self.fc = nn.Linear(in_features, channels[0] * self.side * self.side)
        self.fc_activation = activation(style) if style == "code" else nn.Identity()
        dims = [*channels, out_channels]
        layers = []
        for i, (ch_in, ch_out) in enumerate(zip(dims[:-1], dims[1:])):
            last = i == len(dims) - 2  # the last transposed conv gives logits: bias, no norm, no activation
            layers.append(nn.ConvTranspose2d(ch_in, ch_out, 4, 2, 1, bias=last or style == "text"))
            if not last:
                layers += [nn.BatchNorm2d(ch_out), activation(style)]
        self.net = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        hidden = self.fc_activation(self.fc(features)).view(-1, self.first_channels, self.side, self.side)
        return self.net(hidden)

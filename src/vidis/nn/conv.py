"""The DCGAN-style frame encoder and decoder of paper 000 (sections 3.3 and 3.5).

Encoder: 4 convolutions (kernel 4, stride 2, padding 1), channels 1-32-64-128-256, each
followed by BatchNorm and ReLU; a 64x64 frame becomes 256 x 4 x 4 = 4096 features.
Decoder: a linear layer to 256 x 4 x 4, then transposed convolutions 256-128-64-32-1 (the
last without norm or activation, giving logits).
"""

from __future__ import annotations

import torch
from torch import nn


def _check_size(image_size: int, layers: int) -> int:
    if image_size % (2**layers):
        raise ValueError(f"image_size must be divisible by {2**layers}, got {image_size}")
    return image_size // 2**layers


class ConvEncoder(nn.Module):
    """(N, C, S, S) -> (N, channels[-1] * (S / 2^L)^2) with L = len(channels)."""

    def __init__(self, in_channels: int = 1, channels=(32, 64, 128, 256), image_size: int = 64):
        super().__init__()
        layers, prev = [], in_channels
        for ch in channels:
            layers += [nn.Conv2d(prev, ch, 4, 2, 1, bias=True), nn.BatchNorm2d(ch), nn.ReLU(True)]
            prev = ch
        self.net = nn.Sequential(*layers)
        side = _check_size(image_size, len(channels))
        self.out_features = prev * side * side

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.net(frames).flatten(1)


class ConvDecoder(nn.Module):
    """(N, in_features) -> logits (N, out_channels, S, S)."""

    def __init__(
        self, in_features: int, channels=(256, 128, 64, 32), out_channels: int = 1, image_size: int = 64
    ):
        super().__init__()
        self.side = _check_size(image_size, len(channels))
        self.first_channels = channels[0]
        self.fc = nn.Linear(in_features, channels[0] * self.side * self.side)
        dims = [*channels, out_channels]
        layers = []
        for i, (ch_in, ch_out) in enumerate(zip(dims[:-1], dims[1:])):
            layers.append(nn.ConvTranspose2d(ch_in, ch_out, 4, 2, 1))
            if i < len(dims) - 2:  # the last transposed conv gives logits: no norm, no ReLU
                layers += [nn.BatchNorm2d(ch_out), nn.ReLU(True)]
        self.net = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        hidden = self.fc(features).view(-1, self.first_channels, self.side, self.side)
        return self.net(hidden)

"""The decoder LSTM shared by paper 000's dvae and lstm_vae: a latent -> T frame features."""

from __future__ import annotations

import torch
from torch import nn

from ..errors import ConfigError

LSTM_INPUTS = ("latent", "feedback")


class LatentLSTM(nn.Module):
    """z (B, D) -> hidden states (B, T, out_features).

    input = "latent" (paper 000 eq. 17): the LSTM starts from a zero state and reads z at every
    step.
    input = "feedback" (the paper's public code, `models/decoders.py` DisentangledDecoder and
    LSTMDecoder): (h_0, c_0) of every layer are two linear maps of z; the first input is a
    learned vector (Xavier-uniform initialised), each later input the LSTM's own previous
    output, so the T steps run one at a time.

    lstm_hidden = 0: the LSTM is `out_features` wide. lstm_hidden > 0: an LSTM that wide, then a
    linear layer + LeakyReLU(0.2) to `out_features` (the public code: 256 -> 512).
    """

    def __init__(self, in_features: int, out_features: int, lstm_hidden: int = 0, layers: int = 1,
                 input: str = "latent"):
        super().__init__()
        if input not in LSTM_INPUTS:
            raise ConfigError(f"decoder LSTM input must be one of {', '.join(LSTM_INPUTS)}, got {input!r}")
        self.input, self.layers = input, layers
        self.width = width = lstm_hidden or out_features
        if input == "latent":
            self.lstm = nn.LSTM(in_features, width, num_layers=layers, batch_first=True)
        else:
            self.init_hidden = nn.Linear(in_features, width * layers)
            self.init_cell = nn.Linear(in_features, width * layers)
            self.lstm = nn.LSTM(width, width, num_layers=layers, batch_first=True)
            self.first_input = nn.Parameter(torch.empty(1, width))
            nn.init.xavier_uniform_(self.first_input)
        if lstm_hidden:
            self.project = nn.Sequential(nn.Linear(width, out_features), nn.LeakyReLU(0.2, True))
        else:
            self.project = nn.Identity()

    def forward(self, z: torch.Tensor, num_frames: int) -> torch.Tensor:
        if self.input == "latent":
            steps = z[:, None].expand(-1, num_frames, -1)  # (B, T, D): the same input at every step
            hidden, _ = self.lstm(steps)  # (B, T, width)
            return self.project(hidden)  # (B, T, out_features)
        B = z.shape[0]
        # (layers, B, width): layer l's state is slice l of the linear's output
        h = self.init_hidden(z).view(B, self.layers, self.width).transpose(0, 1).contiguous()
        c = self.init_cell(z).view(B, self.layers, self.width).transpose(0, 1).contiguous()
        step = self.first_input.expand(B, -1)[:, None]  # (B, 1, width)
        outputs = []
        for _ in range(num_frames):
            step, (h, c) = self.lstm(step, (h, c))  # (B, 1, width): the next step's input
            outputs.append(step)
        return self.project(torch.cat(outputs, dim=1))  # (B, T, out_features)

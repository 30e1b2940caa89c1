"""A reference-style SVG-LP training step, written the way edenton/svg's `train_svg_lp.py` runs
it (not copied from it): per-time-step module calls in a Python loop, every frame encoded twice
(once as the input x_{t-1}, once as the target x_t), `LSTMCell` stacks whose hidden state lives
on the module, one Adam per module. Used by `bench_paper003.py` as the baseline that vidis's
`svg_lp` step is timed against, and by tests/test_svg.py to check vidis's parameter count.

The architecture is the public code's at its Moving MNIST settings (dcgan_64 encoder and
decoder with nf = 64, |g| = 128, |z| = 10, LSTMs of 256: predictor 2 layers, posterior and
prior 1), so that both steps do the same mathematics apart from the ordering of BatchNorm
batches (per time step here, over all frames of the batch in vidis).
"""

from __future__ import annotations

import torch
from torch import nn


def conv_block(cin: int, cout: int, up: bool = False) -> nn.Sequential:
    layer = nn.ConvTranspose2d(cin, cout, 4, 2, 1) if up else nn.Conv2d(cin, cout, 4, 2, 1)
    return nn.Sequential(layer, nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, inplace=True))


class Encoder(nn.Module):
    def __init__(self, dim: int, nc: int = 1, nf: int = 64):
        super().__init__()
        self.dim = dim
        self.c1, self.c2 = conv_block(nc, nf), conv_block(nf, 2 * nf)
        self.c3, self.c4 = conv_block(2 * nf, 4 * nf), conv_block(4 * nf, 8 * nf)
        self.c5 = nn.Sequential(nn.Conv2d(8 * nf, dim, 4, 1, 0), nn.BatchNorm2d(dim), nn.Tanh())

    def forward(self, x):
        h1 = self.c1(x)
        h2 = self.c2(h1)
        h3 = self.c3(h2)
        h4 = self.c4(h3)
        return self.c5(h4).view(-1, self.dim), [h1, h2, h3, h4]


class Decoder(nn.Module):
    def __init__(self, dim: int, nc: int = 1, nf: int = 64):
        super().__init__()
        self.dim = dim
        self.upc1 = nn.Sequential(nn.ConvTranspose2d(dim, 8 * nf, 4, 1, 0), nn.BatchNorm2d(8 * nf),
                                  nn.LeakyReLU(0.2, inplace=True))
        self.upc2 = conv_block(16 * nf, 4 * nf, up=True)
        self.upc3 = conv_block(8 * nf, 2 * nf, up=True)
        self.upc4 = conv_block(4 * nf, nf, up=True)
        self.upc5 = nn.Sequential(nn.ConvTranspose2d(2 * nf, nc, 4, 2, 1), nn.Sigmoid())

    def forward(self, vec, skip):
        d1 = self.upc1(vec.view(-1, self.dim, 1, 1))
        d2 = self.upc2(torch.cat([d1, skip[3]], 1))
        d3 = self.upc3(torch.cat([d2, skip[2]], 1))
        d4 = self.upc4(torch.cat([d3, skip[1]], 1))
        return self.upc5(torch.cat([d4, skip[0]], 1))


class CellStack(nn.Module):
    """Linear embed, `layers` LSTMCells whose state is kept on the module between calls."""

    def __init__(self, n_in: int, hidden: int, layers: int):
        super().__init__()
        self.hidden_size = hidden
        self.embed = nn.Linear(n_in, hidden)
        self.cells = nn.ModuleList(nn.LSTMCell(hidden, hidden) for _ in range(layers))
        self.state = []

    def reset(self, batch_size: int, device):
        zeros = lambda: torch.zeros(batch_size, self.hidden_size, device=device)  # noqa: E731
        self.state = [(zeros(), zeros()) for _ in self.cells]

    def step(self, x):
        h = self.embed(x)
        for i, cell in enumerate(self.cells):
            self.state[i] = cell(h, self.state[i])
            h = self.state[i][0]
        return h


class Predictor(CellStack):
    def __init__(self, n_in: int, n_out: int, hidden: int, layers: int):
        super().__init__(n_in, hidden, layers)
        self.output = nn.Sequential(nn.Linear(hidden, n_out), nn.Tanh())

    def forward(self, x):
        return self.output(self.step(x))


class GaussianCells(CellStack):
    def __init__(self, n_in: int, n_out: int, hidden: int, layers: int):
        super().__init__(n_in, hidden, layers)
        self.mu_net, self.logvar_net = nn.Linear(hidden, n_out), nn.Linear(hidden, n_out)

    def forward(self, x):
        h = self.step(x)
        mu, logvar = self.mu_net(h), self.logvar_net(h)
        return mu + torch.randn_like(mu) * logvar.mul(0.5).exp(), mu, logvar


def build(batch_size: int, nf: int = 64, g_dim: int = 128, z_dim: int = 10, rnn_size: int = 256,
          channels: int = 1) -> dict[str, nn.Module]:
    del batch_size  # the public code sizes hidden states at construction; here at reset
    return {
        "encoder": Encoder(g_dim, channels, nf),
        "decoder": Decoder(g_dim, channels, nf),
        "frame_predictor": Predictor(g_dim + z_dim, g_dim, rnn_size, 2),
        "posterior": GaussianCells(g_dim, z_dim, rnn_size, 1),
        "prior": GaussianCells(g_dim, z_dim, rnn_size, 1),
    }


def optimizers(modules: dict[str, nn.Module], lr: float = 0.002) -> list[torch.optim.Optimizer]:
    return [torch.optim.Adam(m.parameters(), lr=lr, betas=(0.9, 0.999)) for m in modules.values()]


def kl_per_batch(mu1, logvar1, mu2, logvar2, batch_size: int):
    sigma1, sigma2 = logvar1.mul(0.5).exp(), logvar2.mul(0.5).exp()
    kld = torch.log(sigma2 / sigma1) + (logvar1.exp() + (mu1 - mu2) ** 2) / (2 * logvar2.exp()) - 0.5
    return kld.sum() / batch_size


def train_step(modules: dict, opts: list, frames: list[torch.Tensor], n_past: int, beta: float = 1e-4):
    """One step on `frames` (a list of T tensors (B, C, H, W)), as train_svg_lp.py's train()."""
    enc, dec = modules["encoder"], modules["decoder"]
    predictor, posterior, prior = modules["frame_predictor"], modules["posterior"], modules["prior"]
    batch_size, device = frames[0].shape[0], frames[0].device
    for m in modules.values():
        m.zero_grad()
    for m in (predictor, posterior, prior):
        m.reset(batch_size, device)
    mse = kld = 0
    for i in range(1, len(frames)):
        h, skip_now = enc(frames[i - 1])
        h_target = enc(frames[i])[0]  # the second encoding of frame i
        if i < n_past:
            skip = skip_now
        z, mu, logvar = posterior(h_target)
        _, mu_p, logvar_p = prior(h)
        x_pred = dec(predictor(torch.cat([h, z], 1)), skip)
        mse = mse + nn.functional.mse_loss(x_pred, frames[i])
        kld = kld + kl_per_batch(mu, logvar, mu_p, logvar_p, batch_size)
    loss = mse + beta * kld
    loss.backward()
    for opt in opts:
        opt.step()
    return loss.detach()

"""Diagonal Gaussian helpers shared by the VAEs."""

from __future__ import annotations

import torch


def reparameterize(mean: torch.Tensor, logvar: torch.Tensor, *, sample: bool) -> torch.Tensor:
    """z = mean + sigma * eps, eps ~ N(0, I) when `sample`, else the mean (paper 000 eq. 4).

    Models pass `sample=self.training`: latents are sampled in train mode and are the posterior
    means in eval mode, whether or not gradients are being recorded (so `loss` under
    `torch.no_grad()` in train mode is the same objective as with gradients).
    """
    if not sample:
        return mean
    return mean + torch.randn_like(mean) * torch.exp(0.5 * logvar)


def gaussian_kl_standard(mean: torch.Tensor, logvar: torch.Tensor, free_bits: float = 0.0) -> torch.Tensor:
    """KL(N(mean, exp(logvar)) || N(0, I)) summed over the last dimension.

    = 0.5 * sum(mean^2 + exp(logvar) - logvar - 1). Shape: input (..., D) -> (...).
    `free_bits` > 0: each dimension's KL is raised to at least `free_bits` before the sum (the
    paper's public code, `models/lstm_vae.py:191-196`, per clip and dimension).
    Computed in float32 even under bf16 autocast.
    """
    mean, logvar = mean.float(), logvar.float()
    per_dim = 0.5 * (mean.pow(2) + logvar.exp() - logvar - 1)  # (..., D)
    if free_bits > 0:
        per_dim = per_dim.clamp(min=free_bits)
    return per_dim.sum(-1)

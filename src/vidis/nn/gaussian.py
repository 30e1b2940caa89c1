"""Diagonal Gaussian helpers shared by the VAEs."""

from __future__ import annotations

import torch


def reparameterize(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """z = mean + sigma * eps, eps ~ N(0, I) in training; the mean in eval (paper 000 eq. 4)."""
    if not torch.is_grad_enabled() and not mean.requires_grad:
        return mean
    return mean + torch.randn_like(mean) * torch.exp(0.5 * logvar)


def gaussian_kl_standard(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(logvar)) || N(0, I)) summed over the last dimension.

    = 0.5 * sum(mean^2 + exp(logvar) - logvar - 1). Shape: input (..., D) -> (...).
    Computed in float32 even under bf16 autocast.
    """
    mean, logvar = mean.float(), logvar.float()
    return 0.5 * (mean.pow(2) + logvar.exp() - logvar - 1).sum(-1)

"""The Bernoulli VAE objective shared by paper 000's three models."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..types import ModelOutput


def bernoulli_vae_loss(
    logits: torch.Tensor, video: torch.Tensor, kls: dict[str, torch.Tensor], beta: float
) -> ModelOutput:
    """BCE on logits summed over pixels and frames, averaged over clips (paper 000 eq. 20),
    plus beta times the sum of the KL terms, each summed and averaged over clips (eqs. 21-22).

    logits, video: (B, T, C, H, W); kls: name -> KL per clip (B,) or per clip and frame (B, T).
    Terms: recon, kl, beta, and each KL by name when there are several.
    """
    B = video.shape[0]
    recon = F.binary_cross_entropy_with_logits(logits.float(), video, reduction="sum") / B
    named = {name: kl.float().sum() / B for name, kl in kls.items()}
    kl = sum(named.values())
    terms = {"recon": recon.detach(), "kl": kl.detach(), "beta": torch.tensor(beta)}
    if len(named) > 1:
        terms.update({name: value.detach() for name, value in named.items()})
    return ModelOutput(recon + beta * kl, terms)

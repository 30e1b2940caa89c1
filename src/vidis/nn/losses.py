"""The Bernoulli VAE objective shared by paper 000's three models, and its public code's extras."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..types import ModelOutput
from .gaussian import gaussian_kl_standard


def bernoulli_vae_loss(
    logits: torch.Tensor,
    video: torch.Tensor,
    kls: dict[str, torch.Tensor],
    beta: float,
    penalties: dict[str, tuple[float, torch.Tensor]] | None = None,
) -> ModelOutput:
    """BCE on logits summed over pixels and frames, averaged over clips (paper 000 eq. 20),
    plus beta times the sum of the KL terms, each summed and averaged over clips (eqs. 21-22),
    plus weight * value for each of `penalties` (name -> (weight, scalar)).

    logits, video: (B, T, C, H, W); kls: name -> KL per clip (B,) or per clip and frame (B, T).
    Terms: recon, kl, beta, each KL by name when there are several, each penalty by name.
    """
    B = video.shape[0]
    recon = F.binary_cross_entropy_with_logits(logits.float(), video, reduction="sum") / B
    named = {name: kl.float().sum() / B for name, kl in kls.items()}
    kl = sum(named.values()) if named else recon.new_zeros(())
    loss = recon + beta * kl
    terms = {"recon": recon.detach(), "kl": kl.detach(), "beta": torch.tensor(beta)}
    if len(named) > 1:
        terms.update({name: value.detach() for name, value in named.items()})
    for name, (weight, value) in (penalties or {}).items():
        loss = loss + weight * value
        terms[name] = value.detach()
    return ModelOutput(loss, terms)


def temporal_difference_loss(recon: torch.Tensor, video: torch.Tensor) -> torch.Tensor:
    """Squared error between consecutive-frame differences of `recon` and of `video`, summed over
    the T-1 differences and their pixels, averaged over clips.

    The public code's temporal term (`models/disentangled_vae.py:263-268`: MSE of the
    differences, mean, times the pixels of one clip's T-1 differences). recon, video:
    (B, T, C, H, W), both in [0, 1] (recon is the decoder's probabilities, not its logits).
    """
    recon, video = recon.float(), video.float()
    residual = (recon[:, 1:] - recon[:, :-1]) - (video[:, 1:] - video[:, :-1])  # (B, T-1, C, H, W)
    return residual.pow(2).sum() / video.shape[0]


def cross_correlation_penalty(content: torch.Tensor, motion: torch.Tensor) -> torch.Tensor:
    """Mean squared cross-correlation over the batch between every content and motion dimension.

    The public code's independence term (`models/disentangled_vae.py:270-278`): each dimension
    standardised over the batch (unbiased std, + 1e-8), R = z_c^T z_m / B (Jc x Jm), mean of
    R^2. content (B, Jc), motion (B, Jm) -> scalar. A batch of one clip has no correlation:
    0 (the public code would give NaN).
    """
    content, motion = content.float(), motion.float()
    B = content.shape[0]
    if B < 2:
        return content.new_zeros(())
    content = (content - content.mean(0)) / (content.std(0) + 1e-8)  # (B, Jc)
    motion = (motion - motion.mean(0)) / (motion.std(0) + 1e-8)  # (B, Jm)
    return (content.t() @ motion / B).pow(2).mean()


def annealed_beta(beta: float, step: int, anneal_steps: int, start: int = 0, every: int = 1) -> float:
    """KL weight at `step`: 0 before `start`, then rising linearly to `beta` over `anneal_steps`.

    The weight changes every `every` steps (1: every step; the public code's trainer changes it
    once per epoch, `training/trainer.py:115-134`). anneal_steps <= 0: `beta` from `start`.
    With start = 0 and every = 1 this is paper 000 section 3.7's KL annealing.
    """
    step = (step // every) * every
    if step < start:
        return 0.0
    if anneal_steps <= 0:
        return beta
    return beta * min(1.0, (step - start) / anneal_steps)


def single_latent_vae_loss(
    logits: torch.Tensor, video: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor, config, step: int,
    training: bool,
) -> ModelOutput:
    """The objective of paper 000's one-latent baselines (frame_vae, lstm_vae).

    The KL weight is `annealed_beta` of the config's schedule (`beta`, `kl_anneal_steps`,
    `kl_anneal_start`, `kl_anneal_every`), or the full `beta` in eval mode when
    `eval_at_full_beta` (the public code validates at full weight); the KL keeps
    `config.free_bits` per dimension, and with free bits the raw KL is logged as `kl_raw`.
    """
    c = config
    if c.eval_at_full_beta and not training:
        beta = c.beta
    else:
        beta = annealed_beta(c.beta, step, c.kl_anneal_steps, c.kl_anneal_start, c.kl_anneal_every)
    out = bernoulli_vae_loss(logits, video, {"kl": gaussian_kl_standard(mean, logvar, c.free_bits)}, beta)
    if c.free_bits > 0:
        out.terms["kl_raw"] = gaussian_kl_standard(mean, logvar).detach().sum() / video.shape[0]
    return out

"""Building blocks used unchanged by two or more models."""

from .conv import ConvDecoder, ConvEncoder, activation, check_style
from .gaussian import gaussian_kl_standard, reparameterize
from .losses import (
    annealed_beta,
    bernoulli_vae_loss,
    cross_correlation_penalty,
    single_latent_vae_loss,
    temporal_difference_loss,
)
from .recurrent import LatentLSTM

__all__ = [
    "ConvDecoder",
    "ConvEncoder",
    "LatentLSTM",
    "activation",
    "annealed_beta",
    "bernoulli_vae_loss",
    "check_style",
    "cross_correlation_penalty",
    "gaussian_kl_standard",
    "reparameterize",
    "single_latent_vae_loss",
    "temporal_difference_loss",
]

"""Building blocks used unchanged by two or more models."""

from .conv import ConvDecoder, ConvEncoder
from .gaussian import gaussian_kl_standard, reparameterize
from .losses import bernoulli_vae_loss

__all__ = ["ConvDecoder", "ConvEncoder", "bernoulli_vae_loss", "gaussian_kl_standard", "reparameterize"]

"""Building blocks used unchanged by two or more models."""

from .conv import ConvDecoder, ConvEncoder
from .gaussian import gaussian_kl_standard, reparameterize

__all__ = ["ConvDecoder", "ConvEncoder", "gaussian_kl_standard", "reparameterize"]

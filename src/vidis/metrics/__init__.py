"""Pure metrics: per-frame image metrics of videos and dataset-level statistics."""

from vidis.metrics.image import MetricInputError, mse, psnr, ssim, temporal_consistency
from vidis.metrics.stats import (
    conditional_entropy,
    frechet_distance,
    inception_score,
    marginal_entropy,
    mean_abs_cross_correlation,
    pearson,
)

__all__ = [
    "MetricInputError",
    "conditional_entropy",
    "frechet_distance",
    "inception_score",
    "marginal_entropy",
    "mean_abs_cross_correlation",
    "mse",
    "pearson",
    "psnr",
    "ssim",
    "temporal_consistency",
]

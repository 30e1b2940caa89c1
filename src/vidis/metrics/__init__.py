"""Pure metrics: per-frame image metrics of videos and dataset-level statistics."""

from vidis.metrics.image import MetricInputError, batch_psnr, mse, psnr, ssim, temporal_consistency
from vidis.metrics.stats import (
    binomial_standard_error,
    conditional_entropy,
    frechet_distance,
    inception_score,
    marginal_entropy,
    mean_abs_cross_correlation,
    pearson,
)

__all__ = [
    "MetricInputError",
    "batch_psnr",
    "binomial_standard_error",
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

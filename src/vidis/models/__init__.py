"""Models: the protocol (`base.VideoModel`) and one file per paper model and baseline."""

from . import (  # noqa: F401  (registers the models)
    dvae,
    factored_vae,  # noqa: F401  (paper 002: factored_vae, slow_vae, vae002)
    frame_vae,
    lstm_vae,
)
from .base import CAPABILITIES, PRESETS, VideoModel

__all__ = ["CAPABILITIES", "PRESETS", "VideoModel"]

"""Models: the protocol (`base.VideoModel`) and one file per paper model and baseline."""

from . import frame_vae  # noqa: F401  (registers the model)
from .base import CAPABILITIES, PRESETS, VideoModel

__all__ = ["CAPABILITIES", "PRESETS", "VideoModel"]

"""Models: the protocol (`base.VideoModel`) and one file per paper model and baseline."""

from . import drsvg, dvae, frame_vae, lstm_vae, svg  # noqa: F401  (registers the models)
from .base import CAPABILITIES, PRESETS, VideoModel

__all__ = ["CAPABILITIES", "PRESETS", "VideoModel"]

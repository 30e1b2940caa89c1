"""Models: the protocol (`base.VideoModel`) and one file per paper model and baseline."""

from . import dvae, frame_vae, lstm_vae, vdsm  # noqa: F401  (registers the models)
from .base import CAPABILITIES, PRESETS, VideoModel

__all__ = ["CAPABILITIES", "PRESETS", "VideoModel"]

"""Models: the protocol (`base.VideoModel`) and one file per paper model and baseline."""

from . import drsvg, dvae, factored_vae, frame_vae, lstm_vae, svg, vdsm  # noqa: F401  (registers the models)
from .base import CAPABILITIES, PRESETS, VideoModel

__all__ = ["CAPABILITIES", "PRESETS", "VideoModel"]

"""Models: the protocol (`base.VideoModel`) and one file per paper model and baseline."""

from . import (  # noqa: F401  (registers the models)
    avlae,
    drsvg,
    dvae,
    factored_vae,
    frame_vae,
    lstm_vae,
    svg,
    vdsm,
)
from .base import CAPABILITIES, PRESETS, VideoModel

__all__ = ["CAPABILITIES", "PRESETS", "VideoModel"]

"""Errors that vidis raises for bad input. The CLI prints them as one line and exits non-zero."""


class VidisError(Exception):
    """Base class for every error caused by what the user asked for (not a bug in vidis)."""


class ConfigError(VidisError, ValueError):
    """An unknown config key, a value of the wrong type, or an unknown preset."""


class DataError(VidisError, ValueError):
    """A dataset name, option or file that vidis cannot use."""


class CapabilityError(VidisError, NotImplementedError):
    """A model was asked for something it cannot do (e.g. `predict` on a non-prediction model)."""


class TrainingDiverged(VidisError, RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""

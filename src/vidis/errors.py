"""Errors that vidis raises for bad input. The CLI prints them as one line and exits non-zero."""


class VidisError(Exception):
    """Base class for every error caused by what the user asked for (not a bug in vidis).

    `exit_code` is the status the command line exits with (2: bad input).
    """

    exit_code = 2


class ConfigError(VidisError, ValueError):
    """An unknown config key, a value of the wrong type or range, or an unknown preset."""


class DataError(VidisError, ValueError):
    """A dataset name, option or file that vidis cannot use."""


class CapabilityError(VidisError, NotImplementedError):
    """A model was asked for something it cannot do (e.g. `predict` on a non-prediction model)."""


class TrainingDiverged(VidisError, RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


class RunFolderError(VidisError, ValueError):
    """A run folder that is missing, is not a vidis run, or may not be written to."""


class RunInUseError(RunFolderError):
    """A run folder that another process is training or evaluating in right now."""


class CheckpointError(VidisError, ValueError):
    """A checkpoint file that is missing, damaged, or not a vidis checkpoint."""


class Interrupted(VidisError):
    """The user pressed Ctrl-C; the message says what was saved and how to go on."""

    exit_code = 130

"""vidis: learning video representations that separate content from motion."""

__version__ = "0.1.0"


def load_model(run_dir, checkpoint: str = "last", device: str = "cpu"):
    """Load the trained model of a run folder, in eval mode.

    checkpoint: "last", or "best" (the lowest validation loss) for runs trained with
    train.keep_best. A missing run, a folder without config.json or a damaged checkpoint raises a
    VidisError that names the path.
    """
    from .train.checkpoint import load_model as _load

    return _load(run_dir, checkpoint=checkpoint, device=device)


def test_set(run_dir, split: str = "test"):
    """The fixed test (or val) clips a run is scored on, built with the run's own data options."""
    from .data import run_test_set

    return run_test_set(run_dir, split)


__all__ = ["__version__", "load_model", "test_set"]

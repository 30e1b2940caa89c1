"""Name -> class registries for models and datasets, filled by decorators at import time."""

from __future__ import annotations

from .errors import ConfigError, DataError

MODELS: dict[str, type] = {}
DATASETS: dict[str, type] = {}


def register_model(name: str):
    def wrap(cls):
        if name in MODELS:
            raise RuntimeError(f"model {name!r} registered twice")
        cls.name = name
        MODELS[name] = cls
        return cls

    return wrap


def register_dataset(name: str):
    def wrap(cls):
        if name in DATASETS:
            raise RuntimeError(f"dataset {name!r} registered twice")
        cls.name = name
        DATASETS[name] = cls
        return cls

    return wrap


def _load_all():
    # Importing the packages runs the @register decorators.
    from . import data, models  # noqa: F401


def get_model_class(name: str) -> type:
    _load_all()
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; available: {', '.join(sorted(MODELS))}")
    return MODELS[name]


def get_dataset_class(name: str) -> type:
    _load_all()
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; available: {', '.join(sorted(DATASETS))}")
    return DATASETS[name]

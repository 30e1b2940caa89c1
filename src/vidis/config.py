"""Dataclass configs: JSON round trips and `--set section.key=value` overrides.

Every model and dataset declares a config dataclass; the trainer has `TrainConfig`. A run's
config is three sections, `model`, `data` and `train`, and an override names one of them:
`--set model.beta=2 --set train.lr=1e-3 --set data.num_digits=1`. Unknown keys and values
of the wrong type raise `ConfigError`, never silently pass; so do NaN and infinite numbers in
any section, and `TrainConfig.validate` checks the ranges of the trainer's settings.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

SECTIONS = ("model", "data", "train")


@dataclass
class TrainConfig:
    steps: int = 1000
    batch_size: int = 32
    lr: float = 3e-4
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    weight_decay: float = 0.0
    grad_clip: float = 0.0  # max gradient norm; 0 disables clipping
    eval_every: int = 250  # steps between validation passes (and checkpoints)
    eval_batches: int = 4  # validation batches per pass
    log_every: int = 10
    num_workers: int = 0  # DataLoader workers; data are identical for any value
    seed: int = 0
    device: str = "auto"  # "auto" (cuda if available), "cpu" or "cuda"
    amp: str = "none"  # "none" or "bf16" (autocast on CPU or CUDA)
    max_minutes: float = 0.0  # stop (validate, checkpoint) once training has run this long; 0 = no limit
    lr_schedule: str = "constant"  # "constant" or "cosine" (decay to 0 over train.steps), per optimiser
    keep_best: bool = False  # also keep checkpoints/best.pt, the checkpoint of the lowest validation loss
    keep_every: bool = False  # also keep checkpoints/stepN.pt at every validation (curves over training)
    tensorboard: bool = True  # events in RUN/tensorboard/ when the tensorboard package is installed

    def validate(self):
        """Raise ConfigError naming the first setting outside its range."""
        at_least = {"steps": 1, "batch_size": 1, "eval_every": 1, "eval_batches": 1, "log_every": 1}
        at_least |= {"num_workers": 0, "grad_clip": 0, "weight_decay": 0, "max_minutes": 0}
        for key, low in at_least.items():
            if getattr(self, key) < low:
                raise ConfigError(f"train.{key} must be >= {low}, got {getattr(self, key)}")
        if not self.lr > 0:
            raise ConfigError(f"train.lr must be > 0, got {self.lr}")
        for key in ("adam_beta1", "adam_beta2"):
            if not 0 <= getattr(self, key) < 1:
                raise ConfigError(f"train.{key} must be in [0, 1), got {getattr(self, key)}")
        choices = {"lr_schedule": ("constant", "cosine"), "amp": ("none", "bf16")}
        choices["device"] = ("auto", "cpu", "cuda")
        for key, allowed in choices.items():
            value = getattr(self, key)
            if value not in allowed:
                raise ConfigError(f"train.{key} must be one of {', '.join(allowed)}, got {value!r}")


def _field_types(cls) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _parse(text: str, typ: Any, key: str) -> Any:
    """Turn the text of a `--set` value into `typ`, or raise ConfigError naming the key."""
    origin = typing.get_origin(typ)
    args = typing.get_args(typ)
    if origin in (typing.Union, types.UnionType):
        if text.lower() in ("none", "null") and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _parse(text, arg, key)
            except ConfigError:
                pass
        raise ConfigError(f"{key}: cannot read {text!r} as {typ}")
    if origin is tuple:
        parts = [p for p in text.strip("()[] ").split(",") if p.strip()]
        item_types = args if args and args[-1] is not Ellipsis else (args[0],) * len(parts)
        if len(item_types) != len(parts):
            raise ConfigError(f"{key}: expected {len(item_types)} comma-separated values, got {text!r}")
        return tuple(_parse(p.strip(), t, key) for p, t in zip(parts, item_types))
    if typ is bool:
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{key}: expected true/false, got {text!r}")
    if typ is int:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{key}: expected an integer, got {text!r}") from None
    if typ is float:
        try:
            value = float(text)
        except ValueError:
            raise ConfigError(f"{key}: expected a number, got {text!r}") from None
        return _finite(value, key)
    if typ is str:
        return text
    raise ConfigError(f"{key}: cannot set a value of type {typ} from the command line")


def _check(value: Any, typ: Any, key: str) -> Any:
    """Check (and lightly coerce: int -> float, list -> tuple) a value from JSON or a preset."""
    origin = typing.get_origin(typ)
    args = typing.get_args(typ)
    if isinstance(value, str) and typ is not str and origin not in (typing.Union, types.UnionType):
        return _parse(value, typ, key)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _check(value, arg, key)
            except ConfigError:
                pass
        raise ConfigError(f"{key}: expected {typ}, got {value!r}")
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a sequence, got {value!r}")
        item_types = args if args and args[-1] is not Ellipsis else (args[0],) * len(value)
        if len(item_types) != len(value):
            raise ConfigError(f"{key}: expected {len(item_types)} values, got {value!r}")
        return tuple(_check(v, t, key) for v, t in zip(value, item_types))
    if typ is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if typ in (int, float, bool, str):
        if type(value) is not typ:
            raise ConfigError(f"{key}: expected {typ.__name__}, got {value!r}")
        return _finite(value, key) if typ is float else value
    return value


def _finite(value: float, key: str) -> float:
    if not math.isfinite(value):
        raise ConfigError(f"{key}: expected a finite number, got {value}")
    return value


def update(config, values: dict[str, Any], section: str = ""):
    """Return a copy of dataclass `config` with `values` (text or typed) applied, checked."""
    hints = _field_types(type(config))
    changes = {}
    for key, value in values.items():
        name = f"{section}.{key}" if section else key
        if key not in hints:
            known = ", ".join(f.name for f in dataclasses.fields(config))
            raise ConfigError(f"unknown key {name!r}; {section or 'this'} section has: {known}")
        changes[key] = _check(value, hints[key], name)
    new = dataclasses.replace(config, **changes)
    validate = getattr(new, "validate", None)
    if validate is not None:
        validate()
    return new


def from_dict(cls, values: dict[str, Any], section: str = ""):
    return update(cls(), values, section)


def to_dict(config) -> dict[str, Any]:
    return json.loads(json.dumps(dataclasses.asdict(config)))


def flatten(values: dict, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as one dict with dotted keys: {"a": {"b": 1}} -> {"a.b": 1}."""
    out = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def parse_set_args(items: list[str]) -> dict[str, dict[str, str]]:
    """['model.beta=2', 'train.lr=1e-3'] -> {'model': {'beta': '2'}, 'train': {'lr': '1e-3'}}."""
    out: dict[str, dict[str, str]] = {s: {} for s in SECTIONS}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--set expects section.key=value, got {item!r}")
        key, value = item.split("=", 1)
        section, _, name = key.strip().partition(".")
        if section not in SECTIONS or not name:
            raise ConfigError(
                f"--set key must start with one of {', '.join(s + '.' for s in SECTIONS)} got {key!r}"
            )
        out[section][name] = value.strip()
    return out

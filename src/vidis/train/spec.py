"""A run's full configuration: which model, which data, and the three config sections."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..config import TrainConfig, to_dict, update
from ..errors import ConfigError
from ..registry import get_dataset_class, get_model_class


@dataclass
class RunSpec:
    model: str
    data: str
    preset: str
    model_config: object
    data_config: object
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "data": self.data,
            "preset": self.preset,
            "model_config": to_dict(self.model_config),
            "data_config": to_dict(self.data_config),
            "train": to_dict(self.train),
        }

    @classmethod
    def from_dict(cls, d: dict) -> RunSpec:
        model_cls = get_model_class(d["model"])
        data_cls = get_dataset_class(d["data"])
        return cls(
            d["model"],
            d["data"],
            d.get("preset", ""),
            update(model_cls.Config(), d["model_config"], "model"),
            update(data_cls.Config(), d["data_config"], "data"),
            update(TrainConfig(), d["train"], "train"),
        )

    def save(self, path: Path):
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, run_dir) -> RunSpec:
        path = Path(run_dir) / "config.json"
        if not path.is_file():
            raise ConfigError(f"{run_dir} is not a vidis run folder (no config.json)")
        return cls.from_dict(json.loads(path.read_text()))


def make_spec(
    model: str, data: str | None = None, preset: str = "small", overrides: dict | None = None
) -> RunSpec:
    """Model defaults <- preset <- overrides ({"model": {...}, "data": {...}, "train": {...}})."""
    overrides = overrides or {}
    unknown = set(overrides) - {"model", "data", "train"}
    if unknown:
        raise ConfigError(f"unknown config sections {sorted(unknown)}; use model, data or train")
    model_cls = get_model_class(model)
    data = data or model_cls.default_data
    data_cls = get_dataset_class(data)
    chosen = model_cls.preset(preset)

    def section(name, default):
        return update(update(default, chosen.get(name, {}), name), overrides.get(name, {}), name)

    return RunSpec(
        model,
        data,
        preset,
        section("model", model_cls.Config()),
        section("data", data_cls.Config()),
        section("train", TrainConfig()),
    )


def build_model(spec: RunSpec, video_shape):
    return get_model_class(spec.model)(spec.model_config, video_shape)

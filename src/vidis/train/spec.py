"""A run's full configuration: which model, which data, and the three config sections."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..config import TrainConfig, to_dict, update
from ..errors import ConfigError, RunFolderError, VidisError
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
        path = Path(check_run_dir(run_dir)) / "config.json"
        try:
            values = json.loads(path.read_text())
            if not isinstance(values, dict):
                raise ValueError("not a JSON object")
            return cls.from_dict(values)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as err:
            if isinstance(err, VidisError):  # an unknown key or model: the message says which
                raise type(err)(f"{path}: {err}") from None
            raise RunFolderError(
                f"{path} is damaged or not a vidis run configuration ({type(err).__name__}: {err})"
            ) from None


def check_run_dir(run_dir) -> Path:
    """`run_dir` as a Path, or RunFolderError: it does not exist, is a file, or has no config.json."""
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise RunFolderError(f"{run_dir} does not exist")
    if not run_dir.is_dir():
        raise RunFolderError(f"{run_dir} is a file, not a run folder")
    if not (run_dir / "config.json").is_file():
        raise RunFolderError(f"{run_dir} is not a vidis run folder (it has no config.json)")
    return run_dir


def make_spec(
    model: str,
    data: str | None = None,
    preset: str = "small",
    overrides: dict | None = None,
    preset_data: bool = True,
) -> RunSpec:
    """Model defaults <- preset <- overrides ({"model": {...}, "data": {...}, "train": {...}}).

    preset_data=False leaves the preset's data section out (the leaderboard gives every model
    the same data, and a preset's data may not even be valid for another dataset)."""
    overrides = overrides or {}
    unknown = set(overrides) - {"model", "data", "train"}
    if unknown:
        raise ConfigError(f"unknown config sections {sorted(unknown)}; use model, data or train")
    model_cls = get_model_class(model)
    data = data or model_cls.default_data
    data_cls = get_dataset_class(data)
    chosen = model_cls.preset(preset)

    def section(name, default):
        preset_part = dict(chosen.get(name, {})) if name != "data" or preset_data else {}
        if name == "data":  # a preset's data keys are for its model's datasets: skip what this one lacks
            if dataclasses.is_dataclass(default):
                known = {f.name for f in dataclasses.fields(default)}
                preset_part = {k: v for k, v in preset_part.items() if k in known}
        return update(update(default, preset_part, name), overrides.get(name, {}), name)

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


# What a run writes into its folder; `--overwrite` removes exactly these, nothing of the user's.
RUN_FILES = ("checkpoints", "figures", "metrics.json", "report.html", "log.csv", "config.json", "tensorboard")


def clear_run(run_dir) -> list[str]:
    """Remove what a run owns from `run_dir` (checkpoints incl. best.pt, metrics, figures, report,
    log, config); return the names removed."""
    import shutil  # noqa: PLC0415

    removed = []
    for name in RUN_FILES:
        path = Path(run_dir) / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        else:
            continue
        removed.append(name)
    return removed

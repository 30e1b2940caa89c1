"""Config checks: non-finite numbers in any section and out-of-range train settings are refused."""

import dataclasses
import math

import pytest

from vidis.config import TrainConfig, from_dict, update
from vidis.errors import ConfigError
from vidis.registry import DATASETS, MODELS, _load_all
from vidis.train.spec import make_spec

_load_all()


def float_fields(config_cls):
    return [f.name for f in dataclasses.fields(config_cls) if f.type in (float, "float")]


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "NaN", "Infinity"])
def test_non_finite_text_is_refused_in_every_section(text):
    configs = [("train", TrainConfig())]
    configs += [("model", cls.Config()) for cls in MODELS.values()]
    configs += [("data", cls.Config()) for cls in DATASETS.values()]
    checked = 0
    for section, config in configs:
        for name in float_fields(type(config)):
            with pytest.raises(ConfigError, match=f"{section}.{name}: expected a finite number"):
                update(config, {name: text}, section)
            checked += 1
    assert checked >= 5  # lr, beta, speed_min, ... : the check ran over real fields


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_json_values_are_refused(value):
    with pytest.raises(ConfigError, match="train.lr: expected a finite number"):
        from_dict(TrainConfig, {"lr": value}, "train")


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("lr", 0.0, "train.lr must be > 0"),
        ("lr", -1.0, "train.lr must be > 0"),
        ("steps", 0, "train.steps must be >= 1"),
        ("batch_size", 0, "train.batch_size must be >= 1"),
        ("num_workers", -1, "train.num_workers must be >= 0"),
        ("grad_clip", -0.5, "train.grad_clip must be >= 0"),
        ("weight_decay", -1e-5, "train.weight_decay must be >= 0"),
        ("eval_every", 0, "train.eval_every must be >= 1"),
        ("max_minutes", -1.0, "train.max_minutes must be >= 0"),
        ("adam_beta1", 1.0, "train.adam_beta1 must be in"),
        ("lr_schedule", "linear", "train.lr_schedule must be one of constant, cosine"),
        ("amp", "fp16", "train.amp must be one of none, bf16"),
        ("device", "tpu", "train.device must be one of auto, cpu, cuda"),
    ],
)
def test_train_ranges(key, value, message):
    with pytest.raises(ConfigError, match=message):
        update(TrainConfig(), {key: value}, "train")


def test_the_edges_of_each_range_are_accepted():
    edges = {"steps": 1, "batch_size": 1, "num_workers": 0, "grad_clip": 0.0, "weight_decay": 0.0}
    config = update(TrainConfig(), {**edges, "lr": 1e-12, "lr_schedule": "cosine", "amp": "bf16"}, "train")
    assert config.steps == 1 and config.lr_schedule == "cosine"


def test_every_models_presets_pass_the_checks():
    for name, cls in MODELS.items():
        for preset in cls.presets:
            spec = make_spec(name, preset=preset)
            spec.train.validate()

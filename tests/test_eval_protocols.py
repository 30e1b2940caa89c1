"""The eval protocol registry: which protocols apply to a run, and probes scored by construction."""

import sys
import types

import pytest
import torch

from vidis.errors import CapabilityError, ConfigError
from vidis.eval.protocols import PROTOCOLS, probe_scores, select_protocols
from vidis.types import Factor, Latents


class LabelDataset:
    """Clips whose first pixel encodes a static label and whose second a dynamic one."""

    name = "labels"

    def __init__(self, n=200, can_render_swaps=False):
        generator = torch.Generator().manual_seed(0)
        self.static = torch.randint(0, 4, (n,), generator=generator)
        self.dynamic = torch.randint(0, 3, (n,), generator=generator)
        self.factors = [Factor("shape", "static", 4), Factor("heading", "dynamic", 3)]
        self.can_render_swaps = can_render_swaps

    def __len__(self):
        return len(self.static)

    def batch(self, indices):
        index = torch.as_tensor(list(indices))
        video = torch.zeros(len(index), 2, 1, 4, 4)  # (B, T, C, H, W)
        video[:, :, 0, 0, 0] = self.static[index, None].float() / 4
        video[:, :, 0, 0, 1] = self.dynamic[index, None].float() / 3
        return {"video": video, "factors": {"shape": self.static[index], "heading": self.dynamic[index]}}


class LabelModel:
    """Content = one-hot of the static label, motion = one-hot of the dynamic one: perfectly separated."""

    name = "labels"

    def __init__(self, capabilities=("reconstruct", "swap")):
        self.capabilities = frozenset(capabilities)

    def eval(self):
        return self

    def encode(self, video):
        static = (video[:, 0, 0, 0, 0] * 4).round().long()
        dynamic = (video[:, 0, 0, 0, 1] * 3).round().long()
        return Latents(torch.eye(4)[static], torch.eye(3)[dynamic])


def names(protocols):
    return [p.name for p in protocols]


def test_default_selection_follows_capabilities_and_factors(monkeypatch):
    monkeypatch.setitem(sys.modules, "vidis.eval.gt_swaps", None)  # not installed: import fails
    chosen, skipped = select_protocols(LabelModel(), LabelDataset(can_render_swaps=True))
    assert names(chosen) == ["reconstruction", "probes"]
    assert skipped["judge"].startswith("needs factors digit0 and direction")
    assert skipped["gt_swaps"].startswith("unavailable")
    assert skipped["prediction"] == "labels cannot predict"
    chosen, _ = select_protocols(LabelModel(capabilities=()), LabelDataset())
    assert names(chosen) == ["probes"]


def test_named_protocols_must_exist_and_apply():
    with pytest.raises(ConfigError, match="unknown protocol 'nope'; available: reconstruction, probes"):
        select_protocols(LabelModel(), LabelDataset(), ["nope"])
    with pytest.raises(CapabilityError, match="protocol prediction does not apply.*cannot predict"):
        select_protocols(LabelModel(), LabelDataset(), ["prediction"])
    chosen, skipped = select_protocols(LabelModel(), LabelDataset(), ["probes", "probes"])
    assert names(chosen) == ["probes"] and skipped == {}


def test_gt_swaps_runs_when_the_dataset_renders_swaps(monkeypatch):
    module = types.ModuleType("vidis.eval.gt_swaps")
    calls = []

    def ground_truth_swap_scores(model, dataset, num_clips, batch_size, device):
        calls.append(num_clips)
        return {"mse": 0.25}

    module.ground_truth_swap_scores = ground_truth_swap_scores
    monkeypatch.setitem(sys.modules, "vidis.eval.gt_swaps", module)
    model, dataset = LabelModel(), LabelDataset(can_render_swaps=True)
    chosen, _ = select_protocols(model, dataset)
    assert "gt_swaps" in names(chosen)
    assert PROTOCOLS["gt_swaps"].run(model, dataset, 7, 5, "cpu") == {"gt_swaps": {"mse": 0.25}}
    assert calls == [7]
    # a dataset that cannot render them, or a model that cannot swap, leaves it out
    _, skipped = select_protocols(model, LabelDataset(can_render_swaps=False))
    assert skipped["gt_swaps"] == "labels cannot render ground-truth swaps"
    _, skipped = select_protocols(LabelModel(capabilities=("reconstruct",)), dataset)
    assert skipped["gt_swaps"] == "labels cannot swap"


def test_judge_is_run_only_when_asked():
    dataset = LabelDataset()
    dataset.factors = [Factor("digit0", "static", 4), Factor("direction", "dynamic", 3)]
    chosen, skipped = select_protocols(LabelModel(), dataset)
    assert "judge" not in names(chosen) and skipped["judge"] == "judged: add --judge"
    chosen, _ = select_protocols(LabelModel(), dataset, judge=True)
    assert "judge" in names(chosen)
    chosen, _ = select_protocols(LabelModel(), dataset, ["reconstruction"], judge=True)
    assert names(chosen) == ["reconstruction", "judge"]


def test_probes_by_construction():
    dataset = LabelDataset(n=200)
    probes = probe_scores(LabelModel(), dataset, num_clips=200, batch_size=64, device="cpu")["probes"]
    assert probes["num_clips"] == 200
    assert probes["shape_from_content"] == 1.0 and probes["heading_from_motion"] == 1.0
    # the other latent holds nothing of the factor: near the majority-class rate
    assert abs(probes["shape_from_motion"] - probes["shape_chance"]) < 0.2
    assert abs(probes["heading_from_content"] - probes["heading_chance"]) < 0.2
    assert probes["shape_separation"] == probes["shape_from_content"] - probes["shape_from_motion"]
    assert probes["heading_separation"] > 0.5


def test_probes_of_too_few_clips_are_null_not_a_crash():
    probes = probe_scores(LabelModel(), LabelDataset(n=3), num_clips=3, batch_size=2, device="cpu")["probes"]
    assert probes["num_clips"] == 3
    assert all(v is None or 0 <= v <= 3 for v in probes.values())

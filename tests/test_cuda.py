"""On a CUDA device: the paths that the CPU tests cannot reach (a CPU tensor meeting a CUDA one).

Skipped where torch sees no CUDA device (CI has none). Run them first in a GPU session, before a
long training: `python3 -m pytest -q tests/test_cuda.py` (each model trains 4 steps at `smoke`
and is evaluated by every protocol; paper 000 is reproduced at all its presets on 20 clips).
VIDIS_TEST_DEVICE=cpu runs the same tests on the CPU (to check the tests themselves).

Why: on 2026-11-27 (one H200) every `vidis train` on CUDA stopped at its first log point, because
the trainer summed a logged Python float (dvae's `beta`) as a CPU tensor beside CUDA ones. No CPU
test could see it.
"""

import json
import os

import pytest
import torch

from vidis.cli import main
from vidis.registry import MODELS, _load_all

DEVICE = os.environ.get("VIDIS_TEST_DEVICE", "cuda")
pytestmark = pytest.mark.skipif(
    DEVICE == "cuda" and not torch.cuda.is_available(), reason="needs a CUDA device"
)
_load_all()

SHORT = ["--set", "train.steps=4", "--set", "train.log_every=2", "--set", "train.eval_every=2"]


@pytest.mark.parametrize("model", sorted(MODELS))
def test_train_and_evaluate_every_model(model, tmp_path, monkeypatch):
    monkeypatch.setenv("VIDIS_CACHE", str(tmp_path / "cache"))
    run = tmp_path / model
    args = ["train", "--model", model, "--preset", "smoke", "--out", str(run), "--no-progress"]
    assert main([*args, *SHORT, "--set", f"train.device={DEVICE}"]) == 0
    log = (run / "log.csv").read_text().splitlines()
    assert any(line.startswith("4,train,") for line in log), log[-3:]  # the last log point
    assert main(["eval", str(run), "--num-clips", "8", "--batch-size", "4", "--device", DEVICE,
                 "--judge", "--judge-steps", "2", "--samples", "2", "--no-progress"]) == 0  # fmt: skip
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics, "eval wrote no metrics"


@pytest.mark.parametrize("preset", ["smoke", "paper", "paper-code"])
def test_reproduce_paper000(preset, tmp_path, monkeypatch):
    monkeypatch.setenv("VIDIS_CACHE", str(tmp_path / "cache"))
    out = tmp_path / preset
    args = ["reproduce", "000", "--preset", preset, "--out", str(out), "--num-clips", "20",
            "--judge-steps", "2", "--device", DEVICE, "--no-progress", *SHORT]  # fmt: skip
    assert main(args) == 0
    results = json.loads((out / "results.json").read_text())
    assert {row["device"] for row in results.values()} == {DEVICE}
    assert all("gt_swap_mse" in row for row in results.values())
    assert (out / "table2.md").exists() and (out / "figures" / "swap_vs_truth.png").exists()

"""Several optimisers, stages, validation hooks and keep_best, through the real Trainer."""

import csv

import pytest
import torch
from tiny_models import TinyAutoencoder, TinyStaged, TinyTwoOptimizer, registered
from torch import nn

from vidis.config import TrainConfig
from vidis.errors import ConfigError, TrainingDiverged
from vidis.train.checkpoint import read_checkpoint
from vidis.train.optim import Optim, optimizer_step
from vidis.train.spec import make_spec
from vidis.train.trainer import Trainer


@pytest.fixture(autouse=True)
def _tiny_models():
    with registered(tiny_two=TinyTwoOptimizer, tiny_staged=TinyStaged, tiny_ae=TinyAutoencoder):
        yield


def spec(model, model_options=None, **train):
    return make_spec(model, preset="smoke", overrides={"model": model_options or {}, "train": train})


def rows(run_dir, split="train"):
    with open(run_dir / "log.csv") as f:
        return {
            (int(r["step"]), r["metric"]): float(r["value"])
            for r in csv.DictReader(f)
            if r["split"] == split and r["metric"] != "clips_per_s"
        }


def test_stages_switch_data_batch_and_freeze_the_encoder(tmp_path):
    trainer = Trainer(spec("tiny_staged", lr_schedule="cosine"), tmp_path, progress=False)
    trainer.fit()
    seen = trainer.model.seen
    # stage 1 (steps 0-2): batch 4 of 4-frame clips, BN training; stage 2: batch 2 of 3 frames, BN frozen
    assert seen == [(s, True, (4, 4)) for s in range(3)] + [(s, False, (2, 3)) for s in range(3, 6)]
    log = rows(tmp_path)
    assert [log[(s, "stage")] for s in range(1, 7)] == [0, 0, 0, 1, 1, 1]
    # cosine schedule per stage: lr 0 at the end of each stage, back to train.lr after the boundary
    assert log[(3, "lr")] == pytest.approx(0, abs=1e-12) and log[(6, "lr")] == pytest.approx(0, abs=1e-12)
    assert log[(4, "lr")] > 0
    assert trainer.all_optimizers["main"].optimizer.param_groups[0]["lr"] == pytest.approx(0, abs=1e-12)
    state = read_checkpoint(tmp_path / "checkpoints" / "last.pt")
    assert state["stage"] == 1 and state["stage_name"] == "decoder" and "main" in state["schedulers"]


def test_frozen_parameters_are_neither_trainable_nor_optimised(tmp_path):
    trainer = Trainer(spec("tiny_staged"), tmp_path, progress=False)
    model = trainer.model
    total = model.num_parameters()
    assert model.num_parameters(trainable_only=True) == total
    trainer.enter_stage(1)
    decoder = sum(p.numel() for p in model.decoder.parameters())
    assert model.num_parameters(trainable_only=True) == decoder < total
    optimised = {id(p) for o in trainer.all_optimizers.values() for p in o.params}
    optimised |= {id(p) for o in trainer.all_optimizers.values() for g in o.optimizer.param_groups
                  for p in g["params"]}
    assert optimised == {id(p) for p in model.decoder.parameters()}
    model.train()
    assert model.training and model.decoder.training and not model.encoder[1].training
    model.eval().train()
    assert not model.encoder.training


def test_an_optimiser_given_frozen_parameters_is_refused(tmp_path):
    class Careless(TinyStaged):
        def configure_optimizers(self, train):
            return {"main": torch.optim.Adam(self.parameters(), lr=train.lr)}

    with registered(tiny_careless=Careless):
        trainer = Trainer(spec("tiny_careless"), tmp_path, progress=False)
        with pytest.raises(ConfigError, match="frozen parameter"):
            trainer.enter_stage(1)


@pytest.mark.parametrize("crash_at, saved_step", [(3, 3), (5, 4)])  # at the boundary, mid-stage 2
def test_resume_into_the_right_stage_is_exact(tmp_path, monkeypatch, crash_at, saved_step):
    whole = tmp_path / "whole"
    uninterrupted = Trainer(spec("tiny_staged", lr_schedule="cosine"), whole, progress=False)
    uninterrupted.fit()

    parts = tmp_path / "parts"
    monkeypatch.setattr(TinyStaged, "crash_at", crash_at)
    with pytest.raises(RuntimeError, match="simulated crash"):
        Trainer(spec("tiny_staged", lr_schedule="cosine"), parts, progress=False).fit()
    saved = read_checkpoint(parts / "checkpoints" / "last.pt")
    assert saved["step"] == saved_step
    monkeypatch.setattr(TinyStaged, "crash_at", None)
    resumed = Trainer(spec("tiny_staged", lr_schedule="cosine"), parts, resume=True, progress=False)
    assert resumed.stage_index == 1 and resumed.step == saved_step
    assert not resumed.model.encoder[1].training or not resumed.model.training
    # mid-stage: the cosine scheduler goes on from the saved state, not from the stage's start
    assert resumed.all_optimizers["main"].scheduler.last_epoch == saved_step - 3
    resumed.fit()
    assert all(not training for _, training, _ in resumed.model.seen)

    assert rows(whole) == rows(parts)
    assert rows(whole, "val") == rows(parts, "val")
    a = read_checkpoint(whole / "checkpoints" / "last.pt")["model"]
    b = read_checkpoint(parts / "checkpoints" / "last.pt")["model"]
    for key in a:
        assert torch.equal(a[key], b[key]), key
    if saved_step == 3:  # the boundary checkpoint: the frozen encoder (BN stats too) never moved after it
        for key, value in saved["model"].items():
            if key.startswith("encoder."):
                assert torch.equal(value, a[key]), key


def test_two_optimisers_with_own_train_step_and_validation_hook(tmp_path):
    model_spec = spec("tiny_two", steps=6, eval_every=2, log_every=3, keep_best=True)
    trainer = Trainer(model_spec, tmp_path, progress=False)
    start = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.fit()
    end = trainer.model.state_dict()
    assert not torch.equal(start["critic.weight"], end["critic.weight"])
    assert not torch.equal(start["decoder.weight"], end["decoder.weight"])
    log = rows(tmp_path)
    # "even_step" is logged on steps 0, 2, 4: each log averages the steps that logged it
    assert log[(2, "even_step")] == 0.0 and log[(3, "even_step")] == 2.0 and log[(6, "even_step")] == 4.0
    assert (4, "even_step") not in log
    assert log[(6, "lr_critic")] == pytest.approx(0.1) and log[(6, "lr")] == pytest.approx(3e-4)
    val = rows(tmp_path, "val")
    assert {m for _, m in val} == {"best_of_2_mse", "distance_from_step_4"}
    # keep_best: the validation metric is |step - 4|, lowest at step 4
    best = read_checkpoint(tmp_path / "checkpoints" / "best.pt")
    last = read_checkpoint(tmp_path / "checkpoints" / "last.pt")
    assert best["step"] == 4 and last["step"] == 6
    assert last["best"] == {"metric": "distance_from_step_4", "value": 0.0, "step": 4}
    assert set(last["optimizers"]) == {"main", "critic"}
    assert not list((tmp_path / "checkpoints").glob("*.tmp"))


def test_keep_best_needs_the_validation_metric(tmp_path):
    class NoMetric(TinyAutoencoder):
        validation_metric = "fid"

    with registered(tiny_nometric=NoMetric):
        trainer = Trainer(spec("tiny_nometric", steps=2, keep_best=True), tmp_path, progress=False)
        with pytest.raises(ConfigError, match="'fid'.*reports: loss, recon, mse"):
            trainer.fit()


def test_keep_every_keeps_a_checkpoint_per_validation(tmp_path):
    from vidis.train.checkpoint import kept_checkpoints, load_model

    Trainer(spec("tiny_ae", steps=4, eval_every=2, keep_every=True), tmp_path, progress=False).fit()
    assert kept_checkpoints(tmp_path) == [(2, "step2"), (4, "step4")]
    early, last = load_model(tmp_path, "step2"), load_model(tmp_path)
    assert read_checkpoint(tmp_path / "checkpoints" / "step2.pt")["step"] == 2
    assert any(not torch.equal(a, b) for a, b in zip(early.state_dict().values(), last.state_dict().values()))
    final = load_model(tmp_path, "step4").state_dict()
    assert all(torch.equal(value, final[name]) for name, value in last.state_dict().items())
    with pytest.raises(ConfigError, match="stepN"):
        load_model(tmp_path, "step2.pt")


def test_resume_writes_the_new_train_settings(tmp_path):
    Trainer(spec("tiny_ae", steps=2), tmp_path, progress=False).fit()
    Trainer(spec("tiny_ae", steps=4), tmp_path, resume=True, progress=False).fit()
    import json

    assert json.loads((tmp_path / "config.json").read_text())["train"]["steps"] == 4
    assert read_checkpoint(tmp_path / "checkpoints" / "last.pt")["step"] == 4


def test_a_setting_that_is_not_finite_is_named(tmp_path):
    with pytest.raises(ConfigError, match="model.noise"):  # the config refuses it up front
        spec("tiny_ae", {"noise": float("inf")})
    run_spec = spec("tiny_ae")
    run_spec.model_config.noise = float("inf")  # a value set past the config's checks
    trainer = Trainer(run_spec, tmp_path, progress=False)
    with pytest.raises(TrainingDiverged) as error:
        trainer.fit()
    message = str(error.value)
    assert "loss=nan" in message and "recon=nan" in message and "model.noise=inf" in message
    assert "lower train.lr" not in message


def test_a_non_finite_validation_value_stops_training(tmp_path, monkeypatch):
    monkeypatch.setattr(
        TinyTwoOptimizer, "validation_step", lambda self, batch, step: {"score": torch.tensor(float("nan"))}
    )
    trainer = Trainer(spec("tiny_two"), tmp_path, progress=False)
    with pytest.raises(TrainingDiverged, match=r"val score=nan on the validation clips at step 2"):
        trainer.fit()
    assert not (tmp_path / "checkpoints" / "last.pt").exists()


def test_optimizer_step_clips_only_its_own_parameters():
    torch.manual_seed(0)
    a, b = nn.Linear(3, 3), nn.Linear(3, 1)
    x = torch.randn(8, 3)
    (b(a(x)).pow(2).sum() * 100).backward()
    free_a = a.weight.grad.clone()
    free_b = b.weight.grad.clone()
    for p in (*a.parameters(), *b.parameters()):
        p.grad = None
    optim = Optim(torch.optim.SGD(b.parameters(), lr=0.0), grad_clip=1e-3)
    norm = optimizer_step(b, optim, b(a(x)).pow(2).sum() * 100, TrainConfig(grad_clip=0.0))
    assert float(norm) > 1e-3  # the norm before clipping is returned
    assert torch.allclose(a.weight.grad, free_a)  # the other module's gradient: untouched
    clipped = torch.cat([p.grad.flatten() for p in b.parameters()]).norm()
    assert float(clipped) == pytest.approx(1e-3, rel=1e-4)
    assert torch.allclose(b.weight.grad / b.weight.grad.norm(), free_b / free_b.norm(), atol=1e-6)
    assert optimizer_step(b, Optim(torch.optim.SGD(b.parameters(), lr=0.0)), b(x).sum(),
                          TrainConfig(grad_clip=0.0)) is None


def test_unknown_lr_schedule_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="lr_schedule"):
        Trainer(spec("tiny_ae", lr_schedule="linear"), tmp_path, progress=False)


@pytest.mark.slow  # two processes importing torch: ~15 s on 2 busy cores
def test_optimizer_step_averages_gradients_across_processes(tmp_path):
    import torch.multiprocessing as mp
    from tiny_models import average_gradients_worker

    if not torch.distributed.is_available():
        pytest.skip("torch.distributed is not available")
    out = str(tmp_path / "grads")
    mp.spawn(average_gradients_worker, args=(2, str(tmp_path / "init"), out), nprocs=2, join=True)
    for rank in range(2):
        state = torch.load(f"{out}.{rank}", weights_only=True)
        assert torch.equal(state["grad"], torch.full((3,), 1.5))  # mean of 1 and 2
        assert torch.equal(state["weight"], torch.full((3,), -1.5))
        assert torch.equal(state["unused"], torch.zeros(2))


def test_optimizer_step_averages_gradients_when_distributed(monkeypatch):
    """The same check in one process: a stand-in all_reduce adds the other process's gradients."""
    other = {torch.float32: torch.tensor([4.0, 4.0, 4.0, 0.0, 0.0])}  # rank 1: grad 4, unused 0

    def all_reduce(flat, op=None):
        flat += other[flat.dtype]

    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.distributed, "get_world_size", lambda: 2)
    monkeypatch.setattr(torch.distributed, "all_reduce", all_reduce)
    weight, unused = nn.Parameter(torch.zeros(3)), nn.Parameter(torch.zeros(2))
    optim = Optim(torch.optim.SGD([weight, unused], lr=1.0))
    optimizer_step(None, optim, 2 * weight.sum(), TrainConfig())
    assert torch.equal(weight.grad, torch.full((3,), 3.0))  # (2 + 4) / 2
    assert torch.equal(weight.detach(), torch.full((3,), -3.0)) and torch.equal(unused.grad, torch.zeros(2))


def test_stages_keep_parameters_the_model_froze_itself(tmp_path):
    trainer = Trainer(spec("tiny_staged"), tmp_path, progress=False)
    model = trainer.model
    model.decoder.bias.requires_grad_(False)  # e.g. a fixed part of the model
    trainer.enter_stage(1)
    assert not model.decoder.bias.requires_grad and model.decoder.weight.requires_grad
    assert not any(p.requires_grad for p in model.encoder.parameters())
    trainer.enter_stage(0)
    assert all(p.requires_grad for p in model.encoder.parameters()) and not model.decoder.bias.requires_grad
    assert model.encoder[1].training == model.training

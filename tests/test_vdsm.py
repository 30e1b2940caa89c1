"""VDSM (paper 004): the blended decoder, scales, stages, invariances, training through vidis."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vidis.cli import main
from vidis.config import update
from vidis.errors import ConfigError
from vidis.models.vdsm import VDSM, VDSMConfig, spline
from vidis.train.checkpoint import read_checkpoint

SHAPE = (4, 3, 64, 64)


def model(**options) -> VDSM:
    torch.manual_seed(0)
    config = update(VDSMConfig(), {**VDSM.presets["smoke"]["model"], **options}, "model")
    return VDSM(config, SHAPE)


def video(batch=3, frames=4, seed=0):
    return torch.rand(batch, frames, *SHAPE[1:], generator=torch.Generator().manual_seed(seed))


def test_mixture_weights_sum_to_one():
    m = model()
    static = 5 * torch.randn(6, m.config.num_experts)
    for kappa in (0.1, 1.0, 10.0):
        weights = m.mixture_weights(static, kappa)
        assert (weights >= 0).all()
        assert torch.allclose(weights.sum(-1), torch.ones(6), atol=1e-6)


def test_one_hot_blend_is_the_single_expert():
    """One-hot weights give exactly what expert k's own transposed-convolution stack gives."""
    m = model()
    decoder = m.decoder
    inputs = torch.randn(2, 3, m.config.pose_dim + m.config.num_experts)
    for k in range(m.config.num_experts):
        weights = F.one_hot(torch.tensor([k, k]), m.config.num_experts).float()
        x = inputs.reshape(6, -1, 1, 1)  # the reference: a plain stack with expert k's parameters
        for layer, (bank, bias) in enumerate(zip(decoder.weights, decoder.biases)):
            stride, padding = decoder.geometry(layer)
            x = F.conv_transpose2d(x, bank[k], bias[k], stride, padding)
            if layer < len(decoder.weights) - 1:
                x = F.leaky_relu(x, 0.01)
        for blend in ("auto", "grouped", "stacked", "experts", "loop"):
            got = decoder(inputs, weights, blend)
            assert torch.allclose(got, x.view(2, 3, *x.shape[1:]), atol=1e-5), blend


def test_batched_blend_equals_the_per_sample_loop():
    m = model()
    inputs = torch.randn(4, 3, m.config.pose_dim + m.config.num_experts)
    weights = torch.softmax(torch.randn(4, m.config.num_experts), -1)
    loop = m.decoder(inputs, weights, "loop")
    for blend in ("auto", "grouped", "stacked", "experts"):
        assert torch.allclose(m.decoder(inputs, weights, blend), loop, atol=1e-5), blend


@pytest.mark.parametrize("style", ["text", "code"])
def test_transition_and_combiner_scales_are_positive(style):
    m = model(combiner=style, transition_skip=style)
    c = m.config
    for magnitude in (1.0, 1e3, 1e5):
        z = magnitude * torch.randn(5, c.pose_dim)
        d = magnitude * torch.randn(5, c.dynamics_dim)
        h = magnitude * torch.randn(5, c.lstm_hidden)
        _, scale = m.transition(z, d)
        _, comb_scale = m.combiner(z, h, d)
        for s in (scale, comb_scale):
            assert torch.isfinite(s).all() and (s > 0).all()


def test_transition_code_skip_starts_as_identity():
    m = model(transition_skip="code")
    z = torch.randn(4, m.config.pose_dim)
    assert torch.allclose(m.transition.skip(z), z)


def test_s_is_exactly_invariant_to_frame_order():
    for average_before_fs in (True, False):
        m = model(average_before_fs=average_before_fs).eval()
        clip = video(frames=4)
        order = torch.tensor([2, 0, 3, 1])
        assert torch.equal(m.encode(clip).content, m.encode(clip[:, order]).content)


def test_stage_two_freezes_encoder_decoder_and_batchnorm_stats():
    m = model(encoder_norm=True, finetune_heads=False)
    from vidis.config import TrainConfig

    stages = m.stages(TrainConfig())
    assert [s.name for s in stages] == ["pretrain", "sequence"]
    m.apply_stage(stages[1])
    m.train()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    optimizer = m.configure_optimizers(TrainConfig(lr=1e-2))["main"].optimizer
    for step in range(3):
        out = m.loss({"video": video(seed=step)}, m.config.pretrain_steps + step)
        optimizer.zero_grad()
        out.loss.backward()
        optimizer.step()
    after = m.state_dict()
    frozen = [k for k in before if k.startswith(("encoder.", "decoder."))]
    assert any("running_mean" in k for k in frozen)  # BatchNorm statistics are among them
    for key in frozen:
        assert torch.equal(before[key], after[key]), key
    for prefix in ("seq_encoder.", "combiner.", "transition.", "static_layers.", "seq_decoder."):
        assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith(prefix)), prefix
    assert bool(m.sequence_trained)


def test_text_stage_two_also_trains_the_encoder_heads():
    m = model(finetune_heads=True)
    from vidis.config import TrainConfig

    m.apply_stage(m.stages(TrainConfig())[1])
    trainable = {n for n, p in m.named_parameters() if p.requires_grad}
    assert any(n.startswith("encoder.pose_head") for n in trainable)
    assert not any(n.startswith(("encoder.convs", "decoder.")) for n in trainable)


def test_mix_blends_the_mixture_weights():
    m = model().eval()
    a, b = m.encode(video(seed=1)), m.encode(video(seed=2))
    for alpha in (0.0, 0.3, 1.0):
        mixed = m.mix(a, b, "content", alpha)
        want = (1 - alpha) * m.mixture_weights(a.content) + alpha * m.mixture_weights(b.content)
        assert torch.allclose(m.mixture_weights(mixed.content), want, atol=1e-6)
        assert torch.equal(mixed.motion, a.motion)


def test_decode_extends_the_pose_with_the_transition():
    m = model().eval()
    latents = m.encode(video(frames=4))
    short, long = m.decode(latents, 4), m.decode(latents, 9)
    assert long.shape == (3, 9, *SHAPE[1:])
    assert torch.allclose(long[:, :4], short, atol=1e-6)
    assert m.generate(2, 7).shape == (2, 7, *SHAPE[1:])


def test_encode_uses_the_rollout_from_d_once_stage_two_trained():
    m = model().eval()
    clip = video()
    per_frame = m.encode(clip).extra["pose"]
    pose, _ = m.frame_posteriors(clip)
    assert torch.equal(per_frame, pose[0])
    m.sequence_trained.fill_(True)
    rolled = m.encode(clip)
    assert torch.allclose(rolled.extra["pose"], m.rollout(rolled.motion, 4, sample=False)[0])


def test_code_schedules_follow_scipys_quadratic_interpolation():
    scipy = pytest.importorskip("scipy.interpolate")
    reference = scipy.interp1d([0, 0.5, 0.8, 1], [30.0, 0.2, 0.4, 1.0], kind="quadratic")
    for f in np.linspace(0, 1, 11):
        assert spline(f, (0, 0.5, 0.8, 1), (30.0, 0.2, 0.4, 1.0)) == pytest.approx(
            float(np.clip(reference(f), 0.005, 80)), abs=1e-9)
    m = model(schedules="code", pretrain_steps=101, sequence_steps=101)
    first, middle = m.schedule(0), m.schedule(50)
    assert first["kappa"] == pytest.approx(1) and middle["kappa"] == pytest.approx(10)
    assert first["lambda_z"] == pytest.approx(30) and first["lambda_s"] == pytest.approx(0.1)
    assert m.schedule(101 + 100)["lambda_d"] == pytest.approx(1)
    text = model(pretrain_steps=11, sequence_steps=11)
    assert text.schedule(10)["lambda_z"] == pytest.approx(1) and text.schedule(0)["lambda_z"] == 30
    assert text.schedule(11)["lambda_z"] == pytest.approx(0.1)


def test_loss_is_deterministic_and_finite():
    a, b = model(), model()
    torch.manual_seed(3)
    x = a.loss({"video": video()}, 0)
    torch.manual_seed(3)
    y = b.loss({"video": video()}, 0)
    assert torch.equal(x.loss, y.loss) and math.isfinite(float(x.loss.detach()))
    z = a.loss({"video": video()}, a.config.pretrain_steps)
    assert math.isfinite(float(z.loss.detach())) and float(z.terms["kl_d"]) > 0


def test_bad_config_is_a_config_error():
    with pytest.raises(ConfigError):
        model(blend="nope")
    with pytest.raises(ConfigError, match="decoder_channels"):
        VDSM(update(VDSMConfig(), VDSM.presets["smoke"]["model"], "model"), (4, 3, 32, 32))


def test_trains_through_vidis_train_and_resumes_across_the_stage_boundary(tmp_path):
    run = tmp_path / "run"
    args = ["train", "--model", "vdsm", "--data", "sprites", "--preset", "smoke", "--out", str(run)]
    assert main([*args, "--set", "train.steps=2"]) == 0  # stage 1 only (pretrain_steps 2)
    saved = read_checkpoint(run / "checkpoints" / "last.pt")
    assert saved["step"] == 2 and not bool(saved["model"]["sequence_trained"])
    assert main(["train", "--resume", str(run), "--set", "train.steps=4"]) == 0
    state = read_checkpoint(run / "checkpoints" / "last.pt")
    assert state["step"] == 4 and state["stage_name"] == "sequence"
    assert bool(state["model"]["sequence_trained"])
    for key, value in saved["model"].items():
        if key.startswith(("encoder.convs", "decoder.")):
            assert torch.equal(value, state["model"][key]), key

"""SVG-LP and DR-SVG (paper 003): shapes, the loss as SVG's code scales it, causality of the prior
and posterior, prediction, swaps, and DR-SVG's two optimisers."""

import copy
import importlib.util
from pathlib import Path

import pytest
import torch

from vidis.config import TrainConfig
from vidis.data import make_dataset
from vidis.errors import ConfigError
from vidis.models import drsvg as drsvg_module
from vidis.models.drsvg import DRSVG
from vidis.models.svg import SVGLP, gaussian_kl
from vidis.train.optim import optimizer_step as real_optimizer_step
from vidis.train.spec import build_model, make_spec

SHAPE = (6, 1, 32, 32)  # (T, C, H, W): small frames, the DCGAN stack with 3 blocks
MODELS = ("svg_lp", "drsvg")


def tiny(name: str, **model) -> torch.nn.Module:
    spec = make_spec(name, preset="smoke", overrides={"model": {"context_frames": 3, **model}})
    torch.manual_seed(0)
    return build_model(spec, SHAPE)


@pytest.fixture(scope="module")
def clips():
    data = make_dataset("moving_mnist", "train", 0, num_digits=1, num_frames=SHAPE[0], image_size=32)
    return data.batch(range(4))["video"]  # (4, 6, 1, 32, 32)


@pytest.mark.parametrize("name", MODELS)
def test_shapes_and_finite_values(name, clips):
    model = tiny(name)
    out = model.loss({"video": clips}, 0)
    assert out.loss.dim() == 0 and torch.isfinite(out.loss)
    assert all(torch.isfinite(torch.as_tensor(v)) for v in out.terms.values())
    model.eval()
    generator = torch.Generator().manual_seed(0)
    samples = model.predict(clips[:, :3], horizon=7, num_samples=2, generator=generator)
    assert samples.shape == (2, 4, 7, 1, 32, 32)
    assert torch.isfinite(samples).all() and samples.min() >= 0 and samples.max() <= 1
    swapped = model.swap(clips, clips.roll(1, 0))
    assert swapped.shape == clips.shape and torch.equal(swapped[:, 0], clips[:, 0])
    latents = model.encode(clips)
    assert latents.motion.shape[:2] == (4, SHAPE[0] - 1)


def test_svg_loss_is_the_public_codes_scaling(clips):
    """Sum over transitions of the per-frame MSE (mean over clips and pixels) + beta * KL / B."""
    model = tiny("svg_lp").eval()  # eval: z = posterior means, a deterministic loss
    out = model.loss({"video": clips}, 0)
    h, _ = model.encode_frames(clips)
    (mq, lq), (mp, lp) = model.posterior(clips)
    g, _ = model.predictor(torch.cat([h[:, :-1], mq], -1))
    mse = 0.0
    for t in range(1, SHAPE[0]):  # the code's loop: skips of frame min(t-1, c-2)
        k = min(t - 1, 3 - 2)
        frame = model.decoder(g[:, t - 1], model.encoder(clips[:, k])[1])
        mse = mse + torch.nn.functional.mse_loss(frame, clips[:, t])
    kl = sum(gaussian_kl(mq[:, t], lq[:, t], mp[:, t], lp[:, t]).sum() / 4 for t in range(SHAPE[0] - 1))
    assert out.loss.item() == pytest.approx((mse + 1e-4 * kl).item(), rel=1e-5)


def test_gaussian_kl_against_monte_carlo():
    torch.manual_seed(0)
    mq, lq, mp, lp = torch.randn(3), torch.randn(3) * 0.3, torch.randn(3), torch.randn(3) * 0.3
    q = torch.distributions.Normal(mq, (0.5 * lq).exp())
    p = torch.distributions.Normal(mp, (0.5 * lp).exp())
    z = q.sample((200_000,))
    monte_carlo = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean()
    assert gaussian_kl(mq, lq, mp, lp).item() == pytest.approx(monte_carlo.item(), abs=0.02)
    assert gaussian_kl(mq, lq, mq, lq).item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("name", MODELS)
def test_overfits_one_batch_of_four_clips(name, clips):
    model = tiny(name, context_frames=2).train()
    train = TrainConfig(lr=0.002)
    optimizers = model.configure_optimizers(train)
    torch.manual_seed(0)
    batch = {"video": clips[:, :4]}  # 4 clips of 4 frames: about 2 s for 200 steps on 2 cores
    losses = [model.train_step(batch, s, optimizers, train)["loss"].item() for s in range(200)]
    assert min(losses[-10:]) < 0.2 * losses[0]


@pytest.mark.parametrize("name", MODELS)
def test_prior_never_sees_frame_t_and_posterior_never_sees_later_frames(name, clips):
    model = tiny(name).eval()  # eval: BatchNorm's running averages, no mixing across frames
    before = model.posterior(clips)
    k = 3  # change frame 3 and every later frame
    changed = clips.clone()
    changed[:, k:] = torch.rand_like(changed[:, k:])
    after = model.posterior(changed)
    *posteriors, prior = range(len(before))
    for i in posteriors:  # q(z_t | x_{0..t}) at index t-1: frames < k leave t = 1..k-1 unchanged
        for a, b in zip(before[i], after[i]):
            assert torch.equal(a[:, : k - 1], b[:, : k - 1])
            assert not torch.equal(a[:, k - 1], b[:, k - 1])  # t = k sees frame k
    for a, b in zip(before[prior], after[prior]):  # p(z_t | x_{0..t-1}): t = 1..k unchanged
        assert torch.equal(a[:, :k], b[:, :k])
        assert not torch.equal(a[:, k], b[:, k])  # t = k + 1 sees frame k


@pytest.mark.parametrize("name", MODELS)
def test_prediction_is_reproducible_and_ignores_the_future(name, clips):
    model = tiny(name).eval()

    def predict(video, seed):
        return model.predict(video[:, :3], 4, 3, generator=torch.Generator().manual_seed(seed))

    first = predict(clips, 1)
    assert torch.equal(first, predict(clips, 1))
    assert not torch.equal(first, predict(clips, 2))
    assert not torch.equal(first[0], first[1])  # samples differ from each other
    later = clips.clone()
    later[:, 3:] = 0  # frames after the context cannot matter
    assert torch.equal(first, predict(later, 1))
    one = model.predict(clips[:1, :3], 4, 3, generator=torch.Generator().manual_seed(1))
    assert one.shape == (3, 1, 4, 1, 32, 32)


@pytest.mark.parametrize("name", MODELS)
def test_batch_statistics_at_test_time_leave_the_running_averages(name, clips):
    model = tiny(name, test_batchnorm="batch").eval()
    state = copy.deepcopy(model.state_dict())
    batch_mode = model.predict(clips[:, :3], 3, 2, generator=torch.Generator().manual_seed(0))
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    assert not model.encoder.head[1].training  # back in eval mode
    running = tiny(name).eval().predict(clips[:, :3], 3, 2, generator=torch.Generator().manual_seed(0))
    assert not torch.allclose(batch_mode, running)


def test_drsvg_model_and_discriminator_each_follow_their_own_loss(clips, monkeypatch):
    """Right before each optimiser steps, its parameters hold exactly the gradient of its own
    loss: nothing of the other loss leaked in. D_p's loss does not reach the model at all."""
    model = tiny("drsvg").train()
    train = TrainConfig(lr=0.002)
    optimizers = model.configure_optimizers(train)
    main, critic = (set(map(id, optimizers[n].params)) for n in ("main", "discriminator"))
    assert not main & critic and main | critic == {id(p) for p in model.parameters()}
    assert critic == {id(p) for p in model.discriminator.parameters()}
    seen = []

    def checked_step(module, optim, loss, train_config):
        own = torch.autograd.grad(loss, optim.params, retain_graph=True, allow_unused=True)
        others = [p for p in model.parameters() if id(p) not in set(map(id, optim.params))]
        leak = torch.autograd.grad(loss, others, retain_graph=True, allow_unused=True)
        before = [p.detach().clone() for p in optim.params]
        out = real_optimizer_step(module, optim, loss, train_config)
        for p, g in zip(optim.params, own):
            assert torch.equal(p.grad, g if g is not None else torch.zeros_like(p))
        moved = any(not torch.equal(p, b) for p, b in zip(optim.params, before))
        seen.append((set(map(id, optim.params)), any(g is not None for g in leak), moved))
        return out

    monkeypatch.setattr(drsvg_module, "optimizer_step", checked_step)
    model.train_step({"video": clips}, 0, optimizers, train)
    (first, main_reaches_d, main_moved), (second, d_reaches_model, d_moved) = seen
    assert first == main and second == critic and main_moved and d_moved
    assert main_reaches_d  # eq. 6 goes through D_p (its gradient there is zeroed before D_p's step)
    assert not d_reaches_model  # eq. 5 sees detached pose codes


def test_drsvg_content_prior_is_the_previous_content_posterior(clips):
    model = tiny("drsvg").eval()
    out = model.loss({"video": clips}, 0)
    (mc, lc), _, _ = model.posterior(clips)
    zeros = torch.zeros_like(mc[:, :1])
    expected = (gaussian_kl(mc[:, :1], lc[:, :1], zeros, zeros).sum()
                + gaussian_kl(mc[:, 1:], lc[:, 1:], mc[:, :-1], lc[:, :-1]).sum()) / 4
    assert out.terms["kl_content"].item() == pytest.approx(expected.item() / (SHAPE[0] - 1), rel=1e-5)


def test_drsvg_swap_takes_content_from_a_and_pose_from_b(clips):
    model = tiny("drsvg").eval()
    a, b = clips, clips.roll(1, 0)
    z = model.swap_latents(a, b)
    content_dim = model.config.content_dim
    assert torch.equal(z[..., :content_dim], model.encode(a).content)
    assert torch.equal(z[..., content_dim:], model.encode(b).motion)
    with torch.no_grad():
        assert torch.allclose(model.swap(a, b), model.regenerate(a, z))


def test_svg_swap_uses_all_of_bs_latents(clips):
    model = tiny("svg_lp").eval()
    a, b = clips, clips.roll(1, 0)
    assert torch.equal(model.swap_latents(a, b), model.encode(b).motion)
    with torch.no_grad():
        assert torch.allclose(model.swap(a, b), model.regenerate(a, model.encode(b).motion))


@pytest.mark.parametrize("name", MODELS)
def test_paper_kth_preset_says_what_it_needs(name):
    spec = make_spec(name, preset="paper-kth")
    with torch.device("meta"):
        model = build_model(spec, (20, 1, 64, 64))
    with pytest.raises(ConfigError, match="VGG encoder for KTH"):
        model.configure_optimizers(spec.train)


def test_bad_options_are_clear_errors():
    with pytest.raises(ConfigError, match="context_frames must be >= 2"):
        make_spec("svg_lp", preset="smoke", overrides={"model": {"context_frames": 1}})
    with pytest.raises(ConfigError, match="test_batchnorm"):
        make_spec("drsvg", preset="smoke", overrides={"model": {"test_batchnorm": "frozen"}})
    spec = make_spec("svg_lp", preset="smoke")
    with pytest.raises(ConfigError, match="power-of-2"):
        build_model(spec, (6, 1, 48, 48))


def _reference():
    path = Path(__file__).parents[1] / "benchmarks" / "reference_svg.py"
    spec = importlib.util.spec_from_file_location("reference_svg", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_parameter_count_equals_the_public_code_layout():
    """The reference-style modules (benchmarks/reference_svg.py, written as edenton/svg builds
    them) have exactly vidis's parameter count at the paper's sizes."""
    reference = _reference()
    with torch.device("meta"):
        ours = build_model(make_spec("svg_lp", preset="paper"), (15, 1, 64, 64)).num_parameters()
        theirs = sum(p.numel() for m in reference.build(batch_size=2).values() for p in m.parameters())
    assert ours == theirs
    assert isinstance(SVGLP, type) and isinstance(DRSVG, type)


@pytest.mark.parametrize("name", MODELS)
def test_paper_smmnist_preset_is_stochastic_moving_mnist(name):
    spec = make_spec(name, preset="paper-smmnist")
    data = spec.data_config
    assert (data.dynamics, data.digit_size, data.composite, data.num_frames) == ("stochastic", 32, "add", 15)
    assert spec.train.batch_size == 100 and spec.train.lr == 0.002 and spec.model_config.beta == 1e-4


def test_swaps_are_scored_against_the_true_swap_and_by_a_judge(clips):
    from vidis.eval.gt_swaps import ground_truth_swap_scores
    from vidis.eval.judge_nets import Judge
    from vidis.eval.judge_scores import judge_swaps

    options = {"num_digits": 1, "num_frames": SHAPE[0], "image_size": 32, "num_test": 4}
    data = make_dataset("moving_mnist", "test", 0, **options)
    model = tiny("drsvg").eval()
    scores = ground_truth_swap_scores(model, data, num_clips=4, batch_size=2)
    assert scores["num_clips"] == 4 and 0 <= scores["swap_ssim"] <= 1
    a, b = data.batch(range(2)), data.batch(range(2, 4))
    judge = Judge(data.factors, data.video_shape, channels=[4, 8, 8, 8], depth=1, local=8, feature_dim=16,
                  hidden=8).eval()
    judged = judge_swaps(judge, model.swap(a["video"], b["video"]), a["factors"], b["factors"], None)
    assert 0 <= judged["content_accuracy"] <= 1 and 0 <= judged["motion_accuracy"] <= 1

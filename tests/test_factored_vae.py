"""Paper 002's models: the analytic KL of eqs. 13-18 against Monte Carlo, and the three models."""

import math

import pytest
import torch
from torch.distributions import MultivariateNormal, Normal

import vidis
from vidis.cli import main
from vidis.errors import CapabilityError, ConfigError
from vidis.models.factored_vae import (
    entropy_term,
    random_walk_log_prior,
    sample_random_walk,
    sample_static_prior,
    static_kl,
    static_log_normaliser,
    static_log_prior,
    static_log_prior_eqs_16_18,
    temporal_kl,
)
from vidis.train.spec import build_model, make_spec

MODELS = ["factored_vae", "slow_vae", "vae002"]
CASES = [  # (frames N, features F, sigma^2)
    (1, 2, 0.5),
    (2, 3, 0.01),
    (5, 2, 0.1),
    (8, 1, 1.0),
    (16, 2, 0.01),
]


def posterior(N, F, sigma2, seed):
    """A plausible posterior: means along a slow random walk, variances near sigma^2 (float64)."""
    g = torch.Generator().manual_seed(seed)
    walk = 0.3 * math.sqrt(sigma2) * torch.randn(1, N, F, generator=g).cumsum(1)
    mean = torch.randn(1, 1, F, generator=g) + walk
    logvar = math.log(sigma2) + 0.5 * torch.randn(1, N, F, generator=g)
    return mean.double(), logvar.double()


def static_log_density(h, sigma2):
    """Exact log p(h^s) of eq. 7 with h^s_0 integrated out: N(0, s I + 1 1^T) per feature. h (S, N, F)."""
    N = h.shape[1]
    cov = sigma2 * torch.eye(N, dtype=h.dtype) + torch.ones(N, N, dtype=h.dtype)
    dist = MultivariateNormal(torch.zeros(N, dtype=h.dtype), covariance_matrix=cov)
    return dist.log_prob(h.transpose(1, 2)).sum(-1)  # (S, F, N) -> (S, F) -> (S,)


def random_walk_log_density(h, sigma2):
    """Exact log p(h^t) of eq. 8 (eq. 9). h (S, N, F) -> (S,)."""
    first = Normal(0.0, 1.0).log_prob(h[:, 0]).sum(-1)
    rest = Normal(h[:, :-1], math.sqrt(sigma2)).log_prob(h[:, 1:]).sum((1, 2))
    return first + rest


def monte_carlo_kl(mean, logvar, log_density, samples=100_000, seed=0):
    """(estimate, standard error) of E_q[log q(h) - log p(h)] from `samples` draws of q."""
    g = torch.Generator().manual_seed(seed)
    std = (0.5 * logvar[0]).exp()
    h = mean[0] + std * torch.randn(samples, *mean.shape[1:], generator=g, dtype=mean.dtype)
    log_q = Normal(mean[0], std).log_prob(h).sum((1, 2))
    diff = log_q - log_density(h)
    return float(diff.mean()), float(diff.std() / math.sqrt(samples))


@pytest.mark.parametrize("N,F,sigma2", CASES)
def test_static_kl_matches_monte_carlo(N, F, sigma2):
    mean, logvar = posterior(N, F, sigma2, seed=N)
    analytic = float(static_kl(mean, logvar, sigma2)[0])
    estimate, se = monte_carlo_kl(mean, logvar, lambda h: static_log_density(h, sigma2))
    assert abs(analytic - estimate) < 4 * se + 1e-9 * abs(analytic), (analytic, estimate, se)


@pytest.mark.parametrize("N,F,sigma2", CASES)
def test_temporal_kl_matches_monte_carlo(N, F, sigma2):
    mean, logvar = posterior(N, F, sigma2, seed=100 + N)
    analytic = float(temporal_kl(mean, logvar, sigma2)[0])
    estimate, se = monte_carlo_kl(mean, logvar, lambda h: random_walk_log_density(h, sigma2))
    assert abs(analytic - estimate) < 4 * se + 1e-9 * abs(analytic), (analytic, estimate, se)


def test_monte_carlo_check_can_fail():
    """The comparison above is sharp: the wrong prior variance is many standard errors off."""
    mean, logvar = posterior(5, 2, 0.1, seed=5)
    analytic = float(static_kl(mean, logvar, 0.1)[0])
    estimate, se = monte_carlo_kl(mean, logvar, lambda h: static_log_density(h, 0.15))
    assert abs(analytic - estimate) > 10 * se  # the checks above allow 4


@pytest.mark.parametrize("N,sigma2", [(1, 0.3), (3, 0.01), (6, 0.5)])
def test_static_density_is_the_marginalised_hierarchical_gaussian(N, sigma2):
    """log C and eq. 10's exponent (a point-mass posterior) equal log of the integral over h^s_0 of
    N(h^s_0 | 0, 1) prod_i N(h^s_i | h^s_0, sigma_s^2), computed by quadrature."""
    g = torch.Generator().manual_seed(N)
    h = (torch.randn(1, 1, 1, generator=g) + 0.1 * torch.randn(1, N, 1, generator=g)).double()
    closed_form = float(static_log_prior(h, torch.full_like(h, -80.0), sigma2)[0])
    grid = torch.linspace(-12, 12, 400_001, dtype=torch.float64)  # h^s_0
    log_joint = Normal(0.0, 1.0).log_prob(grid) + Normal(grid[:, None], math.sqrt(sigma2)).log_prob(
        h[0, :, 0]
    ).sum(1)
    peak = log_joint.max()
    integral = peak + torch.log(torch.trapezoid((log_joint - peak).exp(), grid))
    assert closed_form == pytest.approx(float(integral), abs=1e-6)
    assert static_log_normaliser(N, sigma2) == pytest.approx(
        float(static_log_density(torch.zeros(1, N, 1, dtype=torch.float64), sigma2)), abs=1e-10
    )


def test_stable_static_term_equals_eqs_16_to_18():
    mean, logvar = posterior(16, 3, 0.01, seed=7)
    stable = static_log_prior(mean, logvar, 0.01)
    assert torch.allclose(stable, static_log_prior_eqs_16_18(mean, logvar, 0.01))
    assert torch.allclose(  # eq. 15 + eq. 14 against the random walk's own density at a point mass
        random_walk_log_prior(mean, torch.full_like(mean, -80.0), 0.01),
        random_walk_log_density(mean, 0.01),
    )
    assert entropy_term(mean, logvar).shape == (1,)


def test_static_kl_is_smallest_for_constant_posteriors():
    logvar = torch.full((1, 8, 2), math.log(0.01), dtype=torch.float64)
    constant = torch.tensor([0.7, -0.4], dtype=torch.float64).expand(1, 8, 2)
    base = float(static_kl(constant, logvar, 0.01)[0])
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        wiggle = 0.05 * torch.randn(1, 8, 2, generator=g, dtype=torch.float64)
        wiggle = wiggle - wiggle.mean(1, keepdim=True)  # same clip mean, frames apart
        assert float(static_kl(constant + wiggle, logvar, 0.01)[0]) > base
    ramp = constant + torch.linspace(-0.2, 0.2, 8, dtype=torch.float64)[None, :, None]
    assert float(static_kl(ramp, logvar, 0.01)[0]) > base + 10  # a moving code costs a lot


def test_temporal_kl_is_smallest_for_smooth_posteriors():
    logvar = torch.full((1, 16, 2), math.log(0.01), dtype=torch.float64)
    smooth = torch.linspace(-1, 1, 16, dtype=torch.float64)[None, :, None].expand(1, 16, 2)
    base = float(temporal_kl(smooth, logvar, 0.01)[0])
    g = torch.Generator().manual_seed(0)
    for _ in range(10):
        shuffled = smooth[:, torch.randperm(16, generator=g)]
        assert float(temporal_kl(shuffled, logvar, 0.01)[0]) > base
    # a constant sequence is smoother still, and the static prior prefers it over the ramp
    constant = torch.zeros_like(smooth)
    assert float(temporal_kl(constant, logvar, 0.01)[0]) < base
    assert float(static_kl(constant, logvar, 0.01)[0]) < float(static_kl(smooth, logvar, 0.01)[0])


def test_prior_samplers_have_the_prior_covariance():
    torch.manual_seed(0)
    static = sample_static_prior(40_000, 4, 1, 0.1)[..., 0].double()  # (S, N)
    expected = 0.1 * torch.eye(4, dtype=torch.float64) + torch.ones(4, 4, dtype=torch.float64)
    assert torch.allclose(torch.cov(static.T), expected, atol=0.04)
    walk = sample_random_walk(40_000, 4, 1, 0.1)[..., 0].double()
    steps = torch.tensor([[1.0 + 0.1 * min(i, j) for j in range(4)] for i in range(4)], dtype=torch.float64)
    assert torch.allclose(torch.cov(walk.T), steps, atol=0.04)


# -- the models -----------------------------------------------------------------------------------


def build(name, preset="smoke", num_frames=4, **model):
    spec = make_spec(name, preset=preset, overrides={"model": model})
    torch.manual_seed(0)
    return build_model(spec, (num_frames, 1, 64, 64))


@pytest.fixture
def video():
    return torch.rand(3, 4, 1, 64, 64, generator=torch.Generator().manual_seed(1)).round()


@pytest.mark.parametrize("name", MODELS)
def test_shapes_and_generation(name, video):
    model = build(name).eval()
    mean, logvar = model.posterior(video)
    assert mean.shape == logvar.shape == (3, 4, model.latent_dim)
    recon = model.reconstruct(video)
    assert recon.shape == video.shape and 0 <= float(recon.min()) and float(recon.max()) <= 1
    assert model.generate(2).shape == (2, 4, 1, 64, 64)
    assert model.frame_features(video).shape == (3, 4, model.latent_dim)


def test_factored_vae_latents_split_static_and_temporal(video):
    model = build("factored_vae", static_dim=3, temporal_dim=2).eval()
    latents = model.encode(video)
    assert latents.content.shape == (3, 4, 3) and latents.motion.shape == (3, 4, 2)
    mean, _ = model.posterior(video)
    assert torch.equal(torch.cat([latents.content, latents.motion], -1), mean)
    assert torch.allclose(model.swap(video, video), model.reconstruct(video), atol=1e-6)
    swapped = model.combine(model.encode(video), model.encode(video.flip(0)))
    assert torch.equal(swapped.content, latents.content)  # A's static code on every frame
    assert torch.equal(swapped.motion, latents.motion.flip(0))
    assert model.interpolate(video, video.flip(0), "content", steps=3).shape == (3, *video.shape)


@pytest.mark.parametrize("name", ["slow_vae", "vae002"])
def test_models_without_a_split_cannot_swap(name, video):
    model = build(name).eval()
    with pytest.raises(CapabilityError, match="no content/motion split"):
        model.swap(video, video)
    with pytest.raises(CapabilityError):
        model.interpolate(video, video, "content")
    latents = model.encode(video)
    assert latents.content.shape == (3, 4, 0) and latents.extra["features"].shape == (3, 4, 4)


@pytest.mark.parametrize("name", MODELS)
def test_loss_is_nll_plus_beta_kl_per_frame(name, video):
    model = build(name, beta=2.0).eval()  # eval: h = posterior mean, so the loss is deterministic
    out = model.loss({"video": video, "factors": {}}, step=0)
    terms = out.terms
    assert float(out.loss.detach()) == pytest.approx(float(terms["recon"] + 2.0 * terms["kl"]), rel=1e-5)
    mean, logvar = model.posterior(video)
    logits = model.decode_logits(mean)
    nll = torch.nn.functional.binary_cross_entropy_with_logits(logits, video, reduction="sum") / 12
    assert float(terms["recon"]) == pytest.approx(float(nll), rel=1e-5)
    kl = sum(kl.sum() for kl in model.kl_terms(mean.double(), logvar.double()).values()) / 12
    assert float(terms["kl"]) == pytest.approx(float(kl), rel=1e-4)
    if name == "factored_vae":
        assert float(terms["kl"]) == pytest.approx(float(terms["kl_static"] + terms["kl_temporal"]), rel=1e-5)


@pytest.mark.parametrize("name", MODELS)
def test_loss_backpropagates_to_every_parameter(name, video):
    model = build(name).train()
    out = model.loss({"video": video, "factors": {}}, step=0)
    out.loss.backward()
    for param_name, param in model.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, param_name


def test_paper_network_is_tables_4_and_5():
    model = build("factored_vae", preset="paper")
    convs = [m for m in model.encoder.convs if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [16, 16, 32, 32, 64, 64, 128, 128]
    assert [c.stride[0] for c in convs] == [1, 2] * 4
    assert model.encoder.fc[0].out_features == 256 and model.encoder.to_mean.out_features == 4
    assert model.decoder.fc[3].out_features == 2048
    deconvs = [m for m in model.decoder.convs if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(d.out_channels, d.stride[0]) for d in deconvs] == [
        (128, 1),
        (64, 2),
        (64, 1),
        (32, 2),
        (32, 1),
        (16, 2),
        (16, 1),
        (1, 2),
    ]
    code = build("factored_vae", preset="paper-code")
    deconvs = [m for m in code.decoder.convs if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [d.stride[0] for d in deconvs] == [2, 1] * 4
    # equal parameter counts across the three models at Table 1's sizes (section 4.4)
    counts = {name: build(name, preset="paper").num_parameters() for name in MODELS}
    assert len(set(counts.values())) == 1, counts


def test_presets_and_schedule():
    for name in MODELS:
        presets = vidis.registry.get_model_class(name).presets
        for scale in ("smoke", "small", "paper", "paper-code"):
            assert scale in presets and f"{scale}-chairs" in presets
    spec = make_spec("factored_vae", preset="paper")
    assert (spec.train.steps, spec.train.batch_size, spec.train.lr) == (30000, 64, 1e-3)
    assert (spec.data_config.num_digits, spec.data_config.num_frames) == (1, 16)
    model = build("factored_vae", preset="paper")
    optim = model.configure_optimizers(spec.train)["main"]
    optim.optimizer.step()  # no gradients yet: changes nothing, keeps the scheduler's order
    for _ in range(10000):
        optim.scheduler.step()
    assert optim.optimizer.param_groups[0]["lr"] == pytest.approx(1e-4)
    code = make_spec("factored_vae", preset="paper-code")
    optim = build("factored_vae", preset="paper-code").configure_optimizers(code.train)["main"]
    groups = optim.optimizer.param_groups
    assert groups[0]["weight_decay"] == 5e-4 and groups[1]["weight_decay"] == 0.0
    with pytest.raises(ConfigError, match="sigma_s2"):
        make_spec("factored_vae", preset="smoke", overrides={"model": {"sigma_s2": 0.0}})


@pytest.mark.parametrize(
    "name",
    [
        "factored_vae",
        pytest.param("slow_vae", marks=pytest.mark.slow),
        pytest.param("vae002", marks=pytest.mark.slow),
    ],
)
def test_trains_end_to_end_from_the_cli(name, tmp_path):
    run = tmp_path / name
    assert main(["train", "--model", name, "--preset", "smoke", "--out", str(run), "--no-progress"]) == 0
    model = vidis.load_model(run)
    clip = torch.rand(2, 4, 1, 64, 64)
    assert model.reconstruct(clip).shape == clip.shape
    if name == "factored_vae":
        assert model.swap(clip, clip.flip(0)).shape == clip.shape

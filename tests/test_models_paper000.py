"""Paper 000's disentangled video VAE (`dvae`) and its LSTM-VAE baseline (`lstm_vae`)."""

import pytest
import torch

import vidis
from vidis.cli import main
from vidis.errors import ConfigError
from vidis.train.spec import build_model, make_spec
from vidis.types import Latents

MODELS = ["dvae", "lstm_vae"]
SMOKE_LATENTS = {"dvae": (8, 8), "lstm_vae": (4, 4)}  # (content, motion) widths at smoke


def build(name, preset="smoke", num_frames=6, **model):
    spec = make_spec(name, preset=preset, overrides={"model": model})
    torch.manual_seed(0)
    return build_model(spec, (num_frames, 1, 64, 64))


@pytest.fixture
def video():
    return torch.rand(3, 6, 1, 64, 64, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("name", MODELS)
def test_shapes(name, video):
    model = build(name).eval()
    latents = model.encode(video)
    content_dim, motion_dim = SMOKE_LATENTS[name]
    assert latents.content.shape == (3, content_dim)
    assert latents.motion.shape == (3, motion_dim)
    assert model.decode(latents, 6).shape == video.shape
    assert model.decode(latents, 9).shape == (3, 9, 1, 64, 64)  # any number of frames
    recon = model.reconstruct(video)
    assert recon.shape == video.shape
    assert 0 <= float(recon.min()) and float(recon.max()) <= 1
    assert model.swap(video, video.flip(0)).shape == video.shape
    assert model.interpolate(video, video.flip(0), "motion", steps=4).shape == (4, *video.shape)
    assert model.interpolate(video, video.flip(0), "content", steps=3).shape == (3, *video.shape)
    assert model.generate(2).shape == (2, 6, 1, 64, 64)


@pytest.mark.parametrize("name", MODELS)
def test_loss_backpropagates_to_every_parameter(name, video):
    model = build(name).train()
    out = model.loss({"video": video, "factors": {}}, step=0)
    assert torch.isfinite(out.loss)
    out.loss.backward()
    for param_name, param in model.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, param_name


@pytest.mark.parametrize("name", MODELS)
def test_loss_terms_and_kl_annealing(name, video):
    model = build(name, kl_anneal_steps=10).train()
    out = model.loss({"video": video, "factors": {}}, step=5)
    terms = out.terms
    assert float(terms["beta"]) == pytest.approx(0.5)  # halfway through the anneal
    kl = terms["kl_content"] + terms["kl_motion"] if name == "dvae" else terms["kl"]
    assert float(out.loss.detach()) == pytest.approx(float(terms["recon"] + 0.5 * kl), rel=1e-5)
    for term, value in terms.items():
        assert isinstance(value, torch.Tensor) and not value.requires_grad, term
    assert float(model.loss({"video": video, "factors": {}}, step=50).terms["beta"]) == 1.0


@pytest.mark.parametrize("name", MODELS)
def test_swap_with_itself_is_reconstruction(name, video):
    model = build(name).eval()
    assert torch.allclose(model.swap(video, video), model.reconstruct(video), atol=1e-6)


def test_dvae_content_sees_only_the_average_frame(video):
    model = build("dvae").eval()
    shuffled = video[:, torch.randperm(6, generator=torch.Generator().manual_seed(2))]
    with torch.no_grad():
        original, permuted = model.encode(video), model.encode(shuffled)
    assert torch.allclose(original.content, permuted.content, atol=1e-5)
    # the order does reach the motion latent (at initialisation the change is small: ~1e-4)
    assert not torch.equal(original.motion, permuted.motion)


def test_dvae_motion_sees_only_frame_differences(video):
    model = build("dvae").eval()
    offset = torch.rand(1, 1, 1, 64, 64, generator=torch.Generator().manual_seed(3))  # one image, every frame
    with torch.no_grad():
        original, shifted = model.encode(video), model.encode(video + offset)
    assert torch.allclose(original.motion, shifted.motion, atol=1e-5)
    assert not torch.allclose(original.content, shifted.content, atol=1e-3)


def test_lstm_vae_latents_are_the_halves_of_one_code(video):
    model = build("lstm_vae").eval()
    with torch.no_grad():
        latents = model.encode(video)
        mean, _ = model.posterior(video)
    assert torch.equal(torch.cat([latents.content, latents.motion], -1), mean)
    swapped = model.combine(latents, Latents(latents.content.flip(0), latents.motion.flip(0)))
    assert torch.equal(swapped.content, latents.content)
    assert torch.equal(swapped.motion, latents.motion.flip(0))


# -- architecture, counted from the formulas of each layer -------------------------------------
def conv(cin, cout):  # kernel 4 (transposed) convolution with bias
    return cin * cout * 16 + cout


def linear(cin, cout):
    return cin * cout + cout


def lstm(cin, hidden):  # W_ih, W_hh, b_ih, b_hh
    return 4 * (cin + hidden + 1) * hidden + 4 * hidden


def conv_encoder(cin, channels):  # conv + BatchNorm (weight, bias) per layer
    dims = [cin, *channels]
    return sum(conv(a, b) + 2 * b for a, b in zip(dims[:-1], dims[1:]))


def conv_decoder(features, channels, cout):  # linear to channels[0] x 4 x 4, transposed convs
    inner = sum(conv(a, b) + 2 * b for a, b in zip(channels[:-1], channels[1:]))
    return linear(features, channels[0] * 16) + inner + conv(channels[-1], cout)


def test_dvae_parameters_at_paper_preset():
    model = build("dvae", preset="paper", num_frames=20)
    assert sum(p.numel() for p in model.decoder_lstm.parameters()) == lstm(256, 512) == 1_576_960
    content = conv_encoder(1, (32, 64, 128, 256)) + 2 * linear(256 * 4 * 4, 128)  # eqs. 10-11
    motion = conv_encoder(1, (16, 32, 64, 64)) + linear(64 * 4 * 4, 256)  # light CNN (section 3.4)
    motion += 2 * lstm(256, 128) + 2 * linear(256, 128)  # BiLSTM, 128 per direction; eqs. 14
    decoder = lstm(128 + 128, 512) + conv_decoder(512 + 128, (256, 128, 64, 32), 1)  # eqs. 17-19
    assert model.num_parameters() == content + motion + decoder
    print(f"dvae at the paper preset: {model.num_parameters():,} parameters (paper 000 Table 1: 12,934,625)")


def test_lstm_vae_parameters_at_paper_preset():
    model = build("lstm_vae", preset="paper", num_frames=20)
    encoder = conv_encoder(1, (32, 64, 128, 256)) + 2 * lstm(4096, 128) + 2 * linear(256, 256)
    decoder = lstm(256, 512) + conv_decoder(512, (256, 128, 64, 32), 1)
    assert model.num_parameters() == encoder + decoder
    print(f"lstm_vae at the paper preset: {model.num_parameters():,} parameters "
          "(paper 000 Table 1: 10,441,857)")


# The public code's own parameter counts (m3hmetkoc/disentangled-VAE at 8d7b2fe,
# figures/comparison_results.json "total_parameters"; paper 000 Table 1).
PUBLIC_CODE_PARAMETERS = {"dvae": 12_934_625, "lstm_vae": 10_441_857, "frame_vae": 4_791_681}


@pytest.mark.parametrize("name", ["dvae", "lstm_vae", "frame_vae"])
def test_paper_code_preset_builds_the_public_network(name):
    model = build_model(make_spec(name, preset="paper-code"), (20, 1, 64, 64))
    assert model.num_parameters() == PUBLIC_CODE_PARAMETERS[name]


def test_dvae_paper_code_modules_match_the_public_code():
    model = build_model(make_spec("dvae", preset="paper-code"), (20, 1, 64, 64))
    count = lambda *modules: sum(p.numel() for m in modules for p in m.parameters())  # noqa: E731
    # content: 4 convs without bias + BatchNorm, linear 4096 -> 512, heads from 512
    content = conv_encoder(1, (32, 64, 128, 256)) - (32 + 64 + 128 + 256) + linear(4096, 512)
    assert count(model.content_encoder) == content == 2_787_264
    assert count(model.content_mean, model.content_logvar) == 2 * linear(512, 128) == 131_328
    # motion: 2 convs 16-32 without bias, linear 32 x 16 x 16 -> 512; BiLSTM 256 per direction
    assert count(model.motion_cnn) == conv_encoder(1, (16, 32)) - 48 + linear(8192, 512) == 4_203_360
    assert count(model.motion_lstm) == 2 * lstm(512, 256) == 1_576_960
    # decoder: (h_0, c_0) from [z_c; z_m], a 256-wide LSTM with a learned first input, 256 -> 512
    decoder = 2 * linear(256, 256) + lstm(256, 256) + 256 + linear(256, 512)
    assert count(model.decoder_lstm) == decoder == 789_760
    cnn = conv_decoder(512 + 128, (256, 128, 64, 32), 1) - (128 + 64 + 32)  # no bias before BatchNorm
    assert count(model.frame_decoder) == cnn == 3_314_625


# -- configuration and errors --------------------------------------------------------------------
def test_config_overrides():
    spec = make_spec("dvae", preset="smoke", overrides={"model": {"beta": "2"}})
    assert spec.model_config.beta == 2.0 and spec.model_config.content_dim == 8  # the preset stays
    with pytest.raises(ConfigError, match="unknown key"):
        make_spec("dvae", preset="smoke", overrides={"model": {"latent_dim": 3}})
    with pytest.raises(ConfigError, match="motion_dim must be positive"):
        make_spec("dvae", preset="smoke", overrides={"model": {"motion_dim": 0}})
    with pytest.raises(ConfigError, match="even"):
        make_spec("lstm_vae", preset="smoke", overrides={"model": {"latent_dim": 7}})


@pytest.mark.parametrize("name", MODELS)
def test_bad_video_shapes_are_clear(name):
    model = build(name)
    with pytest.raises(ValueError, match=r"\(B, T, C, H, W\)"):
        model.encode(torch.rand(4, 1, 64, 64))
    with pytest.raises(ValueError, match=r"\(B, T, C, H, W\)"):
        model.loss({"video": torch.rand(4, 1, 64, 64), "factors": {}}, step=0)
    if name == "dvae":
        with pytest.raises(ValueError, match="at least 2 frames"):
            model.encode(torch.rand(2, 1, 1, 64, 64))


def test_dvae_trains_end_to_end_from_the_cli(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--model", "dvae", "--preset", "smoke", "--out", str(run), "--no-progress"]) == 0
    assert (run / "checkpoints" / "last.pt").is_file()
    model = vidis.load_model(run)
    clip = torch.rand(2, 6, 1, 64, 64)
    assert model.swap(clip, clip.flip(0)).shape == clip.shape

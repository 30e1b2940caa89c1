"""The model protocol, exercised through frame_vae in both of its modes."""

import pytest
import torch

from vidis.errors import CapabilityError, ConfigError
from vidis.models.base import check_video
from vidis.train.spec import build_model, make_spec
from vidis.types import Factor, Latents


def frame_vae(average=True):
    spec = make_spec("frame_vae", preset="smoke", overrides={"model": {"average_over_time": average}})
    torch.manual_seed(0)
    return build_model(spec, (6, 1, 64, 64))


@pytest.fixture
def video():
    return torch.rand(3, 6, 1, 64, 64, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("average", [True, False])
def test_shapes(video, average):
    model = frame_vae(average).eval()
    latents = model.encode(video)
    assert latents.content.shape == (3, 8)
    assert latents.motion.shape == (3, 6, 8)
    assert model.decode(latents, 6).shape == video.shape
    assert model.reconstruct(video).shape == video.shape
    assert model.swap(video, video.flip(0)).shape == video.shape
    assert model.interpolate(video, video.flip(0), "motion", steps=4).shape == (4, *video.shape)
    recon = model.reconstruct(video)
    assert 0 <= float(recon.min()) and float(recon.max()) <= 1


@pytest.mark.parametrize("average", [True, False])
def test_loss_backpropagates_to_every_parameter(video, average):
    model = frame_vae(average).train()
    out = model.loss({"video": video, "factors": {}}, step=0)
    assert torch.isfinite(out.loss)
    out.loss.backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


@pytest.mark.parametrize("average", [True, False])
def test_swap_with_itself_is_reconstruction(video, average):
    model = frame_vae(average).eval()
    assert torch.allclose(model.swap(video, video), model.reconstruct(video), atol=1e-6)


def test_interpolation_ends_are_the_sources(video):
    model = frame_vae(False).eval()
    other = video.flip(0)
    path = model.interpolate(video, other, "content", steps=3)
    assert torch.allclose(path[0], model.reconstruct(video), atol=1e-6)
    swapped = model.decode(model.combine(model.encode(other), model.encode(video)), 6)
    assert torch.allclose(path[-1], swapped, atol=1e-6)


def test_averaged_frame_vae_is_static_and_ignores_motion(video):
    model = frame_vae(True).eval()
    recon = model.reconstruct(video)
    assert torch.equal(recon[:, 0], recon[:, -1])  # paper 000: temporal consistency 0
    assert torch.allclose(model.swap(video, video.flip(0)), recon)


def test_per_frame_vae_decodes_each_frame(video):
    model = frame_vae(False).eval()
    latents = model.encode(video)
    assert torch.allclose(latents.motion.mean(1), torch.zeros(3, 8), atol=1e-6)
    with pytest.raises(ValueError, match="one frame per motion latent"):
        model.decode(latents, 5)


def test_missing_capabilities_are_clear(video):
    model = frame_vae().eval()
    with pytest.raises(CapabilityError, match="cannot generate"):
        model.generate(2)
    with pytest.raises(CapabilityError, match="not a prediction model"):
        model.predict(video, horizon=3)
    with pytest.raises(ValueError, match="factor must be"):
        model.interpolate(video, video, "colour")


def test_bad_video_shapes_are_clear():
    model = frame_vae()
    with pytest.raises(ValueError, match=r"\(B, T, C, H, W\)"):
        model.reconstruct(torch.rand(4, 64, 64))
    with pytest.raises(ValueError, match="1 channel"):
        check_video(torch.rand(1, 2, 3, 64, 64), channels=1)
    with pytest.raises(ValueError, match="64x64"):
        model.reconstruct(torch.rand(1, 6, 1, 32, 32))
    with pytest.raises(ValueError, match="equal batch sizes"):
        model.swap(torch.rand(2, 6, 1, 64, 64), torch.rand(3, 6, 1, 64, 64))


def test_latents_helpers():
    a = Latents(torch.ones(2, 3), torch.zeros(2, 4), {"d": torch.ones(2, 1)})
    both = Latents.cat([a, a])
    assert both.content.shape == (4, 3) and both.extra["d"].shape == (4, 1)
    assert a.map(lambda t: t[:1]).motion.shape == (1, 4)
    with pytest.raises(ValueError, match="static"):
        Factor("x", "moving", 3)


# -- latent groups, presets, non-square frames ---------------------------------------------------
from tiny_models import TinyAutoencoder, TinyConfig, registered  # noqa: E402

from vidis.models.base import PRESETS, VideoModel, preset_names  # noqa: E402


class Grouped(VideoModel):
    """Latents with two extra parts: "style" belongs to content, "mixture" is its own group."""

    latent_groups = {"content": ("content", "style"), "motion": ("motion",), "mixture": ("mixture",)}
    capabilities = frozenset({"reconstruct", "swap", "interpolate"})

    def encode(self, video):
        mean = video.mean(dim=(1, 2, 3, 4))  # (B,)
        return Latents(mean[:, None], 2 * mean[:, None], {"style": 3 * mean[:, None],
                                                           "mixture": torch.stack([mean, 1 - mean], 1)})

    def decode(self, latents, num_frames):
        parts = [latents.content, latents.motion, latents.extra["style"], latents.extra["mixture"]]
        return torch.cat(parts, 1)[:, None, None, None, :].expand(-1, num_frames, 1, 1, -1)

    def mix(self, latent_a, latent_b, group, alpha):
        if group == "mixture":  # a weight vector: pick one end, never a blend
            return latent_a.replace({"mixture": (latent_b if alpha >= 0.5 else latent_a).extra["mixture"]})
        return super().mix(latent_a, latent_b, group, alpha)


def grouped():
    model = Grouped(None, (2, 1, 1, 5))
    model.name = "grouped"
    a = torch.zeros(1, 2, 1, 1, 5)
    b = torch.full((1, 2, 1, 1, 5), 0.25)
    return model, a, b


def test_combine_follows_the_latent_groups():
    model, a, b = grouped()
    la, lb = model.encode(a), model.encode(b)
    swapped = model.combine(la, lb)
    assert torch.equal(swapped.content, la.content)
    assert torch.equal(swapped.extra["style"], la.extra["style"])
    assert torch.equal(swapped.motion, lb.motion)
    assert torch.equal(swapped.extra["mixture"], lb.extra["mixture"])


def test_interpolate_moves_one_group_with_the_models_mix():
    model, a, b = grouped()
    # decoded values: [content, motion, style, mixture0, mixture1]
    # A: [0, 0, 0, 0, 1]; B: [0.25, 0.5, 0.75, 0.25, 0.75]
    path = model.interpolate(a, b, "content", steps=3)[:, 0, 0, 0, 0]  # (3, 5)
    assert torch.allclose(path[:, 0], torch.tensor([0, 0.125, 0.25]))
    assert torch.allclose(path[:, 2], torch.tensor([0, 0.375, 0.75]))  # style moves with content
    assert torch.equal(path[:, 1], torch.zeros(3)) and torch.equal(path[:, 3:], path[:1, 3:].expand(3, 2))
    mixture = model.interpolate(a, b, "mixture", steps=5)[:, 0, 0, 0, 0]
    assert torch.equal(mixture[:, :3], torch.zeros(5, 3))
    assert mixture[:, 3].tolist() == [0, 0, 0.25, 0.25, 0.25]  # the override picks an end, no blend
    with pytest.raises(ValueError, match="factor must be one of 'content', 'motion', 'mixture'"):
        model.interpolate(a, b, "colour")


def test_default_groups_leave_extra_parts_alone():
    model = frame_vae(False).eval()
    la = Latents(torch.zeros(1, 2), torch.zeros(1, 2), {"d": torch.zeros(1, 1)})
    lb = Latents(torch.ones(1, 2), torch.ones(1, 2), {"d": torch.ones(1, 1)})
    assert torch.equal(model.mix(la, lb, "motion", 0.5).extra["d"], la.extra["d"])
    assert torch.equal(model.combine(la, lb).extra["d"], lb.extra["d"])
    with pytest.raises(ValueError, match="no part 'style'"):
        la.part("style")


def test_model_declared_presets_are_listed():
    class Kth(TinyAutoencoder):
        presets = {**TinyAutoencoder.presets, "paper-tinykth": {}}

    assert "paper-tinykth" not in preset_names()
    with registered(tiny_kth=Kth):
        names = preset_names()
        assert names[:4] == list(PRESETS) and "paper-tinykth" in names[4:]
        make_spec("tiny_kth", preset="paper-tinykth")
        with pytest.raises(ConfigError, match="no preset 'paper'; it has: smoke, paper-tinykth"):
            make_spec("tiny_kth", preset="paper")
    assert "paper-tinykth" not in preset_names()


def test_non_square_frames_follow_the_models_video_shape():
    check_video(torch.rand(1, 2, 1, 32, 48), channels=1, size=(32, 48))
    with pytest.raises(ValueError, match="32x48 frames"):
        check_video(torch.rand(1, 2, 1, 48, 32), channels=1, size=(32, 48))
    model = TinyAutoencoder(TinyConfig(), (4, 1, 32, 48)).eval()
    model.name = "tiny"
    video = torch.rand(2, 4, 1, 32, 48)
    assert model.reconstruct(video).shape == video.shape
    assert model.swap(video, video.flip(0)).shape == video.shape
    with pytest.raises(ValueError, match="32x48 frames"):
        model.reconstruct(torch.rand(2, 4, 1, 48, 32))


def test_posterior_is_a_capability():
    model = TinyAutoencoder(TinyConfig(), (4, 1, 32, 32))
    model.name = "tiny"
    with pytest.raises(CapabilityError, match="no posterior"):
        model.posterior(torch.rand(1, 4, 1, 32, 32))
    mean, _, _ = frame_vae(False).posterior(torch.rand(1, 6, 1, 64, 64))
    assert mean.shape == (1, 6, 8)

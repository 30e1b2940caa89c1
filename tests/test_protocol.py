"""The model protocol, exercised through frame_vae in both of its modes."""

import pytest
import torch

from vidis.errors import CapabilityError
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

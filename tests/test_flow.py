"""The frozen Horn-Schunck flow estimator of AVLAE (vidis.models.flow)."""

import torch
import torch.nn.functional as F

from vidis.models.flow import FlowEstimator, HornSchunck, warp


def textures(n: int, size: int, sigma: float, generator: torch.Generator, margin: int = 8) -> torch.Tensor:
    """Smooth random textures (n, 1, size + 2 margin, ...) in [0, 1]: uniform noise blurred by a Gaussian."""
    big = size + 2 * margin
    noise = torch.rand(n, 1, big, big, generator=generator)
    r = int(3 * sigma)
    xs = torch.arange(-r, r + 1.0)
    k = torch.exp(-(xs**2) / (2 * sigma**2))
    k = k / k.sum()
    noise = F.conv2d(F.pad(noise, (r, r, 0, 0), mode="circular"), k.view(1, 1, 1, -1))
    noise = F.conv2d(F.pad(noise, (0, 0, r, r), mode="circular"), k.view(1, 1, -1, 1))
    lo, hi = noise.amin((2, 3), keepdim=True), noise.amax((2, 3), keepdim=True)
    return (noise - lo) / (hi - lo)


def crop(texture: torch.Tensor, size: int, shift: torch.Tensor, margin: int = 8) -> torch.Tensor:
    """The size x size window at (margin, margin) of each texture, content moved by shift (n, 2) px."""
    big = texture.shape[-1]
    ys, xs = torch.meshgrid(
        torch.arange(size) + float(margin), torch.arange(size) + float(margin), indexing="ij"
    )
    x, y = xs[None] - shift[:, 0, None, None], ys[None] - shift[:, 1, None, None]
    grid = torch.stack([2 * x / (big - 1) - 1, 2 * y / (big - 1) - 1], -1)
    return F.grid_sample(texture, grid, align_corners=True)


def translation_epe(n: int = 32, size: int = 32, seed: int = 123) -> tuple[float, float]:
    """(mean EPE over all pixels, over pixels >= 4 px from the border) on held-out translations
    uniform in [-4, 4] px per axis (seed 123; the estimator was tuned on seed 1)."""
    gen = torch.Generator().manual_seed(seed)
    texture = textures(n, size, 2.0, gen)
    shift = torch.rand(n, 2, generator=gen) * 8 - 4
    a, b = crop(texture, size, torch.zeros(n, 2)), crop(texture, size, shift)
    flow = HornSchunck()(a, b)  # (n, 2, H, W)
    error = (flow - shift[:, :, None, None]).norm(dim=1)
    return error.mean().item(), error[:, 4:-4, 4:-4].mean().item()


def test_translation_epe():
    # measured 2026-11-26: all pixels 0.27 px, interior 0.14 px (docs/paper001.md)
    epe_all, epe_interior = translation_epe()
    assert epe_all <= 0.5 and epe_interior <= 0.5, (epe_all, epe_interior)


def test_warp_by_an_integer_shift_is_a_shift():
    image = torch.rand(2, 3, 12, 12)
    flow = torch.zeros(2, 2, 12, 12)
    flow[:, 0], flow[:, 1] = 2.0, -1.0  # sample at x + 2, y - 1
    out = warp(image, flow)
    assert torch.allclose(out[..., 1:, :-2], image[..., :-1, 2:], atol=1e-5)


def test_identical_frames_give_zero_flow():
    a = torch.rand(3, 1, 16, 16)
    assert HornSchunck()(a, a.clone()).abs().max() < 1e-4


def test_estimator_is_parameter_free_differentiable_and_pooled():
    estimator = FlowEstimator(downsample=8)
    assert list(estimator.parameters()) == [] and list(estimator.buffers()) == []
    video = torch.rand(2, 4, 3, 32, 24, requires_grad=True)
    flow = estimator(video)
    assert flow.shape == (2, 2, 3, 4, 3)
    (grad,) = torch.autograd.grad(flow.pow(2).sum(), video)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0

"""A frozen, differentiable optical-flow estimator: coarse-to-fine Horn-Schunck unrolled in torch.

Paper 001 (AVLAE) feeds its motion encoder E_M with RAFT flow (pretrained on Sintel) at 1/8 of
the frame resolution. Those weights cannot be fetched here, so vidis uses a classical
variational estimator with no weights at all, frozen by construction (it has no parameters),
differentiable in both frames (every step is a torch operation: average pooling, bilinear
warping with `grid_sample`, finite differences, a fixed number of Jacobi iterations), so the
gradient of anything computed from the flow reaches the frames and, in AVLAE, the generator.

Horn and Schunck (1981), with warping (Brox et al. 2004 style) and an image pyramid: at each
level, coarsest first, the second frame is warped by the current flow u0, and the linearised
brightness constancy Ix u + Iy v + (It - Ix u0 - Iy v0) = 0 with the smoothness term
alpha^2 |grad u|^2 is solved by `iterations` Jacobi steps

    u <- u_bar - Ix r / (alpha^2 + Ix^2 + Iy^2),   r = Ix u_bar + Iy v_bar + It - Ix u0 - Iy v0

(u_bar: the 8-neighbour weighted average of u). Frames go to grey (the channel mean) first.

Accuracy (tests/test_flow.py::test_translation_epe): on held-out smooth random textures
translated by sub-pixel shifts of up to 4 px in each axis, 32x32 frames, the mean endpoint error
over the pixels at least 4 px from the border is stated in `docs/paper001.md` with its command.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

# Horn-Schunck's neighbourhood average (weights 1/6 on the edges, 1/12 on the corners)
_AVERAGE = torch.tensor([[1 / 12, 1 / 6, 1 / 12], [1 / 6, 0.0, 1 / 6], [1 / 12, 1 / 6, 1 / 12]])


def warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """image (N, C, H, W) sampled at x + flow(x): (N, C, H, W); flow (N, 2, H, W) in pixels (dx, dy)."""
    N, _, H, W = image.shape
    ys, xs = torch.meshgrid(
        torch.arange(H, device=image.device, dtype=image.dtype),
        torch.arange(W, device=image.device, dtype=image.dtype),
        indexing="ij",
    )
    x = xs + flow[:, 0]  # (N, H, W)
    y = ys + flow[:, 1]
    grid = torch.stack([2 * x / max(W - 1, 1) - 1, 2 * y / max(H - 1, 1) - 1], -1)  # (N, H, W, 2)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=True)


def _conv(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Per-channel 2D convolution with replicate padding: (N, C, H, W) -> (N, C, H, W)."""
    C = x.shape[1]
    k = kernel.to(x)[None, None].expand(C, 1, *kernel.shape)
    pad = (kernel.shape[1] // 2, kernel.shape[1] // 2, kernel.shape[0] // 2, kernel.shape[0] // 2)
    return F.conv2d(F.pad(x, pad, mode="replicate"), k, groups=C)


def _gradients(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Central differences of (N, 1, H, W) along x and y (replicate border)."""
    dx = torch.tensor([[-0.5, 0.0, 0.5]])
    return _conv(image, dx), _conv(image, dx.t())


class HornSchunck(nn.Module):
    """(frame a, frame b) -> flow (N, 2, H, W) in pixels with a(x) ~ b(x + flow(x)).

    alpha: smoothness weight (intensities in [0, 1]); levels: pyramid levels at most (a level
    is added only while the coarsest side stays >= `min_size`); warps: re-linearisations per
    level; iterations: Jacobi steps per warp. No parameters: nothing to train or freeze.
    """

    def __init__(
        self, alpha: float = 0.25, levels: int = 3, warps: int = 2, iterations: int = 30, min_size: int = 8
    ):
        super().__init__()
        self.alpha, self.levels, self.warps = alpha, levels, warps
        self.iterations, self.min_size = iterations, min_size

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        a, b = a.mean(1, keepdim=True), b.mean(1, keepdim=True)  # grey (N, 1, H, W)
        pyramid = [(a, b)]
        while len(pyramid) < self.levels and min(pyramid[-1][0].shape[-2:]) >= 2 * self.min_size:
            pa, pb = pyramid[-1]
            pyramid.append((F.avg_pool2d(pa, 2), F.avg_pool2d(pb, 2)))
        flow = a.new_zeros(a.shape[0], 2, *pyramid[-1][0].shape[-2:])
        for level, (la, lb) in enumerate(reversed(pyramid)):
            if level > 0:  # up one level: twice the resolution, twice the displacement
                flow = 2 * F.interpolate(flow, size=la.shape[-2:], mode="bilinear", align_corners=False)
            for _ in range(self.warps):
                flow = self._refine(la, lb, flow)
        return flow

    def _refine(self, a: torch.Tensor, b: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        warped = warp(b, flow)  # b(x + u0)
        ax, ay = _gradients(a)
        bx, by = _gradients(warped)
        ix, iy = 0.5 * (ax + bx), 0.5 * (ay + by)  # (N, 1, H, W)
        residual0 = warped - a - ix * flow[:, :1] - iy * flow[:, 1:]  # It - Ix u0 - Iy v0
        denominator = self.alpha**2 + ix**2 + iy**2
        grad = torch.cat([ix, iy], 1)  # (N, 2, H, W)
        for _ in range(self.iterations):
            mean = _conv(flow, _AVERAGE)  # (N, 2, H, W)
            r = (grad * mean).sum(1, keepdim=True) + residual0
            flow = mean - grad * r / denominator
        return flow


class FlowEstimator(nn.Module):
    """Clip (B, T, C, H, W) -> the T-1 flows between consecutive frames at 1/`downsample` of the
    frame size, (B, 2, T-1, H', W') with H' = ceil(H / downsample), in full-resolution pixels.

    The flow is estimated at full resolution and average-pooled (RAFT's own output is its 1/8
    grid; the paper uses that grid). Frozen by construction: it has no parameters.
    """

    def __init__(self, downsample: int = 8, **options):
        super().__init__()
        self.downsample = downsample
        self.estimator = HornSchunck(**options)

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return math.ceil(height / self.downsample), math.ceil(width / self.downsample)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        B, T = video.shape[:2]
        a, b = video[:, :-1].flatten(0, 1), video[:, 1:].flatten(0, 1)  # (B (T-1), C, H, W)
        flow = self.estimator(a.float(), b.float())  # (B (T-1), 2, H, W)
        if self.downsample > 1:
            flow = F.avg_pool2d(flow, self.downsample, ceil_mode=True)
        return flow.unflatten(0, (B, T - 1)).transpose(1, 2)  # (B, 2, T-1, H', W')

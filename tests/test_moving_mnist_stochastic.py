"""Stochastic Moving MNIST (`dynamics="stochastic"`, `digit_size`, `composite="add"`).

The rules are edenton/svg's `data/moving_mnist.py` with `deterministic=False`: integer
velocities in [-4, 4], positions kept in [0, S - D - 1] by clamping, and at every wall met a new
velocity whose component across the wall points away from it (y checked first, x last).
"""

import numpy as np
import pytest
import torch

from vidis.data import make_dataset
from vidis.data.digits import digit_pool, resize_digits
from vidis.data.moving_mnist import direction_bins, stochastic_paths
from vidis.errors import DataError

SMMNIST = {"dynamics": "stochastic", "digit_size": 32, "composite": "add", "num_frames": 30}


def svg_style_path(start, velocity, redraws, last, num_frames):
    """One digit's (T, 2) positions by a per-frame loop shaped like the SVG code's: check y, then
    x, clamp to the wall and redraw; draw; move. Its `np.random.randint` calls are replaced by
    the clip's pre-drawn table redraws[t, axis] = (speed away, other component)."""
    sx, sy = int(start[0]), int(start[1])
    dx, dy = int(velocity[0]), int(velocity[1])
    path = []
    for t in range(num_frames):
        if sy < 0:
            sy, dy, dx = 0, redraws[t, 1, 0], redraws[t, 1, 1]
        elif sy > last:
            sy, dy, dx = last, -redraws[t, 1, 0], redraws[t, 1, 1]
        if sx < 0:
            sx, dx, dy = 0, redraws[t, 0, 0], redraws[t, 0, 1]
        elif sx > last:
            sx, dx, dy = last, -redraws[t, 0, 0], redraws[t, 0, 1]
        path.append((sx, sy))
        sx, sy = sx + dx, sy + dy
    return np.array(path)


@pytest.mark.parametrize("options", [SMMNIST, {"dynamics": "stochastic", "num_digits": 3, "image_size": 48}])
def test_paths_equal_a_per_frame_loop_shaped_like_svgs(options):
    ds = make_dataset("moving_mnist", "train", seed=1, **options)
    c = ds.config
    last = c.image_size - c.digit_size - 1
    for index in range(40):
        _, start, velocity, redraws = (a[0] for a in ds._draws_stochastic([index]))
        _, positions, _ = ds.sample(index)  # (K, T, 2)
        for k in range(c.num_digits):
            expected = svg_style_path(start[k], velocity[k], redraws[:, k], last, c.num_frames)
            assert np.array_equal(positions[k], expected), (index, k)


def _paths(ds, num_clips):
    """Positions and velocities (N, T, 2) of every digit of the first clips, with their draws."""
    _, start, velocity, redraws = ds._draws_stochastic(list(range(num_clips)))  # (B, K, ...), (B, T, K, 2, 2)
    start, velocity = start.reshape(-1, 2), velocity.reshape(-1, 2)  # (N, 2)
    redraws = redraws.transpose(0, 2, 1, 3, 4).reshape(len(start), -1, 2, 2)  # (N, T, 2, 2)
    c = ds.config
    positions, velocities = stochastic_paths(start, velocity, redraws, c.image_size - c.digit_size - 1)
    return positions, velocities, velocity


def test_bounces_follow_the_rules():
    ds = make_dataset("moving_mnist", "train", seed=2, **SMMNIST)
    c = ds.config
    last = c.image_size - c.digit_size - 1
    positions, velocities, initial = _paths(ds, 300)  # 600 digits, 30 frames
    assert positions.dtype == velocities.dtype == np.int64
    assert np.array_equal(velocities[:, 0], initial)  # no wall before the first frame
    # digits stay inside the canvas, velocity components in [-4, 4]
    assert positions.min() >= 0 and positions.max() == last and last + c.digit_size < c.image_size
    assert velocities.min() == -4 and velocities.max() == 4
    moved = positions[:, :-1] + velocities[:, :-1]  # (N, T-1, 2) where each digit heads
    assert np.array_equal(positions[:, 1:], np.clip(moved, 0, last))  # clamped at the walls
    low, high = moved < 0, moved > last  # a wall met before frame t + 1, per axis
    hit = low | high
    before, after = velocities[:, :-1], velocities[:, 1:]
    free = ~hit.any(-1)
    assert np.array_equal(after[free], before[free])  # no wall: the velocity is kept
    away = np.where(low, 1, -1)  # the sign pointing away from the wall met
    hit_x, hit_y = hit[..., 0], hit[..., 1]
    assert np.all(after[..., 0][hit_x] * away[..., 0][hit_x] >= 1)  # x: away from the x wall
    only_y = hit_y & ~hit_x
    assert np.all(after[..., 1][only_y] * away[..., 1][only_y] >= 1)  # y: away from the y wall
    # every hit draws a new velocity: across the wall 1..4 away, along it -4..4
    assert set(np.abs(after[..., 0][hit_x]).tolist()) == {1, 2, 3, 4}
    assert set(after[..., 1][hit_x].tolist()) == set(range(-4, 5))
    assert set(after[..., 0][only_y].tolist()) == set(range(-4, 5))
    assert hit_x.sum() > 500 and only_y.sum() > 500 and low.sum() > 500 and high.sum() > 500
    # both walls in one frame: the x wall's draw wins (as SVG's code), so y may point either way
    both = hit_x & hit_y
    assert both.sum() > 0 and np.abs(after[..., 1][both]).max() <= 4


def test_initial_velocities_are_uniform_integers():
    """Monte Carlo: 2 x 1,000 digits' first velocities, 9 values per axis equally likely."""
    ds = make_dataset("moving_mnist", "val", seed=0, dynamics="stochastic", num_digits=1)
    velocity = ds._draws_stochastic(list(range(1000)))[2][:, 0]  # (1000, 2)
    counts = np.array([np.count_nonzero(velocity == v) for v in range(-4, 5)])  # over both axes
    assert counts.sum() == 2000
    expected = 2000 / 9  # 222 each, standard deviation about 14
    assert np.all(np.abs(counts - expected) < 6 * np.sqrt(expected))


def test_deterministic_in_seed_split_index_and_longer_clips_extend_shorter():
    a = make_dataset("moving_mnist", "train", seed=3, **SMMNIST)
    b = make_dataset("moving_mnist", "train", seed=3, **SMMNIST)
    assert torch.equal(a[5]["video"], b[5]["video"])
    assert not torch.equal(a[5]["video"], a[6]["video"])
    for other in (
        make_dataset("moving_mnist", "train", seed=4, **SMMNIST),
        make_dataset("moving_mnist", "val", seed=3, **SMMNIST),
    ):
        assert not torch.equal(a[5]["video"], other[5]["video"])
    short = make_dataset("moving_mnist", "train", seed=3, **{**SMMNIST, "num_frames": 12})
    for index in range(10):
        assert torch.equal(short[index]["video"], a[index]["video"][:12])


def test_digits_resized_to_32_by_bilinear_interpolation():
    """PIL's bilinear resize (what the SVG code's torchvision `Scale(32)` runs) against
    torch's bilinear interpolation with half-pixel centres: within one grey level."""
    images, labels = digit_pool("test")
    resized, resized_labels = digit_pool("test", "", 32)
    assert resized.shape == (len(images), 32, 32) and resized.dtype == np.uint8
    assert np.array_equal(resized_labels, labels)
    reference = torch.nn.functional.interpolate(
        torch.from_numpy(images[:200, None]).double(), size=32, mode="bilinear", align_corners=False
    )[:, 0].numpy()
    assert np.abs(resized[:200].astype(np.float64) - reference).max() <= 1.0
    assert np.array_equal(resize_digits(images[:3], 28), images[:3])
    with pytest.raises(DataError, match="digit size"):
        resize_digits(images[:1], 0)


def test_one_digit_clips_show_the_whole_resized_digit_at_its_position():
    ds = make_dataset("moving_mnist", "test", num_digits=1, **{k: v for k, v in SMMNIST.items()})
    assert ds.images.shape[1:] == (32, 32)
    for index in range(5):
        ids, positions, _ = ds.sample(index)
        video = ds[index]["video"][:, 0].numpy()  # (T, 64, 64)
        digit = ds.images[ids[0]] / np.float32(255)
        for t in range(0, 30, 7):
            x, y = positions[0, t]
            assert np.array_equal(video[t, y : y + 32, x : x + 32], digit)
            assert np.isclose(video[t].sum(), digit.sum())  # nothing of it is cut off


def test_add_composite_sums_and_clips_at_one():
    ds = make_dataset("moving_mnist", "train", num_digits=2, num_frames=3, composite="add")
    ids = np.array([0, 1])
    positions = np.full((2, 3, 2), 10)  # both digits in the same place
    canvas = ds.render(ids, positions)  # (3, 64, 64) uint8
    a, b = ds.images[0].astype(np.int64), ds.images[1].astype(np.int64)
    assert np.array_equal(canvas[0, 10:38, 10:38], np.minimum(a + b, 255))
    assert (a + b).max() > 255  # the test exercises the clipping
    video = ds._render_many(ids[None], positions[None], as_float=True)[0, :, 0]  # (T, S, S)
    svg_way = np.minimum(a / 255 + b / 255, 1.0)  # SVG adds the floats and clips at 1
    assert np.abs(video[0, 10:38, 10:38] - svg_way).max() < 1e-6


def test_labels_in_stochastic_mode():
    ds = make_dataset("moving_mnist", "test", **SMMNIST)
    _, labels = digit_pool("test")
    for index in range(60):
        ids, positions, angle = ds.sample(index)
        factors = ds[index]["factors"]
        assert positions[0, 0, 0] <= positions[1, 0, 0]  # digit 0 is the leftmost at t=0
        assert [int(factors["digit0"]), int(factors["digit1"])] == labels[ids].tolist()
        moves = np.diff(positions[0], axis=0)  # (T-1, 2) whole pixels
        assert int(factors["direction"]) == direction_bins(moves[0])
        per_frame = direction_bins(moves).tolist()
        assert factors["direction_per_frame"].tolist() == [*per_frame, per_frame[-1]]
        velocity = ds._draws_stochastic([index])[2][0]  # (K, 2)
        assert np.isclose(angle[0], np.arctan2(velocity[0, 1], velocity[0, 0]))
        expected_code = int((np.arctan2(velocity[0, 1], velocity[0, 0]) + np.pi) / (2 * np.pi) * 8) % 8
        assert int(factors["direction_code"]) == expected_code
        col, row = np.minimum((positions[0] + 16) * 3 // 64, 2).T  # (T,) each: digit 0's centre
        assert factors["cell"].tolist() == (row * 3 + col).tolist()
        for factor in ds.factors:
            value = factors[factor.name]
            assert 0 <= int(value.min()) and int(value.max()) < factor.num_classes


def _paste_by_loops(images, ids, positions, size, combine):
    canvas = np.zeros((positions.shape[1], size, size), dtype=np.int64)
    digit = images.shape[-1]
    for k, digit_id in enumerate(ids):
        for t in range(positions.shape[1]):
            x, y = np.rint(positions[k, t]).astype(int)
            patch = canvas[t, y : y + digit, x : x + digit]
            patch[...] = combine(patch, images[digit_id])
    return np.minimum(canvas, 255)


@pytest.mark.parametrize(
    "options",
    [SMMNIST, {"dynamics": "stochastic", "num_digits": 3}, {"digit_size": 32, "composite": "add"}],
)
def test_true_swap_in_every_mode(options):
    ds = make_dataset("moving_mnist", "test", **options)
    combine = np.add if ds.config.composite == "add" else np.maximum
    for index_a, index_b in ((0, 1), (7, 3)):
        ids_a, _, _ = ds.sample(index_a)
        _, positions_b, _ = ds.sample(index_b)
        for order in ds.swap_assignments():
            swap = ds.render_swap(index_a, index_b, order)[:, 0]  # (T, S, S)
            reference = _paste_by_loops(ds.images, ids_a[list(order)], positions_b, 64, combine)
            assert torch.equal(swap, torch.from_numpy(reference).float() / 255)
        assert torch.equal(ds.render_swap(index_a, index_a), ds[index_a]["video"])


def test_bad_options_are_clear_errors():
    with pytest.raises(DataError, match="dynamics"):
        make_dataset("moving_mnist", dynamics="brownian")
    with pytest.raises(DataError, match="composite"):
        make_dataset("moving_mnist", composite="mean")
    with pytest.raises(DataError, match="digit_size"):
        make_dataset("moving_mnist", digit_size=64)
    with pytest.raises(DataError, match="digit_size"):
        make_dataset("moving_mnist", digit_size=0)

import numpy as np
import pytest
import torch

from vidis.data import collate, make_dataset
from vidis.data.pendulum import COLOURS, LENGTH, PIVOT
from vidis.errors import DataError


def test_item_shapes_and_factors():
    ds = make_dataset("pendulum", "test", num_test=3)
    item = ds[0]
    assert item["video"].shape == (16, 3, 64, 64)
    assert 0 <= float(item["video"].min()) and float(item["video"].max()) <= 1
    declared = [(f.name, f.kind, f.num_classes) for f in ds.factors]
    assert declared == [("colour", "static", 7), ("speed", "dynamic", 2)]
    assert make_dataset("pendulum", "test", num_frames=40)[0]["video"].shape[0] == 40


def test_deterministic_and_any_length_is_a_prefix():
    a, b = make_dataset("pendulum", "train", seed=1), make_dataset("pendulum", "train", seed=1)
    assert torch.equal(a[7]["video"], b[7]["video"])
    assert not torch.equal(a[7]["video"], make_dataset("pendulum", "train", seed=2)[7]["video"])
    long = make_dataset("pendulum", "train", seed=1, num_frames=40)
    assert torch.equal(long[7]["video"][:16], a[7]["video"])  # the same swing, continued


def test_bob_is_where_the_angle_puts_it_in_its_colour():
    """The bob's centre pixel is the colour's palette value; the brightest-bob centroid moves
    along the arc at the angle the clip was drawn with."""
    ds = make_dataset("pendulum", "test")
    colour, speed, amplitude, phase = ds.sample(0)
    video = ds[0]["video"]
    theta = ds.angles(speed, amplitude, phase)
    target = torch.tensor(COLOURS[colour])
    for t in range(len(theta)):
        x, y = PIVOT[0] + LENGTH * np.sin(theta[t]), PIVOT[1] + LENGTH * np.cos(theta[t])
        assert torch.allclose(video[t, :, int(y), int(x)], target, atol=1e-6)
        is_bob = (video[t] - target[:, None, None]).abs().amax(0) < 1e-6  # (H, W)
        ys, xs = torch.nonzero(is_bob, as_tuple=True)
        assert abs(xs.float().mean() + 0.5 - x) < 0.6 and abs(ys.float().mean() + 0.5 - y) < 0.6


def test_fast_swings_faster():
    ds = make_dataset("pendulum", "train")
    assert ds.angles(1, 40, 0)[5] == pytest.approx(np.deg2rad(40) * np.cos(2 * np.pi * 5 / 10))
    slow, fast = ds.angles(0, 40, 0), ds.angles(1, 40, 0)
    assert np.abs(np.diff(fast)).mean() > 1.5 * np.abs(np.diff(slow)).mean()


def test_batch_and_render_swap():
    ds = make_dataset("pendulum", "val", num_val=4)
    got = ds.batch(range(4))
    assert torch.equal(got["video"], collate([ds[i] for i in range(4)])["video"])
    assert torch.equal(ds.render_swap(1, 1), ds[1]["video"])
    colour_a = ds.sample(0)[0]
    _, speed, amplitude, phase = ds.sample(1)
    assert torch.equal(ds.render_swap(0, 1), ds.render(colour_a, ds.angles(speed, amplitude, phase)))


@pytest.mark.parametrize("options", [{"num_colours": 8}, {"fast_period": 30}, {"num_frames": 0},
                                     {"amplitude_max": 60}])
def test_bad_options(options):
    with pytest.raises(DataError):
        make_dataset("pendulum", "train", **options)

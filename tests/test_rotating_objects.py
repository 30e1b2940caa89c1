"""The rotating-objects dataset: determinism, held-out identities, the renderer, true swaps."""

import numpy as np
import pytest
import torch

from vidis.data import make_dataset
from vidis.data.rotating_objects import AMBIENT, DIFFUSE, LIGHT, VIEW_HALF_WIDTH, _box, render_views
from vidis.errors import DataError

SMALL = {"num_frames": 6, "num_objects": 12, "num_val": 5, "num_test": 8}


def dataset(split="train", seed=0, **options):
    return make_dataset("rotating_objects", split, seed, **{**SMALL, **options})


def test_items_and_factors():
    ds = dataset()
    item = ds[3]
    assert item["video"].shape == (6, 1, 64, 64) and item["video"].dtype == torch.float32
    assert 0 <= float(item["video"].min()) and float(item["video"].max()) <= 1
    assert float(item["video"].max()) > 0.3  # an object is there
    names = {f.name: (f.kind, f.num_classes, f.per_frame) for f in ds.factors}
    assert names == {
        "identity": ("static", 22, False),
        "orientation": ("dynamic", 32, True),
        "direction": ("dynamic", 2, False),
    }
    assert item["factors"]["orientation"].shape == (6,)
    steps = np.diff(item["factors"]["orientation"].numpy()) % 32
    assert set(steps) == ({1} if int(item["factors"]["direction"]) == 0 else {31})
    batch = ds.batch([0, 1, 2])
    assert batch["video"].shape == (3, 6, 1, 64, 64) and batch["factors"]["identity"].shape == (3,)


def test_deterministic_in_seed_split_and_index():
    a, b = dataset(seed=3), dataset(seed=3)
    b[7]  # a different render order and cache state must not change anything
    assert torch.equal(a[5]["video"], b[5]["video"]) and torch.equal(a[7]["video"], b[7]["video"])
    assert not torch.equal(dataset(seed=4)[5]["video"], a[5]["video"])
    assert not torch.equal(dataset("val", seed=3)[0]["video"], a[0]["video"])


def test_test_identities_are_held_out():
    seen = {int(dataset(split, seed, num_val=40)[i]["factors"]["identity"]) for split in ("train", "val")
            for seed in (0, 1) for i in range(40)}
    held = {int(dataset("test", seed)[i]["factors"]["identity"]) for seed in (0, 1) for i in range(8)}
    assert seen <= set(range(12)) and held <= set(range(12, 22))
    assert len(seen) > 8 and len(held) > 3
    # an object's shape does not depend on the split or the clip seed
    boxes_a, _ = dataset("train", 0).shape_of(15)
    boxes_b, _ = dataset("test", 9).shape_of(15)
    assert np.array_equal(boxes_a, boxes_b)
    boxes_c, _ = dataset().shape_of(14)
    assert boxes_c.shape != boxes_a.shape or not np.allclose(boxes_c, boxes_a)


def test_render_swap_is_a_on_b_views():
    ds = dataset("test")
    assert torch.equal(ds.render_swap(2, 2), ds[2]["video"])
    swap = ds.render_swap(0, 1)
    object_a, _, _ = ds.sample(0)
    _, views_b, _ = ds.sample(1)
    assert torch.equal(swap, torch.from_numpy(ds.views(object_a, views_b)).float().div(255).unsqueeze(1))
    assert ds.can_render_swaps


def test_renderer_draws_a_cube_face_on():
    """A unit cube seen from the front at elevation 0: a square of side 1 / (2 * VIEW_HALF_WIDTH)
    of the image, shaded as its +z face under the light."""
    cube = _box((0, 0, 0), (1.0, 1.0, 1.0))[None]
    image = render_views(cube, 1.0, np.array([0.0]), image_size=64, elevation=0.0, supersample=1)[0]
    lit = image > 0
    side = 64 / (2 * VIEW_HALF_WIDTH)
    assert abs(lit.sum() - side**2) < 4 * side  # within a pixel row/column of the exact square
    expected = AMBIENT + DIFFUSE * max(0.0, LIGHT[2])
    assert image[32, 32] == pytest.approx(255 * expected, abs=1)
    # turned by 45 degrees: the object's -x face now looks front-left, its +z face front-right
    turned = render_views(cube, 1.0, np.array([np.pi / 4]), image_size=64, elevation=0.0, supersample=1)[0]
    for column, normal in ((22, [-1, 0, 1]), (42, [1, 0, 1])):
        shade = AMBIENT + DIFFUSE * max(0.0, float(np.dot(normal, LIGHT)) / np.sqrt(2))
        assert turned[32, column] == pytest.approx(255 * shade, abs=1)


def test_bad_options():
    with pytest.raises(DataError, match="num_views"):
        dataset(num_views=0)
    with pytest.raises(DataError, match="elevation"):
        dataset(elevation=95.0)
    with pytest.raises(IndexError):
        dataset("test")[8]

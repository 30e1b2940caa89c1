import numpy as np
import pytest
import torch

from vidis.data import collate, make_dataset
from vidis.data.sprites import ATTRIBUTES, CYCLE, PALETTES
from vidis.errors import DataError

FRONT_WALK = 1  # class = 3 * action + view; action 0 walk, view 1 front


def test_item_shapes_factors_and_range():
    ds = make_dataset("sprites", "test", num_test=4)
    item = ds[0]
    assert item["video"].shape == (8, 3, 64, 64) and item["video"].dtype == torch.float32
    assert 0.0 <= float(item["video"].min()) and float(item["video"].max()) <= 1.0
    assert [f.name for f in ds.factors] == [*ATTRIBUTES, "action"]
    assert [f.num_classes for f in ds.factors] == [6, 6, 6, 6, 9]
    assert ds.factor("skin").kind == "static" and ds.factor("action").kind == "dynamic"
    for factor in ds.factors:
        assert 0 <= int(item["factors"][factor.name]) < factor.num_classes


def test_deterministic_in_seed_split_index():
    a, b = make_dataset("sprites", "train", seed=3), make_dataset("sprites", "train", seed=3)
    assert torch.equal(a[5]["video"], b[5]["video"])
    draws = {tuple(np.r_[a.sample(i)[0], a.sample(i)[1]]) for i in range(40)}
    assert len(draws) > 30  # fresh characters and classes per index
    other_seed = make_dataset("sprites", "train", seed=4)
    assert any(not torch.equal(a[i]["video"], other_seed[i]["video"]) for i in range(5))
    val, test = make_dataset("sprites", "val"), make_dataset("sprites", "test")
    assert any(not torch.equal(val[i]["video"], test[i]["video"]) for i in range(5))


def test_held_out_characters_never_occur_in_training():
    train, test = make_dataset("sprites", "train"), make_dataset("sprites", "test")
    assert len(train.held_out) == 296 and len(train.training_ids) == 1000
    assert not set(train.held_out) & set(train.training_ids)
    seen = set(train.character_ids(range(3000)))
    assert not seen & set(train.held_out)
    assert set(test.character_ids(range(1000))) <= set(train.held_out)
    # every attribute value is seen in training: only the combinations are new
    attributes = np.stack([train.sample(i)[0] for i in range(3000)])
    for k, n in enumerate(train.sizes):
        assert set(attributes[:, k]) == set(range(n))
    # the held-out set is fixed by identity_seed, not by the run's seed
    assert np.array_equal(make_dataset("sprites", "train", seed=9).held_out, train.held_out)


def test_paper_sizes_hold_out_ten_percent():
    ds = make_dataset("sprites", "train", num_skin=7, num_top=4, num_pants=5, num_hair=8, num_held_out=112)
    assert len(ds.held_out) + len(ds.training_ids) == 1120
    assert [f.num_classes for f in ds.factors] == [7, 4, 5, 8, 9]


def test_batch_equals_collated_items():
    ds = make_dataset("sprites", "val", num_val=6)
    got, want = ds.batch(range(6)), collate([ds[i] for i in range(6)])
    assert torch.equal(got["video"], want["video"])
    for name in want["factors"]:
        assert torch.equal(got["factors"][name], want["factors"][name])


def test_labels_are_the_colours_drawn():
    """At the torso centre of a front view the pixel is the top's palette colour exactly; at
    the hip-level leg centre the pants'; at the middle of the face the skin's."""
    ds = make_dataset("sprites", "train")
    for attributes in ([0, 1, 2, 3], [5, 4, 3, 2]):
        video = ds.render(np.array(attributes), np.array([FRONT_WALK]))  # (T, 3, 64, 64)
        frame = video[0]  # phase 0: feet down, no bob
        assert torch.allclose(frame[:, 32, 32], torch.tensor(PALETTES["top"][attributes[1]]))
        assert torch.allclose(frame[:, 44, 28], torch.tensor(PALETTES["pants"][attributes[2]]))
        assert torch.allclose(frame[:, 20, 32], torch.tensor(PALETTES["skin"][attributes[0]]))
        assert torch.allclose(frame[:, 10, 32], torch.tensor(PALETTES["hair"][attributes[3]]))
        assert torch.equal(frame[:, 1, 1], torch.ones(3))  # white background


def test_actions_and_views_differ_and_right_mirrors_left():
    ds = make_dataset("sprites", "train")
    attributes = np.array([1, 2, 3, 4])
    videos = [ds.render(attributes, np.array([c])) for c in range(9)]
    for i in range(9):
        for j in range(i + 1, 9):
            assert (videos[i] - videos[j]).abs().mean() > 1e-3, (i, j)
    for action in range(3):
        left, right = videos[3 * action], videos[3 * action + 2]
        assert torch.equal(right, left.flip(-1))
    # limbs move: frames of each class differ from its first frame
    for video in videos:
        assert (video[1:] - video[:1]).abs().amax() > 0.5


def test_edges_are_anti_aliased():
    ds = make_dataset("sprites", "train")
    video = ds.render(np.array([0, 0, 0, 0]), np.array([4]))
    top = torch.tensor(PALETTES["top"][0])[:, None, None]
    # fraction of the torso's colour on white: some pixels are strictly between the two
    fraction = ((1 - video[0]) / (1 - top)).mean(0)
    assert ((fraction > 0.05) & (fraction < 0.95)).any()


def test_longer_clips_repeat_the_cycle_and_groups_share_a_character():
    ds = make_dataset("sprites", "train", num_frames=20)
    video = ds[0]["video"]
    assert video.shape[0] == 20 and torch.equal(video[:12], video[CYCLE:CYCLE + 12])
    grouped = make_dataset("sprites", "train", clips_per_identity=2)
    item = grouped[3]
    assert item["video"].shape == (16, 3, 64, 64)
    attributes, classes = grouped.sample(3)
    assert torch.equal(item["video"][:8], grouped.render(attributes, classes[:1]))
    assert torch.equal(item["video"][8:], grouped.render(attributes, classes[1:]))


def test_render_swap():
    ds = make_dataset("sprites", "test")
    assert torch.equal(ds.render_swap(2, 2), ds[2]["video"])
    attributes_a, _ = ds.sample(0)
    _, classes_b = ds.sample(1)
    assert torch.equal(ds.render_swap(0, 1), ds.render(attributes_a, classes_b))


def test_other_sizes():
    ds = make_dataset("sprites", "test", image_size=32, num_test=2)
    assert ds[0]["video"].shape == (8, 3, 32, 32)


@pytest.mark.parametrize(
    "options",
    [{"num_skin": 11}, {"num_hair": 0}, {"num_held_out": 1296}, {"image_size": 8}, {"num_frames": 0},
     {"num_skin": 1, "num_top": 1, "num_pants": 1, "num_hair": 2, "num_held_out": 1}],
)
def test_bad_options_are_clear_errors(options):
    with pytest.raises(DataError):
        make_dataset("sprites", "train", **options)

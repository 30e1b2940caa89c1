import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from vidis.data import collate, make_dataset
from vidis.data.digits import digit_pool, read_idx
from vidis.data.moving_mnist import DIGIT
from vidis.errors import ConfigError, DataError


def test_item_shapes_and_factors():
    ds = make_dataset("moving_mnist", "val", num_frames=12)
    item = ds[0]
    assert item["video"].shape == (12, 1, 64, 64)
    assert item["video"].dtype == torch.float32
    assert 0.0 <= float(item["video"].min()) and float(item["video"].max()) <= 1.0
    # version 2 added direction_per_frame and direction_code (paper 000's code's label)
    names = ["digit0", "digit1", "direction", "cell", "direction_per_frame", "direction_code"]
    assert set(item["factors"]) == set(names)
    assert item["factors"]["cell"].shape == (12,)
    assert item["factors"]["direction_per_frame"].shape == (12,)
    assert [f.name for f in ds.factors] == names
    assert ds.factor("cell").per_frame and ds.factor("digit0").kind == "static"
    assert ds.factor("direction_per_frame").per_frame and not ds.factor("direction_code").per_frame
    for name in names:
        factor = ds.factor(name)
        assert 0 <= int(item["factors"][name].min()) <= int(item["factors"][name].max()) < factor.num_classes


def test_deterministic_in_seed_split_index():
    a = make_dataset("moving_mnist", "train", seed=3)
    b = make_dataset("moving_mnist", "train", seed=3)
    assert torch.equal(a[5]["video"], b[5]["video"])
    assert not torch.equal(a[5]["video"], a[6]["video"])
    assert not torch.equal(a[5]["video"], make_dataset("moving_mnist", "train", seed=4)[5]["video"])
    assert not torch.equal(a[5]["video"], make_dataset("moving_mnist", "val", seed=3)[5]["video"])


@pytest.mark.parametrize("workers", [0, 2])
def test_same_data_for_any_number_of_workers(workers):
    ds = make_dataset("moving_mnist", "val", num_frames=5, num_val=16)
    reference = torch.stack([ds[i]["video"] for i in range(16)])
    loader = DataLoader(ds, batch_size=4, num_workers=workers, collate_fn=collate)
    got = torch.cat([batch["video"] for batch in loader])
    assert torch.equal(got, reference)


def test_fixed_splits_have_their_lengths():
    assert len(make_dataset("moving_mnist", "test", num_test=123)) == 123
    with pytest.raises(IndexError):
        make_dataset("moving_mnist", "test", num_test=3)[3]
    infinite = make_dataset("moving_mnist", "train")
    infinite[10**7]  # the train split is generated on the fly for any index


def test_bounce_physics():
    """Digits never leave the canvas; each velocity component keeps its magnitude and flips
    sign exactly at an edge (the path in a frame interval that hits an edge is reflected)."""
    ds = make_dataset("moving_mnist", "train", num_frames=200, num_digits=3, speed_min=3, speed_max=6)
    L = 64 - DIGIT
    bounces = 0
    for index in range(10):
        _, positions, _ = ds.sample(index)  # (K, T, 2)
        assert positions.min() >= 0 and positions.max() <= L
        step = np.diff(positions, axis=1)  # (K, T-1, 2)
        for k in range(positions.shape[0]):
            for axis in range(2):
                p, d = positions[k, :, axis], step[k, :, axis]
                speed = np.abs(d).max()  # free flight moves by the full component each frame
                free = np.isclose(np.abs(d), speed)
                # an interval that is not free is reflected at an edge e: |e - p_t| + |e - p_t+1| = v
                for t in np.nonzero(~free)[0]:
                    assert any(np.isclose(abs(e - p[t]) + abs(e - p[t + 1]), speed) for e in (0, L))
                    bounces += 1
                # the sign of the velocity flips only across a bounce
                flips = np.nonzero(np.sign(d[1:]) != np.sign(d[:-1]))[0]
                for t in flips:
                    near_edge = min(p[t + 1], L - p[t + 1]) <= speed + 1e-9
                    assert near_edge or not free[t] or not free[t + 1]
                    bounces += 1
    assert bounces > 10  # long clips bounce


def test_digits_come_from_the_right_pool():
    train_images, _ = digit_pool("train")
    test_images, _ = digit_pool("test")
    # the pools are disjoint as images
    train_set = {img.tobytes() for img in train_images}
    assert not any(img.tobytes() in train_set for img in test_images)
    for split, pool in (("train", train_images), ("val", train_images), ("test", test_images)):
        ds = make_dataset("moving_mnist", split, num_digits=1, num_frames=2)
        for index in range(5):
            ids, positions, _ = ds.sample(index)
            frame = ds.render(ids, positions)[0]
            x, y = np.rint(positions[0, 0]).astype(int)
            assert np.array_equal(frame[y : y + DIGIT, x : x + DIGIT], pool[ids[0]])


def test_labels_match_the_rendered_digits():
    ds = make_dataset("moving_mnist", "test", num_digits=2)
    _, labels = digit_pool("test")
    for index in range(5):
        ids, positions, _ = ds.sample(index)
        item = ds[index]
        assert positions[0, 0, 0] <= positions[1, 0, 0]  # digit 0 is the leftmost at t=0
        assert int(item["factors"]["digit0"]) == labels[ids[0]]
        assert int(item["factors"]["digit1"]) == labels[ids[1]]


def test_overlaps_composited_by_max():
    ds = make_dataset("moving_mnist", "train", num_digits=2, num_frames=3)
    ids = np.array([0, 1])
    positions = np.full((2, 3, 2), 10.0)  # both digits in the same place
    canvas = ds.render(ids, positions)
    expected = np.maximum(ds.images[0], ds.images[1])
    assert np.array_equal(canvas[0, 10:38, 10:38], expected)


def test_bad_options_are_clear_errors():
    with pytest.raises(ConfigError, match="unknown key 'data.num_digitz'"):
        make_dataset("moving_mnist", num_digitz=2)
    with pytest.raises(ConfigError, match="integer"):
        make_dataset("moving_mnist", num_digits="two")
    with pytest.raises(DataError, match="num_digits"):
        make_dataset("moving_mnist", num_digits=0)
    with pytest.raises(DataError, match="unknown dataset"):
        make_dataset("moving_cifar")
    with pytest.raises(DataError, match="split"):
        make_dataset("moving_mnist", "training")


def _write_idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def test_idx_files_on_disk(tmp_path):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 30), ("t10k", 20)):
        _write_idx(tmp_path / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, (n,)))
    assert read_idx(tmp_path / "t10k-images-idx3-ubyte").shape == (20, 28, 28)
    ds = make_dataset("moving_mnist", "test", mnist_dir=str(tmp_path))
    assert ds.images.shape == (20, 28, 28)
    assert ds[0]["video"].shape == (20, 1, 64, 64)
    with pytest.raises(DataError, match="not a folder"):
        make_dataset("moving_mnist", "test", mnist_dir=str(tmp_path / "missing"))
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    digit_pool.cache_clear()
    with pytest.raises(DataError, match="IDX"):
        make_dataset("moving_mnist", "test", mnist_dir=str(tmp_path))


def test_standard_moving_mnist_file(tmp_path):
    clips = np.random.default_rng(0).integers(0, 256, (20, 30, 64, 64), dtype=np.uint8)
    path = tmp_path / "mnist_test_seq.npy"
    np.save(path, clips)
    test = make_dataset("moving_mnist_file", "test", path=str(path), num_val=5, num_test=10)
    assert len(test) == 10
    item = test[0]
    assert item["video"].shape == (20, 1, 64, 64)
    assert torch.allclose(item["video"][:, 0], torch.from_numpy(clips[:, 20]).float() / 255)
    assert len(make_dataset("moving_mnist_file", "train", path=str(path), num_val=5, num_test=10)) == 15
    np.save(path, clips.astype(np.float32))
    with pytest.raises(DataError, match="uint8"):
        make_dataset("moving_mnist_file", "test", path=str(path))
    with pytest.raises(DataError, match="mnist_test_seq.npy"):
        make_dataset("moving_mnist_file", "test")


def test_closed_form_bounce_equals_a_frame_by_frame_simulation():
    """The reference generator steps positions frame by frame and reflects at the edges."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    from reference_moving_mnist import loop_clip

    for options in ({}, {"num_digits": 3, "num_frames": 60, "speed_min": 4, "speed_max": 7}):
        ds = make_dataset("moving_mnist", "train", seed=2, **options)
        for index in range(20):
            ours, reference = ds[index], loop_clip(ds, index)
            assert torch.equal(ours["video"], reference["video"])
            assert ours["factors"].keys() == reference["factors"].keys()
            for name, value in reference["factors"].items():
                assert torch.equal(ours["factors"][name], value), name


def _opposes(direction: int, displacement: np.ndarray) -> bool:
    """True when direction bin `direction` (0 = right, 2 = down) points against `displacement`
    (dx, dy) on an axis: its centre has a component of one sign where the move has the other."""
    centre = np.array([np.cos(direction * np.pi / 4), np.sin(direction * np.pi / 4)])
    return any(abs(centre[a]) > 0.5 and centre[a] * displacement[a] < 0 for a in range(2))


def _centre_of_mass(frame: np.ndarray) -> np.ndarray:
    """(x, y) centre of mass of a (S, S) frame's intensity."""
    ys, xs = np.indices(frame.shape)
    total = frame.sum(dtype=np.float64)
    return np.array([(xs * frame).sum() / total, (ys * frame).sum() / total])


def test_direction_agrees_with_the_displacement_the_first_frames_show():
    """Measured from pixels: digit 0 rendered alone moves its centre of mass by its whole-pixel
    displacement from frame 0 to frame 1; `direction` never points against it, in every one of
    the 1,000 test clips. Version 1's label (the angle drawn before any bounce) does, in some."""
    ds = make_dataset("moving_mnist", "test")
    old_contradicts = 0
    for index in range(len(ds)):
        ids, positions, angle = ds.sample(index)
        frames = ds.render(ids[:1], positions[:1]).astype(np.float64)  # (T, S, S) digit 0 alone
        moved = _centre_of_mass(frames[1]) - _centre_of_mass(frames[0])  # (2,) as (dx, dy)
        assert np.allclose(moved, np.rint(positions[0, 1]) - np.rint(positions[0, 0]))
        factors = ds[index]["factors"]
        assert not _opposes(int(factors["direction"]), moved), index
        assert int(factors["direction_per_frame"][0]) == int(factors["direction"])
        old_contradicts += _opposes(int(np.rint(angle[0] / (np.pi / 4))) % 8, moved)
    assert old_contradicts > 0  # the label this replaces did point against the motion shown


def test_direction_per_frame_follows_every_move():
    """Per frame t, the label never points against the whole-pixel move t -> t+1, it changes
    only where the move changes (in free flight every move is the same; a bounce changes it),
    and the last frame repeats the one before it."""
    ds = make_dataset("moving_mnist", "test", num_frames=40, num_digits=1)
    changes = 0
    for index in range(50):
        _, positions, _ = ds.sample(index)  # (1, T, 2)
        labels = ds[index]["factors"]["direction_per_frame"].numpy()  # (T,)
        moves = np.diff(positions[0], axis=0)  # (T-1, 2) sub-pixel moves
        shown = np.diff(np.rint(positions[0]), axis=0)  # (T-1, 2) whole-pixel moves
        for t in range(len(moves)):
            assert not _opposes(int(labels[t]), shown[t]), (index, t)
        assert labels[-1] == labels[-2]
        for t in range(1, len(moves)):
            if labels[t] != labels[t - 1]:
                changes += 1
                assert not np.allclose(moves[t], moves[t - 1]), (index, t)
    assert changes > 0  # 40-frame clips bounce


def test_direction_code_is_paper000_code_formula():
    """Paper 000's code: int((atan2(v_y, v_x) + pi) / (2 pi) * 8) % 8 of the drawn velocity.
    Known values (0.1 rad past each axis, away from the wedge edges, where floating point
    decides): right -> 4, down (image y) -> 6, left -> 0, up -> 2; 0.1 rad above right -> 3."""
    from vidis.data.moving_mnist import direction_code

    expected = {0.1: 4, np.pi / 2 + 0.1: 6, np.pi + 0.1: 0, 3 * np.pi / 2 + 0.1: 2, 2 * np.pi - 0.1: 3}
    for angle, label in expected.items():
        assert direction_code(angle) == label, angle
    ds = make_dataset("moving_mnist", "test")
    for index in range(20):
        _, _, angle = ds.sample(index)
        assert int(ds[index]["factors"]["direction_code"]) == direction_code(angle[0])


def test_dataset_versions():
    from vidis.data import VideoDataset
    from vidis.registry import get_dataset_class

    assert VideoDataset.version == 1
    assert get_dataset_class("moving_mnist").version == 2
    assert get_dataset_class("moving_mnist").can_render_swaps
    assert not VideoDataset.can_render_swaps


@pytest.mark.parametrize("num_digits", [1, 2, 3])
def test_render_swap_of_a_clip_with_itself_is_the_clip(num_digits):
    ds = make_dataset("moving_mnist", "test", num_digits=num_digits, num_frames=8)
    for index in range(5):
        assert torch.equal(ds.render_swap(index, index), ds[index]["video"])


def _paste(images, ids, positions, num_frames, size):
    """Reference renderer with plain loops: images[ids[k]] at rint(positions[k, t]), by max."""
    canvas = np.zeros((num_frames, size, size), dtype=np.uint8)
    for k, digit in enumerate(ids):
        for t in range(num_frames):
            x, y = np.rint(positions[k, t]).astype(int)
            patch = canvas[t, y : y + DIGIT, x : x + DIGIT]
            np.maximum(patch, images[digit], out=patch)
    return canvas


@pytest.mark.parametrize("num_digits", [1, 2, 3])
def test_true_swap_draws_a_digits_at_b_positions(num_digits):
    ds = make_dataset("moving_mnist", "test", num_digits=num_digits, num_frames=10)
    orderings = ds.swap_assignments()
    assert orderings[0] == tuple(range(num_digits))
    assert len(set(orderings)) == len(orderings) == [1, 2, 6][num_digits - 1]
    for index_a, index_b in ((0, 1), (7, 3)):
        ids_a, _, _ = ds.sample(index_a)
        ids_b, positions_b, _ = ds.sample(index_b)
        assert not np.array_equal(ids_a, ids_b)
        for order in orderings:
            swap = ds.render_swap(index_a, index_b, order)  # (T, 1, S, S)
            reference = _paste(ds.images, ids_a[list(order)], positions_b, 10, 64)
            assert torch.equal(swap[:, 0], torch.from_numpy(reference).float() / 255)
        assert torch.equal(ds.render_swap(index_a, index_b), ds.render_swap(index_a, index_b, orderings[0]))
        if num_digits == 1:
            # one digit: its pixels are exactly A's digit at B's whole-pixel positions
            swap = ds.render_swap(index_a, index_b)[:, 0].numpy()
            for t in range(10):
                x, y = np.rint(positions_b[0, t]).astype(int)
                assert np.allclose(swap[t, y : y + DIGIT, x : x + DIGIT], ds.images[ids_a[0]] / 255)
                assert np.isclose(swap[t].sum(), ds.images[ids_a[0]].sum() / 255)


def test_render_swap_errors():
    from vidis.errors import CapabilityError

    ds = make_dataset("moving_mnist", "test", num_digits=2)
    with pytest.raises(DataError, match="ordering"):
        ds.render_swap(0, 1, (0, 0))
    with pytest.raises(DataError, match="ordering"):
        ds.render_swap(0, 1, (0, 1, 2))
    with pytest.raises(IndexError):
        ds.render_swap(0, len(ds))
    from vidis.data import VideoDataset

    with pytest.raises(CapabilityError, match="ground-truth swaps"):
        VideoDataset(None, "test").render_swap(0, 1)

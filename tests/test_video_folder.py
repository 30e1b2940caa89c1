"""video_folder: real small videos written with PyAV (and png frame folders) in tmp_path.

Every frame t of a test video is uniform grey 10 + 12 t, so a decoded clip says which frames
it holds (lossy codecs keep a uniform grey within a few levels).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from vidis.data import collate, make_dataset
from vidis.data import video_folder as vf
from vidis.errors import DataError

CODECS = {".mp4": "mpeg4", ".avi": "mpeg4", ".mkv": "ffv1", ".webm": "libvpx", ".gif": "gif"}
PIX_FMT = {"mpeg4": "yuv420p", "ffv1": "yuv444p", "libvpx": "yuv420p", "gif": "rgb8"}


def grey_frames(num: int, height: int = 16, width: int = 16) -> np.ndarray:
    values = 10 + 12 * np.arange(num, dtype=np.uint8)  # (N,)
    return np.broadcast_to(values[:, None, None, None], (num, height, width, 3)).copy()


def write_video(path, frames: np.ndarray, fps: int = 10):
    """Encode (N, H, W, 3) uint8 frames with PyAV; the codec follows the file's extension."""
    av = pytest.importorskip("av")
    codec = CODECS[path.suffix]
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = PIX_FMT[codec]
        if codec == "mpeg4":
            stream.options = {"qscale": "2"}
        for array in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(array), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_frames(folder, frames: np.ndarray, suffix: str = ".png"):
    folder.mkdir(parents=True)
    for t, array in enumerate(frames):
        Image.fromarray(array).save(folder / f"frame_{t:04d}{suffix}")
    return folder


def dataset(root, part="train", seed=0, **options):
    """The `part` split of a video_folder at `root` (by default every video in train)."""
    options = {"val_fraction": 0.0, "test_fraction": 0.0, "image_size": 8, **options}
    return make_dataset("video_folder", part, seed=seed, root=str(root), **options)


def first_frame(video: torch.Tensor) -> float:
    """The frame number t of a clip's first frame, read from its grey level 10 + 12 t."""
    return (float(video[0].mean()) * 255 - 10) / 12


# -- decoding -------------------------------------------------------------------------------------
def test_decodes_every_container_and_frame_folders_in_order(tmp_path):
    for suffix in CODECS:
        write_video(tmp_path / f"clip{suffix}", grey_frames(12))
    write_frames(tmp_path / "frames" / "clip", grey_frames(12))
    write_frames(tmp_path / "frames" / "jpegs", grey_frames(12), ".jpg")
    ds = dataset(tmp_path, num_frames=4, frame_stride=2, channels=1, clips_per_video=3)
    rels = [source.rel for source, *_ in ds.videos]
    assert rels == sorted([f"clip{s}" for s in CODECS] + ["frames/clip", "frames/jpegs"])
    assert len(ds) == 3 * len(rels)
    # grey levels: frames are 12 apart; lossy codecs are off by a few, GIF's 3-3-2 palette by more
    tolerance = {"clip.gif": 6.0, "clip.mkv": 1.5, "frames/clip": 0.5}
    for index in range(len(ds)):
        video = ds[index]["video"]
        assert video.shape == (4, 1, 8, 8) and video.dtype == torch.float32
        number, start = ds.clip(index)
        levels = video.mean(dim=(1, 2, 3)) * 255  # (T,)
        expected = 10 + 12 * (start + 2 * torch.arange(4))  # frames start, start+2, ...
        tol = tolerance.get(ds.videos[number][0].rel, 3.0)
        assert torch.allclose(levels, expected.float(), atol=tol), (
            ds.videos[number][0].rel,
            levels,
            expected,
        )
        assert float(video.std(dim=(2, 3)).max()) < 4 / 255  # each frame stays uniform


def test_resize_then_centre_crop_in_rgb(tmp_path):
    """48x32 frames with red, green and blue thirds: the shorter side goes to 16 (24x16) and the
    centre crop keeps source columns 8..40: red, green, blue in 4, 8 and 4 output columns."""
    frame = np.zeros((32, 48, 3), np.uint8)
    frame[:, :16, 0] = frame[:, 16:32, 1] = frame[:, 32:, 2] = 255
    write_frames(tmp_path / "bands", np.stack([frame] * 3))
    video = dataset(tmp_path, num_frames=3, image_size=16)[0]["video"]  # (T, 3, 16, 16)
    assert video.shape == (3, 3, 16, 16)
    colour = video[0].argmax(0)  # (16, 16) index of the strongest channel
    assert (colour[:, :3] == 0).all() and (colour[:, 5:11] == 1).all() and (colour[:, 13:] == 2).all()
    grey = dataset(tmp_path, num_frames=3, image_size=16, channels=1)[0]["video"]
    assert grey.shape == (3, 1, 16, 16)


def test_deterministic_clip_sampling_for_any_workers(tmp_path):
    write_frames(tmp_path / "a", grey_frames(20))
    write_frames(tmp_path / "b", grey_frames(20))
    a = dataset(tmp_path, num_frames=3, clips_per_video=4, seed=1)
    b = dataset(tmp_path, num_frames=3, clips_per_video=4, seed=1)
    other = dataset(tmp_path, num_frames=3, clips_per_video=4, seed=2)
    assert [a.clip(i) for i in range(len(a))] == [b.clip(i) for i in range(len(b))]
    assert [a.clip(i) for i in range(len(a))] != [other.clip(i) for i in range(len(a))]
    # items go round the 2 videos; clip k of a video starts in the k-th quarter of its 18 valid
    # first frames
    for index in range(len(a)):
        video, start = a.clip(index)
        part = index // 2
        assert video == index % 2
        assert part * 18 // 4 <= start < (part + 1) * 18 // 4
    reference = a.batch(range(len(a)))["video"]
    assert torch.equal(reference, torch.stack([a[i]["video"] for i in range(len(a))]))
    loader = DataLoader(a, batch_size=3, num_workers=2, collate_fn=collate)
    assert torch.equal(torch.cat([batch["video"] for batch in loader]), reference)


# -- labels and splits ---------------------------------------------------------------------------
def test_label_groups_are_factors_with_the_same_classes_in_every_split(tmp_path):
    for person in (1, 2, 10):
        for action in ("walk", "box"):
            write_frames(tmp_path / f"person{person:02d}_{action}", grey_frames(4, 4, 4))
    options = {
        "labels": r"person(?P<person>\d+)_(?P<action>[a-z]+)",
        "dynamic": ("action",),
        "split_by": "person",
        "split_rule": "values",
        "test_values": ("10",),
        "num_frames": 2,
    }
    train, test = dataset(tmp_path, **options), dataset(tmp_path, "test", **options)
    assert [(f.name, f.kind, f.num_classes) for f in train.factors] == [
        ("person", "static", 3),
        ("action", "dynamic", 2),
    ]
    assert train.classes == test.classes == {"person": ["01", "02", "10"], "action": ["box", "walk"]}
    for ds in (train, test):
        for index in range(len(ds)):
            source = ds.videos[ds.clip(index)[0]][0]
            person, action = re.search(r"person(\d+)_(\w+)", source.rel).groups()
            factors = ds[index]["factors"]
            assert ds.classes["person"][int(factors["person"])] == person
            assert ds.classes["action"][int(factors["action"])] == action
    assert {int(f) for f in test.batch(range(len(test)))["factors"]["person"]} == {2}  # "10"


def _people(root, count: int, takes: int = 2):
    for person in range(count):
        for take in range(takes):
            write_frames(root / f"p{person}" / f"take{take}", grey_frames(2, 4, 4))


def _identities(ds) -> set[str]:
    return {ds.videos[i][0].rel.split("/")[0] for i in range(len(ds.videos))}


def test_hash_split_never_shares_an_identity(tmp_path):
    _people(tmp_path, 30)
    options = {"labels": r"(?P<person>p\d+)/", "split_by": "person", "num_frames": 2}
    options |= {"val_fraction": 0.2, "test_fraction": 0.3}
    splits = {s: dataset(tmp_path, s, **options) for s in ("train", "val", "test")}
    people = {s: _identities(ds) for s, ds in splits.items()}
    assert people["train"] | people["val"] | people["test"] == {f"p{i}" for i in range(30)}
    assert not (
        people["train"] & people["val"] or people["train"] & people["test"] or people["val"] & people["test"]
    )
    assert all(len(splits[s].videos) == 2 * len(people[s]) for s in splits)  # both takes together
    for person in people["test"]:
        assert vf.hash_split(person, 0.2, 0.3) == "test"
    # by clip (no split_by): each video its own identity, still disjoint
    by_video = {
        s: {v[0].rel for v in dataset(tmp_path, s, **{**options, "split_by": ""}).videos} for s in splits
    }
    assert sum(map(len, by_video.values())) == 60 and not by_video["train"] & by_video["test"]


def test_values_and_file_splits(tmp_path, capsys):
    _people(tmp_path, 6, takes=1)
    options = {"labels": r"p(?P<person>\d+)/", "split_by": "person", "num_frames": 2, "split_rule": "values"}
    ranged = {**options, "test_values": ("4-5",)}
    assert _identities(dataset(tmp_path, "test", **ranged)) == {"p4", "p5"}
    assert _identities(dataset(tmp_path, "val", **ranged)) == {"p4", "p5"}  # no val_values: test's people
    assert _identities(dataset(tmp_path, "train", **ranged)) == {"p0", "p1", "p2", "p3"}
    with_val = {**ranged, "val_values": ("0",)}
    assert _identities(dataset(tmp_path, "val", **with_val)) == {"p0"}
    assert _identities(dataset(tmp_path, "train", **with_val)) == {"p1", "p2", "p3"}
    with pytest.raises(DataError, match="both data.val_values and data.test_values"):
        dataset(tmp_path, **{**ranged, "val_values": ("5",)})
    listing = tmp_path / "split.txt"
    listing.write_text("# person split\n0 train\n1 train\n2 val\n3 test  # held out\n")
    listed = {**options, "split_rule": "file", "split_file": str(listing)}
    assert _identities(dataset(tmp_path, "test", **listed)) == {"p3"}
    assert "skipped 2 videos whose identity is not listed" in capsys.readouterr().err
    listing.write_text("0 train\n0 test\n")
    with pytest.raises(DataError, match=r"split.txt:2: '0' is listed in both train and test"):
        dataset(tmp_path, **listed)
    listing.write_text("0 training\n")
    with pytest.raises(DataError, match="expected 'IDENTITY SPLIT'"):
        dataset(tmp_path, **listed)


def test_a_split_left_empty_says_what_the_rule_did(tmp_path):
    _people(tmp_path, 2, takes=1)
    with pytest.raises(DataError, match=r"the test split has no videos: data.split_rule=hash .* 2 in train"):
        dataset(tmp_path, "test", labels=r"(?P<person>p\d)/", split_by="person", num_frames=2)


# -- the cache -------------------------------------------------------------------------------------
def test_cache_decodes_each_file_once_until_it_changes(tmp_path, monkeypatch, capsys):
    root = tmp_path / "videos"
    root.mkdir()
    path = write_video(root / "a.mp4", grey_frames(8))
    write_frames(root / "b", grey_frames(8))
    calls = []
    decode = vf.decode
    monkeypatch.setattr(vf, "decode", lambda source, *a: calls.append(source.rel) or decode(source, *a))
    first = dataset(root, num_frames=4)
    assert sorted(calls) == ["a.mp4", "b"]
    assert "decoding 2 new videos" in capsys.readouterr().err  # the first pass shows a progress bar
    second = dataset(root, num_frames=4)
    assert len(calls) == 2 and "decoding" not in capsys.readouterr().err
    assert torch.equal(first.batch(range(2))["video"], second.batch(range(2))["video"])
    cached = sorted(p.name for p in vf.cache_root().glob("*.npy"))
    arrays = [np.load(vf.cache_root() / name) for name in cached]
    assert {a.dtype for a in arrays} == {np.dtype(np.uint8)} and {a.shape for a in arrays} >= {(8, 8, 8, 3)}
    dataset(root, num_frames=4, image_size=4)  # other decoding options: other cache entries
    assert len(calls) == 4
    write_video(path, grey_frames(9))  # a changed file (size and time) is decoded again
    assert len(dataset(root, num_frames=9).videos) == 1
    assert calls[4:] == ["a.mp4"]


# -- bad input -------------------------------------------------------------------------------------
def test_missing_or_empty_folders(tmp_path):
    with pytest.raises(DataError, match="needs data.root"):
        make_dataset("video_folder")
    with pytest.raises(DataError, match="does not exist"):
        dataset(tmp_path / "nowhere")
    (tmp_path / "notes.txt").write_text("not a video")
    with pytest.raises(DataError, match=r"found no videos under .* expected video files \(.mp4"):
        dataset(tmp_path)


def test_unreadable_and_truncated_files_are_skipped_with_one_warning_each(tmp_path, capsys):
    write_video(tmp_path / "good.mp4", grey_frames(8))
    data = write_video(tmp_path / "cut.mp4", grey_frames(8)).read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 3])  # truncated mid-file
    (tmp_path / "junk.avi").write_bytes(b"\x00not a video" * 50)
    ds = dataset(tmp_path, num_frames=4)
    err = capsys.readouterr().err
    assert [v[0].rel for v in ds.videos] == ["good.mp4"]
    for name in ("cut.mp4", "junk.avi"):
        lines = [line for line in err.splitlines() if name in line]
        assert (
            len(lines) == 1
            and lines[0].startswith("vidis: warning: skipped")
            and "cannot be decoded" in lines[0]
        )
    ds.batch(range(len(ds)))  # an epoch never meets the bad files
    dataset(tmp_path, num_frames=4)  # remembered: skipped again (one line each), not decoded again
    assert capsys.readouterr().err.count("cannot be decoded") == 2
    (tmp_path / "good.mp4").unlink()
    with pytest.raises(DataError, match=r"no usable train video .* 2 found, 2 could not be decoded"):
        dataset(tmp_path, num_frames=4)


def test_videos_shorter_than_a_clip_are_skipped_and_counted(tmp_path, capsys):
    write_frames(tmp_path / "long", grey_frames(10))
    write_frames(tmp_path / "short1", grey_frames(4))
    write_frames(tmp_path / "short2", grey_frames(6))
    ds = dataset(tmp_path, num_frames=4, frame_stride=2)  # a clip spans 7 frames
    assert [v[0].rel for v in ds.videos] == ["long"]
    assert "skipped 2 train videos shorter than a clip (7 frames = num_frames 4 x frame_stride 2)" in (
        capsys.readouterr().err
    )
    with pytest.raises(DataError, match="1 found, 0 could not be decoded, 1 shorter than 11 frames"):
        dataset(tmp_path / "long", num_frames=6, frame_stride=2)


def test_label_regex_errors(tmp_path, capsys):
    write_frames(tmp_path / "person01_walk", grey_frames(2))
    write_frames(tmp_path / "other", grey_frames(2))
    with pytest.raises(DataError, match=r"matches none of the 2 videos .* e.g. 'other'"):
        dataset(tmp_path, labels=r"actor(?P<actor>\d+)", num_frames=2)
    with pytest.raises(DataError, match="not a valid regular expression"):
        dataset(tmp_path, labels=r"person(?P<person>\d+", num_frames=2)
    with pytest.raises(DataError, match="'actor' .* is not a named group of data.labels"):
        dataset(tmp_path, labels=r"person(?P<person>\d+)", split_by="actor", num_frames=2)
    ds = dataset(tmp_path, labels=r"person(?P<person>\d+)", num_frames=2)
    assert (
        len(ds) == 1
        and "skipped 1 of 2 videos whose path data.labels does not match" in capsys.readouterr().err
    )
    with pytest.raises(DataError, match="channels must be 1"):
        dataset(tmp_path, channels=2)


def test_missing_pyav_names_the_extra(tmp_path, monkeypatch):
    write_video(tmp_path / "a.mp4", grey_frames(4))
    monkeypatch.setitem(__import__("sys").modules, "av", None)  # `import av` now fails
    with pytest.raises(DataError, match=r"needs PyAV: pip install 'vidis\[video\]'"):
        dataset(tmp_path, num_frames=2)


# -- named layouts ---------------------------------------------------------------------------------
def test_kth_layout_splits_persons_as_paper_003(tmp_path):
    for person in range(1, 26):
        write_frames(tmp_path / f"person{person:02d}_boxing_d{1 + person % 4}_uncomp", grey_frames(20, 4, 4))
    train = make_dataset("kth", "train", root=str(tmp_path), image_size=8)
    test = make_dataset("kth", "test", root=str(tmp_path), image_size=8)
    val = make_dataset("kth", "val", root=str(tmp_path), image_size=8)
    assert [int(v) for v in train.classes["person"]] == list(range(1, 26))
    persons = {
        ds.split: {int(ds.classes["person"][v[1]["person"]]) for v in ds.videos} for ds in (train, val, test)
    }
    assert persons == {"train": set(range(1, 21)), "val": set(range(21, 26)), "test": set(range(21, 26))}
    assert train.video_shape == (20, 1, 8, 8) and len(train) == 20 * 10
    assert {f.name: f.kind for f in train.factors} == {
        "person": "static",
        "action": "dynamic",
        "scenario": "static",
    }


@pytest.mark.parametrize(
    ("config", "path", "expected"),
    [
        (
            vf.KTHConfig,
            "person07_handwaving_d3_uncomp.avi",
            {"person": "07", "action": "handwaving", "scenario": "3"},
        ),
        (vf.MUGConfig, "subjects3/001/happiness/take002", {"subject": "001", "expression": "happiness"}),
        (vf.UvANemoConfig, "videos/012_spontaneous_smile_3.mp4", {"subject": "012", "smile": "spontaneous"}),
        (vf.WeizmannConfig, "lena_run2.avi", {"person": "lena", "action": "run"}),
        (vf.WeizmannConfig, "ido_wave1.avi", {"person": "ido", "action": "wave1"}),
        (vf.WeizmannConfig, "daria_pjump.avi", {"person": "daria", "action": "pjump"}),
    ],
)
def test_named_layout_labels(config, path, expected):
    assert re.search(config().labels, path).groupdict() == expected

"""Video folders: your own videos (mp4, avi, webm, mkv, gif, mov) or frame folders (png/jpg).

`video_folder` reads every video under `data.root`, decoded with PyAV (`pip install
'vidis[video]'`; frame folders need only Pillow). Each video is decoded once, resized so its
shorter side is `image_size`, centre-cropped to a square, converted to `channels` (1: luma,
3: RGB) and cached as a uint8 array `(N, H, W, C)` in `$VIDIS_CACHE/video_folder/` (else
`~/.cache/vidis/video_folder/`), keyed by the file's absolute path, size and modification
time (a frame folder: every frame's name, size and time) and the decoding options. The first
pass over a split shows a progress bar; later runs read the cache (memory-mapped) and never
decode again. A file that cannot be decoded is skipped with one warning line naming it (and
remembered, so it is not tried again until it changes); videos shorter than one clip are
skipped and counted. Nothing is decoded during training.

Labels: `data.labels` is a regular expression searched in each video's path relative to the
root (with `/` separators, the extension included); each named group is a declared factor,
static unless named in `data.dynamic`, with one class per distinct value (numbers sorted as
numbers), the same classes in every split. Videos whose path it does not match are skipped
and counted.

Splits never share an identity. The identity of a video is the value of the label group
`data.split_by` (e.g. the person); with no `split_by`, each video is its own identity. Rules
(`data.split_rule`): `hash` (a stable SHA-256 hash of the identity puts it in test with
probability `test_fraction`, val with `val_fraction`, else train), `values` (identities in
`test_values` go to test, those in `val_values` to val (with no `val_values`, val holds the
test identities: a monitor of the test identities, never trained on), the rest to train;
an entry `A-B` of whole numbers is a range) and `file` (`split_file`: lines `IDENTITY SPLIT`,
`#` comments; identities it does not list are skipped and counted).

Items: each video of the split gives `clips_per_video` clips of `num_frames` frames,
`frame_stride` frames apart; item i is clip i // V of video i % V (V videos). Clip k of a
video starts at a position drawn in the k-th of `clips_per_video` equal parts of its valid
start positions, from a generator seeded with (seed, split, index): deterministic in
(seed, split, index) for any number of workers.

Named layouts (presets of `video_folder`, each with its own defaults; see docs/platform.md):
`kth`, `mug`, `uva_nemo`, `weizmann`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..errors import DataError
from ..registry import register_dataset
from ..types import Factor
from .base import VideoDataset

VIDEO_EXTENSIONS = (".mp4", ".avi", ".webm", ".mkv", ".gif", ".mov", ".m4v")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
SPLIT_RULES = ("hash", "values", "file")
SPLIT_CODES = {"train": 0, "val": 1, "test": 2}
OPEN_VIDEOS = 256  # memory maps kept open per process
CACHE_VERSION = 1  # changes whenever the decoding (resize, crop, colour) changes


def cache_root() -> Path:
    return Path(os.environ.get("VIDIS_CACHE") or Path.home() / ".cache" / "vidis") / "video_folder"


def to_float(frames: np.ndarray) -> np.ndarray:
    """uint8 -> float32 in [0, 1], in NumPy: the same values as torch's `.float().div_(255)`,
    without torch's intra-op threads, which make such a small op wait milliseconds for a core
    on a busy machine."""
    return frames.astype(np.float32) / np.float32(255)


def warn(message: str):
    """One warning line on stderr (on its own line, also while a progress bar is shown)."""
    tqdm.write(f"vidis: warning: {message}", file=sys.stderr)


@dataclass
class VideoFolderConfig:
    root: str = ""  # the folder of videos (searched recursively)
    num_frames: int = 16  # frames per clip
    frame_stride: int = 1  # take every k-th frame
    image_size: int = 64  # shorter side resized to this, then centre-cropped to a square
    channels: int = 3  # 1 (luma) or 3 (RGB)
    labels: str = ""  # regex with named groups over the relative path; each group a factor
    dynamic: tuple[str, ...] = ()  # label groups that are dynamic factors (the others are static)
    split_by: str = ""  # label group holding the identity ("" = each video its own identity)
    split_rule: str = "hash"  # hash | values | file
    val_fraction: float = 0.1  # split_rule=hash
    test_fraction: float = 0.2  # split_rule=hash
    val_values: tuple[str, ...] = ()  # split_rule=values: identities (or ranges A-B) of val
    test_values: tuple[str, ...] = ()  # split_rule=values: identities (or ranges A-B) of test
    split_file: str = ""  # split_rule=file: lines "IDENTITY SPLIT"
    clips_per_video: int = 1  # items per video

    def validate(self):
        if self.num_frames < 1 or self.frame_stride < 1 or self.clips_per_video < 1:
            raise DataError("data.num_frames, data.frame_stride and data.clips_per_video must be >= 1")
        if self.image_size < 4:
            raise DataError(f"data.image_size must be >= 4, got {self.image_size}")
        if self.channels not in (1, 3):
            raise DataError(f"data.channels must be 1 (grey) or 3 (RGB), got {self.channels}")
        if self.split_rule not in SPLIT_RULES:
            raise DataError(
                f"data.split_rule must be one of {', '.join(SPLIT_RULES)}, got {self.split_rule!r}"
            )
        if not (
            0 <= self.val_fraction and 0 <= self.test_fraction and self.val_fraction + self.test_fraction < 1
        ):
            raise DataError(
                "data.val_fraction and data.test_fraction must be >= 0 with a sum below 1, got "
                f"{self.val_fraction} and {self.test_fraction}"
            )
        groups = label_groups(self.labels)
        for name in (*self.dynamic, *([self.split_by] if self.split_by else [])):
            if name not in groups:
                raise DataError(
                    f"{name!r} (in data.dynamic or data.split_by) is not a named group of data.labels "
                    f"{self.labels!r}; its groups: {', '.join(groups) or 'none'}"
                )
        if self.split_rule == "values" and not self.test_values:
            raise DataError(
                "data.split_rule=values needs data.test_values (identities or ranges A-B of test)"
            )
        if self.split_rule == "file" and not self.split_file:
            raise DataError("data.split_rule=file needs data.split_file (lines: IDENTITY SPLIT)")


def label_groups(pattern: str) -> list[str]:
    """The named groups of regex `pattern`, in order ([] for "")."""
    if not pattern:
        return []
    try:
        compiled = re.compile(pattern)
    except re.error as err:
        raise DataError(f"data.labels is not a valid regular expression ({err}): {pattern!r}") from None
    return sorted(compiled.groupindex, key=compiled.groupindex.get)


def natural_key(value: str):
    """Sort numbers as numbers ("2" < "10"), then text."""
    return (0, int(value), value) if value.isdigit() else (1, 0, value)


# -- finding and labelling videos ---------------------------------------------------------------
@dataclass
class Source:
    rel: str  # path relative to the root, "/"-separated (a frame folder: the folder's)
    path: Path
    frames: tuple[str, ...] = ()  # a frame folder's image names (sorted); () for a video file


def find_sources(root: Path) -> list[Source]:
    """Every video file and every folder holding png/jpg frames under `root`, sorted by path."""
    sources = []
    for folder, subfolders, files in os.walk(root, followlinks=True):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        files = sorted(f for f in files if not f.startswith("."))
        images = tuple(f for f in files if f.lower().endswith(IMAGE_EXTENSIONS))
        rel_folder = Path(folder).relative_to(root).as_posix()
        if images:
            sources.append(Source("" if rel_folder == "." else rel_folder, Path(folder), images))
        for name in files:
            if name.lower().endswith(VIDEO_EXTENSIONS):
                rel = name if rel_folder == "." else f"{rel_folder}/{name}"
                sources.append(Source(rel, Path(folder) / name))
    return sorted(sources, key=lambda s: s.rel)


def in_values(identity: str, values) -> bool:
    """Whether `identity` is one of `values` (an entry A-B of whole numbers is a range)."""
    for value in values:
        low, dash, high = str(value).partition("-")
        if dash and low.isdigit() and high.isdigit() and identity.isdigit():
            if int(low) <= int(identity) <= int(high):
                return True
        elif identity == str(value) or (
            identity.isdigit() and str(value).isdigit() and int(identity) == int(value)
        ):
            return True
    return False


def read_split_file(path: str) -> dict[str, str]:
    """{identity: split} from lines `IDENTITY SPLIT` (`#` starts a comment)."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise DataError(f"data.split_file {file} does not exist")
    table: dict[str, str] = {}
    for number, line in enumerate(file.read_text().splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) != 2 or words[1] not in SPLIT_CODES:
            raise DataError(
                f"{file}:{number}: expected 'IDENTITY SPLIT' with SPLIT train, val or test, got {line!r}"
            )
        identity, split = words
        if table.get(identity, split) != split:
            raise DataError(f"{file}:{number}: {identity!r} is listed in both {table[identity]} and {split}")
        table[identity] = split
    return table


def values_splits(identity: str, val_values, test_values) -> set[str]:
    """The splits of an identity under split=values: {"train"}, {"val"}, {"test"}, or
    {"val", "test"} when no val_values are given (val then holds the test identities)."""
    in_test = in_values(identity, test_values)
    in_val = in_values(identity, val_values) if val_values else in_test
    if val_values and in_test and in_val:
        raise DataError(f"identity {identity!r} is in both data.val_values and data.test_values")
    splits = ({"test"} if in_test else set()) | ({"val"} if in_val else set())
    return splits or {"train"}


def hash_split(identity: str, val_fraction: float, test_fraction: float) -> str:
    """A stable split of an identity: SHA-256 of its text as a number in [0, 1)."""
    u = int(hashlib.sha256(identity.encode()).hexdigest()[:15], 16) / 16**15
    if u < test_fraction:
        return "test"
    return "val" if u < test_fraction + val_fraction else "train"


# -- decoding and the cache ---------------------------------------------------------------------
def _resize_crop(image, size: int, channels: int) -> np.ndarray:
    """PIL image -> (size, size, channels) uint8: shorter side to `size`, centre crop."""
    from PIL import Image  # noqa: PLC0415

    image = image.convert("L" if channels == 1 else "RGB")
    width, height = image.size
    scale = size / min(width, height)
    new_w, new_h = max(size, round(width * scale)), max(size, round(height * scale))
    image = image.resize((new_w, new_h), Image.Resampling.BILINEAR)
    left, top = (new_w - size) // 2, (new_h - size) // 2
    array = np.asarray(image.crop((left, top, left + size, top + size)), dtype=np.uint8)
    return array.reshape(size, size, channels)


def decode(source: Source, size: int, channels: int) -> np.ndarray:
    """All frames of a video file or frame folder as (N, size, size, channels) uint8."""
    if source.frames:
        from PIL import Image  # noqa: PLC0415

        frames = []
        for name in source.frames:
            with Image.open(source.path / name) as image:
                frames.append(_resize_crop(image, size, channels))
        return np.stack(frames)
    try:
        import av  # noqa: PLC0415
    except ImportError:
        raise DataError(
            f"decoding video files ({source.path.name}) needs PyAV: pip install 'vidis[video]' (or pip "
            "install av); frame folders of png/jpg images need only Pillow"
        ) from None
    frames = []
    with av.open(str(source.path)) as container:
        if not container.streams.video:
            raise ValueError("no video stream")
        for frame in container.decode(video=0):
            frames.append(_resize_crop(frame.to_image(), size, channels))
    if not frames:
        raise ValueError("no frames decoded")
    return np.stack(frames)


def cache_key(source: Source, size: int, channels: int) -> str:
    if source.frames:
        stats = [(name, *_stat(source.path / name)) for name in source.frames]
    else:
        stats = _stat(source.path)
    text = json.dumps([str(source.path.resolve()), stats, size, channels, CACHE_VERSION])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _stat(path: Path) -> list[int]:
    info = path.stat()
    return [info.st_size, info.st_mtime_ns]


def _atomic_write(path: Path, write):
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def cached_frames(source: Source, key: str, size: int, channels: int, folder: Path) -> Path:
    """The cache file `folder/KEY.npy` of `source`, decoded now if missing; ValueError when it
    cannot be decoded. A failure is remembered (`KEY.bad`, its message) until the file changes."""
    path, bad = folder / f"{key}.npy", folder / f"{key}.bad"
    if path.exists():
        return path
    if bad.exists():
        raise ValueError(bad.read_text().strip())
    try:
        frames = decode(source, size, channels)
    except DataError:
        raise
    except Exception as err:  # noqa: BLE001  (PyAV and Pillow raise many kinds for damaged files)
        message = f"{type(err).__name__}: {err}".strip()
        _atomic_write(bad, lambda f: f.write(message.encode()))
        raise ValueError(message) from None
    _atomic_write(path, lambda f: np.save(f, frames, allow_pickle=False))
    return path


# -- the dataset --------------------------------------------------------------------------------
@register_dataset("video_folder")
class VideoFolder(VideoDataset):
    """Clips from a folder of videos or frame folders, with factors from a label regex."""

    Config = VideoFolderConfig

    def __init__(self, config: VideoFolderConfig, split: str = "train", seed: int = 0, progress: bool = True):
        super().__init__(config, split, seed)
        config.validate()
        c = config
        if not c.root:
            raise DataError(f"{self.name} needs data.root=FOLDER (the folder of videos or frame folders)")
        root = Path(c.root).expanduser()
        if not root.is_dir():
            raise DataError(f"data.root {root} does not exist or is not a folder")
        sources = find_sources(root)
        if not sources:
            raise DataError(
                f"found no videos under {root}: expected video files ({', '.join(VIDEO_EXTENSIONS)}) "
                f"or folders of frames ({', '.join(IMAGE_EXTENSIONS)})"
            )
        labelled = self._label(sources)
        self.video_shape = (c.num_frames, c.channels, c.image_size, c.image_size)
        mine = self._split(labelled)
        self.span = (c.num_frames - 1) * c.frame_stride + 1  # frames one clip covers
        self.videos: list[tuple[Source, dict[str, int], Path, int]] = []  # source, labels, cache, frames
        self._load(mine, progress)
        self._arrays: dict[int, np.ndarray] = {}

    # -- construction ---------------------------------------------------------------------------
    def _label(self, sources: list[Source]) -> list[tuple[Source, dict[str, str]]]:
        """(source, {group: value}) of the sources the label regex matches; declares the factors."""
        c = self.config
        self.classes: dict[str, list[str]] = {}  # factor -> its values; class k = values[k]
        if not c.labels:
            return [(s, {}) for s in sources]
        pattern = re.compile(c.labels)
        labelled, unmatched = [], []
        for source in sources:
            match = pattern.search(source.rel)
            if match is None:
                unmatched.append(source.rel)
            else:
                labelled.append((source, {k: v or "" for k, v in match.groupdict().items()}))
        if not labelled:
            raise DataError(
                f"data.labels {c.labels!r} matches none of the {len(sources)} videos under {c.root} "
                f"(it is searched in paths relative to the root, e.g. {sources[0].rel!r})"
            )
        if unmatched:
            warn(
                f"skipped {len(unmatched)} of {len(sources)} videos whose path data.labels does not "
                f"match (e.g. {unmatched[0]!r})"
            )
        self.classes = {
            name: sorted({labels[name] for _, labels in labelled}, key=natural_key)
            for name in label_groups(c.labels)
        }
        self.factors = [
            Factor(name, "dynamic" if name in c.dynamic else "static", len(values))
            for name, values in self.classes.items()
        ]
        return labelled

    def identity(self, source: Source, labels: dict[str, str]) -> str:
        return labels[self.config.split_by] if self.config.split_by else source.rel

    def _split(self, labelled: list[tuple[Source, dict[str, str]]]) -> list[tuple[Source, dict[str, str]]]:
        """The videos of this split: a function of each video's identity, never of a clip."""
        c = self.config
        table = read_split_file(c.split_file) if c.split_rule == "file" else None
        counts = {"train": 0, "val": 0, "test": 0, "unlisted": 0}
        mine = []
        for source, labels in labelled:
            identity = self.identity(source, labels)
            if c.split_rule == "hash":
                splits = {hash_split(identity, c.val_fraction, c.test_fraction)}
            elif c.split_rule == "values":
                splits = values_splits(identity, c.val_values, c.test_values)
            else:
                splits = {table.get(identity, "unlisted")}
            for split in splits:
                counts[split] += 1
            if self.split in splits:
                mine.append((source, labels))
        if counts["unlisted"]:
            warn(
                f"skipped {counts['unlisted']} videos whose identity is not listed in data.split_file "
                f"{c.split_file}"
            )
        if not mine:
            by = f"data.split_by={c.split_by!r}" if c.split_by else "each video its own identity"
            raise DataError(
                f"the {self.split} split has no videos: data.split_rule={c.split_rule} ({by}) puts "
                f"{counts['train']} in train, {counts['val']} in val and {counts['test']} in test"
                + (
                    "; change data.val_fraction/test_fraction or use data.split_rule=values"
                    if c.split_rule == "hash"
                    else ""
                )
            )
        return mine

    def _load(self, mine: list[tuple[Source, dict[str, str]]], progress: bool):
        """Decode what the cache lacks (with a progress bar), then keep the videos long enough."""
        c = self.config
        folder = cache_root()
        folder.mkdir(parents=True, exist_ok=True)
        keys = [cache_key(source, c.image_size, c.channels) for source, _ in mine]
        new = sum(
            not (folder / f"{key}.npy").exists() and not (folder / f"{key}.bad").exists() for key in keys
        )
        bar = tqdm(
            total=new,
            desc=f"{self.name} {self.split}: decoding {new} new videos into {folder}",
            unit="video",
            disable=not progress or new == 0,  # the first pass only: a warm cache decodes nothing
        )
        short, failed = [], 0
        for (source, labels), key in zip(mine, keys):
            fresh = not (folder / f"{key}.npy").exists() and not (folder / f"{key}.bad").exists()
            try:
                path = cached_frames(source, key, c.image_size, c.channels, folder)
            except DataError:  # not the file's fault (PyAV missing): stop
                raise
            except ValueError as err:
                warn(f"skipped {source.path}: it cannot be decoded ({err})")
                failed += 1
                continue
            finally:
                bar.update(int(fresh))
            num = int(np.load(path, mmap_mode="r").shape[0])
            if num < self.span:
                short.append((source.rel, num))
                continue
            indices = {name: self.classes[name].index(value) for name, value in labels.items()}
            self.videos.append((source, indices, path, num))
        bar.close()
        if short:
            warn(
                f"skipped {len(short)} {self.split} videos shorter than a clip ({self.span} frames = "
                f"num_frames {c.num_frames} x frame_stride {c.frame_stride}), e.g. {short[0][0]!r} "
                f"with {short[0][1]} frames"
            )
        if not self.videos:
            raise DataError(
                f"no usable {self.split} video under {c.root}: {len(mine)} found, {failed} could not be "
                f"decoded, {len(short)} shorter than {self.span} frames"
            )

    # -- items ----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.videos) * self.config.clips_per_video

    def clip(self, index: int) -> tuple[int, int]:
        """(video number, first frame) of item `index`, deterministic in (seed, split, index).

        Items go round the videos (item i is clip i // V of video i % V, V videos), so the first
        items of a split (a validation subset, a preview) come from different videos."""
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for the {self.split} split of {len(self)} clips")
        per_video = self.config.clips_per_video
        part, video = divmod(index, len(self.videos))
        starts = self.videos[video][3] - self.span + 1  # valid first frames: 0 .. starts - 1
        low = min(part * starts // per_video, starts - 1)  # the part-th of per_video equal parts
        high = min(max(low + 1, (part + 1) * starts // per_video), starts)
        rng = np.random.default_rng([self.seed, SPLIT_CODES[self.split], index])
        return video, int(rng.integers(low, high))

    def frames(self, video: int) -> np.ndarray:
        """The cached (N, H, W, C) uint8 frames of a video (memory-mapped, opened once per process)."""
        if video not in self._arrays:
            if len(self._arrays) >= OPEN_VIDEOS:  # each map holds a file descriptor: close the oldest
                self._arrays.pop(next(iter(self._arrays)))
            self._arrays[video] = np.load(self.videos[video][2], mmap_mode="r")
        return self._arrays[video]

    def _clip_uint8(self, index: int) -> np.ndarray:
        video, start = self.clip(int(index))
        return self.frames(video)[start : start + self.span : self.config.frame_stride]  # (T, H, W, C)

    def _factors(self, index: int) -> dict[str, torch.Tensor]:
        labels = self.videos[int(index) % len(self.videos)][1]
        return {name: torch.tensor(value) for name, value in labels.items()}

    def __getitem__(self, index: int) -> dict:
        video = torch.from_numpy(to_float(self._clip_uint8(index))).permute(0, 3, 1, 2)  # (T, C, H, W)
        return {"video": video, "factors": self._factors(index)}

    def batch(self, indices) -> dict:
        """Clips `indices` stacked as uint8 first, converted to float once."""
        indices = [int(i) for i in indices]
        clips = torch.from_numpy(
            to_float(np.stack([self._clip_uint8(i) for i in indices]))
        )  # (B, T, H, W, C)
        factors = [self._factors(i) for i in indices]
        return {
            "video": clips.permute(0, 1, 4, 2, 3),  # (B, T, C, H, W)
            "factors": {k: torch.stack([f[k] for f in factors]) for k in (factors[0] if factors else {})},
        }

    def __getstate__(self):  # DataLoader workers open their own memory maps
        state = dict(self.__dict__)
        state["_arrays"] = {}
        return state


# -- named layouts ------------------------------------------------------------------------------
@dataclass
class KTHConfig(VideoFolderConfig):
    """KTH actions: `personNN_ACTION_dN_uncomp.avi` (25 persons, 6 actions, 4 scenarios), grey
    160x120 at 25 fps. Paper 003: persons 1-20 train, 21-25 test; val holds the test persons."""

    channels: int = 1
    num_frames: int = 20
    labels: str = r"person(?P<person>\d+)_(?P<action>[a-z]+)_d(?P<scenario>\d+)"
    dynamic: tuple[str, ...] = ("action",)
    split_by: str = "person"
    split_rule: str = "values"
    test_values: tuple[str, ...] = ("21-25",)
    clips_per_video: int = 10  # long videos (hundreds of frames): ten clips from each


@dataclass
class MUGConfig(VideoFolderConfig):
    """MUG facial expressions: frame folders `SUBJECT/EXPRESSION/TAKE/*.jpg` (52 subjects;
    anger, disgust, fear, happiness, neutral, sadness, surprise). Split by subject (hash)."""

    labels: str = r"(?P<subject>\d+)/(?P<expression>[a-z_]+)/"
    dynamic: tuple[str, ...] = ("expression",)
    split_by: str = "subject"


@dataclass
class UvANemoConfig(VideoFolderConfig):
    """UvA-NEMO smiles: `SUBJECT_{deliberate,spontaneous}_smile_N.mp4` (about 400 subjects).
    Split by subject (hash)."""

    labels: str = r"(?P<subject>\d+)_(?P<smile>deliberate|spontaneous)_smile"
    dynamic: tuple[str, ...] = ("smile",)
    split_by: str = "subject"


@dataclass
class WeizmannConfig(VideoFolderConfig):
    """Weizmann actions: `PERSON_ACTION[N].avi` (9 persons, 10 actions incl. wave1/wave2; lena's
    repeated takes run1/run2 etc. share their action). Split by person: ira val, moshe and
    shahar test (an explicit choice: with 9 persons a hash split can leave a split empty)."""

    labels: str = r"(?P<person>[a-z]+)_(?P<action>wave[12]|[a-z]+?)\d?\.[a-z0-9]+$"
    dynamic: tuple[str, ...] = ("action",)
    split_by: str = "person"
    split_rule: str = "values"
    val_values: tuple[str, ...] = ("ira",)
    test_values: tuple[str, ...] = ("moshe", "shahar")


def _layout(name: str, config: type) -> type:
    cls = type(name, (VideoFolder,), {"Config": config, "__doc__": config.__doc__})
    return register_dataset(name)(cls)


KTH = _layout("kth", KTHConfig)
MUG = _layout("mug", MUGConfig)
UvANemo = _layout("uva_nemo", UvANemoConfig)
Weizmann = _layout("weizmann", WeizmannConfig)

"""Rotating objects: procedural chair-like assemblies of boxes turning about the vertical axis.

A stand-in for the rotating ShapeNet chairs of paper 002 (section 4, "Rotating Chairs"), which
cannot be downloaded here. It is *not* ShapeNet: each object is a chair built from 6 to 13
boxes (seat, back panel or posts and rails, four legs or a pedestal with a base, optional arm
rests) with proportions drawn per object, rendered in grayscale at 64x64 by a small
vectorised ray caster (orthographic camera looking down at `elevation` degrees, Lambertian
shading from a light fixed in the scene, black background, `supersample` x `supersample` rays
per pixel averaged). Each clip shows one object turning by `views_per_frame` steps of a grid
of `num_views` azimuths per frame, counter-clockwise or (reversed at random, as the paper's
sequences are) clockwise.

Identities. Objects are numbered 0 .. num_objects - 1 (the training identities, drawn by
the train and val splits) and num_objects .. num_objects + num_held_out - 1 (held out: only
the test split draws them, so no test object is ever seen in training). An object's shape
depends only on (`object_seed`, its number), never on the split or the clip seed, so the held-
out objects are the same whatever `train.seed` is. A clip is a pure function of (seed, split,
index), so the data are the same for any number of DataLoader workers.

Declared factors:
- identity: the object's number (static, num_objects + num_held_out classes; a test clip's
  label is one of the 10 held-out numbers, which a classifier trained on training clips has
  never seen: paper 002's identity task fits and scores on the held-out objects' own frames).
- orientation: the azimuth index per frame, 0 .. num_views - 1, 0 = the chair faces the camera
  (dynamic, per frame).
- direction: 0 = azimuth increasing (counter-clockwise seen from above), 1 = decreasing
  (dynamic, one per clip).

Ground-truth swaps (`render_swap`): clip A's object rendered at clip B's azimuths.

Speed: views are rendered on demand and kept per (object, azimuth) in memory (uint8, at most
(num_objects + num_held_out) x num_views frames, 27.5 MB at the defaults), so a long training
run renders each view once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import DataError
from ..registry import register_dataset
from ..types import Factor
from .base import VideoDataset

SPLIT_CODES = {"train": 0, "val": 1, "test": 2}
LIGHT = np.array([-0.45, 0.75, 0.5]) / np.linalg.norm([-0.45, 0.75, 0.5])  # towards the light
AMBIENT, DIFFUSE = 0.22, 0.78
VIEW_HALF_WIDTH = 1.15  # the image spans [-1.15, 1.15] scene units


@dataclass
class RotatingObjectsConfig:
    num_frames: int = 16
    image_size: int = 64
    num_objects: int = 200  # training identities
    num_held_out: int = 10  # test identities, never drawn by train or val
    num_views: int = 32  # azimuth grid: 360 / num_views degrees apart
    views_per_frame: int = 1  # rotation speed in azimuth steps per frame
    elevation: float = 20.0  # camera elevation, degrees
    supersample: int = 2  # rays per pixel along each axis
    object_seed: int = 0  # the objects' shapes (independent of the clips' seed)
    num_train: int = 0  # 0: a fresh clip for every index (infinite); N: a fixed set of N clips
    num_val: int = 500
    num_test: int = 500

    def validate(self):
        if self.num_frames < 1:
            raise DataError(f"num_frames must be >= 1, got {self.num_frames}")
        if self.image_size < 8:
            raise DataError(f"image_size must be >= 8, got {self.image_size}")
        for name in ("num_objects", "num_held_out", "num_views", "supersample"):
            if getattr(self, name) < 1:
                raise DataError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.views_per_frame < 0:
            raise DataError(f"views_per_frame must be >= 0, got {self.views_per_frame}")
        if not 0 <= self.elevation < 90:
            raise DataError(f"elevation must be in [0, 90) degrees, got {self.elevation}")
        if min(self.num_train, self.num_val, self.num_test) < 0:
            raise DataError("num_train, num_val and num_test must be >= 0")


def _box(centre, size) -> np.ndarray:
    """(2, 3) min and max corners of a box of `size` (x, y, z) around `centre`."""
    centre, half = np.asarray(centre, float), np.asarray(size, float) / 2
    return np.stack([centre - half, centre + half])


def make_chair(rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """One chair: (boxes (K, 2, 3) in object coordinates, y up, front towards +z; albedo).

    Proportions, leg style (four legs or a pedestal), back style (panel or posts and rails)
    and arm rests are drawn from `rng`; the chair is centred on its bounding box.
    """
    width, depth = rng.uniform(0.75, 1.15), rng.uniform(0.7, 1.1)
    seat_y, seat_t = rng.uniform(0.45, 0.85), rng.uniform(0.06, 0.16)  # top of the legs, thickness
    leg = rng.uniform(0.05, 0.13)
    back_h, back_t = rng.uniform(0.5, 1.05), rng.uniform(0.05, 0.12)
    back_w = width * rng.uniform(0.65, 1.0)
    top = seat_y + seat_t
    boxes = [_box((0, seat_y + seat_t / 2, 0), (width, seat_t, depth))]
    if rng.random() < 0.8:  # four legs, splayed inwards a little or not at all
        inset = rng.uniform(0.0, 0.12)
        for sx in (-1, 1):
            for sz in (-1, 1):
                x, z = sx * (width / 2 - leg / 2 - inset * width), sz * (depth / 2 - leg / 2 - inset * depth)
                boxes.append(_box((x, seat_y / 2, z), (leg, seat_y, leg)))
    else:  # a pedestal: a column on a cross-shaped base
        column = rng.uniform(0.08, 0.16)
        foot = rng.uniform(0.55, 0.95)
        boxes.append(_box((0, seat_y / 2, 0), (column, seat_y, column)))
        boxes.append(_box((0, 0.03, 0), (foot * width, 0.06, 0.08)))
        boxes.append(_box((0, 0.03, 0), (0.08, 0.06, foot * depth)))
    back_z = -depth / 2 + back_t / 2
    if rng.random() < 0.6:  # a solid panel
        boxes.append(_box((0, top + back_h / 2, back_z), (back_w, back_h, back_t)))
    else:  # two posts and one or two rails
        post = rng.uniform(0.05, 0.1)
        for sx in (-1, 1):
            x = sx * (back_w / 2 - post / 2)
            boxes.append(_box((x, top + back_h / 2, back_z), (post, back_h, back_t)))
        rails = int(rng.integers(1, 3))
        rail_h = rng.uniform(0.08, 0.2)
        for r in range(rails):
            y = top + back_h - rail_h / 2 - r * back_h * 0.45
            boxes.append(_box((0, y, back_z), (back_w, rail_h, back_t * 0.8)))
    if rng.random() < 0.4:  # arm rests on posts
        arm_h, arm_w = rng.uniform(0.18, 0.35), rng.uniform(0.06, 0.12)
        for sx in (-1, 1):
            x = sx * (width / 2 - arm_w / 2)
            boxes.append(_box((x, top + arm_h, 0.0), (arm_w, 0.06, depth * 0.9)))
            boxes.append(_box((x, top + arm_h / 2, depth * 0.35), (arm_w * 0.8, arm_h, arm_w * 0.8)))
    boxes = np.stack(boxes)  # (K, 2, 3)
    centre = (boxes[:, 0].min(0) + boxes[:, 1].max(0)) / 2
    boxes = boxes - centre
    boxes *= 0.95 / max(np.abs(boxes).max(), 1e-6)  # the object fits the view at every azimuth
    return boxes, float(rng.uniform(0.75, 1.0))


def _slab(origins: np.ndarray, inv_direction: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    """Ray-box slab test: origins (M, 3), inv_direction (3,), boxes lo/hi (K, 3) ->
    (t at entry (M, K), entry axis (M, K), hit (M, K)). One axis at a time: numpy reduces a
    length-3 last axis slowly."""
    near, far = [], []
    for a in range(3):
        t1 = (lo[None, :, a] - origins[:, a, None]) * inv_direction[a]  # (M, K)
        t2 = (hi[None, :, a] - origins[:, a, None]) * inv_direction[a]
        near.append(np.minimum(t1, t2))
        far.append(np.maximum(t1, t2))
    t_near = np.maximum(np.maximum(near[0], near[1]), near[2])
    t_far = np.minimum(np.minimum(far[0], far[1]), far[2])
    axis = np.where(near[0] == t_near, 0, np.where(near[1] == t_near, 1, 2))
    return t_near, axis, t_far >= np.maximum(t_near, 0)


def render_views(boxes: np.ndarray, albedo: float, azimuths: np.ndarray, image_size: int = 64,
                 elevation: float = 20.0, supersample: int = 2) -> np.ndarray:
    """Ray-cast the boxes at each azimuth (radians): (V,) -> uint8 (V, S, S).

    Orthographic camera at elevation e looking at the origin from +z; the object is turned by
    the azimuth about the vertical axis. Per view (one loop step each), vectorised over rays
    and boxes: the rays that meet the object's bounding box get the slab test against every
    box in the object's frame; the nearest hit's face normal, turned back into the scene, is
    shaded with Lambert's law from LIGHT plus AMBIENT; `supersample`^2 rays per pixel averaged.
    """
    S, n = image_size, image_size * supersample
    e = math.radians(elevation)
    back = np.array([0.0, math.sin(e), math.cos(e)])  # from the scene towards the camera
    right, up = np.array([1.0, 0.0, 0.0]), np.array([0.0, math.cos(e), -math.sin(e)])
    coords = (np.arange(n) + 0.5) / n * 2 * VIEW_HALF_WIDTH - VIEW_HALF_WIDTH  # (n,)
    u, v = np.meshgrid(coords, -coords)  # image row 0 is the top
    origins = u.reshape(-1, 1) * right + v.reshape(-1, 1) * up + 4.0 * back  # (P, 3) scene frame
    lo, hi = boxes[:, 0], boxes[:, 1]  # (K, 3) object frame
    normals = np.concatenate([np.eye(3), -np.eye(3)])  # (6, 3): +x, +y, +z, -x, -y, -z
    frames = np.zeros((len(azimuths), n * n))
    for k, azimuth in enumerate(np.asarray(azimuths, float)):
        c, s = math.cos(azimuth), math.sin(azimuth)
        # scene -> object frame: turn by -azimuth about y
        to_object = np.array([[c, 0.0, -s], [0.0, 1.0, 0.0], [s, 0.0, c]])
        o = origins @ to_object.T  # (P, 3)
        d = to_object @ -back
        d = np.where(np.abs(d) < 1e-12, 1e-12, d)
        inv = 1.0 / d
        _, _, near_object = _slab(o, inv, lo.min(0, keepdims=True), hi.max(0, keepdims=True))
        rays = np.flatnonzero(near_object[:, 0])  # (M,) rays that meet the bounding box
        t_near, axis, hit = _slab(o[rays], inv, lo, hi)  # (M, K) each
        t_near = np.where(hit, t_near, np.inf)
        nearest = t_near.argmin(1)  # (M,)
        rows = np.arange(len(rays))
        found = np.isfinite(t_near[rows, nearest])
        face_axis = axis[rows, nearest]  # (M,)
        face = face_axis + 3 * (d[face_axis] > 0)  # the face looks against the ray
        shade = albedo * (AMBIENT + DIFFUSE * np.clip(normals @ to_object @ LIGHT, 0, None))  # (6,)
        frames[k, rays[found]] = shade[face[found]]
    image = frames.reshape(len(frames), S, supersample, S, supersample).mean((2, 4))
    return np.rint(np.clip(image, 0, 1) * 255).astype(np.uint8)


@register_dataset("rotating_objects")
class RotatingObjects(VideoDataset):
    Config = RotatingObjectsConfig
    version = 1
    can_render_swaps = True
    nominal_epoch = 10_000  # len() of an infinite train split

    def __init__(self, config: RotatingObjectsConfig, split: str = "train", seed: int = 0):
        super().__init__(config, split, seed)
        config.validate()
        c = config
        self.video_shape = (c.num_frames, 1, c.image_size, c.image_size)
        self.factors = [
            Factor("identity", "static", c.num_objects + c.num_held_out),
            Factor("orientation", "dynamic", c.num_views, per_frame=True),
            Factor("direction", "dynamic", 2),
        ]
        sizes = {"train": c.num_train or self.nominal_epoch, "val": c.num_val, "test": c.num_test}
        self.length = sizes[split]
        self.infinite = split == "train" and c.num_train == 0
        self._views: dict[int, np.ndarray] = {}  # object -> (num_views, S, S) uint8
        self._rendered: dict[int, np.ndarray] = {}  # object -> (num_views,) bool

    def __len__(self) -> int:
        return self.length

    def object_ids(self) -> range:
        """The identities this split draws from."""
        c = self.config
        if self.split == "test":
            return range(c.num_objects, c.num_objects + c.num_held_out)
        return range(c.num_objects)

    def shape_of(self, object_id: int) -> tuple[np.ndarray, float]:
        return make_chair(np.random.default_rng([self.config.object_seed, 7, int(object_id)]))

    def sample(self, index: int) -> tuple[int, np.ndarray, int]:
        """(object id, azimuth index per frame (T,), direction) of clip `index`."""
        if index < 0 or (not self.infinite and index >= self.length):
            raise IndexError(f"index {index} out of range for {self.split} split of {self.length}")
        c = self.config
        rng = np.random.default_rng([self.seed, SPLIT_CODES[self.split], index])
        ids = self.object_ids()
        object_id = ids[int(rng.integers(len(ids)))]
        start, direction = int(rng.integers(c.num_views)), int(rng.integers(2))
        step = c.views_per_frame * (1 - 2 * direction)
        views = (start + step * np.arange(c.num_frames)) % c.num_views
        return object_id, views, direction

    def views(self, object_id: int, view_ids: np.ndarray) -> np.ndarray:
        """uint8 (len(view_ids), S, S) frames of one object, rendered once and kept."""
        c = self.config
        if object_id not in self._views:
            self._views[object_id] = np.zeros((c.num_views, c.image_size, c.image_size), np.uint8)
            self._rendered[object_id] = np.zeros(c.num_views, bool)
        missing = np.unique(view_ids[~self._rendered[object_id][view_ids]])
        if len(missing):
            boxes, albedo = self.shape_of(object_id)
            azimuths = 2 * np.pi * missing / c.num_views
            self._views[object_id][missing] = render_views(
                boxes, albedo, azimuths, c.image_size, c.elevation, c.supersample
            )
            self._rendered[object_id][missing] = True
        return self._views[object_id][view_ids]

    def _video(self, object_id: int, view_ids: np.ndarray) -> torch.Tensor:
        frames = self.views(object_id, view_ids)  # (T, S, S) uint8
        return torch.from_numpy(frames).float().div_(255).unsqueeze(1)  # (T, 1, S, S)

    def __getitem__(self, index: int) -> dict:
        object_id, view_ids, direction = self.sample(int(index))
        factors = {
            "identity": torch.tensor(object_id),
            "orientation": torch.from_numpy(view_ids.astype(np.int64)),
            "direction": torch.tensor(direction),
        }
        return {"video": self._video(object_id, view_ids), "factors": factors}

    def render_swap(self, index_a: int, index_b: int, assignment=None) -> torch.Tensor:
        """The true swap: clip A's object at clip B's azimuths, (T, 1, S, S)."""
        object_id, _, _ = self.sample(int(index_a))
        _, view_ids, _ = self.sample(int(index_b))
        return self._video(object_id, view_ids)

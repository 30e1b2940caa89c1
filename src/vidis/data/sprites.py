"""Procedural Sprites: a stand-in for the LPC Sprites of DSVAE/VDSM, drawn by vidis.

The LPC Sprites (Li & Mandt 2018; paper 004 section 4) cannot be fetched here, so this module
draws cartoon characters of the same design: 64x64 RGB, 8-frame clips, a character made of a
static choice of `skin`, `top`, `pants` and `hair` (the paper's "body, shirt, pants,
hairstyle") performing one of 3 actions (walk, spellcast, slash) seen from one of 3
directions (left, front, right): 9 dynamic classes. It is a *procedural stand-in*, not the
LPC data: numbers measured on it are not comparable with numbers measured on the LPC sprites.

Drawing. A character is 15 layers (legs, shoes, arms as upper arm + forearm, torso, head,
eyes, hair, a sword), each a shape given by a signed distance function (capsules, ellipses,
rounded boxes) on the pixel grid; a layer's coverage of a pixel is clip(0.5 - sdf, 0, 1) with
sdf in pixels, i.e. anti-aliased edges one pixel wide. The geometry depends only on (action,
view, frame, hair style): the coverage masks of each (class, style) are computed once per
dataset object, vectorised over frames and pixels, and a clip is the painter's composite of
its layers' colours over a white background, computed as one matrix product per clip (the
composite is linear in the colours: `layer_weights`). Limbs follow per-action joint angles,
so the actions read from the pixels: walk swings legs and arms (front view: feet lift in
turn), spellcast raises both arms overhead, slash winds a sword arm up and strikes down.
The right view is the mirror image of the left view; the animation cycle is 8 frames and
repeats for longer clips (`num_frames`).

Characters. Each attribute has `num_<attr>` options (default 6; up to 10), drawn from fixed,
well-separated palettes (hair option i also has style i % 3: short, long, tall). The
num_skin * num_top * num_pants * num_hair combinations are shuffled once (by
`identity_seed`, not the run's seed) and the first `num_held_out` are held out: val and test
clips use only held-out characters, train clips only the others, so a model is scored on
characters it never saw, while every attribute value is seen in training (checked). Defaults:
6^4 = 1,296 characters, 296 held out (the version the field's judge numbers use); paper 004's
presets use 7 x 4 x 5 x 8 (1,120) with 112 (10%) held out.

Items are deterministic in (seed, split, index): train draws a fresh (character, action, view)
for every index (infinite; `nominal_epoch` = 10,000), val/test `num_val`/`num_test` fixed clips.
`clips_per_identity` = k > 1 concatenates k clips of one character (k random classes) into one
item of k * num_frames frames: the identity-grouped batches of VDSM's stage 1 (labels: the
first clip's).

Factors: skin, top, pants, hair (static, num_<attr> classes), action (dynamic, 9 classes:
3 * action + view, actions 0 walk, 1 spellcast, 2 slash; views 0 left, 1 front, 2 right).
`render_swap(a, b)`: clip A's character performing clip B's action in B's view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from ..errors import DataError
from ..registry import register_dataset
from ..types import Factor
from .base import VideoDataset

SPLIT_CODES = {"train": 0, "val": 1, "test": 2}
ACTIONS = ("walk", "spellcast", "slash")
VIEWS = ("left", "front", "right")
ATTRIBUTES = ("skin", "top", "pants", "hair")
CYCLE = 8  # frames of one animation cycle
NUM_STYLES = 3  # hair styles: short, long, tall

PALETTES = {
    "skin": [(1.0, 0.85, 0.70), (0.82, 0.62, 0.42), (0.55, 0.36, 0.22), (0.36, 0.23, 0.14),
             (0.45, 0.68, 0.30), (0.58, 0.66, 0.82), (0.85, 0.35, 0.30), (0.62, 0.45, 0.78),
             (0.93, 0.84, 0.30), (0.30, 0.55, 0.55)],
    "top": [(0.85, 0.12, 0.12), (0.15, 0.30, 0.85), (0.15, 0.60, 0.20), (0.95, 0.80, 0.10),
            (0.55, 0.15, 0.65), (0.98, 0.50, 0.05), (0.10, 0.75, 0.80), (0.45, 0.28, 0.12),
            (0.95, 0.45, 0.70), (0.30, 0.30, 0.30)],
    "pants": [(0.10, 0.12, 0.40), (0.40, 0.45, 0.15), (0.50, 0.08, 0.12), (0.50, 0.50, 0.50),
              (0.05, 0.45, 0.42), (0.80, 0.68, 0.45), (0.80, 0.10, 0.60), (0.45, 0.70, 0.95),
              (0.20, 0.20, 0.20), (0.60, 0.30, 0.05)],
    "hair": [(0.30, 0.18, 0.08), (0.95, 0.82, 0.30), (0.80, 0.22, 0.08), (0.10, 0.10, 0.12),
             (0.62, 0.62, 0.66), (0.15, 0.35, 0.95), (0.10, 0.60, 0.25), (1.00, 0.50, 0.75),
             (0.45, 0.15, 0.55), (0.98, 0.55, 0.10)],
}
FIXED = {"shoe": (0.25, 0.15, 0.08), "eye": (0.05, 0.05, 0.10), "sword": (0.62, 0.66, 0.74)}
# layers in painter's order: (name, colour source, shade of the far side in side views)
LAYERS = (
    ("far_leg", "pants", 0.7), ("far_shoe", "shoe", 0.7), ("far_upper_arm", "top", 0.7),
    ("far_forearm", "skin", 0.7), ("hair_back", "hair", 0.85), ("torso", "top", 1.0),
    ("near_leg", "pants", 1.0), ("near_shoe", "shoe", 1.0), ("head", "skin", 1.0),
    ("eyes", "eye", 1.0), ("hair_cap", "hair", 1.0), ("sword", "sword", 1.0),
    ("near_upper_arm", "top", 1.0), ("near_forearm", "skin", 1.0), ("hand", "skin", 1.0),
)
LAYER_INDEX = {name: i for i, (name, _, _) in enumerate(LAYERS)}


@dataclass
class SpritesConfig:
    image_size: int = 64
    num_frames: int = 8
    num_skin: int = 6
    num_top: int = 6
    num_pants: int = 6
    num_hair: int = 6
    num_held_out: int = 296  # characters kept out of training (val and test use only these)
    identity_seed: int = 0  # which characters are held out (fixed whatever the run's seed)
    clips_per_identity: int = 1  # >1: items of k clips of one character (VDSM stage 1)
    num_val: int = 1000
    num_test: int = 1000

    def validate(self):
        if self.image_size < 16:
            raise DataError(f"sprites: image_size must be >= 16, got {self.image_size}")
        if self.num_frames < 1 or self.clips_per_identity < 1:
            raise DataError("sprites: num_frames and clips_per_identity must be >= 1")
        for attr in ATTRIBUTES:
            n = getattr(self, f"num_{attr}")
            if not 1 <= n <= len(PALETTES[attr]):
                raise DataError(f"sprites: num_{attr} must be in 1..{len(PALETTES[attr])}, got {n}")
        total = self.num_skin * self.num_top * self.num_pants * self.num_hair
        if not 1 <= self.num_held_out < total:
            raise DataError(
                f"sprites: num_held_out must be in 1..{total - 1} ({total} characters), "
                f"got {self.num_held_out}"
            )
        if min(self.num_val, self.num_test) < 0:
            raise DataError("sprites: num_val and num_test must be >= 0")


# -- geometry: signed distances in canonical 64-pixel units, broadcast over (T, H, W) --------
def _capsule(x, y, ax, ay, bx, by, radius):
    """Distance to the segment (a, b) minus radius; a, b arrays (T, 1, 1)."""
    px, py, vx, vy = x - ax, y - ay, bx - ax, by - ay
    h = np.clip((px * vx + py * vy) / np.maximum(vx * vx + vy * vy, 1e-9), 0, 1)
    return np.hypot(px - h * vx, py - h * vy) - radius


def _ellipse(x, y, cx, cy, rx, ry):
    """Approximate signed distance to an ellipse (exact for circles)."""
    return (np.hypot((x - cx) / rx, (y - cy) / ry) - 1) * min(rx, ry)


def _box(x, y, cx, cy, hx, hy, round_radius):
    qx = np.abs(x - cx) - hx + round_radius
    qy = np.abs(y - cy) - hy + round_radius
    outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0))
    return outside + np.minimum(np.maximum(qx, qy), 0) - round_radius


def _direction(angle_deg, forward):
    """Unit vector at `angle_deg` from straight down towards `forward` (+1 right, -1 left)."""
    a = np.deg2rad(angle_deg)
    return forward * np.sin(a), np.cos(a)


def _pose(action: int, view: int, phase: np.ndarray) -> dict:
    """Joint angles (degrees, from straight down towards the facing side) per frame.

    phase: (T,) in [0, 1). Returns arrays (T,): leg angles, foot lifts, arm shoulder/elbow
    angles, arm length scales, body bob, whether a sword is drawn.
    """
    T = len(phase)
    zero, one = np.zeros(T), np.ones(T)
    wave = np.sin(2 * np.pi * phase)
    side = view != 1
    pose = {"far_leg": zero, "near_leg": zero, "far_lift": zero, "near_lift": zero,
            "far_shoulder": 8 + zero, "near_shoulder": 8 + zero, "far_elbow": zero, "near_elbow": zero,
            "far_reach": one, "near_reach": one, "bob": zero, "sword": zero}
    if ACTIONS[action] == "walk":
        pose["bob"] = -np.abs(wave)
        if side:  # legs and arms swing, in opposition
            pose.update(far_leg=30 * wave, near_leg=-30 * wave, far_shoulder=-28 * wave,
                        near_shoulder=28 * wave, far_elbow=10 + zero, near_elbow=10 + zero)
        else:  # seen from the front: feet lift in turn, arms swing towards the viewer
            pose.update(far_lift=4 * np.maximum(wave, 0), near_lift=4 * np.maximum(-wave, 0),
                        far_reach=1 - 0.3 * np.maximum(-wave, 0), near_reach=1 - 0.3 * np.maximum(wave, 0))
    elif ACTIONS[action] == "spellcast":
        # both arms up (side views: forward and up before the face; front: out and overhead)
        raise_ = 15 + (95 if side else 150) * np.sin(np.pi * phase)
        elbow = (35 if side else -25) * np.sin(np.pi * phase)
        pose.update(far_shoulder=raise_ - (10 if side else 0), near_shoulder=raise_,
                    far_elbow=elbow, near_elbow=elbow)
    else:  # slash: wind up over 5 frames, strike down over 3
        wind = phase < 0.625
        strike = (230 if side else 260) * (phase - 0.625) / 0.375
        swing = np.where(wind, 30 + 170 * phase / 0.625, 200 - strike)
        pose.update(near_shoulder=swing, near_elbow=15 + zero, sword=one)
        if side:  # a lunge
            pose.update(near_leg=18 + zero, far_leg=-14 + zero)
    return pose


def _masks(action: int, view: int, style: int, size: int) -> np.ndarray:
    """Coverage of each layer, float32 (CYCLE, L, size, size), anti-aliased."""
    phase = np.arange(CYCLE) / CYCLE
    pose = _pose(action, view, phase)
    scale = size / 64.0
    grid = (np.arange(size) + 0.5) / scale  # pixel centres in canonical units
    x = grid[None, None, :]  # (1, 1, W)
    y = grid[None, :, None] - pose["bob"][:, None, None]  # (T, H, 1): the body bobs
    side = view != 1
    forward = -1.0 if side else 1.0  # side views are drawn facing left (the right view mirrors it)
    T = CYCLE
    col = lambda v: np.broadcast_to(np.asarray(v, dtype=np.float64), (T,))[:, None, None]  # noqa: E731
    sdf = {}
    # legs: capsules from the hips; front view: side by side, lifting; side view: swinging
    for limb, hip_dx in (("far", 3.5), ("near", -3.5)):
        hip_x = 32.0 + (0.0 if side else hip_dx)
        dx, dy = _direction(pose[f"{limb}_leg"], forward)
        length = 13.0 - pose[f"{limb}_lift"]
        foot_x, foot_y = hip_x + dx * length, 40.0 + dy * length
        sdf[f"{limb}_leg"] = _capsule(x, y, col(hip_x), col(40.0), col(foot_x), col(foot_y), 2.9)
        toe = forward * 2.2 if side else 0.0
        sdf[f"{limb}_shoe"] = _capsule(x, y, col(foot_x - toe * 0.3), col(foot_y + 1.0),
                                       col(foot_x + toe), col(foot_y + 1.0), 2.2)
    sdf["torso"] = _box(x, y, 32.0, 32.0, 4.8 if side else 7.0, 8.5, 2.5)
    # arms: shoulder -> elbow -> hand, outward (front view) or forward (side views)
    for limb, out in (("far", 1.0), ("near", -1.0)):
        direction = forward if side else out
        shoulder_x = 32.0 - forward * (1.5 if limb == "far" else 0.0) if side else 32.0 + out * 8.0
        shoulder_y = 25.5
        reach = pose[f"{limb}_reach"]
        ux, uy = _direction(pose[f"{limb}_shoulder"], direction)
        elbow_x, elbow_y = shoulder_x + 6.5 * ux * reach, shoulder_y + 6.5 * uy * reach
        fx, fy = _direction(pose[f"{limb}_shoulder"] + pose[f"{limb}_elbow"], direction)
        hand_x, hand_y = elbow_x + 6.5 * fx * reach, elbow_y + 6.5 * fy * reach
        sdf[f"{limb}_upper_arm"] = _capsule(x, y, col(shoulder_x), col(shoulder_y), col(elbow_x),
                                            col(elbow_y), 2.4)
        forearm = _capsule(x, y, col(elbow_x), col(elbow_y), col(hand_x), col(hand_y), 2.0)
        hand = _ellipse(x, y, col(hand_x), col(hand_y), 2.4, 2.4)
        if limb == "near":
            sdf["near_forearm"], sdf["hand"] = forearm, hand
            blade = 13.0 * pose["sword"]  # the sword continues the forearm
            sdf["sword"] = _capsule(x, y, col(hand_x), col(hand_y), col(hand_x + blade * fx),
                                    col(hand_y + blade * fy), 1.1) + 1e3 * (1 - col(pose["sword"]))
        else:
            sdf["far_forearm"] = np.minimum(forearm, hand)
    # head, eyes, hair
    sdf["head"] = _ellipse(x, y, 32.0, 16.5, 6.8, 7.2)
    if side:
        sdf["eyes"] = _ellipse(x, y, 32.0 + forward * 4.0, 17.0, 1.1, 1.4)
        back = -forward
        cover = np.minimum(y - 14.0, 1.0 - back * (x - 32.0))  # top and back of the head
    else:
        sdf["eyes"] = np.minimum(_ellipse(x, y, 29.3, 17.0, 1.1, 1.4), _ellipse(x, y, 34.7, 17.0, 1.1, 1.4))
        back = 0.0
        cover = y - 13.5
    if style == 2:  # tall: a raised crown
        cap = _ellipse(x, y, 32.0 - back * 0.5, 12.5, 7.6, 8.0)
    else:
        cap = _ellipse(x, y, 32.0, 16.0, 7.8, 8.0)
    sdf["hair_cap"] = np.maximum(cap, cover)
    if style == 1:  # long: hanging behind the head to the shoulders
        centre_x = 32.0 + back * 3.5 if side else 32.0
        sdf["hair_back"] = _box(x, y, centre_x, 22.0, 5.0 if side else 8.2, 9.0, 3.0)
    else:
        sdf["hair_back"] = np.full((1, 1, 1), 1e3)
    masks = np.zeros((T, len(LAYERS), size, size), dtype=np.float32)
    for i, (name, _, _) in enumerate(LAYERS):
        coverage = np.clip(0.5 - sdf[name] * scale, 0.0, 1.0)  # distance in pixels
        masks[:, i] = np.broadcast_to(coverage, (T, size, size))
    if view == 2:  # the right view mirrors the left one
        masks = masks[..., ::-1].copy()
    return masks


@register_dataset("sprites")
class Sprites(VideoDataset):
    """Procedural LPC-Sprites stand-in (see the module docstring)."""

    Config = SpritesConfig
    version = 1
    can_render_swaps = True
    nominal_epoch = 10_000
    # 300 steps of 24 clips already gave 1.000 on every factor on the 1,000 held-out test clips
    # (2026-11-26, 2-core CPU under load ~11, 992 s); 500 leaves a margin and costs a third of
    # the global default's 1,500.
    judge_defaults: ClassVar[dict] = {"steps": 500}

    def __init__(self, config: SpritesConfig, split: str = "train", seed: int = 0):
        super().__init__(config, split, seed)
        config.validate()
        c = config
        self.sizes = tuple(getattr(c, f"num_{attr}") for attr in ATTRIBUTES)
        frames = c.num_frames * c.clips_per_identity
        self.video_shape = (frames, 3, c.image_size, c.image_size)
        self.factors = [Factor(attr, "static", n) for attr, n in zip(ATTRIBUTES, self.sizes)]
        self.factors.append(Factor("action", "dynamic", len(ACTIONS) * len(VIEWS)))
        order = np.random.default_rng([c.identity_seed, 4004]).permutation(int(np.prod(self.sizes)))
        self.held_out = np.sort(order[: c.num_held_out])
        self.training_ids = np.sort(order[c.num_held_out :])
        seen = np.stack(np.unravel_index(self.training_ids, self.sizes), 1)  # (N, 4)
        for k, (attr, n) in enumerate(zip(ATTRIBUTES, self.sizes)):
            if len(np.unique(seen[:, k])) != n:
                raise DataError(f"sprites: a {attr} value is held out entirely; lower num_held_out")
        self.identities = self.training_ids if split == "train" else self.held_out
        self.length = {"train": self.nominal_epoch, "val": c.num_val, "test": c.num_test}[split]
        self.infinite = split == "train"
        self._mask_cache: dict[tuple[int, int], torch.Tensor] = {}
        self._palette = {k: torch.tensor(v, dtype=torch.float32) for k, v in PALETTES.items()}
        self._fixed = {k: torch.tensor(v, dtype=torch.float32) for k, v in FIXED.items()}

    def __len__(self) -> int:
        return self.length

    # -- what a clip is made of -----------------------------------------------------------------
    def sample(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(attributes (4,) as (skin, top, pants, hair), classes (k,) as 3 * action + view)."""
        if index < 0 or (not self.infinite and index >= self.length):
            raise IndexError(f"index {index} out of range for {self.split} split of {self.length}")
        rng = np.random.default_rng([self.seed, SPLIT_CODES[self.split], index, 4004])
        identity = self.identities[rng.integers(len(self.identities))]
        classes = rng.integers(0, len(ACTIONS) * len(VIEWS), size=self.config.clips_per_identity)
        return np.array(np.unravel_index(identity, self.sizes)), classes

    def masks(self, cls: int, style: int) -> torch.Tensor:
        """Layer coverage of class `cls` and hair style, (CYCLE, L, S, S)."""
        action, view = divmod(int(cls), len(VIEWS))
        return torch.from_numpy(_masks(action, view, style, self.config.image_size))

    def layer_weights(self, cls: int, style: int) -> torch.Tensor:
        """How much each layer and the background show in each pixel, (CYCLE, L + 1, S*S), cached.

        Painting layers in order, pixel = background * prod_l (1 - a_l) + sum_l c_l a_l
        prod_{m > l} (1 - a_m): linear in the colours, so a clip is one matrix product of its
        colours with these weights (the last row is the background's).
        """
        key = (int(cls), int(style))
        if key not in self._mask_cache:
            alpha = self.masks(cls, style).flatten(2)  # (CYCLE, L, S*S)
            rows, hidden = [], torch.ones_like(alpha[:, 0])  # hidden: prod of (1 - a) above
            for layer in reversed(range(alpha.shape[1])):
                rows.append(alpha[:, layer] * hidden)
                hidden = hidden * (1 - alpha[:, layer])
            self._mask_cache[key] = torch.stack([*reversed(rows), hidden], 1)  # (CYCLE, L + 1, S*S)
        return self._mask_cache[key]

    def colours(self, attributes: np.ndarray, view: int) -> torch.Tensor:
        """Colour of each layer and the white background (L + 1, 3) for a character (skin, top,
        pants, hair) seen from `view`."""
        chosen = dict(zip(ATTRIBUTES, (int(a) for a in attributes)))
        rows = []
        for _, source, shade in LAYERS:
            colour = self._palette[source][chosen[source]] if source in chosen else self._fixed[source]
            rows.append(colour * (shade if view != 1 else 1.0))
        return torch.stack([*rows, torch.ones(3)])

    def render(self, attributes: np.ndarray, classes: np.ndarray) -> torch.Tensor:
        """Video (k * num_frames, 3, S, S) of one character performing each class in turn."""
        S, T = self.config.image_size, self.config.num_frames
        frames = torch.arange(T) % CYCLE
        style = int(attributes[3]) % NUM_STYLES
        clips = []
        for cls in classes:
            weights = self.layer_weights(cls, style)  # (CYCLE, L + 1, S*S)
            weights = weights if T == CYCLE else weights[frames]
            colours = self.colours(attributes, int(cls) % len(VIEWS))  # (L + 1, 3)
            clips.append(torch.matmul(colours.T, weights))  # (T, 3, S*S)
        return torch.cat(clips).view(-1, 3, S, S).clamp_(0, 1)

    def render_many(self, attributes: list, classes: list) -> torch.Tensor:
        """Videos (B, k * num_frames, 3, S, S): one matrix product per clip."""
        return torch.stack([self.render(a, c) for a, c in zip(attributes, classes)])

    def _item_factors(self, attributes: np.ndarray, classes: np.ndarray) -> dict:
        factors = {attr: torch.tensor(int(v)) for attr, v in zip(ATTRIBUTES, attributes)}
        factors["action"] = torch.tensor(int(classes[0]))
        return factors

    def __getitem__(self, index: int) -> dict:
        attributes, classes = self.sample(int(index))
        return {"video": self.render(attributes, classes), "factors": self._item_factors(attributes, classes)}

    def batch(self, indices) -> dict:
        """Vectorised over the batch; the same dict as collating the items."""
        drawn = [self.sample(int(i)) for i in indices]
        video = self.render_many([a for a, _ in drawn], [c for _, c in drawn])
        factors = [self._item_factors(a, c) for a, c in drawn]
        return {"video": video, "factors": {k: torch.stack([f[k] for f in factors]) for k in factors[0]}}

    def render_swap(self, index_a: int, index_b: int, assignment=None) -> torch.Tensor:
        """Clip A's character (skin, top, pants, hair) performing clip B's action(s) and view(s)."""
        attributes, _ = self.sample(int(index_a))
        _, classes = self.sample(int(index_b))
        return self.render(attributes, classes)

    def character_ids(self, indices) -> np.ndarray:
        """The flat character index (into num_skin x num_top x num_pants x num_hair) of each clip."""
        return np.array([np.ravel_multi_index(tuple(self.sample(int(i))[0]), self.sizes) for i in indices])

"""Compose a scene: a layout of boxes, one fractal instance fitted into each box.

Everything of scene ``index`` comes from ``keys.generator(seed, "scene", index)``, drawn in
this order: the layout (``layout.sample_layout``), then one object id per placed box,
uniform over ``n_categories * instances_per_category`` (category = id // per_category,
instance = id % per_category), then the optional floor points, then the optional wall
points. Each object's cloud is ``pcfractal.pointclouds.instances.make_instance(systems, category,
instance, seed)``, the very instance the ``instances`` subcommand writes for that key (before
its storage dtype), made on the fly. The cloud is fitted so that its tight local bounding box
equals the box size (each axis scaled), rotated by yaw about +z and moved to the box centre.

Point order: object 0's ``n_points`` points, object 1's, ..., then floor, then walls.

Masks follow mmdet3d's ScanNet convention (raw ids, mapped by PointSegClassMapping):

- ``instance_mask``: object k's points carry k + 1; floor and wall points carry 0.
- ``semantic_mask``: an object's points carry its label + 1; floor and wall points carry 0
  (ScanNet's "unannotated"). With ``seg_valid_class_ids = (1, ..., C)`` mmdet3d's
  ``seg_label_mapping`` (see ``seg_label_mapping``) sends 0 to C (ignored) and label+1 to
  label, so VoteNet's ``with_rot=False`` vote targets skip the background.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, field

import numpy as np
from numba import njit

from pcfractal.core import keys
from pcfractal.pointclouds.instances import InstanceSettings, make_instance

from .layout import max_footprint, sample_layout

LABEL_MODES = ("category", "object")


MAX_ROOM = 10_000.0  # metres: anything larger is a typo (float32 points lose centimetres)
MAX_OBJECTS = 10_000
MAX_BACKGROUND = 100_000_000


@dataclass(frozen=True)
class SceneSettings:
    """Everything that defines a scene besides the categories and the seed.

    Defaults follow PCFRACTALDB.md ("3D scenes"). Lengths in metres, angles in radians.

    Attributes:
        base_objects: objects per scene = base_objects + Poisson(extra_objects_mean). Default 15.
        extra_objects_mean: the Poisson mean. Default 5.0 (mean 20 objects).
        size_range: box size s ~ U[size_range]. Default (0.75, 1.25).
        aspect_range: size = s * (1, a_y, a_z), a_y, a_z ~ U[aspect_range]. Default (0.9, 1.1).
        room_size: centres x, y ~ U[-room_size/2, room_size/2]. Default 15.0.
        yaw_range: yaw ~ U[yaw_range]. Default (-pi, pi); (0, 0) gives axis-aligned boxes
            (what mmdet3d's ScanNet VoteNet config, with_rot=False, assumes).
        margin: overlap rule margin. Default 0.25.
        max_tries: centre tries per object before the scene stops growing. Default 100.
        instances_per_category: objects draw (category, instance) uniformly from
            n_categories x this. Default 1,000 (PC-FractalDB-1k).
        label_mode: "category" (label = fractal category, default) or "object" (one class).
        floor_points: points spread uniformly on the floor square z = 0. Default 0 (off).
        wall_points: points spread uniformly on the four walls. Default 0 (off).
        wall_height: height of the walls. Default 3.0.
    """

    base_objects: int = field(default=15, metadata={"help": "objects per scene = this + Poisson(--extra-objects)"})
    extra_objects_mean: float = field(default=5.0, metadata={"help": "Poisson mean of the extra objects", "flag": "extra-objects"})
    size_range: tuple[float, float] = field(default=(0.75, 1.25), metadata={"help": "box size s ~ U[LO, HI] in metres"})
    aspect_range: tuple[float, float] = field(default=(0.9, 1.1), metadata={"help": "box = s x (1, U[LO, HI], U[LO, HI])"})
    room_size: float = field(default=15.0, metadata={"help": "room side in metres; centres in [-size/2, size/2]"})
    yaw_range: tuple[float, float] = field(
        default=(-math.pi, math.pi), metadata={"help": "yaw ~ U[LO, HI] radians (--axis-aligned: 0)", "cli": False}
    )
    margin: float = field(default=0.25, metadata={"help": "overlap rule margin in metres"})
    max_tries: int = field(default=100, metadata={"help": "placement tries per object before the scene stops growing"})
    instances_per_category: int = field(
        default=1000, metadata={"help": "objects draw (category, instance) from categories x this", "cli": False}
    )
    label_mode: str = field(
        default="category", metadata={"help": "box labels: the fractal category or one class 'object'", "choices": LABEL_MODES}
    )
    floor_points: int = field(default=0, metadata={"help": "points on the floor (background)"})
    wall_points: int = field(default=0, metadata={"help": "points on the four walls (background)"})
    wall_height: float = field(default=3.0, metadata={"help": "wall height in metres"})

    def validate(self) -> "SceneSettings":
        """Return self, or raise ValueError naming the bad setting and what to do."""
        numbers = (
            self.extra_objects_mean,
            *self.size_range,
            *self.aspect_range,
            self.room_size,
            *self.yaw_range,
            self.margin,
            self.wall_height,
        )
        if not all(math.isfinite(float(v)) for v in numbers):
            raise ValueError("scene settings must be finite numbers (got inf or nan)")
        if self.room_size > MAX_ROOM or max(self.size_range) > MAX_ROOM or self.margin > MAX_ROOM or self.wall_height > MAX_ROOM:
            raise ValueError(f"room_size, sizes, margin and wall_height must be at most {MAX_ROOM:g} m")
        if self.base_objects > MAX_OBJECTS or self.extra_objects_mean > MAX_OBJECTS:
            raise ValueError(f"base_objects and extra_objects_mean must be at most {MAX_OBJECTS:,} (objects per scene)")
        if self.floor_points > MAX_BACKGROUND or self.wall_points > MAX_BACKGROUND:
            raise ValueError(f"floor_points and wall_points must be at most {MAX_BACKGROUND:,}")
        if self.base_objects < 0 or self.extra_objects_mean < 0:
            raise ValueError("object counts: base_objects and extra_objects_mean must be >= 0")
        if self.base_objects == 0 and self.extra_objects_mean == 0:
            raise ValueError("object counts: base_objects = 0 and extra_objects_mean = 0 give empty scenes")
        lo, hi = self.size_range
        if not 0 < lo <= hi:
            raise ValueError(f"size_range must satisfy 0 < lo <= hi, got {self.size_range}")
        alo, ahi = self.aspect_range
        if not 0 < alo <= ahi:
            raise ValueError(f"aspect_range must satisfy 0 < lo <= hi, got {self.aspect_range}")
        if not self.yaw_range[0] <= self.yaw_range[1]:
            raise ValueError(f"yaw_range must satisfy lo <= hi, got {self.yaw_range}")
        if not (self.margin >= 0 and self.max_tries >= 1):
            raise ValueError("margin must be >= 0 and max_tries >= 1")
        need = max_footprint(self.size_range, self.aspect_range)
        if not self.room_size >= need:
            raise ValueError(
                f"room of {self.room_size:g} m is too small for any object: boxes up to {need:.3f} m across "
                f"(size_range {self.size_range}, aspect_range {self.aspect_range}) need room_size >= {need:.3f}"
            )
        if self.instances_per_category < 1:
            raise ValueError(f"instances_per_category must be >= 1, got {self.instances_per_category}")
        if self.label_mode not in LABEL_MODES:
            raise ValueError(f"label_mode must be one of {LABEL_MODES}, got {self.label_mode!r}")
        if self.floor_points < 0 or self.wall_points < 0 or not self.wall_height > 0:
            raise ValueError("floor_points and wall_points must be >= 0 and wall_height > 0")
        return self

    def layout_kwargs(self) -> dict:
        return {
            k: getattr(self, k)
            for k in ("base_objects", "extra_objects_mean", "size_range", "aspect_range", "room_size", "yaw_range", "margin", "max_tries")
        }

    def to_dict(self) -> dict:
        """Plain JSON-able dict (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


@dataclass
class Scene:
    """A neutral scene object; writers translate it into one format each.

    Attributes:
        points: (P, 3) float32 xyz in metres, P = K * n_points + floor_points + wall_points.
        instance_mask: (P,) int64; object k -> k + 1, background (floor/walls) -> 0.
        semantic_mask: (P,) int64; label + 1 for object points, 0 for background.
        boxes: (K, 7) float64 (x, y, z, dx, dy, dz, yaw), gravity centre, full sizes, yaw about
            +z counter-clockwise from +x (DepthInstance3DBoxes with origin (0.5, 0.5, 0.5)).
        labels: (K,) int64 detection labels in [0, len(classes)).
        categories: (K,) int64 fractal category of each object.
        instances: (K,) int64 instance index (within its category) of each object.
        index, seed: the scene's key.
        wanted: object count drawn before the overlap rule stopped the scene (>= K).
        classes: the class names that ``labels`` index.
        n_points: points per object.
    """

    points: np.ndarray
    instance_mask: np.ndarray
    semantic_mask: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray
    categories: np.ndarray
    instances: np.ndarray
    index: int
    seed: int
    wanted: int
    classes: tuple[str, ...] = field(repr=False, default=())
    n_points: int = 4000

    @property
    def num_objects(self) -> int:
        return int(len(self.boxes))

    def object_points(self, k: int) -> np.ndarray:
        """(n_points, 3) view of object k's points."""
        return self.points[k * self.n_points : (k + 1) * self.n_points]


@dataclass
class ScenePlan:
    """What a scene holds without its points: the layout and the object ids (cheap)."""

    boxes: np.ndarray
    categories: np.ndarray
    instances: np.ndarray
    wanted: int
    rng: np.random.Generator  # positioned after the object ids (floor and walls come next)


def class_names(n_categories: int, label_mode: str = "category") -> tuple[str, ...]:
    """Class names for the labels: ('fractal_0000', ...) per category, or ('object',)."""
    if label_mode == "object":
        return ("object",)
    width = max(4, len(str(n_categories - 1)))
    return tuple(f"fractal_{c:0{width}d}" for c in range(n_categories))


def seg_label_mapping(num_classes: int) -> np.ndarray:
    """mmdet3d's ``seg_label_mapping`` for our raw semantic ids: (C + 1,) int64 with
    mapping[0] = C (background, ignored) and mapping[label + 1] = label."""
    m = np.empty(num_classes + 1, dtype=np.int64)
    m[0] = num_classes
    m[1:] = np.arange(num_classes)
    return m


def check_systems(systems, settings: SceneSettings) -> int:
    n = len(systems)
    if n < 2:
        raise ValueError(f"scenes need at least 2 categories (FractalNoiseMix takes noise from another one), got {n}")
    return n


def plan_scene(n_categories: int, index: int, seed: int, settings: SceneSettings = SceneSettings()) -> ScenePlan:
    """The layout and object ids of scene ``index`` (no points: microseconds)."""
    rng = keys.generator(seed, "scene", index)
    boxes, wanted = sample_layout(rng, **settings.layout_kwargs())
    per = settings.instances_per_category
    ids = rng.integers(n_categories * per, size=len(boxes), dtype=np.int64)
    return ScenePlan(boxes, ids // per, ids % per, wanted, rng)


@functools.lru_cache(maxsize=8)
def _weight_table(instance_settings: InstanceSettings) -> np.ndarray:
    t = instance_settings.table()
    t.setflags(write=False)
    return t


@njit(cache=True, nogil=True)
def fit_into_box(points, box):
    """Fit (n, 3) float32 ``points`` in place into ``box`` (x, y, z, dx, dy, dz, yaw).

    Each axis is scaled so that the cloud's tight bounding box equals (dx, dy, dz) (a flat
    axis is put at the box's mid-plane), then rotated by yaw about +z and moved to (x, y, z).
    Arithmetic in float64, stored as float32.
    """
    n = points.shape[0]
    if n == 0:
        return
    lx = hx = np.float64(points[0, 0])
    ly = hy = np.float64(points[0, 1])
    lz = hz = np.float64(points[0, 2])
    for i in range(1, n):
        x = np.float64(points[i, 0])
        y = np.float64(points[i, 1])
        z = np.float64(points[i, 2])
        lx = min(lx, x)
        hx = max(hx, x)
        ly = min(ly, y)
        hy = max(hy, y)
        lz = min(lz, z)
        hz = max(hz, z)
    mx, my, mz = 0.5 * (lx + hx), 0.5 * (ly + hy), 0.5 * (lz + hz)
    sx = box[3] / (hx - lx) if hx > lx else 0.0
    sy = box[4] / (hy - ly) if hy > ly else 0.0
    sz = box[5] / (hz - lz) if hz > lz else 0.0
    c = np.cos(box[6])
    s = np.sin(box[6])
    # rotation folded into the per-axis scales: world = centre + R @ diag(scale) @ (p - mid)
    a00, a01, a10, a11 = c * sx, -s * sy, s * sx, c * sy
    for i in range(n):
        x = np.float64(points[i, 0]) - mx
        y = np.float64(points[i, 1]) - my
        z = np.float64(points[i, 2]) - mz
        points[i, 0] = box[0] + a00 * x + a01 * y
        points[i, 1] = box[1] + a10 * x + a11 * y
        points[i, 2] = box[2] + sz * z


def _background(rng: np.random.Generator, settings: SceneSettings, out: np.ndarray) -> None:
    """Floor then wall points into ``out`` ((floor_points + wall_points, 3) float32)."""
    half = 0.5 * settings.room_size
    nf, nw = settings.floor_points, settings.wall_points
    if nf:
        u = rng.random((nf, 2))
        out[:nf, :2] = -half + settings.room_size * u
        out[:nf, 2] = 0.0
    if nw:
        u = rng.random((nw, 2))
        t = u[:, 0] * 4.0  # position along the perimeter, one unit per wall
        wall = np.minimum(t.astype(np.int64), 3)
        a = -half + settings.room_size * (t - wall)
        w = out[nf : nf + nw]
        w[:, 0] = np.select([wall == 0, wall == 1, wall == 2], [a, half, -a], -half)
        w[:, 1] = np.select([wall == 0, wall == 1, wall == 2], [-half, a, half], -a)
        w[:, 2] = settings.wall_height * u[:, 1]


def make_scene(
    systems: list[np.ndarray],
    index: int,
    seed: int,
    settings: SceneSettings = SceneSettings(),
    instance_settings: InstanceSettings = InstanceSettings(),
    *,
    classes: tuple[str, ...] | None = None,
) -> Scene:
    """Scene ``index`` of the build (pure: no disk; equal to what the writers store).

    Args:
        systems: the category systems, a list of (N, 12) float64 arrays
            (``pcfractal.pointclouds.category_file.CategorySet.load(path).systems``); at least 2.
        index: the scene index (>= 0).
        seed: the build's seed (the same seed makes the same instances and scenes).
        settings: layout, labels, background. Defaults: PCFRACTALDB.md.
        instance_settings: points per object (default 4,000), FractalNoiseMix ratio, table.
        classes: class names to attach (default ``class_names(len(systems), label_mode)``).

    Returns:
        A ``Scene``.

    >>> # scene = make_scene(CategorySet.load("out/categories").systems, 0, seed=0)
    """
    n_cat = check_systems(systems, settings)
    if index < 0:
        raise ValueError(f"scene index must be >= 0, got {index}")
    plan = plan_scene(n_cat, index, seed, settings)
    return fill_scene(systems, plan, index, seed, settings, instance_settings, classes=classes)


def fill_scene(
    systems, plan: ScenePlan, index: int, seed: int, settings: SceneSettings, instance_settings: InstanceSettings, *, classes=None
) -> Scene:
    """The points and masks of a planned scene (``make_scene`` = ``plan_scene`` + this)."""
    n = instance_settings.n_points
    k = len(plan.boxes)
    n_bg = settings.floor_points + settings.wall_points
    total = k * n + n_bg
    points = np.empty((total, 3), dtype=np.float32)
    table = _weight_table(instance_settings)
    for j in range(k):
        buf = points[j * n : (j + 1) * n]
        make_instance(systems, int(plan.categories[j]), int(plan.instances[j]), seed, instance_settings, table, out=buf)
        fit_into_box(buf, plan.boxes[j])
    if n_bg:
        _background(plan.rng, settings, points[k * n :])
    if settings.label_mode == "object":
        labels = np.zeros(k, dtype=np.int64)
    else:
        labels = plan.categories.astype(np.int64, copy=True)
    instance_mask = np.zeros(total, dtype=np.int64)
    instance_mask[: k * n] = np.repeat(np.arange(1, k + 1, dtype=np.int64), n)
    semantic_mask = np.zeros(total, dtype=np.int64)
    semantic_mask[: k * n] = np.repeat(labels + 1, n)
    if classes is None:
        classes = class_names(len(systems), settings.label_mode)
    return Scene(
        points=points,
        instance_mask=instance_mask,
        semantic_mask=semantic_mask,
        boxes=plan.boxes,
        labels=labels,
        categories=plan.categories,
        instances=plan.instances,
        index=int(index),
        seed=int(seed),
        wanted=int(plan.wanted),
        classes=tuple(classes),
        n_points=n,
    )

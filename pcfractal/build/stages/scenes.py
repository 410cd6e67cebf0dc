"""The ``scenes`` stage: fractal scenes with exact oriented boxes, written by a scene
writer (``--format``: mmdet3d by default; glb/ply files to look at).

Objects are made on the fly from the category file: scene i is
``scene_builder.make_scene(systems, i, seed, ...)`` exactly. Work units are fixed chunks
of scenes (never sized by the worker count, so a resumed build with other workers keeps
its finished chunks).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pcfractal.core import keys
from pcfractal.pointclouds.instances import InstanceSettings
from pcfractal.pointclouds.presets import PRESETS, preset
from scene_builder.compose import SceneSettings, make_scene

from ..plan import Plan, array_bytes
from ..stage import RunContext, Stage, UnitWriter
from ._inputs import category_file, load_categories

SUMMARY_FILE = "scenes.json"
CHUNK = 16  # scenes per work unit
_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _formats() -> tuple[str, ...]:
    from scene_builder.writers._base import formats

    return tuple(formats())


@dataclass(frozen=True)
class ScenesSettings:
    """What defines a scene build, besides the category file's bytes."""

    categories: Path = field(default=None, metadata={"help": "a category folder or file (from 'categories')", "required": True})
    count: int | None = field(default=None, metadata={"help": "scenes to make (default: the preset's; paper = 10,000)", "metavar": "N"})
    preset: str = field(
        default="tiny",
        metadata={
            "help": "build size: " + ", ".join(f"{k} ({v['scenes']:,} scenes)" for k, v in PRESETS.items()),
            "choices": tuple(PRESETS),
        },
    )
    seed: int = field(default=0, metadata={"help": "the one seed every random draw derives from"})
    format: str = field(
        default="mmdet3d",
        metadata={
            "help": "a registered scene writer: mmdet3d (info .pkl + .bin, what VoteNet trains on), or glb/ply (one file per scene, to look at)"
        },
    )
    val_fraction: float = field(default=0.1, metadata={"help": "share of scenes (the last ones) in the val split"})
    prefix: str = field(default="pcfractal", metadata={"help": "info file prefix: PREFIX_infos_train.pkl"})
    masks: bool = field(default=True, metadata={"help": "skip the instance/semantic mask files (enough for VoteNet with rotated boxes)"})
    axis_aligned: bool = field(default=False, metadata={"help": "yaw = 0 for every box (VoteNet with_rot=False, ScanNet style)"})
    per_category: int | None = field(
        default=None,
        metadata={
            "help": "objects draw (category, instance) from categories x this (default: the preset's; paper = 1,000)",
            "metavar": "M",
        },
    )
    scene: SceneSettings = field(default_factory=SceneSettings)
    instance: InstanceSettings = field(default_factory=InstanceSettings)

    @property
    def n(self) -> int:
        return self.count if self.count is not None else preset(self.preset)["scenes"]

    def scene_settings(self):
        s = self.scene
        over = {"instances_per_category": self.per_category if self.per_category is not None else preset(self.preset)["per_category"]}
        if self.axis_aligned:
            over["yaw_range"] = (0.0, 0.0)
        return dataclasses.replace(s, **over)

    def validate(self) -> "ScenesSettings":
        keys.check_seed(self.seed)
        preset(self.preset)
        if self.n < 1:
            raise ValueError(f"--count must be at least 1 scene, got {self.n}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"--val-fraction must be in [0, 1), got {self.val_fraction}")
        if not _PREFIX.match(self.prefix) or ".." in self.prefix:
            raise ValueError(f"--prefix must be a plain file-name part (letters, digits, _ . -), got {self.prefix!r}")
        if self.format not in _formats():
            raise ValueError(f"--format must be one of {', '.join(_formats())}, got {self.format!r}")
        self.scene_settings().validate()
        self.instance.validate()
        return self


class ScenesStage(Stage):
    kind = "scenes"

    def __init__(self, settings: ScenesSettings, systems: list | None = None, categories=None):
        """``systems``: category systems given directly (a library caller); ``categories``:
        a loaded ``(CategorySet, sha256)``; else ``settings.categories`` is read."""
        self.s = settings.validate()
        if systems is not None:
            systems = [np.asarray(x, dtype=np.float64) for x in systems]
            if len(systems) < 2:
                raise ValueError(f"scenes need at least 2 categories (FractalNoiseMix), got {len(systems)}")
            digest = hashlib.sha256(b"".join(x.tobytes() + str(x.shape).encode() for x in systems)).hexdigest()
            self._cats = (systems, digest)
        elif categories is not None:
            self._cats = (categories[0].systems, categories[1])
        else:
            self._cats = None
        from scene_builder.writers._base import get_writer

        self.writer = get_writer(self.s.format, prefix=self.s.prefix, masks=self.s.masks, val_fraction=self.s.val_fraction)

    def check_inputs(self) -> None:
        if self._cats is None:
            cats, digest = load_categories(self.s.categories, at_least=2)
            self._cats = (cats.systems, digest)

    @property
    def systems(self):
        self.check_inputs()
        return self._cats[0]

    def inputs(self):
        return [category_file(self.s.categories)] if self.s.categories is not None else []

    def settings_dict(self) -> dict:
        self.check_inputs()
        s = self.s
        d = {
            "seed": s.seed,
            "categories_sha256": self._cats[1],
            "count": s.n,
            "val_fraction": s.val_fraction,
            "masks": s.masks,
            "prefix": s.prefix,
            "scene_settings": s.scene_settings().to_dict(),
            "instance_settings": dataclasses.asdict(s.instance),
        }
        if s.format != "mmdet3d":
            d["format"] = s.format
        return d

    def owns(self, rel: str) -> bool:
        return rel == SUMMARY_FILE or self.writer.owns(rel, self.s.n)

    def plan(self, probe: bool = False) -> Plan:
        return plan_scenes(self, probe)

    def units(self):
        for start in range(0, self.s.n, CHUNK):
            stop = min(start + CHUNK, self.s.n)
            yield f"{start:06d}-{stop - 1:06d}", (start, stop)

    def run_unit(self, w: UnitWriter, start: int, stop: int) -> dict:
        s, sc = self.s, self.s.scene_settings()
        records, objects = [], 0
        for i in range(start, stop):
            scene = make_scene(self.systems, i, s.seed, sc, s.instance, classes=())
            if not np.all(np.isfinite(scene.points)):
                raise RuntimeError(f"scene {i}: non-finite points (a bug: please report it with the command)")
            records.append(self.writer.write_scene(w, scene))
            objects += scene.num_objects
        return {"objects": objects, "scenes": records}

    def finish(self, ctx: RunContext, results: list) -> dict:
        s = self.s
        records = [r for res in results for r in res["scenes"]]
        res = self.writer.finish(
            ctx.writer, records, s.n, s.seed, s.scene_settings(), s.instance, len(self.systems), {"categories_sha256": self._cats[1]}
        )
        self.written = res
        info = {**self.settings_dict(), **{k: v for k, v in res.items() if k != "count"}, "count": s.n}
        ctx.writer.write_json(SUMMARY_FILE, info)
        return {"scenes": s.n, "objects": sum(r["objects"] for r in results), **({"points": res["points"]} if "points" in res else {})}

    def summary(self, ctx, results):
        s = self.s
        secs = time.perf_counter() - ctx.t0
        rows = [
            (
                "format",
                s.format
                + (
                    ""
                    if s.format != "mmdet3d"
                    else f": points/*.bin{', instance_mask/, semantic_mask/' if s.masks else ''}, {s.prefix}_infos_{{train,val}}.pkl"
                ),
            ),
            ("objects", f"{sum(r['objects'] for r in results):,} ({sum(r['objects'] for r in results) / s.n:.1f} per scene)"),
            ("throughput", f"{s.n / max(secs, 1e-9):,.1f} scenes/s"),
        ]
        if "n_train" in self.written:
            rows.insert(1, ("split", f"{self.written['n_train']} train + {self.written['n_val']} val"))
        return f"scenes: {s.n} -> {ctx.folder.given}", rows


def plan_scenes(stage: ScenesStage, probe: bool) -> Plan:
    """Bytes from the expected points per scene (exact mean object count), memory per unit,
    and the time of a few scenes made here (``probe``)."""
    s, sc = stage.s, stage.s.scene_settings()
    n_obj = sc.base_objects + sc.extra_objects_mean
    pts = n_obj * s.instance.n_points + sc.floor_points + sc.wall_points
    per_point = 12 + (16 if s.masks and s.format == "mmdet3d" else 0)
    if s.format != "mmdet3d":
        per_point = 16
    n_bytes = int(s.n * pts * per_point) + s.n * 600 + 4000
    peak_pts = (sc.base_objects + 4 * sc.extra_objects_mean + 10) * s.instance.n_points + sc.floor_points + sc.wall_points
    unit_bytes = array_bytes(int(peak_pts), itemsize=3 * 8 + 3 * 4 + 16 + 24)
    unit_seconds, notes = None, []
    if probe and (stage._cats is not None or s.categories is not None):
        make_scene(stage.systems, 0, s.seed, sc, s.instance, classes=())
        t = time.perf_counter()
        for i in range(1, 3):
            make_scene(stage.systems, i, s.seed, sc, s.instance, classes=())
        unit_seconds = (time.perf_counter() - t) / 2 * CHUNK * 1.3
        notes.append(getattr(stage, "probe_note", "") or "timed on: the input categories")
        notes.append(f"probe: {unit_seconds / CHUNK / 1.3 * 1e3:.1f} ms per scene on one core")
    notes.append(f"points: ~{pts:,.0f} per scene ({n_obj:g} objects x {s.instance.n_points:,})")
    return Plan(
        files=s.n * (3 if s.masks else 1) + 6,
        bytes=n_bytes,
        units=-(-s.n // CHUNK),
        unit_seconds=unit_seconds,
        unit_bytes=unit_bytes,
        notes=notes,
        memory_flag="--points/--base-objects/--floor-points",
    )

"""The ``instances`` stage: PC-FractalDB instances (fluctuation + FractalNoiseMix).

One work unit per category writes ``{c:06d}.info.npy`` (instances, 3) int32 (noise
category, weight row, replacement attempts) and ``{c:06d}.npy`` (instances, points, 3);
``instances.json`` summarises the build. ``--ply K`` also exports the first K instances
of the first categories as binary PLY for inspection.
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
from pcfractal.io import ply
from pcfractal.pointclouds.instances import InstanceSettings, make_category_instances
from pcfractal.pointclouds.presets import PRESETS, preset

from ..plan import Plan, array_bytes
from ..stage import RunContext, Stage, UnitWriter
from ._inputs import category_file, load_categories

SUMMARY_FILE = "instances.json"
DTYPES = {"float16": np.float16, "float32": np.float32}
PLY_CATEGORIES = 8
_NAME = re.compile(r"^(\d{6})(\.info)?\.npy$")
_PLY = re.compile(r"^ply/(\d{6})_(\d{6})\.ply$")


@dataclass(frozen=True)
class InstancesSettings:
    """What defines an instance build, besides the category file's bytes."""

    categories: Path = field(
        default=None, metadata={"help": "a category folder or file (from 'categories' or 'import-csv')", "required": True}
    )
    per_category: int | None = field(
        default=None, metadata={"help": "instances per category (default: the preset's; paper = 1,000)", "metavar": "M"}
    )
    preset: str = field(
        default="tiny",
        metadata={
            "help": "build size: " + ", ".join(f"{k} ({v['per_category']:,} per category)" for k, v in PRESETS.items()),
            "choices": tuple(PRESETS),
        },
    )
    seed: int = field(default=0, metadata={"help": "the one seed every random draw derives from"})
    dtype: str = field(
        default="float16", metadata={"help": "stored point type (float16: 24 GB for PC-FractalDB-1k)", "choices": tuple(DTYPES)}
    )
    ply: int = field(default=0, metadata={"help": "also export the first K instances of the first 8 categories as PLY", "metavar": "K"})
    instance: InstanceSettings = field(default_factory=InstanceSettings)

    @property
    def m(self) -> int:
        return self.per_category if self.per_category is not None else preset(self.preset)["per_category"]

    def validate(self) -> "InstancesSettings":
        keys.check_seed(self.seed)
        preset(self.preset)
        if self.m < 1:
            raise ValueError(f"--per-category must be at least 1, got {self.m}")
        if self.ply < 0:
            raise ValueError(f"--ply must be >= 0, got {self.ply}")
        if self.dtype not in DTYPES:
            raise ValueError(f"--dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        self.instance.validate()
        return self


class InstancesStage(Stage):
    kind = "instances"

    def __init__(self, settings: InstancesSettings, categories=None):
        """``categories``: an already loaded ``(CategorySet, sha256)`` (``build`` passes
        the one its categories stage made)."""
        self.s = settings.validate()
        self._cats = categories

    def check_inputs(self) -> None:
        if self._cats is None:
            self._cats = load_categories(self.s.categories, at_least=2)

    @property
    def systems(self):
        self.check_inputs()
        return self._cats[0].systems

    def inputs(self):
        return [category_file(self.s.categories)]

    def settings_dict(self) -> dict:
        self.check_inputs()
        return {
            "seed": self.s.seed,
            "categories_sha256": self._cats[1],
            "per_category": self.s.m,
            "dtype": self.s.dtype,
            **dataclasses.asdict(self.s.instance),
            **({"ply": self.s.ply} if self.s.ply else {}),
        }

    @property
    def n_cat(self) -> int:
        if self._cats is not None and self._cats[1] != "probe":
            return len(self._cats[0])
        return getattr(self, "planned_categories", None) or preset(self.s.preset)["categories"]

    def owns(self, rel: str) -> bool:
        m = _NAME.match(rel)
        if m:
            return int(m.group(1)) < self.n_cat
        p = _PLY.match(rel)
        if p:
            return int(p.group(1)) < min(self.n_cat, PLY_CATEGORIES) and int(p.group(2)) < min(self.s.ply, self.s.m)
        return rel == SUMMARY_FILE

    def plan(self, probe: bool = False, n_cat: int | None = None) -> Plan:
        return plan_instances(self, n_cat or self.n_cat, probe)

    def units(self):
        for c in range(self.n_cat):
            yield f"{c:06d}", (c,)

    def run_unit(self, w: UnitWriter, c: int) -> dict:
        s = self.s
        points, info = make_category_instances(self.systems, c, s.m, s.seed, s.instance)
        w.write_npy(f"{c:06d}.info.npy", info)
        stored = points.astype(DTYPES[s.dtype])
        w.write_npy(f"{c:06d}.npy", stored)
        for i in range(min(s.ply, s.m) if c < PLY_CATEGORIES else 0):
            w.write(f"ply/{c:06d}_{i:06d}.ply", ply.ply_bytes(stored[i]))
        return {"replaced": int(np.count_nonzero(info[:, 2])), "attempts": int(info[:, 2].sum())}

    def finish(self, ctx: RunContext, results: list) -> dict:
        s, n = self.s, self.n_cat
        self.replaced = sum(r["replaced"] for r in results)
        n_ply = min(s.ply, s.m) * min(n, PLY_CATEGORIES)
        ctx.writer.write_json(
            SUMMARY_FILE,
            {
                **self.settings_dict(),
                "categories": n,
                "instances": n * s.m,
                "points_per_instance": s.instance.n_points,
                "main_points": s.instance.n_main,
                "noise_points": s.instance.n_points - s.instance.n_main,
                "replaced_instances": self.replaced,
                "replacement_attempts": sum(r["attempts"] for r in results),
                "files": [f"{c:06d}.npy" for c in range(n)],
            },
        )
        return {"categories": n, "instances": n * s.m, "ply": n_ply}

    def summary(self, ctx, results):
        s, n = self.s, self.n_cat
        secs = time.perf_counter() - ctx.t0
        return f"instances: {n} x {s.m} -> {ctx.folder.given}", [
            ("points", f"{s.instance.n_points} ({s.instance.n_main} main + {s.instance.n_points - s.instance.n_main} noise), {s.dtype}"),
            ("weight table", f"{s.instance.weight_rows} rows"),
            ("replaced (diverged)", self.replaced),
            ("throughput", f"{n * s.m / max(secs, 1e-9):,.0f} instances/s (resumed units included)"),
            ("ply", f"{min(s.ply, s.m) * min(n, PLY_CATEGORIES)} files in ply/" if s.ply else "none (--ply K)"),
        ]


def npy_size(shape: tuple, dtype) -> int:
    """Exact size of the .npy file of an array of ``shape`` and ``dtype``."""
    import io

    buf = io.BytesIO()
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": tuple(shape)}
    np.lib.format.write_array_header_1_0(buf, header)
    return len(buf.getvalue()) + array_bytes(*shape, itemsize=np.dtype(dtype).itemsize)


def plan_instances(stage: InstancesStage, n_cat: int, probe: bool) -> Plan:
    """Files and bytes of an instance build (exact), memory per unit, and its time from a
    few instances made here on one core (``probe``; only for --dry-run)."""
    s = stage.s
    m, n_pts, dt = s.m, s.instance.n_points, DTYPES[s.dtype]
    n_ply = min(s.ply, m) * min(n_cat, PLY_CATEGORIES)
    n_bytes = n_cat * (npy_size((m, n_pts, 3), dt) + npy_size((m, 3), np.int32)) + 600 + 14 * n_cat + n_ply * (n_pts * 12 + 200)
    # float32 points, the stored copy, its .npy bytes, the hash: ~ (4 + 2 * itemsize) per coordinate
    unit_bytes = array_bytes(m, n_pts, 3, itemsize=4 + 2 * np.dtype(dt).itemsize) + array_bytes(n_pts, 3, itemsize=48)
    unit_seconds, notes = None, []
    if probe and stage._cats is not None:
        k = min(m, 16)
        systems = stage.systems
        make_category_instances(systems, 0, 1, s.seed, s.instance)  # load the compiled kernels
        t = time.perf_counter()
        for c in range(min(n_cat, 2)):
            pts, _ = make_category_instances(systems, c, k, s.seed, s.instance)
            hashlib.sha256(pts.astype(dt).tobytes())
        per_instance = (time.perf_counter() - t) / (k * min(n_cat, 2))
        unit_seconds = per_instance * m * 1.2
        notes.append(getattr(stage, "probe_note", "") or "timed on: the input categories")
        notes.append(f"probe: {per_instance * 1e3:.2f} ms per instance on one core ({k * min(n_cat, 2)} made)")
    notes.append(f"layout: {n_cat:,} x {{c:06d}}.npy ({m} x {n_pts} x 3 {s.dtype}) + .info.npy")
    return Plan(
        files=2 * n_cat + 2 + n_ply,
        bytes=n_bytes,
        units=n_cat,
        unit_seconds=unit_seconds,
        unit_bytes=unit_bytes,
        serial_seconds=2.0,
        notes=notes,
        memory_flag="--per-category/--points",
    )

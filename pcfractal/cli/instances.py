"""``instances``: PC-FractalDB instances (fluctuation + FractalNoiseMix), one array file per
category: ``{c:06d}.npy`` (M, n_points, 3) and ``{c:06d}.info.npy`` (M, 3) int32 with
(noise_category, weight_row, attempts); ``instances.json`` when all are done, then
``manifest.json`` last. A category is one work unit (local processes or Ray); a killed
build resumes at the first category file missing."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from pcfractal.io import atomic
from pcfractal.pointclouds.instances import InstanceSettings, make_category_instances
from pcfractal.pointclouds.presets import preset
from pcfractal.pointclouds.category_file import CATEGORY_FILE, CategorySet
from ._common import (
    CliError,
    OutputDir,
    Plan,
    add_common,
    build_errors,
    check_writable_parent,
    executor_for,
    positive_int,
    progress,
    report_plan,
    summary,
)

SUMMARY_FILE = "instances.json"
DTYPES = {"float16": np.float16, "float32": np.float32}


def register(sub) -> None:
    p = sub.add_parser(
        "instances",
        help="make instances of every category (FractalNoiseMix)",
        description="For each category, --per-category instances: a fluctuated copy of the category "
        "(weight table) with its own random stream, mixed with noise points from another category.",
    )
    p.add_argument("--categories", type=Path, required=True, help="a category folder or file (from 'categories' or 'import-csv')")
    p.add_argument("--per-category", type=positive_int, help="instances per category (default: the preset's; paper = 1,000)")
    p.add_argument("--preset", default="tiny", help="tiny, small or paper (default tiny)")
    p.add_argument("--points", type=positive_int, default=4000, help="points per instance (default 4,000)")
    p.add_argument("--ratio", type=float, default=0.8, help="main share of the points, in (0, 1) (default 0.8)")
    p.add_argument("--weight-rows", default="145", choices=["145", "121", "97", "73", "49", "25", "none"], help="fluctuation table (default 145)")
    p.add_argument("--dtype", default="float16", choices=sorted(DTYPES), help="stored point type (default float16: 24 GB for PC-FractalDB-1k)")
    p.add_argument("--ply", type=int, default=0, metavar="K", help="also export the first K instances of the first categories as PLY for inspection")
    add_common(p, "output folder for the instance arrays")
    p.set_defaults(func=run)


@functools.lru_cache(maxsize=4)
def _systems(path: str, digest: str) -> list[np.ndarray]:
    return CategorySet.load(path).systems


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _unit(cat_path: str, digest: str, category: int, count: int, seed: int, settings: InstanceSettings, dtype: str, out: str) -> dict:
    """Make and write one category's instances (runs in a worker)."""
    target = Path(out) / f"{category:06d}.npy"
    info_path = Path(out) / f"{category:06d}.info.npy"
    if target.is_file() and info_path.is_file():  # resumed build: this unit is done
        info = np.load(info_path)
    else:
        points, info = make_category_instances(_systems(cat_path, digest), category, count, seed, settings)
        atomic.write_npy(info_path, info)
        atomic.write_npy(target, points.astype(DTYPES[dtype]))  # the points file last marks the unit done
    return {"category": category, "replaced": int(np.count_nonzero(info[:, 2])), "attempts": int(info[:, 2].sum())}


def run(args) -> int:
    cat_file = args.categories / CATEGORY_FILE if args.categories.is_dir() else args.categories
    cats = CategorySet.load(cat_file)
    per_cat = args.per_category or preset(args.preset)["per_category"]
    settings = InstanceSettings(
        n_points=args.points, ratio=args.ratio, weight_rows=1 if args.weight_rows == "none" else int(args.weight_rows)
    ).validate()
    if len(cats) < 2:
        raise CliError(f"{cat_file}: FractalNoiseMix needs at least 2 categories, the file has {len(cats)}")
    check_writable_parent(args.out)
    digest = file_digest(cat_file)
    build = {"seed": args.seed, "categories_sha256": digest, "per_category": per_cat, "dtype": args.dtype, **dataclasses.asdict(settings)}
    n_cat = len(cats)
    n_ply = min(args.ply, per_cat) * min(n_cat, PLY_CATEGORIES) if args.ply > 0 else 0
    plan = plan_instances(cats.systems, n_cat, per_cat, args.seed, settings, args.dtype, n_ply, probe=args.dry_run)
    if args.dry_run:
        return report_plan(args, "instances", plan)
    out = OutputDir(args.out, "instances", build, args.overwrite).open(need_bytes=plan.bytes)
    t0 = time.perf_counter()
    units = ((str(cat_file), digest, c, per_cat, args.seed, settings, args.dtype, str(out.path)) for c in range(n_cat))
    results = []
    with build_errors(out.path), executor_for(args) as ex, progress(n_cat * per_cat, "instances", "inst") as bar:
        for r in ex.imap(_unit, units):
            results.append(r)
            bar.update(per_cat)
        ply = export_ply(out.path, min(args.ply, per_cat), n_cat) if args.ply > 0 else []
    elapsed = time.perf_counter() - t0
    replaced = sum(r["replaced"] for r in results)
    info = {
        **build,
        "categories": n_cat,
        "instances": n_cat * per_cat,
        "points_per_instance": settings.n_points,
        "main_points": settings.n_main,
        "noise_points": settings.n_points - settings.n_main,
        "replaced_instances": replaced,
        "replacement_attempts": sum(r["attempts"] for r in results),
        "files": [f"{c:06d}.npy" for c in range(n_cat)],
    }
    with build_errors(out.path):
        atomic.write_json(out.file(SUMMARY_FILE), info)
    m = out.finish(
        {"categories": n_cat, "instances": n_cat * per_cat, "ply": len(ply)},
        expected=[SUMMARY_FILE, *info["files"], *(f"{c:06d}.info.npy" for c in range(n_cat))],
    )
    size = m["total_bytes"]
    summary(
        f"instances: {n_cat} x {per_cat} in {elapsed:.1f} s -> {args.out}",
        [
            ("points", f"{settings.n_points} ({settings.n_main} main + {settings.n_points - settings.n_main} noise), {args.dtype}"),
            ("weight table", f"{settings.weight_rows} rows"),
            ("replaced (diverged)", replaced),
            ("throughput", f"{n_cat * per_cat / max(elapsed, 1e-9):,.0f} instances/s"),
            ("size", f"{size / 2**20:,.1f} MiB in {m['total_files']} files (sha256 of each in manifest.json)"),
            ("ply", f"{len(ply)} files in ply/" if ply else "none (--ply K)"),
        ],
    )
    return 0


PLY_CATEGORIES = 8


def export_ply(folder: Path, k: int, n_cat: int, max_categories: int = PLY_CATEGORIES) -> list[Path]:
    """First ``k`` instances of the first categories as PLY files through Open3D.

    Open3D picks the format from the extension, so it writes into a private temporary
    folder; the bytes then go into place atomically (a killed export leaves no stray file).
    """
    import open3d as o3d

    ply_dir = folder / "ply"
    ply_dir.mkdir(exist_ok=True)
    paths = []
    scratch = Path(tempfile.mkdtemp(prefix="pcfractal-ply-"))
    try:
        for c in range(min(n_cat, max_categories)):
            pts = np.load(folder / f"{c:06d}.npy", mmap_mode="r")
            for i in range(k):
                final = ply_dir / f"{c:06d}_{i:06d}.ply"
                paths.append(final)
                if final.is_file():
                    continue
                pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(np.asarray(pts[i], dtype=np.float64)))
                tmp = scratch / final.name
                if not o3d.io.write_point_cloud(str(tmp), pcd, write_ascii=False):
                    raise CliError(f"Open3D could not write {final}")
                atomic.write_bytes(final, tmp.read_bytes())
                tmp.unlink()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return paths


def npy_size(shape: tuple, dtype) -> int:
    """Exact size of the .npy file of an array of ``shape`` and ``dtype``."""
    buf = io.BytesIO()
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": tuple(shape)}
    np.lib.format.write_array_header_1_0(buf, header)
    return len(buf.getvalue()) + int(np.prod(shape)) * np.dtype(dtype).itemsize


def plan_instances(systems, n_cat: int, per_cat: int, seed: int, settings: InstanceSettings, dtype: str, n_ply: int, probe: bool) -> Plan:
    """Files and bytes of an instance build (exact), and its time from a few instances
    made here on one core (``probe``; only for --dry-run)."""
    n_bytes = n_cat * (npy_size((per_cat, settings.n_points, 3), DTYPES[dtype]) + npy_size((per_cat, 3), np.int32))
    n_bytes += 400 + 14 * n_cat  # build marker; instances.json lists every file
    n_bytes += n_ply * (settings.n_points * 24 + 250)  # binary PLY, float64 xyz
    unit_seconds = None
    notes = []
    if probe:
        k = min(per_cat, 16)
        make_category_instances(systems, 0, 1, seed, settings)  # load the compiled kernels
        t = time.perf_counter()
        for c in range(min(n_cat, 2)):
            points, _ = make_category_instances(systems, c, k, seed, settings)
            hashlib.sha256(atomic.npy_bytes(points.astype(DTYPES[dtype])))  # conversion, hashing
        per_instance = (time.perf_counter() - t) / (k * min(n_cat, 2))
        unit_seconds = per_instance * per_cat * 1.2  # + writing
        notes.append(f"probe: {per_instance * 1e3:.2f} ms per instance on one core ({k * min(n_cat, 2)} made, at this machine's current load)")
    notes.append(f"layout: {n_cat:,} x {{c:06d}}.npy ({per_cat} x {settings.n_points} x 3 {dtype}) + .info.npy")
    notes.append("memory: one category's points per worker (~" + f"{per_cat * settings.n_points * 3 * 6 / 2**20:,.0f} MiB)")
    return Plan(files=2 * n_cat + 2 + n_ply, bytes=n_bytes, units=n_cat, unit_seconds=unit_seconds, serial_seconds=2.0, notes=notes)

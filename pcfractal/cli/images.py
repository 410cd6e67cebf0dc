"""``images``: ExFractalDB, FractalDB or RCDB as an ImageFolder tree of grayscale PNGs.

Layout of --out: ``{category:05d}/{category:05d}_{image:05d}.png`` (one folder per class,
what torchvision's ImageFolder and timm read), plus ``classes.json`` (the categories),
``gallery.png`` (the first image of the first categories) and ``images.json`` (written
last: the build is complete). Work units are categories; a category folder is finished
when its ``.complete`` marker exists, written after its images are synced to disk, so a
killed build resumes where it stopped with the same bytes.
"""

from __future__ import annotations

import ctypes
import dataclasses
import hashlib
import json
import os
import time
import uuid
from pathlib import Path

import numpy as np

from .. import atomic, raster
from ..images import CLASSES_FILE, ClassSet, encode_gray, get_generator, list_generators
from ..images._base import settings_dict
from ..images._png import DEFAULT_LEVEL, check_level
from ..store import CATEGORY_FILE, CategorySet
from ._common import BUILD_MARKER, CliError, OutputDir, add_common, check_writable_parent, executor_for, progress, summary

GALLERY_FILE = "gallery.png"
SUMMARY_FILE = "images.json"
COMPLETE_MARKER = ".complete"


def register(sub) -> None:
    p = sub.add_parser(
        "images",
        help="image datasets: ExFractalDB, FractalDB, RCDB (ImageFolder of PNGs)",
        description="Render an image pre-training dataset into an ImageFolder tree: "
        "--kind exfractaldb (3D fractals from random viewpoints), fractaldb (2D fractals, patches) "
        "or rcdb (radial contours). Presets: tiny (each kind), exfractaldb-1k, exfractaldb-21k, "
        "fractaldb-1k, fractaldb-10k, rcdb-1k.",
    )
    p.add_argument("--kind", required=True, help=f"one of {', '.join(list_generators())}")
    p.add_argument("--preset", default="tiny", help="tiny or <kind>-1k, exfractaldb-21k, fractaldb-10k (default tiny)")
    p.add_argument("--count", type=int, help="categories (default: the preset's, or every category of --categories)")
    p.add_argument("--per-category", type=int, help="images per category (default: the preset's; 1,000 for the paper sizes)")
    p.add_argument("--size", type=int, help="image side in pixels (default: exfractaldb 224, fractaldb 362, rcdb 512)")
    p.add_argument("--points", type=int, help="points per image (exfractaldb default 100,000; fractaldb 200,000)")
    p.add_argument("--threshold", type=float, help="category search: exfractaldb variance threshold (default 0.15), fractaldb filling rate (default 0.2)")
    p.add_argument("--weight-rows", type=int, help="fluctuation table rows (exfractaldb 145, fractaldb 25)")
    p.add_argument("--weight-step", type=float, help="fractaldb: weight factor step (default 0.1; the talk's best 0.4)")
    p.add_argument("--render", help="fractaldb: patch (default) or point")
    p.add_argument("--categories", type=Path, help="exfractaldb: a category folder or file from the 'categories' subcommand (default: search)")
    p.add_argument("--png-level", type=int, default=DEFAULT_LEVEL, help=f"zlib level 0-9 (default {DEFAULT_LEVEL}: fastest; see docs/IMAGES.md)")
    p.add_argument("--gallery", type=int, default=25, help="categories shown in gallery.png (default 25; 0 = no gallery)")
    add_common(p, "output folder: the ImageFolder tree, classes.json, gallery.png, images.json")
    p.set_defaults(func=run)


def _libc_syncfs():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.syncfs
    except (OSError, AttributeError):
        return None


_SYNCFS = _libc_syncfs()


def sync_folder(folder: Path) -> None:
    """Flush a finished category to disk in one call (syncfs of its file system: ~15 ms per
    1,000 files here, against ~4 ms per file for one fsync each)."""
    if _SYNCFS is not None:
        fd = os.open(folder, os.O_RDONLY)
        try:
            if _SYNCFS(fd) == 0:
                return
        finally:
            os.close(fd)
    os.sync()


def image_name(category: int, index: int) -> str:
    return f"{category:05d}_{index:05d}.png"


def class_name(category: int) -> str:
    return f"{category:05d}"


def _unit(kind: str, settings, params: np.ndarray, category: int, per_category: int, seed: int, out: str, level: int) -> tuple[int, int, bool]:
    """Render and write one category (runs in a worker); return (category, bytes, skipped)."""
    folder = Path(out) / class_name(category)
    if (folder / COMPLETE_MARKER).is_file():
        return category, 0, True
    folder.mkdir(exist_ok=True)
    gen = get_generator(kind)
    total = 0
    token = uuid.uuid4().hex[:8]
    for i, image in gen.render_many(params, category, range(per_category), seed, settings):
        data = encode_gray(image, level)
        final = folder / image_name(category, i)
        tmp = folder / f"{final.name}.{token}{atomic.PARTIAL_SUFFIX}"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, final)  # never a partial final-named file; durability: sync below
        total += len(data)
    sync_folder(folder)
    atomic.write_text(folder / COMPLETE_MARKER, f"{per_category}\n")
    return category, total, False


def _existing_marker(path: Path):
    try:
        return json.loads((path / BUILD_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def run(args) -> int:
    # 1. Validate everything before any work or output.
    gen = get_generator(args.kind)
    pre = gen.preset(args.preset)
    overrides = {"size": args.size, "n_points": args.points, "weight_rows": args.weight_rows}
    if args.kind == "rcdb" and args.points is not None:
        raise CliError("--points does not apply to --kind rcdb (contour images have no points)")
    if args.threshold is not None:
        overrides["filling_rate" if args.kind == "fractaldb" else "threshold"] = args.threshold
        if args.kind == "rcdb":
            raise CliError("--threshold does not apply to --kind rcdb (its categories need no search)")
    if args.kind == "fractaldb":
        overrides.update(weight_step=args.weight_step, render=args.render)
    elif args.weight_step is not None or args.render is not None:
        raise CliError("--weight-step and --render apply to --kind fractaldb only")
    if args.size is not None and args.size <= 0:
        raise CliError(f"image size must be positive, got {args.size}")
    if args.points is not None and args.points <= 0:
        raise CliError(f"points per image must be positive, got {args.points}")
    if args.kind == "rcdb":
        del overrides["n_points"]
    if args.kind == "rcdb" and args.weight_rows is not None:
        raise CliError("--weight-rows does not apply to --kind rcdb")
    settings = gen.settings(args.preset, **overrides)
    level = check_level(args.png_level)
    per_cat = args.per_category if args.per_category is not None else pre["per_category"]
    if per_cat <= 0:
        raise CliError(f"images per category must be positive, got {per_cat}")
    if args.count is not None and args.count <= 0:
        raise CliError(f"category count must be positive, got {args.count}")
    if args.gallery < 0:
        raise CliError(f"--gallery must be >= 0, got {args.gallery}")
    cats = None
    if args.categories is not None:
        if args.kind != "exfractaldb":
            raise CliError("--categories applies to --kind exfractaldb only (FractalDB and RCDB make their own)")
        cat_file = args.categories / CATEGORY_FILE if args.categories.is_dir() else args.categories
        cats = CategorySet.load(cat_file)
        if args.count is not None and args.count > len(cats):
            raise CliError(f"{cat_file} holds {len(cats)} categories, fewer than --count {args.count}")
        count = args.count or len(cats)
        source = {"categories_sha256": hashlib.sha256(Path(cat_file).read_bytes()).hexdigest()}
    else:
        count = args.count or pre["categories"]
        source = {"categories": "search" if args.kind != "rcdb" else "drawn"}
    check_writable_parent(args.out)
    build = {"kind": args.kind, "preset": args.preset, "seed": args.seed, "count": count, "per_category": per_cat,
             "png_level": level, "settings": settings_dict(settings), **source}
    out = OutputDir(args.out, "images", build, args.overwrite)
    if args.out.is_dir() and any(args.out.iterdir()) and not args.overwrite and _existing_marker(args.out) != out.marker:
        raise CliError(f"output folder {args.out} is not empty and holds another build; choose a new --out or pass --overwrite")

    # 2. Categories (reused when resuming), then the output folder.
    t0 = time.perf_counter()
    classes = None
    if _existing_marker(args.out) == out.marker and (args.out / CLASSES_FILE).is_file():
        classes = ClassSet.load(args.out / CLASSES_FILE)
    with executor_for(args) as ex:
        if classes is None:
            if cats is not None:
                classes = gen.classes_from_categories(cats, settings)
                classes.params, classes.origin = classes.params[:count], classes.origin[:count]
            else:
                with progress(count, f"{args.kind} categories", "cat") as bar:
                    classes = gen.make_classes(count, args.seed, settings, executor=ex, progress=lambda n: bar.update(n - bar.n))
        t_classes = time.perf_counter() - t0
        out.open()
        if not out.file(CLASSES_FILE).is_file():
            classes.save(out.file(CLASSES_FILE))

        # 3. Images, one unit per category, in category order.
        t1 = time.perf_counter()
        units = ((args.kind, settings, classes.params[c], c, per_cat, args.seed, str(out.path), level) for c in range(count))
        written = skipped = 0
        with progress(count * per_cat, f"{args.kind} images", "img") as bar:
            for c, nbytes, was_skipped in ex.imap(_unit, units):
                written += nbytes
                skipped += was_skipped
                bar.update(per_cat)
        t_images = time.perf_counter() - t1

    # 4. Gallery and summary (deterministic bytes: no times in files).
    if args.gallery:
        tiles = [gen.render(classes.params[c], c, 0, args.seed, settings) for c in range(min(args.gallery, count))]
        atomic.write_bytes(out.file(GALLERY_FILE), encode_gray(raster.tile_grid(tiles, int(np.ceil(np.sqrt(len(tiles)))), background=128)))
    info = {**build, "classes": count, "images": count * per_cat, "layout": "{class}/{class}_{image}.png",
            "class_names": [class_name(0), class_name(count - 1)], "category_search": classes.info}
    atomic.write_json(out.file(SUMMARY_FILE), info)
    rendered = count - skipped
    rate = rendered * per_cat / max(t_images, 1e-9)
    summary(
        f"images ({args.kind}): {count} classes x {per_cat} images in {time.perf_counter() - t0:.1f} s -> {args.out}",
        [
            ("image", f"{settings.size} x {settings.size} px, grayscale PNG (zlib level {level})"
             + (f", {settings.n_points:,} points" if hasattr(settings, "n_points") else "")),
            ("categories", f"{classes.info.get('source', '?')} in {t_classes:.1f} s" + (f", acceptance {classes.info['acceptance_rate']:.3%}" if "acceptance_rate" in classes.info else "")),
            ("throughput", f"{rate:,.0f} images/s ({rendered} categories rendered, {skipped} already done)"),
            ("written", f"{written / 2**20:,.1f} MiB this run"),
            ("files", f"{{class}}/*.png, {CLASSES_FILE}, {GALLERY_FILE if args.gallery else ''} {SUMMARY_FILE}"),
        ],
    )
    return 0

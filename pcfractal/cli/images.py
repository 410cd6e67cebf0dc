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
import functools
import hashlib
import json
import os
import time
import uuid
from pathlib import Path

import numpy as np

from pcfractal.io import atomic, manifest, shards
from pcfractal.core import raster
from ..images import CLASSES_FILE, ClassSet, encode_gray, get_generator, list_generators
from ..images._base import settings_dict
from pcfractal.io.png import DEFAULT_LEVEL, check_level
from pcfractal.pointclouds.category_file import CATEGORY_FILE, CategorySet
from ._common import BUILD_MARKER, CliError, OutputDir, Plan, add_common, build_errors, check_writable_parent, executor_for, progress, report_plan, summary

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
    p.add_argument("--layout", default="folder", choices=["folder", "shards", "both"], help="folder: the ImageFolder tree (default); shards: webdataset tar shards "
                   "shard-NNNNNN.tar (keys {class}_{image}, fields png and cls; every shard mixes the classes), no loose files; both")
    p.add_argument("--shard-size", type=int, default=1000, help="images per tar shard (default 1,000)")
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
    hashes = {}
    for i, image in gen.render_many(params, category, range(per_category), seed, settings):
        data = encode_gray(image, level)
        final = folder / image_name(category, i)
        tmp = folder / f"{final.name}.{token}{atomic.PARTIAL_SUFFIX}"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, final)  # never a partial final-named file; durability: sync below
        hashes[final.name] = manifest.sha256_bytes(data)
        total += len(data)
    done = f"{per_category}\n"
    hashes[COMPLETE_MARKER] = manifest.sha256_bytes(done.encode())
    sync_folder(folder)
    manifest.write_sums(folder, hashes)  # the manifest reuses it: no reading 21M images back
    atomic.write_text(folder / COMPLETE_MARKER, done)
    return category, total, False


@functools.lru_cache(maxsize=2)
def _class_params(path: str, size: int) -> list:
    return ClassSet.load(path).params


def shard_samples(count: int, per_category: int, shard: int, shard_size: int) -> list[tuple[int, int]]:
    """(category, image) of a shard's samples. Position p of the whole set is image
    p // count of category p % count, so every shard mixes the classes; shard s holds
    positions s * shard_size onwards. A function of the indices only."""
    start = shard * shard_size
    return [(p % count, p // count) for p in range(start, min(start + shard_size, count * per_category))]


def _shard_unit(kind: str, settings, shard: int, count: int, per_category: int, shard_size: int, seed: int, out: str, level: int, from_folder: bool) -> tuple[int, int, bool]:
    """Write one webdataset shard (runs in a worker): rendered here, or read from the
    ImageFolder tree (``from_folder``). The tar goes into place atomically, then its sidecar
    (the done-marker). Returns (shard, bytes, skipped)."""
    root = Path(out)
    path = root / shards.shard_name(shard)
    if shards.shard_done(path):
        return shard, 0, True
    gen = get_generator(kind)
    params = None if from_folder else _class_params(str(root / CLASSES_FILE), (root / CLASSES_FILE).stat().st_size)

    def samples():
        for c, i in shard_samples(count, per_category, shard, shard_size):
            name = image_name(c, i)
            if from_folder:
                data = (root / class_name(c) / name).read_bytes()
            else:
                data = encode_gray(gen.render(params[c], c, i, seed, settings), level)
            yield name[: -len(".png")], {"png": data, "cls": str(c).encode()}

    info = shards.write_shard(path, samples())
    shards.write_sidecar(path, info)
    return shard, info.size, False


def plan_images(gen, settings, count: int, per_cat: int, seed: int, level: int, layout: str, shard_size: int, cats, probe: bool) -> Plan:
    """Files and bytes of an image build from two images rendered and encoded here (their
    mean PNG size), and the time on one core (``probe``; --dry-run only). The category
    search is not timed (see the categories subcommand's --dry-run)."""
    n = count * per_cat
    png, unit_seconds, notes = 0, None, []
    if probe:
        classes = gen.classes_from_categories(cats, settings) if cats is not None else gen.make_classes(1, seed, settings)
        gen.render(classes.params[0], 0, 0, seed, settings)  # load the compiled kernels
        t = time.perf_counter()
        sizes = [len(encode_gray(gen.render(classes.params[0], 0, i, seed, settings), level)) for i in (1, 2)]
        per_image = (time.perf_counter() - t) / 2
        png = sum(sizes) // 2
        unit_seconds = per_image * per_cat * (1.1 if layout != "both" else 1.3)
        notes.append(f"probe: {per_image * 1e3:.1f} ms and {png:,} bytes per image on one core (2 made; the category search is extra)")
    else:
        png = settings.size * settings.size // 16  # a floor for the free-space check (exfractaldb 224 px: ~2.5 KB measured)
    files, n_bytes = 4, 20_000 + 200 * count
    if layout in ("folder", "both"):
        files += n + 2 * count
        n_bytes += n * (png + 80)  # + the SHA256SUMS line
    if layout in ("shards", "both"):
        n_shards = -(-n // shard_size)
        files += 2 * n_shards
        n_bytes += n * (png + 512 + 511 + 1024) + n_shards * 10_240
        notes.append(f"shards: {n_shards:,} x {shard_size:,} images (shard-NNNNNN.tar + .json)")
    return Plan(files=files, bytes=n_bytes, units=count if layout != "shards" else -(-n // shard_size), unit_seconds=unit_seconds, serial_seconds=2.0, notes=notes)


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
    if args.shard_size <= 0:
        raise CliError(f"--shard-size must be positive, got {args.shard_size}")
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
    if args.layout != "folder":
        build.update(layout=args.layout, shard_size=args.shard_size)
    plan = plan_images(gen, settings, count, per_cat, args.seed, level, args.layout, args.shard_size, cats, probe=args.dry_run)
    if args.dry_run:
        return report_plan(args, "images", plan)
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
        out.open(need_bytes=plan.bytes)
        if not out.file(CLASSES_FILE).is_file():
            classes.save(out.file(CLASSES_FILE))

        # 3. Images, one unit per category, in category order; then shards if asked for.
        t1 = time.perf_counter()
        written = skipped = 0
        with build_errors(out.path):
            if args.layout in ("folder", "both"):
                units = ((args.kind, settings, classes.params[c], c, per_cat, args.seed, str(out.path), level) for c in range(count))
                with progress(count * per_cat, f"{args.kind} images", "img") as bar:
                    for c, nbytes, was_skipped in ex.imap(_unit, units):
                        written += nbytes
                        skipped += was_skipped
                        bar.update(per_cat)
            if args.layout in ("shards", "both"):
                n_shards = -(-count * per_cat // args.shard_size)
                units = ((args.kind, settings, s, count, per_cat, args.shard_size, args.seed, str(out.path), level, args.layout == "both") for s in range(n_shards))
                with progress(n_shards, f"{args.kind} shards", "shard") as bar:
                    for _, nbytes, was_skipped in ex.imap(_shard_unit, units):
                        written += nbytes
                        skipped += was_skipped * (args.layout == "shards")
                        bar.update(1)
                if args.layout == "shards":
                    skipped = count if skipped == n_shards else skipped * count // max(n_shards, 1)
        t_images = time.perf_counter() - t1

    # 4. Gallery and summary (deterministic bytes: no times in files).
    if args.gallery:
        tiles = [gen.render(classes.params[c], c, 0, args.seed, settings) for c in range(min(args.gallery, count))]
        atomic.write_bytes(out.file(GALLERY_FILE), encode_gray(raster.tile_grid(tiles, int(np.ceil(np.sqrt(len(tiles)))), background=128)))
    info = {**build, "classes": count, "images": count * per_cat, "layout": "{class}/{class}_{image}.png",
            "class_names": [class_name(0), class_name(count - 1)], "category_search": classes.info}
    if args.layout != "folder":
        info.update(layout=args.layout, shards=-(-count * per_cat // args.shard_size), shard_size=args.shard_size,
                    shard_pattern="shard-{000000..%06d}.tar" % (-(-count * per_cat // args.shard_size) - 1))
    with build_errors(out.path):
        atomic.write_json(out.file(SUMMARY_FILE), info)
    out.finish({"classes": count, "images": count * per_cat}, expected=[SUMMARY_FILE, CLASSES_FILE])
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
            ("files", ", ".join(["{class}/*.png", CLASSES_FILE] + ([GALLERY_FILE] if args.gallery else []) + [SUMMARY_FILE])),
        ],
    )
    return 0

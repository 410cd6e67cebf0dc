"""``view``: show a fractal scene (points coloured by instance, its boxes, a label per box)
in an Open3D window, render it headless to a PNG, or export it for any 3D viewer.

    pcfractal view DIR --index I                      # Open3D window (needs a display)
    pcfractal view DIR --index I --screenshot s.png   # headless PNG (starts Xvfb if needed)
    pcfractal view DIR --index I --export s.glb       # or .ply; writes the file and exits
    pcfractal view --categories CATS --seed S --index I   # made on the fly, no dataset

``--export`` and ``--screenshot`` never open a window; together they do both. Needs the
``[viewer]`` extra (Open3D, trimesh, scipy).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ._common import CliError

PROG = "pcfractal view"
DESCRIPTION = (
    "Show a fractal scene (points coloured by instance, its boxes, a label per box) in an Open3D window, "
    "render it headless to a PNG (--screenshot), or export it for any 3D viewer (--export .glb/.ply)."
)
EXPORT_SUFFIXES = (".glb", ".ply")


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
        if w < 16 or h < 16:
            raise ValueError
        return w, h
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT like 1280x960, got {text!r}") from None


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("root", nargs="?", type=Path, help="a scenes folder (from 'pcfractal scenes')")
    p.add_argument("--index", type=int, default=0, help="scene index (default 0)")
    p.add_argument("--screenshot", type=Path, metavar="PATH.png", help="render headless to a PNG instead of opening a window")
    p.add_argument("--export", type=Path, metavar="PATH", help="write the scene with its boxes as .glb or .ply (trimesh) and exit")
    p.add_argument("--no-labels", action="store_true", help="hide the box labels")
    p.add_argument("--size", type=parse_size, default=(1280, 960), help="window / image size WIDTHxHEIGHT (default 1280x960)")
    p.add_argument("--point-size", type=float, default=2.0, help="point size in pixels (default 2)")
    p.add_argument("--categories", type=Path, help="make the scene on the fly from this category folder/file instead of reading ROOT")
    p.add_argument("--seed", type=int, default=0, help="with --categories: the build seed (default 0)")
    p.add_argument("--label-mode", default="category", choices=["category", "object"], help="with --categories (default category)")
    p.add_argument("--per-category", type=int, default=1000, help="with --categories: instances per category (default 1,000)")


def register(sub) -> None:
    p = sub.add_parser(
        "view",
        help="show, screenshot or export a fractal scene (Open3D; pip install 'pcfractal[viewer]')",
        description=DESCRIPTION,
        epilog="Headless servers: --screenshot starts a private Xvfb when DISPLAY is unset; --export needs no display.",
    )
    add_arguments(p)
    p.set_defaults(func=run)


def load_written(root: Path, index: int) -> dict:
    """Scene ``index`` of a written scenes folder, as arrays plus its class names."""
    from scene_builder.writers.mmdet3d import load_info, read_scene

    if not root.is_dir():
        raise CliError(f"{root}: not a folder (give a folder written by 'pcfractal scenes')")
    prefix = None
    summary = root / "scenes.json"
    if summary.is_file():
        prefix = json.loads(summary.read_text(encoding="utf-8")).get("prefix")
    infos = sorted(root.glob(f"{prefix}_infos_*.pkl" if prefix else "*_infos_*.pkl"))
    if not infos:
        raise CliError(f"{root}: no *_infos_*.pkl here (build the scenes first, or use --categories for on-the-fly)")
    seen = 0
    for p in infos:
        info = load_info(p)
        for e in info["data_list"]:
            seen += 1
            if e.get("sample_idx") == index:
                arrays = read_scene(root, e)
                arrays["classes"] = tuple(info["metainfo"].get("classes", ()))
                arrays["source"] = f"{p.name}, scene {index}"
                return arrays
    raise CliError(f"{root}: no scene with index {index} (the infos list {seen} scenes)")


def make_on_the_fly(cat_path: Path, index: int, seed: int, label_mode: str, per_category: int) -> dict:
    """Scene ``index`` made from a category file, as the scenes stage would write it."""
    from pcfractal.pointclouds.category_file import CategorySet
    from scene_builder import SceneSettings, make_scene

    systems = CategorySet.load(cat_path).systems
    s = make_scene(systems, index, seed, SceneSettings(label_mode=label_mode, instances_per_category=per_category).validate())
    return {
        "points": s.points,
        "instance_mask": s.instance_mask,
        "boxes": s.boxes,
        "labels": s.labels,
        "classes": s.classes,
        "source": f"on the fly, scene {index}, seed {seed}",
    }


def run(args) -> int:
    if args.screenshot is not None and args.screenshot.suffix.lower() != ".png":
        raise CliError(f"{args.screenshot}: screenshots are PNG files (end the name with .png)")
    if args.export is not None and args.export.suffix.lower() not in EXPORT_SUFFIXES:
        raise CliError(f"{args.export}: export to a .glb or .ply file")
    try:
        from scene_builder import viewer
        from scene_builder.writers import mesh

        interactive = args.export is None and args.screenshot is None
        if interactive and not viewer.has_display():  # before any work: one line, no window
            raise CliError(
                "no display for an interactive window (DISPLAY is unset): use --screenshot PATH.png for a picture, or --export PATH.glb for a file"
            )
        if args.categories is not None:
            scene = make_on_the_fly(args.categories, args.index, args.seed, args.label_mode, args.per_category)
        elif args.root is not None:
            scene = load_written(args.root, args.index)
        else:
            raise CliError("give a scenes folder, or --categories DIR for a scene made on the fly")
        n, n_points = len(scene["boxes"]), len(scene["points"])
        if args.export is not None:
            path = mesh.export(args.export, scene["points"], scene["instance_mask"], scene["boxes"])
            print(f"wrote {path} ({scene['source']}: {n} objects, {n_points:,} points)")
        if args.screenshot is not None:
            viewer.ensure_display()  # before Open3D is imported
        if interactive or args.screenshot is not None:
            geoms = viewer.geometries(
                scene["points"], scene["instance_mask"], scene["boxes"], scene["labels"], scene["classes"], show_labels=not args.no_labels
            )
        if args.screenshot is not None:
            path = viewer.screenshot(args.screenshot, geoms, args.size, args.point_size)
            print(f"wrote {path} ({scene['source']}: {n} objects, {n_points:,} points)")
        if interactive:
            print(f"{scene['source']}: {n} objects, {n_points:,} points (Q or Esc closes the window)")
            viewer.show(geoms, f"pcfractal: {scene['source']}", args.size, args.point_size)
    except ImportError as e:  # a missing extra: the message names it
        raise CliError(str(e)) from None
    return 0


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    """The view command on its own (tools/view_scene.py): exit code 0, or 2 with one error line."""
    p = argparse.ArgumentParser(prog=prog, description=DESCRIPTION)
    add_arguments(p)
    args = p.parse_args(argv)
    try:
        return run(args)
    except KeyboardInterrupt:
        return 130
    except (CliError, ValueError, OSError, RuntimeError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2

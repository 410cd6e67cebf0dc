#!/usr/bin/env python
"""View a fractal scene: points coloured by instance, its boxes and a label per box.

    python tools/view_scene.py DIR --index I                     # Open3D window
    python tools/view_scene.py DIR --index I --screenshot s.png  # headless PNG
    python tools/view_scene.py DIR --index I --export s.glb      # or .ply, for any 3D viewer
    python tools/view_scene.py --categories CATS --seed S --index I   # on the fly, no dataset

DIR is a folder written by ``build_pcfractal.py scenes``. --screenshot needs no screen: when
DISPLAY is unset it starts a private Xvfb (Debian package xvfb). See docs/SCENES.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PROG = "view_scene.py"


class ToolError(Exception):
    pass


def load_written(root: Path, index: int) -> dict:
    import json

    from scene_builder.writers.mmdet3d import load_info, read_scene

    if not root.is_dir():
        raise ToolError(f"{root}: not a folder (give a folder written by 'build_pcfractal.py scenes')")
    prefix = None
    summary = root / "scenes.json"
    if summary.is_file():
        prefix = json.loads(summary.read_text(encoding="utf-8")).get("prefix")
    infos = sorted(root.glob(f"{prefix}_infos_*.pkl" if prefix else "*_infos_*.pkl"))
    if not infos:
        raise ToolError(f"{root}: no *_infos_*.pkl here (build the scenes first, or use --categories for on-the-fly)")
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
    raise ToolError(f"{root}: no scene with index {index} (the infos list {seen} scenes)")


def make_on_the_fly(cat_path: Path, index: int, seed: int, label_mode: str, per_category: int) -> dict:
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


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
        if w < 16 or h < 16:
            raise ValueError
        return w, h
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT like 1280x960, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0], epilog="See docs/SCENES.md.")
    p.add_argument("root", nargs="?", type=Path, help="a scenes folder (from 'build_pcfractal.py scenes')")
    p.add_argument("--index", type=int, default=0, help="scene index (default 0)")
    p.add_argument("--screenshot", type=Path, metavar="PATH.png", help="render headless to a PNG instead of opening a window")
    p.add_argument("--export", type=Path, metavar="PATH", help="also write the scene with its boxes as .glb or .ply (trimesh)")
    p.add_argument("--no-labels", action="store_true", help="hide the box labels")
    p.add_argument("--size", type=parse_size, default=(1280, 960), help="window / image size WIDTHxHEIGHT (default 1280x960)")
    p.add_argument("--point-size", type=float, default=2.0, help="point size in pixels (default 2)")
    p.add_argument("--categories", type=Path, help="make the scene on the fly from this category folder/file instead of reading ROOT")
    p.add_argument("--seed", type=int, default=0, help="with --categories: the build seed (default 0)")
    p.add_argument("--label-mode", default="category", choices=["category", "object"], help="with --categories (default category)")
    p.add_argument("--per-category", type=int, default=1000, help="with --categories: instances per category (default 1,000)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.screenshot is not None and args.screenshot.suffix.lower() != ".png":
            raise ToolError(f"{args.screenshot}: screenshots are PNG files (end the name with .png)")
        if args.export is not None and args.export.suffix.lower() not in (".glb", ".ply"):
            raise ToolError(f"{args.export}: export to a .glb or .ply file")
        if args.categories is not None:
            scene = make_on_the_fly(args.categories, args.index, args.seed, args.label_mode, args.per_category)
        elif args.root is not None:
            scene = load_written(args.root, args.index)
        else:
            raise ToolError("give a scenes folder, or --categories DIR for a scene made on the fly")
        if args.export is not None:
            from scene_builder.writers import mesh

            print(f"wrote {mesh.export(args.export, scene['points'], scene['instance_mask'], scene['boxes'])}")
        from scene_builder import viewer

        if args.screenshot is not None:
            viewer.ensure_display()  # before Open3D is imported
        geoms = viewer.geometries(scene["points"], scene["instance_mask"], scene["boxes"], scene["labels"], scene["classes"], show_labels=not args.no_labels)
        n = len(scene["boxes"])
        if args.screenshot is not None:
            path = viewer.screenshot(args.screenshot, geoms, args.size, args.point_size)
            print(f"wrote {path} ({scene['source']}: {n} objects, {len(scene['points']):,} points)")
        else:
            print(f"{scene['source']}: {n} objects, {len(scene['points']):,} points (Q or Esc closes the window)")
            viewer.show(geoms, f"pcfractal: {scene['source']}", args.size, args.point_size)
    except (ToolError, OSError, ValueError, RuntimeError) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

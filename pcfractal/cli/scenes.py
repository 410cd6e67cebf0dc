"""``scenes``: fractal scenes with oriented 3D boxes, written as an mmdetection3d 1.x dataset.

Objects are made on the fly from the category file (no instance files needed): scene i is
``scene_builder.make_scene(systems, i, seed, ...)`` exactly. Output (see
scene_builder/writers/mmdet3d.py and docs/SCENES.md): points/, instance_mask/,
semantic_mask/ (one .bin per scene), {prefix}_infos_train.pkl, {prefix}_infos_val.pkl, and
scenes.json last.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from pcfractal.io import atomic
from pcfractal.pointclouds.instances import InstanceSettings
from pcfractal.pointclouds.presets import preset
from pcfractal.pointclouds.category_file import CATEGORY_FILE, CategorySet
from ._common import CliError, OutputDir, Plan, add_common, build_errors, check_writable_parent, executor_for, positive_int, progress, report_plan, summary
from .instances import file_digest

SUMMARY_FILE = "scenes.json"


def register(sub) -> None:
    p = sub.add_parser(
        "scenes",
        help="fractal scenes with 3D boxes, as an mmdetection3d dataset",
        description="Random rooms of fractal objects (PC-FractalDB instances made on the fly) with exact, tight "
        "oriented 3D boxes, written as mmdetection3d 1.x reads ScanNet: points/*.bin (float32 xyz), "
        "instance_mask/*.bin and semantic_mask/*.bin (int64), {prefix}_infos_{train,val}.pkl.",
    )
    p.add_argument("--categories", type=Path, required=True, help="a category folder or file (from 'categories')")
    p.add_argument("--count", type=int, help="scenes to make (default: the preset's; paper = 10,000)")
    p.add_argument("--preset", default="tiny", help="tiny, small or paper (default tiny)")
    p.add_argument("--val-fraction", type=float, default=0.1, help="share of scenes (the last ones) in the val split (default 0.1)")
    p.add_argument("--label-mode", default="category", choices=["category", "object"], help="box labels: the fractal category (default) or one class 'object'")
    p.add_argument("--per-category", type=positive_int, help="objects draw (category, instance) from categories x this (default: the preset's; paper = 1,000)")
    p.add_argument("--points", type=positive_int, default=4000, help="points per object (default 4,000)")
    p.add_argument("--ratio", type=float, default=0.8, help="FractalNoiseMix main share per object (default 0.8)")
    p.add_argument("--weight-rows", default="145", choices=["145", "121", "97", "73", "49", "25", "none"], help="fluctuation table (default 145)")
    p.add_argument("--base-objects", type=int, default=15, help="objects per scene = this + Poisson(--extra-objects) (default 15)")
    p.add_argument("--extra-objects", type=float, default=5.0, help="Poisson mean of the extra objects (default 5)")
    p.add_argument("--room-size", type=float, default=15.0, help="room side in metres; centres in [-size/2, size/2] (default 15)")
    p.add_argument("--margin", type=float, default=0.25, help="overlap rule margin in metres (default 0.25)")
    p.add_argument("--max-tries", type=positive_int, default=100, help="placement tries per object before the scene stops growing (default 100)")
    p.add_argument("--axis-aligned", action="store_true", help="yaw = 0 for every box (for VoteNet with_rot=False, ScanNet style)")
    p.add_argument("--floor-points", type=int, default=0, help="points on the floor (background, default 0)")
    p.add_argument("--wall-points", type=int, default=0, help="points on the four walls (background, default 0)")
    p.add_argument("--no-masks", action="store_true", help="skip the instance/semantic mask files (enough for VoteNet with_rot=True)")
    p.add_argument("--prefix", default="pcfractal", help="info file prefix: PREFIX_infos_train.pkl (default pcfractal)")
    add_common(p, "output folder for the mmdet3d dataset")
    p.set_defaults(func=run)


def settings_from_args(args, n_categories: int | None = None):
    from scene_builder import SceneSettings

    pre = preset(args.preset)
    count = pre["scenes"] if args.count is None else args.count
    if count < 1:
        raise CliError(f"--count must be at least 1 scene, got {count}")
    if not 0.0 <= args.val_fraction < 1.0:
        raise CliError(f"--val-fraction must be in [0, 1), got {args.val_fraction}")
    s = SceneSettings(
        base_objects=args.base_objects,
        extra_objects_mean=args.extra_objects,
        room_size=args.room_size,
        yaw_range=(0.0, 0.0) if args.axis_aligned else SceneSettings.yaw_range,
        margin=args.margin,
        max_tries=args.max_tries,
        instances_per_category=args.per_category or pre["per_category"],
        label_mode=args.label_mode,
        floor_points=args.floor_points,
        wall_points=args.wall_points,
    ).validate()
    inst = InstanceSettings(
        n_points=args.points, ratio=args.ratio, weight_rows=1 if args.weight_rows == "none" else int(args.weight_rows)
    ).validate()
    return count, s, inst


def run(args) -> int:
    from scene_builder.writers import mmdet3d as writer

    count, s, inst = settings_from_args(args)  # validate every option before touching disk
    cat_file = args.categories / CATEGORY_FILE if args.categories.is_dir() else args.categories
    cats = CategorySet.load(cat_file)
    if len(cats) < 2:
        raise CliError(f"{cat_file}: scenes need at least 2 categories (FractalNoiseMix), the file has {len(cats)}")
    check_writable_parent(args.out)
    digest = file_digest(cat_file)
    build = {
        "seed": args.seed,
        "categories_sha256": digest,
        "count": count,
        "val_fraction": args.val_fraction,
        "masks": not args.no_masks,
        "prefix": args.prefix,
        "scene_settings": s.to_dict(),
        "instance_settings": dataclasses.asdict(inst),
    }
    plan = plan_scenes(cats.systems, count, args.seed, s, inst, not args.no_masks, probe=args.dry_run)
    if args.dry_run:
        return report_plan(args, "scenes", plan)
    out = OutputDir(args.out, "scenes", build, args.overwrite).open(need_bytes=plan.bytes)
    t0 = time.perf_counter()
    with build_errors(out.path), executor_for(args) as ex, progress(count, "scenes", "scene") as bar:
        res = writer.write_dataset(
            out.path,
            cats.systems,
            count,
            args.seed,
            s,
            inst,
            val_fraction=args.val_fraction,
            prefix=args.prefix,
            masks=not args.no_masks,
            executor=ex,
            progress=bar.update,
            provenance={"categories_sha256": digest},
        )
    elapsed = time.perf_counter() - t0
    size = sum(f.stat().st_size for d in ("points", "instance_mask", "semantic_mask") if (out.path / d).is_dir() for f in (out.path / d).iterdir())
    info = {**build, **{k: v for k, v in res.items() if k not in ("train_info", "val_info", "made", "bytes_written")}}
    info["train_info"] = f"{args.prefix}_infos_train.pkl"
    info["val_info"] = f"{args.prefix}_infos_val.pkl"
    with build_errors(out.path):
        atomic.write_json(out.file(SUMMARY_FILE), info)
    out.finish({"scenes": count, "objects": res["objects"], "points": res["points"]}, expected=[SUMMARY_FILE, info["train_info"], info["val_info"]])
    summary(
        f"scenes: {count} in {elapsed:.1f} s -> {args.out}",
        [
            ("split", f"{res['n_train']} train + {res['n_val']} val"),
            ("objects", f"{res['objects']:,} ({res['objects'] / count:.1f} per scene), {res['classes']} classes ({args.label_mode})"),
            ("points", f"{res['points']:,} ({inst.n_points} per object)"),
            ("made now", f"{res['made']} (the rest were already there)" if out.resumed else res["made"]),
            ("throughput", f"{count / max(elapsed, 1e-9):,.1f} scenes/s"),
            ("size", f"{size / 2**20:,.1f} MiB ({size / count / 2**20:.2f} MiB per scene)"),
            ("infos", f"{info['train_info']}, {info['val_info']}"),
            ("view", f"python tools/view_scene.py {args.out} --index 0"),
        ],
    )
    return 0


def plan_scenes(systems, count: int, seed: int, s, inst: InstanceSettings, masks: bool, probe: bool) -> Plan:
    """Files and bytes of a scene build (objects per scene at their mean), and its time from
    two scenes made here on one core (``probe``, for --dry-run only)."""
    from scene_builder import make_scene

    objects = s.base_objects + s.extra_objects_mean
    per_point = 12 + (16 if masks else 0)  # float32 xyz + two int64 masks
    per_scene = (objects * inst.n_points + s.floor_points + s.wall_points) * per_point + 600  # + its info entry
    unit_seconds, notes = None, [f"per scene: ~{objects:g} objects x {inst.n_points} points, {per_scene / 2**20:.2f} MiB"]
    if probe:
        make_scene(systems, 0, seed, s, inst, classes=())  # load the compiled kernels
        t = time.perf_counter()
        made = [make_scene(systems, i, seed, s, inst, classes=()) for i in range(1, min(count, 3))] or [make_scene(systems, 0, seed, s, inst, classes=())]
        unit_seconds = (time.perf_counter() - t) / len(made) * 1.2  # + writing
        notes.append(f"probe: {unit_seconds / 1.2:.2f} s per scene on one core ({len(made)} made)")
    n_dirs = 3 if masks else 1
    return Plan(files=count * n_dirs + n_dirs + 4, bytes=int(count * per_scene) + 2000, units=count, unit_seconds=unit_seconds, serial_seconds=2.0, notes=notes)

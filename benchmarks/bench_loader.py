"""Data-loader benchmark: on-the-fly fractal scenes through the whole mmdet3d pipeline, per core.

    python benchmarks/bench_loader.py                 # 40 samples, 20 categories
    python benchmarks/bench_loader.py --quick         # 8 samples
    python benchmarks/bench_loader.py --categories data/pcfractal/categories/categories.json

The training dataset of votenet_cfg/pretrain_votenet_fractal_onthefly.py (the real
config: scene build, flips, rotation, scaling, 40,000-point sampling, packing) runs in
this one process; the figure is samples/s per core (= per loader worker). Beside it,
the reference measured in the same run on the same scenes: the bare
``scene_builder.make_scene`` (the scene alone, no mmdet3d steps). With ``--it-per-s``
and ``--batch`` it also says how many loader workers feed a GPU at that rate
(scripts/gpu_check.sh measures the GPU's rate).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=40)
    ap.add_argument("--quick", action="store_true", help="8 samples")
    ap.add_argument("--categories", help="a category file (default: a search for --count)")
    ap.add_argument("--count", type=int, default=20, help="categories to search when none is given")
    ap.add_argument("--it-per-s", type=float, help="a GPU training rate to feed")
    ap.add_argument("--batch", type=int, default=8)
    args = ap.parse_args(argv)
    n = 8 if args.quick else args.samples
    if n < 1 or args.count < 1:
        ap.error("--samples and --count must be >= 1")
    try:
        from pcfractal.mmdet3d import throughput as tp
    except ImportError as e:
        print(f"bench_loader: error: the mmdetection3d stack does not import ({e})", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        cats = args.categories
        if cats is None:
            t = time.perf_counter()
            cats = tp.make_categories(Path(tmp), args.count)
            print(f"category search: {args.count} categories in {time.perf_counter() - t:.1f} s")
        cfg = tp.load_cfg(tp.ONTHEFLY_CFG, cats)
        r = tp.loader_rate(cfg, n)
    print(
        f"loader, whole mmdet3d pipeline ({tp.ONTHEFLY_CFG.name}, {r['points_per_sample']:.0f} "
        f"points/sample): {r['samples_per_s']:.2f} samples/s per core ({r['ms_per_sample']:.0f} ms/sample, "
        f"{n} samples)"
    )
    if "scene_ms" in r:
        print(
            f"reference, bare make_scene on the same scenes: {r['scene_ms']:.0f} ms/scene "
            f"({1e3 / r['scene_ms']:.2f} scenes/s per core); the mmdet3d steps add "
            f"{r['ms_per_sample'] - r['scene_ms']:.0f} ms"
        )
    if args.it_per_s:
        w = tp.workers_needed(args.it_per_s, args.batch, r["samples_per_s"])
        print(f"to feed {args.it_per_s:.2f} it/s at batch {args.batch}: {w} loader workers")
    return 0


if __name__ == "__main__":
    sys.exit(main())

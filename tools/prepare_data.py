#!/usr/bin/env python
"""Prepare ScanNetV2 or SUN RGB-D for the VoteNet configs, with mmdet3d 1.4's own converters.

    python tools/prepare_data.py scannet RAW OUT [--workers N] [--splits DIR] [--label-map TSV]
    python tools/prepare_data.py sunrgbd RAW OUT [--workers N] [--seed S]

scannet: RAW is the ScanNet v2 download (scans/, scans_test/,
scannetv2-labels.combined.tsv) plus ScanNet's split lists
scannetv2_{train,val,test}.txt (in RAW, RAW/meta_data or --splits DIR).
sunrgbd: RAW holds sunrgbd_trainval/, the output of the MATLAB/Octave extraction
(docs/TRAINING.md). OUT receives what mmdet3d's tools/create_data.py writes
(info .pkl files, points/, masks); the configs read it as data/scannet or
data/sunrgbd. Re-running resumes the ScanNet export. No PYTHONPATH needed.
"""

import argparse
import os
import sys
import time


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1]
    )
    ap.add_argument("dataset", choices=["scannet", "sunrgbd"])
    ap.add_argument("raw", help="the dataset as downloaded (scannet) or extracted (sunrgbd)")
    ap.add_argument("out", help="output folder (e.g. data/scannet)")
    ap.add_argument(
        "--workers",
        type=int,
        default=min(8, os.cpu_count() or 1),
        help="processes for the ScanNet export, threads for mmdet3d (default: min(8, cores))",
    )
    ap.add_argument("--splits", help="scannet: folder holding scannetv2_{train,val,test}.txt")
    ap.add_argument("--label-map", help="scannet: scannetv2-labels.combined.tsv (default: RAW/...)")
    ap.add_argument("--seed", type=int, default=0, help="sunrgbd: seeds numpy's generator for mmdet3d's 50,000-point subsample")
    ap.add_argument("--verbose", action="store_true", help="show mmdet3d's per-sample lines")
    args = ap.parse_args(argv)
    if args.workers < 1:
        ap.error("--workers must be >= 1")
    if not os.path.isdir(args.raw):
        print(f"prepare_data: error: {args.raw} is not a folder", file=sys.stderr)
        return 2

    # the repository root, for `python tools/prepare_data.py` without an installed pcfractal
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        from pcfractal.mmdet3d import prepare
    except ImportError as e:
        print(f"prepare_data: error: the mmdetection3d stack does not import ({e}); run bash scripts/install_mmdet3d.sh", file=sys.stderr)
        return 1
    t0 = time.time()
    try:
        if args.dataset == "scannet":
            written = prepare.prepare_scannet(
                args.raw, args.out, workers=args.workers, splits_dir=args.splits, label_map_file=args.label_map, verbose=args.verbose
            )
        else:
            written = prepare.prepare_sunrgbd(args.raw, args.out, workers=args.workers, seed=args.seed, verbose=args.verbose)
    except prepare.PrepareError as e:
        print(f"prepare_data: error: {e}", file=sys.stderr)
        return 2
    print(f"[prepare {args.dataset}] done in {time.time() - t0:.0f} s: " + ", ".join(str(p) for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())

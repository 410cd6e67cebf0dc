"""Make a seeded, deterministic subset of an mmdet3d info file (limited-data
fine-tuning: 1, 5, 10, 20 or 50 % of the training scenes).

    python tools/make_subset.py data/scannet/scannet_infos_train.pkl --fraction 0.1 --seed 0
    # -> data/scannet/scannet_infos_train_10pct_seed0.pkl (beside the input)
    python tools/make_subset.py INFO.pkl --fraction 0.01 --seed 0 --out OUT.pkl

Which entries: ``max(1, round(fraction * N))`` of the ``N`` entries of
``data_list``, the first ones of a permutation drawn by
``numpy.random.default_rng(seed)``, kept in their original order. The same
input, fraction and seed always give the same entries and the same bytes
(pickle protocol 4), on any machine. The output is an info file of the same
format (``metainfo`` kept, plus ``metainfo['subset']`` = fraction, seed,
count, source name and the chosen indices), so every config reads it with
its ``ann_file`` changed; the ``*_pct.py`` configs of ``votenet_cfg/limited/``
read the default output names.
"""

from __future__ import annotations

import argparse
import os.path as osp
import sys
from typing import Optional, Sequence

_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if _ROOT not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, _ROOT)

from pcfractal.mmdet3d.subsets import make_subset, subset_name, write_subset  # noqa: E402


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="tools/make_subset.py", description="Seeded subset of an mmdet3d info file (limited-data fine-tuning)."
    )
    p.add_argument("info", help="info file, e.g. data/scannet/scannet_infos_train.pkl")
    p.add_argument("--fraction", type=float, required=True, help="share of the entries to keep, in (0, 1]")
    p.add_argument("--seed", type=int, default=0, help="seed of the draw (default 0)")
    p.add_argument("--out", help="output file (default: beside the input, named {stem}_{pct}pct_seed{seed}.pkl)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file that differs")
    return p.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    try:
        out = args.out or osp.join(osp.dirname(args.info), subset_name(osp.basename(args.info), args.fraction, args.seed))
        subset = make_subset(args.info, args.fraction, args.seed)
        status = write_subset(subset, out, overwrite=args.overwrite)
    except (OSError, ValueError) as e:
        print(f"make_subset: error: {e}", file=sys.stderr)
        return 2
    meta = subset["metainfo"]["subset"]
    print(f"{out}: {meta['count']} of {meta['source_count']} entries (fraction {meta['fraction']:g}, seed {meta['seed']}; {status})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Seeded subsets of mmdet3d info files, for limited-data fine-tuning
(``tools/make_subset.py``) and the configs that read them.

A subset keeps ``max(1, round(fraction * N))`` entries of ``data_list``: the
first ones of ``numpy.random.default_rng(seed).permutation(N)``, in their
original order. It depends only on (N, fraction, seed), so the same scenes
are chosen on every machine, and the file is written with a fixed pickle
protocol, so the same input gives the same bytes.
"""

from __future__ import annotations

import os
import os.path as osp
import pickle
from typing import Optional

import numpy as np

__all__ = ["LIMITED_FRACTIONS", "subset_indices", "subset_name", "make_subset", "write_subset", "repeat_times"]

# the limited-data study: 1, 5, 10, 20 and 50 % of the training scenes
LIMITED_FRACTIONS = (0.01, 0.05, 0.10, 0.20, 0.50)
PICKLE_PROTOCOL = 4


def _check_fraction(fraction: float) -> float:
    fraction = float(fraction)
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    return fraction


def subset_indices(n: int, fraction: float, seed: int) -> np.ndarray:
    """Sorted indices of the entries a subset of ``n`` entries keeps."""
    fraction = _check_fraction(fraction)
    if n < 1:
        raise ValueError("the info file has no entries")
    count = max(1, int(round(fraction * n)))
    perm = np.random.default_rng(int(seed)).permutation(n)
    return np.sort(perm[:count])


def pct_tag(fraction: float) -> str:
    """0.1 -> '10pct', 0.01 -> '1pct', 0.005 -> '0p5pct'."""
    pct = round(_check_fraction(fraction) * 100, 6)
    text = str(int(pct)) if pct == int(pct) else f"{pct:g}".replace(".", "p")
    return f"{text}pct"


def subset_name(info_name: str, fraction: float, seed: int) -> str:
    """The default file name of a subset:
    ``scannet_infos_train.pkl`` -> ``scannet_infos_train_10pct_seed0.pkl``."""
    stem, ext = osp.splitext(osp.basename(info_name))
    return f"{stem}_{pct_tag(fraction)}_seed{int(seed)}{ext or '.pkl'}"


def repeat_times(fraction: float) -> int:
    """How often a subset is repeated per epoch so that an epoch has about as
    many iterations as on the whole data (the limited-data configs' policy:
    same iterations, same schedule)."""
    return max(1, int(round(1.0 / _check_fraction(fraction))))


def make_subset(info_path: str, fraction: float, seed: int) -> dict:
    """The subset of the info file at ``info_path`` (a dict with
    ``metainfo`` and ``data_list``)."""
    if not osp.isfile(info_path):
        raise FileNotFoundError(f"{info_path}: no such info file")
    with open(info_path, "rb") as f:
        data = pickle.load(f)
    if not isinstance(data, dict) or "data_list" not in data:
        raise ValueError(f"{info_path}: not an mmdet3d-1.x info file (a dict with 'metainfo' and 'data_list')")
    entries = list(data["data_list"])
    idx = subset_indices(len(entries), fraction, seed)
    meta = dict(data.get("metainfo") or {})
    if "subset" in meta:
        raise ValueError(
            f"{info_path} is itself a subset ({meta['subset']['fraction']:g} of {meta['subset']['source']}); subset the full file"
        )
    meta["subset"] = dict(
        fraction=float(fraction),
        seed=int(seed),
        count=int(len(idx)),
        source=osp.basename(info_path),
        source_count=len(entries),
        indices=[int(i) for i in idx],
    )
    out = dict(data)
    out["metainfo"] = meta
    out["data_list"] = [entries[i] for i in idx]
    return out


def write_subset(subset: dict, out_path: str, overwrite: bool = False) -> str:
    """Write ``subset`` atomically; returns 'written', or 'unchanged' when the
    file already holds these bytes. A different existing file is kept unless
    ``overwrite``."""
    blob = pickle.dumps(subset, protocol=PICKLE_PROTOCOL)
    if osp.isfile(out_path):
        with open(out_path, "rb") as f:
            if f.read() == blob:
                return "unchanged"
        if not overwrite:
            raise ValueError(f"{out_path} exists and differs (use --overwrite to replace it)")
    folder = osp.dirname(osp.abspath(out_path))
    os.makedirs(folder, exist_ok=True)
    tmp = f"{out_path}.{os.getpid()}.partial"
    with open(tmp, "wb") as f:
        f.write(blob)
    os.replace(tmp, out_path)
    return "written"


def read_subset_meta(info_path: str) -> Optional[dict]:
    """``metainfo['subset']`` of an info file, or None for a full file."""
    with open(info_path, "rb") as f:
        data = pickle.load(f)
    return (data.get("metainfo") or {}).get("subset")

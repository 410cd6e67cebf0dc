"""Load an image output with the libraries users train with, and check every label.

Runs under ``.venv-loaders/bin/python`` (torch + torchvision + timm + datasets +
webdataset: torchvision from PyPI does not import beside the main venv's CPU torch), started
by ``tests/loaders/test_loaders.py``. It imports nothing from pcfractal.

    driver.py --tree DIR [--shards DIR] [--card-root DIR] --classes 00000,00001,...

``--tree``: the ImageFolder root (class folders of ``{class}_{image}.png``); ``--shards``: the
folder of the ``*.tar`` shards (webdataset, fields png and cls, timm's ``_info.json``); ``--card-root``: a folder whose
README.md dataset card ``datasets.load_dataset(DIR)`` must read. The true label of every
image is the index of its class name (the file name's prefix) in ``--classes``. Prints one
line per loader checked; exits 1 with one line per problem.
"""

from __future__ import annotations

import argparse
import glob
import io
import os
import sys
from pathlib import Path

import numpy as np
from PIL import Image

PROBLEMS: list[str] = []


def problem(where: str, what: str) -> None:
    PROBLEMS.append(f"{where}: {what}")


def true_class(name: str) -> str:
    """The class of a file or sample key ``{class}_{image}[.png]``."""
    return Path(name).name.rsplit("_", 1)[0]


def gray(img) -> np.ndarray:
    """Pixels of a decoded image as (H, W) uint8 (first channel of RGB)."""
    a = np.asarray(img)
    return a[..., 0] if a.ndim == 3 else a


def check_pairs(where: str, pairs, classes: list[str], expect_n: int, reference: dict[str, np.ndarray]) -> None:
    """``pairs``: (name or key, label, pixels or None); every label must be its class's index."""
    seen = 0
    for name, label, pixels in pairs:
        seen += 1
        want = classes.index(true_class(name)) if true_class(name) in classes else None
        if want is None or int(label) != want:
            problem(where, f"{name} has label {label}, expected {want} (class {true_class(name)!r})")
            return
        key = Path(name).name.removesuffix(".png")
        if pixels is not None and key in reference and not np.array_equal(gray(pixels), reference[key]):
            problem(where, f"{name}: pixels differ from the PNG file")
            return
    if seen != expect_n:
        problem(where, f"{seen} samples, expected {expect_n}")
    else:
        print(f"ok {where}: {seen} samples, labels match the class folders")


def check_tree(tree: Path, classes: list[str], reference: dict[str, np.ndarray], n: int) -> None:
    import timm.data
    import torchvision

    ds = torchvision.datasets.ImageFolder(str(tree))
    if ds.classes != classes:
        problem("torchvision ImageFolder", f"classes {ds.classes[:5]}... != {classes[:5]}...")
    else:
        check_pairs(
            "torchvision ImageFolder",
            ((p, t, ds.loader(p) if i < 8 else None) for i, (p, t) in enumerate(ds.samples)),
            classes,
            n,
            reference,
        )

    ds = timm.data.ImageDataset(str(tree))
    mapping = ds.reader.class_to_idx
    if mapping != {c: k for k, c in enumerate(classes)}:
        problem(
            "timm ImageDataset",
            f"class_to_idx {dict(list(mapping.items())[:4])}... does not map the class folders to 0..{len(classes) - 1}",
        )
    else:
        items = ((ds.filename(i, absolute=True), ds[i][1], ds[i][0] if i < 8 else None) for i in range(len(ds)))
        check_pairs("timm ImageDataset", items, classes, n, reference)

    import datasets

    hf = datasets.load_dataset("imagefolder", data_dir=str(tree), split="train")
    check_hf("datasets imagefolder", hf, classes, n, reference)


def check_hf(where: str, hf, classes: list[str], n: int, reference) -> None:
    import datasets

    if "label" not in hf.features:
        problem(where, f"no label column (columns {list(hf.features)}): the labels were dropped")
        return
    names = hf.features["label"].names
    if names != classes:
        problem(where, f"label names {names[:5]}... != {classes[:5]}...")
        return
    raw = hf.cast_column("image", datasets.Image(decode=False))
    pairs = (
        (
            r["image"]["path"],
            r["label"],
            Image.open(io.BytesIO(r["image"]["bytes"])) if r["image"]["bytes"] else Image.open(r["image"]["path"]),
        )
        for r in raw
    )
    check_pairs(where, pairs, classes, n, reference)


def check_card(root: Path, classes: list[str], n: int, reference) -> None:
    import datasets

    hf = datasets.load_dataset(str(root), split="train")
    check_hf("datasets load_dataset(DIR) with the dataset card", hf, classes, n, reference)


def check_shards(shard_dir: Path, classes: list[str], n: int, reference) -> None:
    shards = sorted(glob.glob(str(shard_dir / "*.tar")))
    if not shards:
        problem("shards", f"no *.tar in {shard_dir}")
        return
    import webdataset as wds

    ds = wds.WebDataset(shards, shardshuffle=False, empty_check=False).decode("pil").to_tuple("__key__", "png", "cls")
    check_pairs("webdataset", ((k, c, img) for k, img, c in ds), classes, n, reference)

    import datasets

    hf = datasets.load_dataset("webdataset", data_files={"train": shards}, split="train")
    pairs = ((r["__key__"], r["cls"], r["png"]) for r in hf)
    check_pairs("datasets webdataset", pairs, classes, n, reference)

    import timm.data

    # timm's wds reader, with no split spelled out by hand: it reads _info.json beside the shards.
    try:
        ds = timm.data.create_dataset("wds/pcfractal", root=str(shard_dir), split="train", is_training=False, batch_size=1)
        items = list(iter(ds))
    except Exception as e:  # noqa: BLE001 - any failure is the finding
        problem("timm wds reader", f"{type(e).__name__}: {e}")
        return
    keys = [None] * len(items)
    try:  # timm yields (image, target); the key is not exposed, so labels are checked by pixels
        by_pixels = {gray(v).tobytes(): k for k, v in reference.items()}
        keys = [by_pixels.get(gray(img).tobytes()) for img, _ in items]
    except Exception as e:  # noqa: BLE001
        problem("timm wds reader", f"{type(e).__name__}: {e}")
        return
    if None in keys:
        problem("timm wds reader", "an image matches no PNG of the tree")
        return
    check_pairs("timm wds reader", ((k, t, None) for k, (_, t) in zip(keys, items)), classes, n, reference)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tree", type=Path, required=True)
    ap.add_argument("--shards", type=Path)
    ap.add_argument("--card-root", type=Path)
    ap.add_argument("--classes", required=True, help="class names, comma separated, in label order")
    args = ap.parse_args()
    classes = args.classes.split(",")
    files = sorted(args.tree.glob("*/*.png"))
    reference = {p.stem: gray(Image.open(p)) for p in files}
    n = len(files)
    check_tree(args.tree, classes, reference, n)
    if args.card_root is not None:
        check_card(args.card_root, classes, n, reference)
    if args.shards is not None:
        check_shards(args.shards, classes, n, reference)
    for p in PROBLEMS:
        print(f"PROBLEM {p}", file=sys.stderr)
    return 1 if PROBLEMS else 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())

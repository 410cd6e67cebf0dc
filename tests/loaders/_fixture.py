"""A small image output in the documented layout, for the loader tests.

    OUT/README.md  classes.json  gallery.png  images.json  manifest.json
    OUT/train/{class}/{class}_{image}.png          (layout folder or both)
    OUT/shards/train-NNNNNN.tar + _info.json       (layout shards or both)

Made from the library (generator, gallery, dataset card, shard writer), so the loader
tests do not depend on the build command's own code.
"""

from __future__ import annotations

import json
from pathlib import Path

from pcfractal.images import encode_gray, get_generator
from pcfractal.images.gallery import image_gallery_png
from pcfractal.io import shards
from pcfractal.io.card import dataset_card

ROOT = Path(__file__).resolve().parents[2]
LOADERS_PYTHON = ROOT / ".venv-loaders" / "bin" / "python"

KIND, COUNT, PER_CLASS, SIZE, SEED = "rcdb", 3, 4, 32, 0


def timm_wds_info(shard_samples: list[tuple[str, int]], num_classes: int) -> dict:
    """What timm's wds reader reads from ``_info.json`` beside the shards (timm 1.0
    ``readers/reader_wds.py``): per split name, its shard names and sample counts."""
    return {
        "name": "pcfractal",
        "num_classes": num_classes,
        "splits": {"train": {
            "name": "train",
            "num_samples": sum(n for _, n in shard_samples),
            "filenames": [name for name, _ in shard_samples],
            "shard_lengths": [n for _, n in shard_samples],
        }},
    }


def make_image_output(out: Path, layout: str = "both") -> tuple[Path, list[str]]:
    """Write the output; return it and the class names in label order."""
    gen = get_generator(KIND)
    settings = gen.settings("tiny", size=SIZE)
    classes = gen.make_classes(COUNT, SEED, settings)
    names = [f"{c:05d}" for c in range(COUNT)]
    train = out / "train"
    train.mkdir(parents=True)
    samples = []
    for c, name in enumerate(names):
        for i in range(PER_CLASS):
            png = encode_gray(gen.render(classes.params[c], c, i, SEED, settings))
            samples.append((f"{name}_{i:05d}", {"png": png, "cls": str(c).encode()}))
            if layout in ("folder", "both"):
                (train / name).mkdir(exist_ok=True)
                (train / name / f"{name}_{i:05d}.png").write_bytes(png)
    if layout in ("shards", "both"):
        parts = [samples[0::2], samples[1::2]]  # every shard mixes the classes
        shard_dir = out / "shards"
        shard_dir.mkdir()
        written = []
        for k, part in enumerate(parts):
            info = shards.write_shard(shard_dir / f"train-{k:06d}.tar", part)
            written.append((f"train-{k:06d}.tar", info.samples))
        (shard_dir / "_info.json").write_text(json.dumps(timm_wds_info(written, COUNT)))
    classes.save(out / "classes.json")
    (out / "gallery.png").write_bytes(image_gallery_png(gen, classes, SEED, settings, max_classes=COUNT, per_class=2))
    (out / "images.json").write_text(json.dumps({"kind": KIND, "categories": COUNT, "per_category": PER_CLASS, "class_names": names}))
    (out / "manifest.json").write_text(json.dumps({"kind": "images"}))
    (out / "README.md").write_text(dataset_card(kind=KIND, class_names=names, images_per_class=PER_CLASS, seed=SEED,
                                                 settings={"size": SIZE}, command="fixture", layout=layout, image_size=SIZE))
    return out, names

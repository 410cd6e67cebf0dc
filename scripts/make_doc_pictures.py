#!/usr/bin/env python
"""Make the README's pictures under docs/img/ from the library (no build command needed).

    .venv/bin/python scripts/make_doc_pictures.py [--out docs/img] [--seed 0]

Writes pcfractaldb_categories.png (labelled categories, each with three FractalNoiseMix
instances, depth shaded), one labelled gallery per registered image dataset
({kind}_gallery.png: exfractaldb, fractaldb, rcdb, and mvfractaldb when present) and
scene.png (a fractal scene in the viewer: needs the [viewer] extra and an X display or
Xvfb). Each PNG is kept small (palette PNG, < 300 KB). Same seed, same pictures.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pcfractal.images import get_generator, list_generators  # noqa: E402
from pcfractal.images.gallery import image_gallery  # noqa: E402
from pcfractal.pointclouds import report  # noqa: E402
from pcfractal.pointclouds.search import SearchSettings, search_categories  # noqa: E402

MAX_BYTES = 300 * 1024
IMAGE_CLASSES, IMAGES_PER_CLASS, TILE = 6, 4, 80


def small_png(image: np.ndarray, colors: int = 128) -> bytes:
    """PNG bytes with at most ``colors`` palette entries (RGB) or plain gray, optimised."""
    img = Image.fromarray(image)
    if img.mode == "RGB":
        img = img.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def save(path: Path, image: np.ndarray) -> None:
    data = small_png(image)
    if len(data) > MAX_BYTES:
        data = small_png(image, colors=32)
    if len(data) > MAX_BYTES:
        raise SystemExit(f"make_doc_pictures: {path.name} is {len(data) // 1024} KB, over the {MAX_BYTES // 1024} KB limit")
    path.write_bytes(data)
    print(f"wrote {path} ({image.shape[1]}x{image.shape[0]}, {len(data) // 1024} KB)")


def categories_picture(seed: int, count: int = 6):
    res = search_categories(count, seed, SearchSettings(threshold=0.15))
    systems = [c.params for c in res.categories]
    variances = [c.variances for c in res.categories]
    return systems, report.gallery_image(systems, seed=seed, max_tiles=count, size=96, variances=variances, instances=3, columns=2)


def image_pictures(seed: int) -> dict[str, np.ndarray]:
    out = {}
    for kind in list_generators():
        gen = get_generator(kind)
        settings = gen.settings("tiny")
        classes = gen.make_classes(IMAGE_CLASSES, seed, settings)
        out[kind] = image_gallery(gen, classes, seed, settings, max_classes=IMAGE_CLASSES, per_class=IMAGES_PER_CLASS, tile=TILE, columns=2)
    return out


def scene_picture(systems, seed: int, size=(800, 600)) -> np.ndarray:
    from scene_builder import SceneSettings, make_scene, viewer

    viewer.ensure_display()
    s = make_scene(systems, 0, seed, SceneSettings(instances_per_category=100).validate())
    geoms = viewer.geometries(s.points, s.instance_mask, s.boxes, s.labels, s.classes)
    img = viewer.render(geoms, size, point_size=2.0)
    ys, xs = np.nonzero((img < 250).any(axis=-1))  # crop the white margin the room's aspect leaves
    pad = 12
    return img[max(ys.min() - pad, 0) : ys.max() + pad + 1, max(xs.min() - pad, 0) : xs.max() + pad + 1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "img")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-scene", action="store_true", help="skip the scene screenshot (it needs Open3D and a display or Xvfb)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    systems, cats = categories_picture(args.seed)
    save(args.out / "pcfractaldb_categories.png", cats)
    for kind, img in image_pictures(args.seed).items():
        save(args.out / f"{kind}_gallery.png", img)
    if not args.no_scene:
        save(args.out / "scene.png", scene_picture(systems, args.seed))
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

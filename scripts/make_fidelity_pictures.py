"""The side-by-side pictures of docs/FIDELITY.md: each generator's default beside each of
its options (the authors' behaviours and ours), rendered through the library API.

    .venv/bin/python scripts/make_fidelity_pictures.py [--out docs/img/fidelity] [--seed 0]

Writes rcdb.png, fractaldb.png, fractaldb_detail.png, exfractaldb.png, mvfractaldb.png and
pcfractaldb_instances.png (each kept under 150 KB: tiles are shown at a reduced size where
the full image would not fit, said in the caption). Same seed, same pictures.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
from PIL import Image

from pcfractal.core import raster
from pcfractal.images import get_generator
from pcfractal.images.gallery import labelled_grid

LIMIT = 150_000  # bytes per checked-in picture


def small(img: np.ndarray, size: int) -> np.ndarray:
    """``img`` shown at ``size`` px (area average, so thin lines and dots stay visible)."""
    if img.shape[0] == size:
        return img
    return np.asarray(Image.fromarray(img).resize((size, size), Image.Resampling.BOX))


def save(grid: np.ndarray, path: Path, colors: int = 256) -> None:
    """Palette PNG (``colors`` entries) with Pillow's best compression; a picture over LIMIT
    is an error (shrink it)."""
    buf = io.BytesIO()
    Image.fromarray(grid).quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        buf, format="PNG", optimize=True
    )
    data = buf.getvalue()
    if len(data) > LIMIT:
        raise SystemExit(f"{path}: {len(data):,} bytes, over {LIMIT:,}: show fewer or smaller tiles")
    path.write_bytes(data)
    print(f"{path}: {grid.shape[1]}x{grid.shape[0]}, {len(data) / 1024:.0f} KiB")


def rcdb(out: Path, seed: int) -> None:
    gen = get_generator("rcdb")
    s = gen.settings()
    classes = gen.make_classes(3, seed, s)
    cells = []
    for c in range(3):
        v, k, coef, w = classes.params[c][:4]
        tiles = [gen.render(classes.params[c], c, i, seed, s)[156:356, 156:356] for i in range(3)]
        cells.append(
            (
                [
                    f"RCDB category {c}: V={int(v)} vertices, K={int(k)} contours, c={coef:.2f}, w={w:.3f} px",
                    "images 0-2: the central 200 px of 512, full resolution",
                ],
                tiles,
            )
        )
    save(labelled_grid(cells, columns=1), out / "rcdb.png", colors=16)


def fractaldb(out: Path, seed: int) -> None:
    gen = get_generator("fractaldb")
    base = gen.settings("fractaldb-1k")
    classes = gen.make_classes(2, seed, base)
    cells, detail = [], []
    for color in ("gray", "color"):
        for render in ("patch-random", "patch-fixed", "point"):
            s = gen.settings("fractaldb-1k", render=render, color=color)
            # image 0 (identity row, render 0, no flip), image 1 (its top-bottom flip), image 40 (row 1)
            imgs = {i: im.copy() for i, im in gen.render_many(classes.params[0], 0, [0, 1, 40], seed, s)}
            default = " (default)" if (render, color) == ("patch-random", "gray") else ""
            flags = f"--render {render} --color {color}"
            cells.append(
                ([flags + default, "images 0, 1 (its flip), 40 (weight row 1); 362 px at 181"], [small(imgs[i], 181) for i in (0, 1, 40)])
            )
            crop = imgs[0][120:184, 120:184]
            detail.append(
                ([flags], [np.kron(crop, np.ones((3, 3, 1), np.uint8)) if crop.ndim == 3 else np.kron(crop, np.ones((3, 3), np.uint8))])
            )
    save(labelled_grid(cells, columns=2), out / "fractaldb.png", colors=64)
    save(labelled_grid(detail, columns=3), out / "fractaldb_detail.png")


def exfractaldb(out: Path, seed: int) -> None:
    gen = get_generator("exfractaldb")
    classes = gen.make_classes(2, seed, gen.settings(threshold=0.05))
    cells = []
    for views, n_points, note in (
        ("sphere", 100_000, "(default)"),
        ("authors", 100_000, ""),
        ("authors", 10_000, "(preset exfractaldb-1k-authors)"),
    ):
        s = gen.settings(views=views, n_points=n_points, threshold=0.05)
        imgs = {i: im.copy() for i, im in gen.render_many(classes.params[0], 0, range(6), seed, s)}
        what = "images 0-5: 6 random viewpoints" if views == "sphere" else "images 0-5: views 0-5 of model 0 (turns about y)"
        cells.append(
            ([f"--views {views} --n-points {n_points:,} {note}", what + "; 224 px at 112"], [small(imgs[i], 112) for i in range(6)])
        )
    save(labelled_grid(cells, columns=1), out / "exfractaldb.png")


def mvfractaldb(out: Path, seed: int) -> None:
    gen = get_generator("mvfractaldb")
    s = gen.settings(threshold=0.05)
    classes = gen.make_classes(2, seed, s)
    cells = []
    for c in range(2):
        for m in (0, 1):
            imgs = {i: im.copy() for i, im in gen.render_many(classes.params[c], c, range(12 * m, 12 * m + 12), seed, s)}
            cells.append(
                (
                    [f"category {c}, model {m}: views v00-v11 ({gen.image_name(c, 12 * m)} ...), 224 px at 80"],
                    [small(imgs[i], 80) for i in range(12 * m, 12 * m + 12)],
                )
            )
    save(labelled_grid(cells, columns=1), out / "mvfractaldb.png")


def instances(out: Path, seed: int) -> None:
    from pcfractal.pointclouds.instances import InstanceSettings, make_instance

    gen = get_generator("exfractaldb")
    systems = gen.make_classes(4, seed, gen.settings(threshold=0.05)).params
    camera = raster.look_at((2.6, -2.6, 1.8), fov_deg=45.0, size=150)

    def picture(inst, n_main):
        """Main points white, noise points orange, seen from one fixed camera."""
        img = np.zeros((150, 150, 3), np.uint8)
        for part, colour in ((inst.points[:n_main], (235, 235, 235)), (inst.points[n_main:], (255, 140, 0))):
            mask = raster.render_points(part.astype(np.float64), camera) > 0
            img[mask] = colour
        return img

    cells = []
    for probs in ("keep", "recompute"):
        for placement in ("centred", "authors"):
            s = InstanceSettings(probabilities=probs, noise_placement=placement).validate()
            tiles = [picture(make_instance(systems, 0, i, seed, s), s.n_main) for i in (0, 5, 77)]
            default = " (default)" if (probs, placement) == ("keep", "centred") else ""
            cells.append(
                (
                    [f"--probabilities {probs} --noise-placement {placement}{default}", "instances 0, 5, 77 of category 0; noise orange"],
                    tiles,
                )
            )
    save(labelled_grid(cells, columns=2), out / "pcfractaldb_instances.png")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "img" / "fidelity")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    for make in (rcdb, fractaldb, exfractaldb, mvfractaldb, instances):
        make(a.out, a.seed)


if __name__ == "__main__":
    main()

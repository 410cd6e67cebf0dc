"""Gallery pictures: a grid of labelled cells, each a caption over a row of tiles.

Pure functions (arrays and bytes in and out, no file written): the build stages write what
they return. ``image_gallery`` shows several images per class of an image dataset with the
class name and what its ``ClassSet`` knows about it (maps, variances, filling rate);
``pcfractal.pointclouds.report`` uses ``labelled_grid`` for the 3D categories.
Text is drawn with Pillow's default font (``ImageFont.load_default``), so no font file is
needed and the bytes are the same on every machine with the same Pillow.
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

BACKGROUND = (24, 24, 28)
CAPTION_RGB = (235, 235, 235)
FONT_SIZE = 11
LINE_HEIGHT = 13
PAD = 3


@lru_cache(maxsize=4)
def _font(size: int = FONT_SIZE):
    try:
        return ImageFont.load_default(size=size)  # Pillow >= 10.1 with FreeType: scalable
    except TypeError:  # pragma: no cover - older Pillow: the fixed bitmap font
        return ImageFont.load_default()


def _rgb(tile: np.ndarray) -> np.ndarray:
    t = np.asarray(tile)
    if t.dtype != np.uint8 or t.ndim not in (2, 3) or (t.ndim == 3 and t.shape[2] != 3):
        raise ValueError(f"gallery tiles are (H, W) or (H, W, 3) uint8, got {t.shape} {t.dtype}")
    return np.repeat(t[:, :, None], 3, axis=2) if t.ndim == 2 else t


def labelled_grid(
    cells: Sequence[tuple[Sequence[str], Sequence[np.ndarray]]], columns: int | None = None, caption_lines: int | None = None
) -> np.ndarray:
    """(H, W, 3) uint8 picture of ``cells``: each ``(caption lines, tiles)`` becomes the
    caption above its tiles side by side. All tiles share one size; cells are laid out in
    ``columns`` columns (default: about as wide as tall)."""
    if not cells:
        raise ValueError("a gallery needs at least one cell")
    tiles0 = [t for _, tiles in cells for t in tiles]
    if not tiles0:
        raise ValueError("a gallery needs at least one tile")
    th, tw = np.asarray(tiles0[0]).shape[:2]
    per_cell = max(len(tiles) for _, tiles in cells)
    n_lines = caption_lines if caption_lines is not None else max(len(lines) for lines, _ in cells)
    cell_w = per_cell * tw + (per_cell - 1) * PAD
    cell_h = n_lines * LINE_HEIGHT + PAD + th
    if columns is None:
        columns = max(1, min(len(cells), int(round(np.sqrt(len(cells) * cell_h / cell_w)))))
    rows = -(-len(cells) // columns)
    gap = 3 * PAD
    canvas = np.empty((gap + rows * (cell_h + gap), gap + columns * (cell_w + gap), 3), dtype=np.uint8)
    canvas[:] = BACKGROUND
    origins = []
    for k, (_, tiles) in enumerate(cells):
        r, c = divmod(k, columns)
        y, x = gap + r * (cell_h + gap), gap + c * (cell_w + gap)
        origins.append((x, y))
        for j, t in enumerate(tiles):
            t = _rgb(t)
            if t.shape[:2] != (th, tw):
                raise ValueError(f"gallery tiles must share one size: {t.shape[:2]} vs {(th, tw)}")
            ty, tx = y + n_lines * LINE_HEIGHT + PAD, x + j * (tw + PAD)
            canvas[ty : ty + th, tx : tx + tw] = t
    img = Image.fromarray(canvas)
    draw = ImageDraw.Draw(img)
    font = _font()
    for (lines, _), (x, y) in zip(cells, origins):
        for i, line in enumerate(list(lines)[:n_lines]):
            draw.text((x, y + i * LINE_HEIGHT), _fit(draw, str(line), font, cell_w), fill=CAPTION_RGB, font=font)
    return np.asarray(img)


def _fit(draw, text: str, font, width: int) -> str:
    """``text``, shortened with '...' to fit ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "...", font=font) > width:
        text = text[:-1]
    return text + "..."


def png(image: np.ndarray, compress_level: int = 9) -> bytes:
    """PNG bytes of a uint8 image (no time chunk: the same bytes every run)."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", compress_level=compress_level, optimize=compress_level == 9)
    return buf.getvalue()


def fmt(x: float, digits: int = 3) -> str:
    """A float for people: ``digits`` significant digits, no exponent for usual sizes."""
    return f"{float(x):.{digits}g}"


def class_facts(params: np.ndarray, origin: dict | None) -> list[str]:
    """Short facts about one class: maps of an IFS system, and from its origin the measured
    variances (3D) or filling rate (2D). Empty for parameter vectors without an origin."""
    p = np.asarray(params)
    facts = []
    if p.ndim == 2 and p.shape[1] in (6, 12):
        facts.append(f"{p.shape[0]} maps")
    o = origin or {}
    if o.get("variances"):
        facts.append("var " + "/".join(f"{float(v):.2f}" for v in o["variances"]))
    if o.get("filling_rate") is not None:
        facts.append(f"fill {float(o['filling_rate']):.2f}")
    return facts


def default_class_name(category: int) -> str:
    return f"{category:05d}"


def image_gallery(
    generator,
    classes,
    seed: int,
    settings,
    max_classes: int = 16,
    per_class: int = 4,
    tile: int = 96,
    class_name: Callable[[int], str] = default_class_name,
    columns: int | None = None,
) -> np.ndarray:
    """(H, W, 3) uint8 gallery of an image dataset: for each of the first ``max_classes``
    classes, images 0..``per_class``-1 exactly as the build renders them (``generator.render``
    with the build's ``seed`` and ``settings``), shrunk to ``tile`` px, under a caption with
    the class name and ``class_facts``; ``columns`` classes side by side (default: about square)."""
    if max_classes < 1 or per_class < 1:
        raise ValueError(f"a gallery needs at least one class and one image per class, got {max_classes} x {per_class}")
    cells = []
    for c in range(min(max_classes, len(classes))):
        tiles = [_thumbnail(generator.render(classes.params[c], c, i, seed, settings), tile) for i in range(per_class)]
        origin = classes.origin[c] if c < len(classes.origin) else {}
        facts = class_facts(classes.params[c], origin)
        cells.append(([f"class {class_name(c)}", ", ".join(facts)], tiles))
    return labelled_grid(cells, columns)


def image_gallery_png(generator, classes, seed: int, settings, **kwargs) -> bytes:
    """``image_gallery`` as PNG bytes (deterministic)."""
    return png(image_gallery(generator, classes, seed, settings, **kwargs))


def _thumbnail(image: np.ndarray, size: int) -> np.ndarray:
    """A ``size`` x ``size`` copy of a square uint8 image (area averaging; gray or RGB kept)."""
    a = np.ascontiguousarray(image)
    if a.shape[0] == size and a.shape[1] == size:
        return a.copy()
    return np.asarray(Image.fromarray(a).resize((size, size), Image.Resampling.BOX))

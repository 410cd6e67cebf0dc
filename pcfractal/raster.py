"""Point rasterising shared by every image generator and the galleries (numba, no OpenGL)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def splat(xy, image, value):
    """Set ``image[row, col] = value`` for every point ``xy[i] = (col, row)`` in pixel units
    (floored; points outside the image are skipped). Returns the number of points drawn."""
    h, w = image.shape
    drawn = 0
    for i in range(xy.shape[0]):
        cx = xy[i, 0]
        cy = xy[i, 1]
        if cx >= 0.0 and cy >= 0.0 and cx < w and cy < h:
            image[int(cy), int(cx)] = value
            drawn += 1
    return drawn


def fit_to_pixels(xy: np.ndarray, size: int, margin: float = 0.05) -> np.ndarray:
    """Scale (n, 2) coordinates uniformly (aspect kept) into a ``size`` x ``size`` image with a
    ``margin`` fraction on each side; y grows upwards in the input, downwards in the image."""
    lo = xy.min(axis=0)
    span = float((xy.max(axis=0) - lo).max()) or 1.0
    inner = size * (1.0 - 2.0 * margin)
    pix = (xy - lo) / span * inner + size * margin
    centre_shift = (inner - (xy.max(axis=0) - lo) / span * inner) / 2.0
    pix += centre_shift
    pix[:, 1] = size - pix[:, 1]
    return pix


def tile_grid(tiles: list[np.ndarray], columns: int, pad: int = 2, background: int = 0) -> np.ndarray:
    """Arrange equal-sized 2D uint8 tiles in a grid with ``pad`` pixels between them."""
    if not tiles:
        raise ValueError("no tile to arrange")
    h, w = tiles[0].shape
    rows = -(-len(tiles) // columns)
    grid = np.full((rows * (h + pad) + pad, columns * (w + pad) + pad), background, dtype=np.uint8)
    for k, t in enumerate(tiles):
        r, c = divmod(k, columns)
        grid[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) : pad + c * (w + pad) + w] = t
    return grid

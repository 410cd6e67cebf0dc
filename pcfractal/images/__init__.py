"""Image datasets from formulas: ExFractalDB, MV-FractalDB, FractalDB and RCDB (PCFRACTALDB.md sec. 2-5).

>>> from pcfractal.images import get_generator
>>> gen = get_generator("exfractaldb")
>>> s = gen.settings("tiny", size=64, n_points=2000)
>>> import numpy as np
>>> square = np.array([[.5,0,0,0,.5,0,0,0,.5,0,0,0],[.5,0,0,0,.5,0,0,0,.5,.5,.5,.5]])
>>> gen.render(square, 0, 0, seed=0, settings=s).shape
(64, 64)
"""

from pcfractal.io.png import encode, encode_gray

# Importing the modules registers the generators.
from . import exfractaldb, fractaldb, mvfractaldb, rcdb  # noqa: E402,F401
from ._base import CLASSES_FILE, ClassSet, ImageGenerator
from ._registry import get_generator, list_generators, register

__all__ = ["CLASSES_FILE", "ClassSet", "ImageGenerator", "encode", "encode_gray", "get_generator", "list_generators", "register"]

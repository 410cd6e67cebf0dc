"""pcfractal: formula-driven pre-training data (PC-FractalDB, fractal scenes, ExFractalDB, FractalDB, RCDB).

The package is pure computation: every generator takes its seed or random generator as an
argument and writes no files. Writers and command-line tools live in ``pcfractal.cli``,
``scene_builder.writers`` and ``tools/``.
"""

__version__ = "0.1.0"

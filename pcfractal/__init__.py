"""pcfractal: formula-driven pre-training data (PC-FractalDB, fractal scenes, ExFractalDB,
MV-FractalDB, FractalDB, RCDB).

The tree follows the data: ``core`` (pure kernels, seeded by argument) -> ``pointclouds``
and ``images`` (generators: clouds, categories, images; no files) -> ``io`` (atomic
writes, shards, manifests) -> ``build`` (the one stage runner: plan, checks, lock,
resume, repair, executor, seal) -> ``cli``. ``mmdet3d`` is the only code that imports
mmdetection3d; ``scene_builder`` makes scenes with exact boxes.
"""

__version__ = "0.2.0"


def __getattr__(name):
    # ``from pcfractal import CategorySet`` without importing numba at package import.
    if name == "CategorySet":
        from .pointclouds.category_file import CategorySet

        return CategorySet
    raise AttributeError(f"module 'pcfractal' has no attribute {name!r}")

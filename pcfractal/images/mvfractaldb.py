"""MV-FractalDB: the 12 views of each fluctuated 3D fractal model kept together for
multi-view pre-training (PCFRACTALDB.md sec. 5; the authors' mvfractaldb/ and
exfractaldb_render/image_render/render.py).

ExFractalDB with ``views="authors"`` and the authors' 10,000 points: image ``i`` of a
category is view ``v = i mod 12`` of model ``m = i // 12`` (model m fluctuated by weight
row ``m mod 145``, one cloud for its 12 views; yaw 2 pi v / 12 + 30 deg + a +-3.14 deg
jitter about y). Files are named ``{category:05d}_{m:05d}_v{v:02d}.png`` so a model's
views sit together; ``pcfractal.torch_datasets.MultiViewDataset`` returns them as one
sample. The image count per category must be a multiple of 12 (whole models).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._registry import register
from .exfractaldb import AUTHORS_VIEWS, ExFractalDB, ExFractalDBSettings, _f


@dataclass(frozen=True)
class MVFractalDBSettings(ExFractalDBSettings):
    """ExFractalDB's settings with the authors' multi-view defaults (10k points, 12 views)."""

    n_points: int = field(default=10_000, metadata=_f("points per model (the authors' renderer: 10,000)"))
    views: str = field(default="authors", metadata=_f("the authors' 12 views about y (the only choice for MV-FractalDB)", ("authors",)))

    def validate(self) -> "MVFractalDBSettings":
        if self.views != "authors":
            raise ValueError(f"views must be 'authors' for mvfractaldb (12 views per model), got {self.views!r}")
        return super().validate()


@register
class MVFractalDB(ExFractalDB):
    name = "mvfractaldb"
    Settings = MVFractalDBSettings
    description = "12 views about y of each fluctuated 3D fractal model, grouped per model (multi-view)"
    views_per_model = AUTHORS_VIEWS
    presets = {
        "tiny": {"categories": 4, "per_category": 24},
        # 145 models x 12 views per category (the authors' weights_ins145 table)
        "mvfractaldb-1k": {"categories": 1000, "per_category": 145 * AUTHORS_VIEWS},
    }

    def image_name(self, category: int, index: int) -> str:
        """``{category:05d}_{model:05d}_v{view:02d}.png``: model = index // 12, view = index % 12."""
        m, v = divmod(int(index), AUTHORS_VIEWS)
        return f"{category:05d}_{m:05d}_v{v:02d}.png"

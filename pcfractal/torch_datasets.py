"""On-the-fly torch Datasets: every sample is rendered in ``__getitem__`` (in the
DataLoader's workers), from its key, with nothing on disk.

``FractalImageDataset`` gives the same pixels as ``build_pcfractal.py images`` writes
(sample ``k`` is image ``k mod per_category`` of category ``k // per_category``), and
``PCFractalDataset`` the same clouds as ``build_pcfractal.py instances``. Both hold only
the category parameters, so they pickle cheaply into worker processes.

>>> ds = FractalImageDataset.from_preset("rcdb", "tiny", seed=0, size=64)
>>> img, label = ds[9]
>>> tuple(img.shape), label
((1, 64, 64), 1)
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from .images import ClassSet, get_generator
from pcfractal.pointclouds.instances import InstanceSettings, make_instance


class FractalImageDataset(Dataset):
    """Images of an ExFractalDB / FractalDB / RCDB class set, rendered on the fly.

    Args:
        classes: the categories (``ClassSet``: from ``classes.json`` of a build, or
            ``generator.make_classes``).
        per_category: images per category.
        seed: the build seed (same seed, same pixels as the written dataset).
        settings: the generator settings (defaults: the class set's own settings).
        transform: optional callable on the PIL image (torchvision transforms); without
            it a sample is a (1, H, W) uint8 tensor.

    Returns per item: (image, label) with label = category index.
    """

    def __init__(self, classes: ClassSet, per_category: int, seed: int = 0, settings=None, transform=None):
        if per_category <= 0:
            raise ValueError(f"images per category must be positive, got {per_category}")
        self.classes = classes
        self.kind = classes.kind
        gen = get_generator(classes.kind)
        self.settings = settings if settings is not None else gen.Settings(**{k: tuple(v) if isinstance(v, list) else v for k, v in classes.settings.items()}).validate()
        self.per_category = int(per_category)
        self.seed = int(seed)
        self.transform = transform
        self._gen = None

    @classmethod
    def from_preset(cls, kind: str, preset: str = "tiny", seed: int = 0, count: int | None = None, per_category: int | None = None, transform=None, **overrides) -> "FractalImageDataset":
        """Make (or search) the categories of a preset now, render images later."""
        gen = get_generator(kind)
        pre = gen.preset(preset)
        settings = gen.settings(preset, **overrides)
        classes = gen.make_classes(count or pre["categories"], seed, settings)
        return cls(classes, per_category or pre["per_category"], seed, settings, transform)

    def __len__(self) -> int:
        return len(self.classes) * self.per_category

    def __getitem__(self, k: int):
        if not -len(self) <= k < len(self):
            raise IndexError(f"index {k} out of range for {len(self)} images")
        k %= len(self)
        c, i = divmod(k, self.per_category)
        if self._gen is None:
            self._gen = get_generator(self.kind)
        image = self._gen.render(self.classes.params[c], c, i, self.seed, self.settings)
        if self.transform is not None:
            from PIL import Image

            return self.transform(Image.fromarray(image)), c
        return torch.from_numpy(np.array(image, copy=True))[None], c


class PCFractalDataset(Dataset):
    """PC-FractalDB instances (FractalNoiseMix), made on the fly by
    ``pcfractal.pointclouds.instances.make_instance``.

    Args:
        systems: list of (N, 12) category systems (``CategorySet.load(path).systems``).
        per_category: instances per category.
        seed: the build seed.
        settings: ``InstanceSettings`` (points, ratio, weight table).
        transform: optional callable on the (n_points, 3) float32 tensor.

    Returns per item: (points (n_points, 3) float32 tensor, label = category index).
    """

    def __init__(self, systems, per_category: int, seed: int = 0, settings: InstanceSettings = InstanceSettings(), transform=None):
        if len(systems) < 2:
            raise ValueError("FractalNoiseMix needs at least 2 categories")
        if per_category <= 0:
            raise ValueError(f"instances per category must be positive, got {per_category}")
        self.systems = [np.asarray(s, dtype=np.float64) for s in systems]
        self.per_category = int(per_category)
        self.seed = int(seed)
        self.settings = settings.validate()
        self.transform = transform
        self._table = None

    def __len__(self) -> int:
        return len(self.systems) * self.per_category

    def __getitem__(self, k: int):
        if not -len(self) <= k < len(self):
            raise IndexError(f"index {k} out of range for {len(self)} instances")
        k %= len(self)
        c, i = divmod(k, self.per_category)
        if self._table is None:
            self._table = self.settings.table()
        inst = make_instance(self.systems, c, i, self.seed, self.settings, self._table)
        pts = torch.from_numpy(inst.points)
        return (self.transform(pts) if self.transform is not None else pts), c

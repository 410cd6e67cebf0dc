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

import re

import numpy as np

try:
    import torch
    from torch.utils.data import Dataset
except ModuleNotFoundError as e:  # torch is an extra: generation does not need it
    raise ModuleNotFoundError(f"pcfractal.torch_datasets needs torch: pip install 'pcfractal[torch]' ({e})", name=e.name) from None

from pcfractal.pointclouds.instances import InstanceSettings, make_instance

from .images import ClassSet, get_generator


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
        self.settings = (
            settings
            if settings is not None
            else gen.Settings(**{k: tuple(v) if isinstance(v, list) else v for k, v in classes.settings.items()}).validate()
        )
        self.per_category = int(per_category)
        self.seed = int(seed)
        self.transform = transform
        self._gen = None

    @classmethod
    def from_preset(
        cls,
        kind: str,
        preset: str = "tiny",
        seed: int = 0,
        count: int | None = None,
        per_category: int | None = None,
        transform=None,
        **overrides,
    ) -> "FractalImageDataset":
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


VIEW_NAME = re.compile(r"^(\d{5})_(\d{5})_v(\d{2})\.png$")


class MultiViewDataset(Dataset):
    """MV-FractalDB models: item k = the 12 views of model ``k mod models_per_category`` of
    category ``k // models_per_category`` and the category label.

    From a written folder (``MultiViewDataset.from_folder(root)``: class folders of
    ``{category:05d}_{model:05d}_v{view:02d}.png``, PNGs read with Pillow) or on the fly
    (``MultiViewDataset(classes, models_per_category, seed, settings)``: rendered with the
    ``mvfractaldb`` generator, the same pixels as the written files).

    Returns per item: (views (12, 1, H, W) uint8 tensor, label), or with ``transform``
    (a callable on one PIL view) the stacked transformed views.
    """

    def __init__(
        self, classes: ClassSet | None = None, models_per_category: int = 1, seed: int = 0, settings=None, transform=None, files=None
    ):
        self.transform = transform
        self.seed = int(seed)
        if files is not None:  # [(label, [12 paths])]
            self.files = files
            self.classes = None
            return
        if classes is None:
            raise ValueError("MultiViewDataset needs a ClassSet or a folder (from_folder)")
        if models_per_category <= 0:
            raise ValueError(f"models per category must be positive, got {models_per_category}")
        gen = get_generator("mvfractaldb")
        self.views = gen.views_per_model
        self.classes = classes
        self.settings = (
            settings
            if settings is not None
            else gen.Settings(**{k: tuple(v) if isinstance(v, list) else v for k, v in classes.settings.items()}).validate()
        )
        self.models_per_category = int(models_per_category)
        self.files = None
        self._gen = None

    @classmethod
    def from_folder(cls, root, transform=None) -> "MultiViewDataset":
        """Group the views of every model under ``root``/{category:05d}/ (sorted classes,
        label = class index); ValueError when a model lacks a view."""
        from pathlib import Path

        root = Path(root)
        class_dirs = sorted(p for p in root.iterdir() if p.is_dir())
        if not class_dirs:
            raise ValueError(f"{root}: no class folder")
        files = []
        for label, d in enumerate(class_dirs):
            models: dict[int, dict[int, Path]] = {}
            for p in d.iterdir():
                m = VIEW_NAME.match(p.name)
                if m:
                    models.setdefault(int(m.group(2)), {})[int(m.group(3))] = p
            for model in sorted(models):
                views = models[model]
                if sorted(views) != list(range(12)):
                    raise ValueError(f"{d}: model {model} has views {sorted(views)}, expected 0..11")
                files.append((label, [views[v] for v in range(12)]))
        return cls(transform=transform, files=files)

    def __len__(self) -> int:
        return len(self.files) if self.files is not None else len(self.classes) * self.models_per_category

    def _stack(self, views):
        if self.transform is not None:
            from PIL import Image

            return torch.stack([self.transform(Image.fromarray(v)) for v in views])
        return torch.from_numpy(np.stack(views))[:, None]

    def __getitem__(self, k: int):
        if not -len(self) <= k < len(self):
            raise IndexError(f"index {k} out of range for {len(self)} models")
        k %= len(self)
        if self.files is not None:
            from PIL import Image

            label, paths = self.files[k]
            views = []
            for p in paths:
                with Image.open(p) as im:
                    views.append(np.asarray(im.convert("L")))
            return self._stack(views), label
        c, m = divmod(k, self.models_per_category)
        if self._gen is None:
            self._gen = get_generator("mvfractaldb")
        params = self.classes.params[c]
        idx = range(m * self.views, (m + 1) * self.views)
        views = [img.copy() for _, img in self._gen.render_many(params, c, idx, self.seed, self.settings)]
        return self._stack(views), c

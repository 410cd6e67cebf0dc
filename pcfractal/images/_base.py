"""Machinery shared by the image generators: the generator base class, presets and the
class file (what every image of a build is rendered from, besides the seed).

A generator never writes files (writers do, see ``pcfractal.cli.images``): it turns
``(class parameters, category, index, seed, settings)`` into a uint8 image, drawing every
random number from ``keys.generator(seed, <kind>, category, index)`` or another key of its
own, so an image can be rebuilt alone, by any worker, in any order.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from pcfractal import __version__
from pcfractal.io import atomic

CLASSES_FORMAT = "pcfractal.image-classes"
CLASSES_FORMAT_VERSION = 1
CLASSES_FILE = "classes.json"


@dataclass
class ClassSet:
    """The categories of an image dataset.

    kind: generator name. params: per category, a float64 array (an IFS system (N, 6) or
    (N, 12), or a parameter vector). origin: per category, where it came from (search key,
    measured filling rate...). info: search statistics. settings: the generator settings.
    """

    kind: str
    params: list[np.ndarray]
    seed: int | None = None
    settings: dict = field(default_factory=dict)
    origin: list[dict] = field(default_factory=list)
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.params)

    def to_dict(self) -> dict:
        return {
            "format": CLASSES_FORMAT,
            "format_version": CLASSES_FORMAT_VERSION,
            "pcfractal_version": __version__,
            "kind": self.kind,
            "seed": self.seed,
            "settings": self.settings,
            "info": self.info,
            "classes": [
                {"index": i, "params": np.asarray(p, dtype=np.float64).tolist(), "origin": self.origin[i] if i < len(self.origin) else {}}
                for i, p in enumerate(self.params)
            ],
        }

    def save(self, path: str | Path) -> Path:
        return atomic.write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> "ClassSet":
        path = Path(path)
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"{path}: cannot read the class file ({e})") from None
        if not isinstance(d, dict) or d.get("format") != CLASSES_FORMAT or d.get("format_version") != CLASSES_FORMAT_VERSION:
            raise ValueError(f"{path}: not a pcfractal image class file (format {CLASSES_FORMAT} v{CLASSES_FORMAT_VERSION})")
        params = [np.asarray(c["params"], dtype=np.float64) for c in d["classes"]]
        return cls(d["kind"], params, d.get("seed"), d.get("settings", {}), [c.get("origin", {}) for c in d["classes"]], d.get("info", {}))


class ImageGenerator:
    """Base of the registered generators. Subclasses set ``name``, ``Settings`` (a frozen
    dataclass with ``validate()``), ``presets`` ({name: {"categories", "per_category",
    **settings overrides}}) and implement ``make_classes`` and ``render``."""

    name: str = ""
    Settings: type = object
    presets: dict[str, dict] = {}
    description: str = ""

    # -- settings and presets -------------------------------------------------------------
    def preset(self, name: str) -> dict:
        try:
            return dict(self.presets[name])
        except KeyError:
            raise ValueError(f"unknown preset {name!r} for --kind {self.name}; choose one of {', '.join(self.presets)}") from None

    def settings(self, preset: str | None = None, **overrides):
        """Validated settings: the defaults, then the preset's values, then ``overrides``
        (None values are ignored). Unknown names raise ValueError."""
        values = {}
        if preset is not None:
            values.update({k: v for k, v in self.preset(preset).items() if k not in ("categories", "per_category")})
        values.update({k: v for k, v in overrides.items() if v is not None})
        names = {f.name for f in dataclasses.fields(self.Settings)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"--kind {self.name} has no setting {', '.join(unknown)}")
        return self.Settings(**values).validate()

    # -- categories and images ------------------------------------------------------------
    def make_classes(self, count: int, seed: int, settings, executor=None, progress=None) -> ClassSet:
        raise NotImplementedError

    def render(self, params: np.ndarray, category: int, index: int, seed: int, settings) -> np.ndarray:
        """Image ``index`` of ``category``: (size, size) uint8 (grayscale) or (size, size, 3)
        uint8 (RGB, e.g. FractalDB ``color="color"``); ``pcfractal.io.png.encode`` writes both."""
        raise NotImplementedError

    def image_name(self, category: int, index: int) -> str:
        """File name of image ``index`` of ``category`` inside its class folder (writers use
        it): ``{category:05d}_{index:05d}.png``; MV-FractalDB groups a model's views."""
        return f"{category:05d}_{index:05d}.png"

    def classes_from_path(self, path, count: int | None, settings) -> ClassSet:
        """Categories read from a file or folder (``--categories PATH``): the first
        ``count`` (None: all). Generators that can import categories override it."""
        raise ValueError(f"--kind {self.name} cannot read categories from a file (it makes its own)")

    def render_many(self, params: np.ndarray, category: int, indices, seed: int, settings) -> Iterator[tuple[int, np.ndarray]]:
        """``(index, image)`` for each index, equal to ``render`` one by one (generators may
        share work between images; the image buffer may be reused: copy it to keep it)."""
        for i in indices:
            yield i, self.render(params, category, i, seed, settings)


def settings_dict(settings) -> dict:
    """Settings as a JSON-friendly dict (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(settings)))

"""The category file (one JSON file) and the authors' CSV format.

A category file holds the build settings, the seed, the package version and every
category's maps and probabilities; ``CategorySet`` is its in-memory form. The authors'
format is one CSV per category, ``{index:06d}.csv``, N rows x 13 columns a..l, p, no header.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pcfractal import __version__
from pcfractal.core import ifs
from pcfractal.io import atomic

FORMAT = "pcfractal.categories"
FORMAT_VERSION = 1
CATEGORY_FILE = "categories.json"
CSV_COLUMNS = (*ifs.PARAM_NAMES_3D, "p")


class CategoryFileError(ValueError):
    """A category file or CSV folder that cannot be read; the message names the file."""


@dataclass
class CategorySet:
    """Category systems with their provenance.

    systems: list of (N, 12) float64 arrays (a..l per map).
    seed: the seed of the search (None for imported sets).
    settings: the search settings as a plain dict.
    origin: per category, where it came from (block/offset/variances, or a CSV name).
    """

    systems: list[np.ndarray]
    seed: int | None = None
    settings: dict = field(default_factory=dict)
    origin: list[dict] = field(default_factory=list)
    search: dict = field(default_factory=dict)
    pcfractal_version: str = __version__

    def __len__(self) -> int:
        return len(self.systems)

    def probabilities(self, i: int) -> np.ndarray:
        return ifs.probabilities(self.systems[i])

    def to_dict(self) -> dict:
        cats = []
        for i, sys in enumerate(self.systems):
            entry = {
                "index": i,
                "n_maps": int(sys.shape[0]),
                "maps": [[float(v) for v in row] for row in sys],
                "probabilities": [float(v) for v in ifs.probabilities(sys)],
            }
            if i < len(self.origin):
                entry["origin"] = self.origin[i]
            cats.append(entry)
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "pcfractal_version": self.pcfractal_version,
            "seed": self.seed,
            "settings": self.settings,
            "search": self.search,
            "parameter_names": list(ifs.PARAM_NAMES_3D),
            "categories": cats,
        }

    def save(self, path: str | Path) -> Path:
        """Write the category file atomically (a folder gets ``categories.json``)."""
        path = Path(path)
        if path.is_dir():
            path = path / CATEGORY_FILE
        return atomic.write_json(path, self.to_dict())

    @classmethod
    def from_dict(cls, d: dict, source: str = "<dict>") -> "CategorySet":
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise CategoryFileError(f"{source}: not a pcfractal category file (missing format '{FORMAT}')")
        if d.get("format_version") != FORMAT_VERSION:
            raise CategoryFileError(
                f"{source}: unsupported format_version {d.get('format_version')!r} (this pcfractal reads {FORMAT_VERSION})"
            )
        systems, origin = [], []
        try:
            for i, c in enumerate(d["categories"]):
                sys = np.asarray(c["maps"], dtype=np.float64)
                _check_system(sys, f"{source}: category {i}")
                systems.append(sys)
                origin.append(c.get("origin", {}))
        except (KeyError, TypeError, ValueError) as e:
            if isinstance(e, CategoryFileError):
                raise
            raise CategoryFileError(f"{source}: malformed category entry ({type(e).__name__}: {e})") from None
        if not systems:
            raise CategoryFileError(f"{source}: the file holds no category")
        return cls(systems, d.get("seed"), d.get("settings", {}), origin, d.get("search", {}), d.get("pcfractal_version", "?"))

    @classmethod
    def load(cls, path: str | Path) -> "CategorySet":
        """Read a category file, or ``categories.json`` inside a folder."""
        path = Path(path)
        if path.is_dir():
            path = path / CATEGORY_FILE
        if not path.is_file():
            raise CategoryFileError(f"{path}: no category file there (build one with 'pcfractal categories')")
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise CategoryFileError(f"{path}: not valid JSON ({e})") from None
        return cls.from_dict(d, str(path))


def _check_system(sys: np.ndarray, where: str) -> None:
    if sys.ndim != 2 or sys.shape[1] != 12:
        raise CategoryFileError(f"{where}: maps must be N rows of 12 numbers (a..l), got shape {sys.shape}")
    if sys.shape[0] < 2:
        raise CategoryFileError(f"{where}: a system needs at least 2 maps (an IFS of one map is a single point), got {sys.shape[0]}")
    if not np.all(np.isfinite(sys)):
        raise CategoryFileError(f"{where}: maps hold non-finite numbers")
    try:
        ifs.probabilities(sys)
    except ValueError as e:
        raise CategoryFileError(f"{where}: {e}") from None


def csv_text(system: np.ndarray) -> str:
    """One category in the authors' CSV format: N rows of a..l and p, no header."""
    p = ifs.probabilities(system)
    return "\n".join(",".join(repr(float(v)) for v in (*row, pi)) for row, pi in zip(system, p)) + "\n"


def export_csv(cats: CategorySet, folder: str | Path) -> list[Path]:
    """Write one authors'-format CSV per category into ``folder`` (created if missing)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [atomic.write_text(folder / f"{i:06d}.csv", csv_text(sys)) for i, sys in enumerate(cats.systems)]


def read_csv_system(path: Path, p_tol: float = 1e-4) -> np.ndarray:
    """One authors' CSV -> (N, 12) system; checks that p matches the normalised |det|."""
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for k, rec in enumerate(csv.reader(f)):
            if not rec or all(not c.strip() for c in rec):
                continue
            if k == 0 and [c.strip().lower() for c in rec] == list(CSV_COLUMNS):
                continue  # tolerate a header row
            if len(rec) != 13:
                raise CategoryFileError(f"{path}: row {k + 1} has {len(rec)} columns, expected 13 (a..l, p)")
            try:
                rows.append([float(c) for c in rec])
            except ValueError:
                raise CategoryFileError(f"{path}: row {k + 1} holds a value that is not a number") from None
    if not rows:
        raise CategoryFileError(f"{path}: no rows")
    arr = np.asarray(rows, dtype=np.float64)
    sys = arr[:, :12]
    _check_system(sys, str(path))
    p = arr[:, 12]
    if not np.allclose(p / p.sum(), ifs.probabilities(sys), atol=p_tol):
        raise CategoryFileError(f"{path}: column p is not |det A| normalised (tolerance {p_tol})")
    return sys


def import_csv(folder: str | Path) -> CategorySet:
    """Read every ``*.csv`` in ``folder`` (sorted by name) as one category each."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CategoryFileError(f"{folder}: not a folder of CSV files")
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise CategoryFileError(f"{folder}: holds no .csv file")
    systems = [read_csv_system(f) for f in files]
    origin = [{"csv": f.name} for f in files]
    return CategorySet(systems, None, {"imported_from": "csv"}, origin)

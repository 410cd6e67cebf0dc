"""Inputs a stage reads from another build, checked before use."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pcfractal.core import keys
from pcfractal.core.chaos import chaos_game
from pcfractal.io import manifest as manifest_mod
from pcfractal.pointclouds.category_file import CATEGORY_FILE, CategorySet

from ..plan import BuildError


def category_file(path: Path) -> Path:
    path = Path(path)
    return path / CATEGORY_FILE if path.is_dir() else path


def load_categories(path: Path, flag: str = "--categories", at_least: int = 1) -> tuple[CategorySet, str]:
    """The category set at ``path`` (a folder or file) and its sha256. When the file sits in
    a finished categories build, its bytes must match that build's manifest: a damaged input
    stops the stage before any work."""
    f = category_file(path)
    if not f.is_file():
        raise BuildError(f"{flag} {path}: no {CATEGORY_FILE} there (make one with 'pcfractal categories' or 'pcfractal import-csv')")
    data = f.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    m = f.parent / manifest_mod.MANIFEST_FILE
    if m.is_file():
        try:
            listed = {e["path"]: e["sha256"] for e in manifest_mod.load(f.parent)["files"]}
        except (ValueError, KeyError, TypeError):
            listed = {}
        if listed.get(f.name) not in (None, digest):
            raise BuildError(
                f"{flag} {f}: changed since its build was sealed (sha256 differs from {m}); run 'pcfractal verify {f.parent}' and rebuild it"
            )
    try:
        cats = CategorySet.load(f)
    except ValueError as e:
        raise BuildError(f"{flag}: {e}") from None
    for i, system in enumerate(cats.systems):
        if chaos_game(system, 2000, keys.generator(0, "input-check", i)) is None:
            raise BuildError(f"{flag} {f}: category {i} diverges (its points leave every bound): not a usable category file")
    if len(cats) < at_least:
        raise BuildError(
            f"{flag} {f}: needs at least {at_least} categories (FractalNoiseMix takes its noise from another one), the file has {len(cats)}"
        )
    return cats, digest

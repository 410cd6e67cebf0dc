"""The manifest of a build, and ``verify``, which rechecks a build against it.

A finished build folder holds ``manifest.json``, written last (its presence marks the build
done): the kind of build, its settings and seed, the package version, counts, and for every
file below the folder its path, size, sha256 and a schema (shape and dtype of a ``.npy``;
samples and members of a tar shard). It holds nothing that varies between runs of the same
command (no times, no absolute paths, no worker count), so two builds of the same settings
have the same manifest, byte for byte.

``verify(folder)`` rehashes every file and names each problem: a missing file, a size
change (truncated), a hash change (a flipped byte), a shard that no longer reads, a file the
manifest does not list (a leftover ``*.partial`` from a killed run, a stray copy).

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "a.txt").write_bytes(b"hello")
>>> _ = write(d, build(d, "demo", seed=0, settings={}, counts={"files": 1}))
>>> verify(d)
[]
>>> _ = (d / "a.txt").write_bytes(b"hellO")
>>> [str(p) for p in verify(d)]
['a.txt: sha256 differs from the manifest (corrupted: a changed byte)']
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__, atomic

MANIFEST_FILE = "manifest.json"
BUILD_MARKER = ".pcfractal-build.json"  # written first by every build (cli._common.OutputDir)
FORMAT = "pcfractal.manifest"
FORMAT_VERSION = 1
CHUNK = 1 << 20  # hashing reads 1 MiB at a time: memory does not grow with file size


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a build: the file (relative to the build folder) and what."""

    path: str
    what: str

    def __str__(self) -> str:
        return f"{self.path}: {self.what}"


def sha256_file(path: str | os.PathLike) -> tuple[int, str]:
    """(size, sha256 hex) of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    n = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(CHUNK)
            if not b:
                break
            h.update(b)
            n += len(b)
    return n, h.hexdigest()


def list_files(folder: str | os.PathLike) -> list[str]:
    """Every file below ``folder`` except the manifest, as sorted POSIX relative paths."""
    folder = Path(folder)
    out = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in files:
            rel = (Path(root) / name).relative_to(folder).as_posix()
            if rel != MANIFEST_FILE:
                out.append(rel)
    return sorted(out)


def schema_of(path: Path) -> dict:
    """What a file should look like beyond its bytes: npy shape/dtype, tar sample count."""
    name = path.name
    if name.endswith(".npy"):
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read(f)
        return {"shape": list(shape), "dtype": dtype.str, "fortran_order": bool(fortran)}
    if name.endswith(".tar"):
        from .shards import check_shard

        samples, members = check_shard(path)
        return {"samples": samples, "members": members}
    return {}


def file_entry(folder: Path, rel: str) -> dict:
    path = folder / rel
    size, digest = sha256_file(path)
    return {"path": rel, "size": size, "sha256": digest, **schema_of(path)}


def _threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def build(folder: str | os.PathLike, kind: str, seed: int | None, settings: dict, counts: dict, expected: list[str] | None = None) -> dict:
    """The manifest of everything below ``folder`` (hashing in a few threads).

    Args:
        kind: the build subcommand (``"instances"``...).
        seed, settings: what defines the build (the same as the folder's build marker).
        counts: e.g. ``{"categories": 8, "instances": 128}``.
        expected: files that must exist (relative paths); a missing one raises
            ``RuntimeError`` naming it, so a build never writes a manifest with a gap.
    """
    folder = Path(folder)
    names = list_files(folder)
    if expected is not None:
        missing = sorted(set(expected) - set(names))
        if missing:
            raise RuntimeError(f"{folder}: build finished without {len(missing)} file(s), e.g. {missing[0]}; run the same command again")
    with ThreadPoolExecutor(_threads()) as pool:
        files = list(pool.map(lambda rel: file_entry(folder, rel), names))
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "pcfractal_version": __version__,
        "seed": seed,
        "settings": settings,
        "counts": counts,
        "total_files": len(files),
        "total_bytes": sum(f["size"] for f in files),
        "files": files,
    }


def write(folder: str | os.PathLike, manifest: dict) -> Path:
    """Write ``manifest.json`` atomically (do it last: it marks the build finished)."""
    return atomic.write_json(Path(folder) / MANIFEST_FILE, manifest)


def load(folder: str | os.PathLike) -> dict:
    """Read a folder's manifest; ``ValueError`` naming the file when absent or unreadable."""
    path = Path(folder) / MANIFEST_FILE
    if not path.is_file():
        raise ValueError(f"{path}: no manifest (an unfinished build: run the same build command again to finish it)")
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: unreadable manifest ({e})") from None
    if not isinstance(m, dict) or m.get("format") != FORMAT or not isinstance(m.get("files"), list):
        raise ValueError(f"{path}: not a pcfractal manifest")
    return m


def is_complete(folder: str | os.PathLike, kind: str, settings: dict) -> bool:
    """Cheap check (no hashing): a manifest for this kind and these settings is present."""
    try:
        m = load(folder)
    except ValueError:
        return False
    return m.get("kind") == kind and m.get("settings") == settings and m.get("pcfractal_version") == __version__


def _check_entry(folder: Path, e: dict) -> list[Problem]:
    rel = e["path"]
    path = folder / rel
    if not path.is_file():
        return [Problem(rel, "missing (listed in the manifest, not on disk)")]
    size = path.stat().st_size
    if size != e["size"]:
        kind = "truncated" if size < e["size"] else "grown"
        return [Problem(rel, f"size {size:,} bytes, the manifest says {e['size']:,} ({kind})")]
    _, digest = sha256_file(path)
    problems = []
    if digest != e["sha256"]:
        problems.append(Problem(rel, "sha256 differs from the manifest (corrupted: a changed byte)"))
    try:
        schema = schema_of(path)
    except Exception as err:  # a shard that no longer reads, an npy with a broken header
        return problems + [Problem(rel, f"unreadable: {err}")]
    want = {k: v for k, v in e.items() if k not in ("path", "size", "sha256")}
    for k, v in want.items():
        if schema.get(k) != v:
            problems.append(Problem(rel, f"{k} is {schema.get(k)!r}, the manifest says {v!r}"))
    return problems


def verify(folder: str | os.PathLike) -> list[Problem]:
    """Recheck a build folder against its manifest; return the problems (empty = good)."""
    folder = Path(folder)
    try:
        m = load(folder)
    except ValueError as e:
        return [Problem(MANIFEST_FILE, str(e).split(": ", 1)[-1])]
    problems: list[Problem] = []
    entries = m["files"]
    listed = [e.get("path") for e in entries]
    if len(set(listed)) != len(listed):
        problems.append(Problem(MANIFEST_FILE, "lists a file twice"))
    if m.get("total_files") != len(entries) or m.get("total_bytes") != sum(e.get("size", 0) for e in entries):
        problems.append(Problem(MANIFEST_FILE, "totals do not match its file list (edited by hand?)"))
    with ThreadPoolExecutor(_threads()) as pool:
        for ps in pool.map(lambda e: _check_entry(folder, e), entries):
            problems.extend(ps)
    for rel in sorted(set(list_files(folder)) - set(listed)):
        why = "a leftover partial file from an interrupted run" if rel.endswith(atomic.PARTIAL_SUFFIX) else "not in the manifest"
        problems.append(Problem(rel, f"unexpected file ({why})"))
    return problems


def find_builds(folder: str | os.PathLike) -> list[Path]:
    """The build folders to verify under ``folder``: itself when it has a manifest or a build
    marker, else its immediate sub-folders that do (the stages of ``build``)."""
    folder = Path(folder)
    if (folder / MANIFEST_FILE).exists() or (folder / BUILD_MARKER).exists():
        return [folder]
    return sorted(p for p in folder.iterdir() if p.is_dir() and ((p / MANIFEST_FILE).exists() or (p / BUILD_MARKER).exists()))

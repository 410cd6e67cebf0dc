"""The manifest of a build, and ``verify``, which rechecks a build against it.

A finished build folder holds ``manifest.json``, written last (its presence marks the build
done): the kind of build, its settings and seed, the package version, counts, and a sha256
for every file below the folder:

- files at the top of the folder are listed in the manifest itself with their size, sha256
  and a schema (shape and dtype of a ``.npy``; samples and members of a tar shard);
- files in a sub-folder (``points/``, an ImageFolder class folder...) are listed in that
  folder's ``SHA256SUMS`` (the ``sha256sum`` format: ``sha256sum -c SHA256SUMS`` works),
  and the manifest lists each ``SHA256SUMS`` with its hash and the folder's file count. So
  a 21M-image build has a manifest of one line per class folder, not 21M entries, and
  memory stays flat.

It holds nothing that varies between runs of the same command (no times, no absolute
paths, no worker count): two builds of the same settings have the same manifest, byte for
byte, and a moved folder still verifies.

``verify(folder)`` rehashes every file and names each problem: a missing file, a size
change (truncated), a hash change (a flipped byte), a shard that no longer reads, a file no
listing names (a leftover ``*.partial`` from a killed run, a stray copy).

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
from typing import Iterator

import numpy as np

from pcfractal import __version__

from . import atomic

MANIFEST_FILE = "manifest.json"
SUMS_FILE = "SHA256SUMS"
SIDECAR_SUFFIX = ".json"  # shard-000000.tar -> shard-000000.json: the shard's done-marker
FOLDER_DONE = ".complete"  # a sub-folder unit's done-marker (repair removes it to redo the folder)
STATE_DIR = ".pcfractal"  # a build's own state (marker, lock, journal): not part of its output
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


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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


def _threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def walk(folder: str | os.PathLike) -> Iterator[tuple[str, list[str]]]:
    """``(relative folder, sorted file names)`` for ``folder`` ("") and every sub-folder, in
    sorted order, one folder at a time (memory: one folder's names)."""
    folder = Path(folder)
    for root, dirs, files in os.walk(folder):
        if root == str(folder) and STATE_DIR in dirs:
            dirs.remove(STATE_DIR)
        dirs.sort()
        rel = Path(root).relative_to(folder).as_posix()
        yield ("" if rel == "." else rel), sorted(files)


def list_files(folder: str | os.PathLike) -> list[str]:
    """Every file below ``folder`` except the manifest, as sorted POSIX relative paths
    (builds the whole list: for tests and small folders)."""
    out = []
    for rel, names in walk(folder):
        out += [f"{rel}/{n}" if rel else n for n in names if rel or n != MANIFEST_FILE]
    return sorted(out)


# --- schemas ----------------------------------------------------------------------------


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


def _sidecar_entry(folder: Path, rel: str) -> dict | None:
    """A shard's entry from its sidecar (written by the shard's unit after the tar), when it
    still matches the tar's size: saves reading a large shard back."""
    if not rel.endswith(".tar"):
        return None
    side = folder / (rel[: -len(".tar")] + SIDECAR_SUFFIX)
    try:
        d = json.loads(side.read_text(encoding="utf-8"))
        if d["name"] == Path(rel).name and (folder / rel).stat().st_size == d["size"]:
            return {"path": rel, "size": d["size"], "sha256": d["sha256"], "samples": d["samples"], "members": d["members"]}
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def file_entry(folder: Path, rel: str, trust: bool = True) -> dict:
    known = _sidecar_entry(folder, rel) if trust else None
    if known is not None:
        return known
    path = folder / rel
    size, digest = sha256_file(path)
    return {"path": rel, "size": size, "sha256": digest, **schema_of(path)}


# --- per-folder checksum files ------------------------------------------------------------


def sums_text(hashes: dict[str, str]) -> str:
    """``SHA256SUMS`` text for ``{file name: sha256}``: sorted, ``sha256sum`` format."""
    return "".join(f"{h}  {n}\n" for n, h in sorted(hashes.items()))


def write_sums(folder: str | os.PathLike, hashes: dict[str, str]) -> Path:
    """Write a folder's ``SHA256SUMS`` atomically (a unit that knows its files' hashes can
    write it itself; the manifest then reuses it instead of reading the files back)."""
    return atomic.write_text(Path(folder) / SUMS_FILE, sums_text(hashes))


def read_sums(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        h, sep, name = line.partition("  ")
        if not sep or len(h) != 64 or not name or name in out:
            raise ValueError(f"bad line {line!r}")
        out[name] = h
    return out


def _folder_sums(folder: Path, rel: str, names: list[str], trust: bool) -> dict[str, str]:
    """``{name: sha256}`` of a sub-folder's files: its own ``SHA256SUMS`` when that lists
    exactly these files (and ``trust``), else computed (and the file rewritten)."""
    d = folder / rel
    files = [n for n in names if n != SUMS_FILE]
    if trust and SUMS_FILE in names:
        try:
            hashes = read_sums(d / SUMS_FILE)
            if sorted(hashes) == files:
                return hashes
        except (OSError, ValueError):
            pass
    with ThreadPoolExecutor(_threads()) as pool:
        digests = list(pool.map(lambda n: sha256_file(d / n)[1], files))
    hashes = dict(zip(files, digests))
    write_sums(d, hashes)
    return hashes


# --- build and write ----------------------------------------------------------------------


def build(
    folder: str | os.PathLike,
    kind: str,
    seed: int | None,
    settings: dict,
    counts: dict,
    expected: list[str] | None = None,
    trust: bool = True,
) -> dict:
    """The manifest of everything below ``folder``; writes each sub-folder's ``SHA256SUMS``.

    Args:
        kind: the build subcommand (``"instances"``...).
        seed, settings: what defines the build (the same as the folder's build marker).
        counts: e.g. ``{"categories": 8, "instances": 128}``.
        expected: top-level files that must exist; a missing one raises ``RuntimeError``
            naming it, so a build never seals a gap.
        trust: reuse hashes the build's units recorded (a shard's sidecar, a folder's
            ``SHA256SUMS`` naming exactly its files) instead of reading the files back.
            ``verify`` never trusts them.
    """
    folder = Path(folder)
    files: list[dict] = []
    folders: list[dict] = []
    total_files = total_bytes = 0
    for rel, names in walk(folder):
        if rel == "":
            top = [n for n in names if n != MANIFEST_FILE]
            missing = sorted(set(expected or ()) - set(top))
            if missing:
                raise RuntimeError(
                    f"{folder}: build finished without {len(missing)} file(s), e.g. {missing[0]}; run the same command again"
                )
            with ThreadPoolExecutor(_threads()) as pool:
                files += pool.map(lambda n: file_entry(folder, n, trust), top)
            total_files += len(top)
            total_bytes += sum(e["size"] for e in files)
            continue
        if not names:
            continue
        hashes = _folder_sums(folder, rel, names, trust)
        n_bytes = sum((folder / rel / n).stat().st_size for n in hashes)
        sums_rel = f"{rel}/{SUMS_FILE}"
        size, digest = sha256_file(folder / sums_rel)
        files.append({"path": sums_rel, "size": size, "sha256": digest})
        folders.append({"path": rel, "files": len(hashes), "bytes": n_bytes})
        total_files += len(hashes) + 1
        total_bytes += n_bytes + size
    files.sort(key=lambda e: e["path"])
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "pcfractal_version": __version__,
        "seed": seed,
        "settings": settings,
        "counts": counts,
        "total_files": total_files,
        "total_bytes": total_bytes,
        "files": files,
        "folders": folders,
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
    m.setdefault("folders", [])
    return m


def is_complete(folder: str | os.PathLike, kind: str, settings: dict) -> bool:
    """Cheap check (no hashing): a manifest for this kind and these settings is present."""
    try:
        m = load(folder)
    except ValueError:
        return False
    return m.get("kind") == kind and m.get("settings") == settings and m.get("pcfractal_version") == __version__


# --- verify -------------------------------------------------------------------------------


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
    if path.name == SUMS_FILE:
        return problems
    try:
        schema = schema_of(path)
    except Exception as err:  # a shard that no longer reads, an npy with a broken header
        return problems + [Problem(rel, f"unreadable: {err}")]
    for k, v in e.items():
        if k not in ("path", "size", "sha256") and schema.get(k) != v:
            problems.append(Problem(rel, f"{k} is {schema.get(k)!r}, the manifest says {v!r}"))
    return problems


def _check_folder(folder: Path, f: dict) -> list[Problem]:
    rel = f["path"]
    d = folder / rel
    try:
        hashes = read_sums(d / SUMS_FILE)
    except FileNotFoundError:
        return (
            [Problem(f"{rel}/{SUMS_FILE}", "missing: the folder's checksums are gone")]
            if d.is_dir()
            else [Problem(rel + "/", "missing folder (listed in the manifest)")]
        )
    except (OSError, ValueError) as err:
        return [Problem(f"{rel}/{SUMS_FILE}", f"unreadable: {err}")]
    problems = []
    if len(hashes) != f["files"]:
        problems.append(Problem(f"{rel}/{SUMS_FILE}", f"lists {len(hashes)} files, the manifest says {f['files']}"))

    def check(name: str) -> Problem | None:
        p = d / name
        if not p.is_file():
            return Problem(f"{rel}/{name}", f"missing (listed in {rel}/{SUMS_FILE}, not on disk)")
        if sha256_file(p)[1] != hashes[name]:
            return Problem(f"{rel}/{name}", f"sha256 differs from {rel}/{SUMS_FILE} (corrupted or truncated)")
        return None

    with ThreadPoolExecutor(_threads()) as pool:
        problems += [p for p in pool.map(check, sorted(hashes)) if p is not None]
    return problems


def verify(folder: str | os.PathLike) -> list[Problem]:
    """Recheck a build folder against its manifest; return the problems (empty = good)."""
    folder = Path(folder)
    try:
        m = load(folder)
    except ValueError as e:
        return [Problem(MANIFEST_FILE, str(e).split(": ", 1)[-1])]
    problems: list[Problem] = []
    entries, dirs = m["files"], m["folders"]
    listed = [e.get("path") for e in entries]
    if len(set(listed)) != len(listed):
        problems.append(Problem(MANIFEST_FILE, "lists a file twice"))
    dir_files = sum(f.get("files", 0) for f in dirs)
    dir_bytes = sum(f.get("bytes", 0) for f in dirs)
    if m.get("total_files") != len(entries) + dir_files or m.get("total_bytes") != sum(e.get("size", 0) for e in entries) + dir_bytes:
        problems.append(Problem(MANIFEST_FILE, "totals do not match its file lists (edited by hand?)"))
    with ThreadPoolExecutor(_threads()) as pool:
        for ps in pool.map(lambda e: _check_entry(folder, e), entries):
            problems.extend(ps)
    for f in dirs:
        problems += _check_folder(folder, f)
    # Files nobody lists: walk once, one folder at a time.
    listed_set = set(listed)
    dir_set = {f["path"] for f in dirs}
    for rel, names in walk(folder):
        if rel in dir_set:
            try:
                known = set(read_sums(folder / rel / SUMS_FILE)) | {SUMS_FILE}
            except (OSError, ValueError):
                continue  # already reported
            extra = [f"{rel}/{n}" for n in names if n not in known]
        else:
            extra = [
                f"{rel}/{n}" if rel else n for n in names if (f"{rel}/{n}" if rel else n) not in listed_set and (rel or n != MANIFEST_FILE)
            ]
        for x in extra:
            why = "a leftover partial file from an interrupted run" if x.endswith(atomic.PARTIAL_SUFFIX) else "not in the manifest"
            problems.append(Problem(x, f"unexpected file ({why})"))
    return problems

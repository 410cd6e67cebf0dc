"""Atomic file writes: write to ``name.<random>.partial`` in the same folder, flush, fsync,
then ``os.replace`` into place, so no final-named file is ever partial."""

from __future__ import annotations

import ctypes
import io
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

import numpy as np

PARTIAL_SUFFIX = ".partial"


def _partial_name(path: Path) -> Path:
    return Path(f"{path}.{os.urandom(4).hex()}{PARTIAL_SUFFIX}")


@contextmanager
def open_atomic(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary file that appears under ``path`` only if the ``with`` block succeeds
    (flushed, fsynced, renamed); on any error the partial file is removed."""
    path = Path(path)
    tmp = _partial_name(path)
    try:
        with open(tmp, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; return the path."""
    with open_atomic(path) as f:
        f.write(data)
    return Path(path)


def write_bytes_nosync(path: str | os.PathLike, data: bytes) -> Path:
    """``write_bytes`` without the fsync: still never a partial final-named file, but
    durable only after ``sync_filesystem`` (one call for thousands of small files). Plain
    ``os`` calls, no buffered file object: ~45 us per small image against ~65 us."""
    path = Path(path)
    tmp = _partial_name(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _libc_syncfs():
    try:
        return ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None


_SYNCFS = _libc_syncfs()


def sync_filesystem(folder: str | os.PathLike) -> None:
    """Flush the file system holding ``folder`` in one call (syncfs: ~15 ms per 1,000
    small files, against ~4 ms per file for one fsync each); ``os.sync`` elsewhere."""
    if _SYNCFS is not None:
        fd = os.open(folder, os.O_RDONLY)
        try:
            if _SYNCFS(fd) == 0:
                return
        finally:
            os.close(fd)
    os.sync()


def write_text(path: str | os.PathLike, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def dumps_json(obj) -> str:
    """Deterministic JSON: sorted keys, two-space indent, trailing newline."""
    return json.dumps(obj, indent=2, sort_keys=True) + "\n"


def write_json(path: str | os.PathLike, obj) -> Path:
    return write_text(path, dumps_json(obj))


def npy_bytes(array: np.ndarray) -> bytes:
    """The .npy serialisation of an array (deterministic: no timestamps)."""
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    return buf.getvalue()


def write_npy(path: str | os.PathLike, array: np.ndarray) -> Path:
    return write_bytes(path, npy_bytes(array))


def remove_partials(folder: str | os.PathLike) -> int:
    """Delete leftover ``*.partial`` files below ``folder`` (from a killed run); return how many."""
    n = 0
    for p in Path(folder).rglob(f"*{PARTIAL_SUFFIX}"):
        p.unlink(missing_ok=True)
        n += 1
    return n

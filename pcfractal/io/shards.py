"""Tar shards in the webdataset layout, reproducible to the byte and never half-visible.

A shard is a plain tar of samples; a sample is the members sharing a key, one member per
field: ``{key}.{field}`` (``000123.png``, ``000123.cls``). Members of a sample are
consecutive, fields sorted by name, samples in the order given, which is what webdataset's
``TarWriter`` readers expect (``wds.WebDataset("shard-{000000..000099}.tar")``).

What webdataset's ShardWriter does not do and this module does:

- fixed member metadata: mtime 0, uid/gid 0, no user/group names, mode 0644, USTAR format,
  so two builds of the same shard are the same bytes;
- atomic: the tar is streamed into ``name.<random>.partial``, fsynced, then renamed; a
  killed build never leaves a truncated shard under its final name;
- a shard's samples derive from its index (``shard_of``), never from which worker wrote
  what, so the shard layout does not depend on the worker count;
- duplicate keys and empty shards raise ``ShardError`` naming the key or the shard.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> info = write_shard(d / "shard-000000.tar", [("000000", {"cls": b"3", "txt": b"hi"})])
>>> info.samples, [k for k, _ in read_shard(d / "shard-000000.tar")]
(1, ['000000'])
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from . import atomic

SHARD_PATTERN = "shard-{:06d}.tar"
MTIME = 0  # every member's mtime: builds are byte-identical whatever the clock says
MODE = 0o644


class ShardError(ValueError):
    """A shard that cannot be written or read; the message names the shard and key."""


@dataclass(frozen=True)
class ShardInfo:
    """What was written: file name, size in bytes, sha256, sample and member counts."""

    name: str
    size: int
    sha256: str
    samples: int
    members: int


def shard_name(index: int, pattern: str = SHARD_PATTERN) -> str:
    return pattern.format(int(index))


def sidecar_path(path: str | os.PathLike) -> Path:
    """``shard-000000.tar`` -> ``shard-000000.json``: the shard's stats, written after the
    tar; its presence marks the shard done (img2dataset's per-shard stats file)."""
    return Path(path).with_suffix(".json")


def write_sidecar(path: str | os.PathLike, info: ShardInfo) -> Path:
    """Write a finished shard's sidecar atomically (after the tar: the done-marker)."""
    return atomic.write_json(sidecar_path(path), dataclasses.asdict(info))


def shard_done(path: str | os.PathLike) -> bool:
    return Path(path).is_file() and sidecar_path(path).is_file()


def shard_of(sample: int, per_shard: int) -> tuple[int, int]:
    """(shard index, position in the shard) of a sample index: a function of the index only."""
    if per_shard < 1:
        raise ValueError(f"samples per shard must be positive, got {per_shard}")
    return divmod(int(sample), int(per_shard))


def shard_ranges(total: int, per_shard: int) -> list[range]:
    """Sample index ranges of each shard: ``[range(0, p), range(p, 2p), ...]``."""
    if per_shard < 1:
        raise ValueError(f"samples per shard must be positive, got {per_shard}")
    return [range(s, min(s + per_shard, total)) for s in range(0, total, per_shard)]


def _check_key(key: str, shard: str) -> None:
    if not key or "." in key or "/" in key or key.strip() != key:
        raise ShardError(f"{shard}: bad sample key {key!r} (no dots, slashes or surrounding spaces)")


def _member(name: str, size: int) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.size = size
    ti.mtime = MTIME
    ti.mode = MODE
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    ti.type = tarfile.REGTYPE
    return ti


class _HashingFile:
    """Write-through file wrapper that hashes and counts what tarfile writes."""

    def __init__(self, f):
        self.f = f
        self.h = hashlib.sha256()
        self.n = 0

    def write(self, b) -> int:
        self.h.update(b)
        self.n += len(b)
        return self.f.write(b)


def write_shard(path: str | os.PathLike, samples: Iterable[tuple[str, dict[str, bytes]]]) -> ShardInfo:
    """Write ``samples`` (``(key, {field: bytes})`` pairs) as one tar shard, atomically.

    Samples are streamed: memory holds one sample at a time. Raises ``ShardError`` on a
    duplicate key, a sample with no fields, or no samples at all; the partial file is
    removed on any error, so nothing appears under ``path`` unless the shard is complete.
    """
    path = Path(path)
    seen: set[str] = set()
    members = 0
    with atomic.open_atomic(path) as raw:
        hf = _HashingFile(raw)
        with tarfile.open(fileobj=hf, mode="w|", format=tarfile.USTAR_FORMAT) as tar:
            for key, fields in samples:
                key = str(key)
                _check_key(key, path.name)
                if key in seen:
                    raise ShardError(f"{path.name}: duplicate sample key {key!r}")
                seen.add(key)
                if not fields:
                    raise ShardError(f"{path.name}: sample {key!r} has no fields")
                for field in sorted(fields):
                    data = fields[field]
                    if isinstance(data, str):
                        data = data.encode("utf-8")
                    data = bytes(data)
                    name = f"{key}.{field}"
                    if len(name.encode("utf-8")) > 100:
                        raise ShardError(f"{path.name}: member name {name!r} is longer than 100 bytes")
                    tar.addfile(_member(name, len(data)), io.BytesIO(data))
                    members += 1
            if not seen:
                raise ShardError(f"{path.name}: empty shard (no samples)")
    return ShardInfo(path.name, hf.n, hf.h.hexdigest(), len(seen), members)


def read_shard(path: str | os.PathLike) -> Iterator[tuple[str, dict[str, bytes]]]:
    """Yield ``(key, {field: bytes})`` per sample, in file order.

    Raises ``ShardError`` naming the shard when it is truncated or not a tar, or when a
    key's members are not consecutive (not the webdataset layout).
    """
    path = Path(path)
    done: set[str] = set()
    key, fields = None, {}
    try:
        with tarfile.open(path, mode="r:") as tar:
            for m in tar:
                if not m.isfile():
                    raise ShardError(f"{path.name}: member {m.name!r} is not a regular file")
                k, dot, field = m.name.partition(".")
                if not dot:
                    raise ShardError(f"{path.name}: member {m.name!r} has no field extension")
                if k != key:
                    if key is not None:
                        yield key, fields
                        done.add(key)
                    if k in done:
                        raise ShardError(f"{path.name}: key {k!r} appears twice (members not consecutive)")
                    key, fields = k, {}
                f = tar.extractfile(m)
                data = f.read() if f is not None else b""
                if len(data) != m.size:
                    raise ShardError(f"{path.name}: truncated at member {m.name!r}")
                fields[field] = data
    except (tarfile.TarError, EOFError) as e:
        raise ShardError(f"{path.name}: truncated or not a tar file ({e})") from None
    if key is not None:
        yield key, fields


def check_shard(path: str | os.PathLike) -> tuple[int, int]:
    """Read a whole shard; return (samples, members) or raise ``ShardError``."""
    samples = members = 0
    for _, fields in read_shard(path):
        samples += 1
        members += len(fields)
    if samples == 0:
        raise ShardError(f"{Path(path).name}: empty shard (no samples)")
    return samples, members

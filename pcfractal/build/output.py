"""The output folder of a build: our marker, the lock, the journal of finished units, and
the rules for what may be resumed, overwritten or deleted.

A build folder ``OUT`` holds the stage's files and a state folder ``OUT/.pcfractal/``:

- ``build.json``: the marker (kind and settings of the build; written first);
- ``lock``: held (``flock``) by the one process building into ``OUT``;
- ``journal.jsonl``: one line per finished work unit, with the size and sha256 of every
  file it wrote, computed from the bytes in memory. A resumed build trusts a file only
  when it still has exactly those bytes; everything else is made again.

Nothing that is not ours is ever deleted: ``--overwrite`` acts only on a folder that
carries our marker and refuses while it holds a file the build did not write.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
from pathlib import Path
from typing import Callable, Iterator

from pcfractal import __version__
from pcfractal.io import atomic
from pcfractal.io import manifest as manifest_mod

from .plan import BuildError

STATE_DIR = ".pcfractal"
MARKER_FILE = "build.json"
JOURNAL_FILE = "journal.jsonl"
LOCK_FILE = "lock"
OLD_MARKER = ".pcfractal-build.json"  # pcfractal 0.1 kept its marker at the folder's top
MARKER_FORMAT = "pcfractal.build"
PARTIAL_RE = re.compile(r"\.[0-9a-f]{8}" + re.escape(atomic.PARTIAL_SUFFIX) + r"$")


def marker_dict(kind: str, settings: dict) -> dict:
    # JSON round trip: the marker read back compares equal (tuples become lists).
    return {"format": MARKER_FORMAT, "kind": kind, "settings": json.loads(atomic.dumps_json(settings)), "pcfractal_version": __version__}


def read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_marker(folder: Path) -> dict | None:
    """The folder's marker, or None when absent or unreadable."""
    m = read_json(Path(folder) / STATE_DIR / MARKER_FILE)
    return m if isinstance(m, dict) and m.get("format") == MARKER_FORMAT and isinstance(m.get("kind"), str) else None


def is_ours(folder: Path) -> bool:
    """The folder carries our state folder or the 0.1 marker."""
    folder = Path(folder)
    return (folder / STATE_DIR).is_dir() or (folder / OLD_MARKER).is_file()


def is_partial(name: str) -> bool:
    return bool(PARTIAL_RE.search(name))


def walk_files(folder: Path) -> Iterator[str]:
    """Relative POSIX paths of every file below ``folder`` except the state folder, sorted
    folder by folder (memory: one folder's names)."""
    for rel, names in manifest_mod.walk(folder):
        if rel == STATE_DIR or rel.startswith(STATE_DIR + "/"):
            continue
        for n in names:
            yield f"{rel}/{n}" if rel else n


def _relation(a: Path, b: Path) -> str | None:
    if a == b:
        return "is"
    if b in a.parents:
        return "is inside"
    if a in b.parents:
        return "contains"
    return None


def check_out_path(out: Path, inputs: list[Path]) -> Path:
    """The resolved output folder; refuse one equal to, inside or containing an input."""
    out = Path(out)
    if out.is_symlink() and not out.exists():
        raise BuildError(f"--out {out} is a broken symbolic link; give a real folder")
    resolved = out.resolve()
    if resolved.exists() and not resolved.is_dir():
        raise BuildError(f"--out {out} exists and is not a folder")
    for inp in inputs:
        src = Path(inp).resolve()
        src_dir = src if src.is_dir() else src.parent
        rel = _relation(resolved, src_dir)
        if rel:
            raise BuildError(f"--out {out} {rel} the input folder {src_dir}; choose an output folder apart from the inputs")
    return resolved


class BuildFolder:
    """One build's output folder. Use ``with BuildFolder(...).open(overwrite) as f:``.

    ``owns(rel)``: the stage's rule for file names it writes (used to tell our files from
    foreign ones when the journal is lost). ``created``: this run made the folder, so a
    failure before any unit finished removes it again.
    """

    def __init__(self, path: Path, kind: str, settings: dict, owns: Callable[[str], bool], inputs: list[Path] = ()):
        self.path = check_out_path(path, list(inputs))
        self.given = Path(path)
        self.kind = kind
        self.marker = marker_dict(kind, settings)
        self.settings = self.marker["settings"]
        self.owns = owns
        self.created: list[Path] = []
        self.resumed = False
        self._lock_fd: int | None = None

    # -- state files ---------------------------------------------------------------------
    @property
    def state(self) -> Path:
        return self.path / STATE_DIR

    def journal(self) -> dict[str, dict]:
        """``{unit key: record}`` of the units a previous run finished (a torn or garbled
        line is skipped: its unit is simply made again)."""
        out = {}
        try:
            text = (self.state / JOURNAL_FILE).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return out
        for line in text.splitlines():
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if isinstance(r, dict) and isinstance(r.get("unit"), str) and isinstance(r.get("files"), dict):
                out[r["unit"]] = r
        return out

    def append_journal(self, records: list[dict]) -> None:
        """Add finished units to the journal (appended, flushed and fsynced)."""
        if not records:
            return
        data = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)  # key order kept: results come back as made
        if _ends_torn(self.state / JOURNAL_FILE):
            data = "\n" + data  # a run killed mid-append left half a line: never glue a record onto it
        with open(self.state / JOURNAL_FILE, "a", encoding="utf-8") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    def reset_journal(self) -> None:
        (self.state / JOURNAL_FILE).unlink(missing_ok=True)

    # -- opening -------------------------------------------------------------------------
    @contextlib.contextmanager
    def open(self, overwrite: bool = False) -> Iterator["BuildFolder"]:
        """Create, resume or (``overwrite``) replace the folder, holding its lock; on an
        error before any unit finished, a folder this run created is removed again."""
        self._prepare(overwrite)
        ok = False
        try:
            yield self
            ok = True
        finally:
            self._unlock()
            if not ok and not self.resumed and not self.journal():
                self._discard()

    def _discard(self) -> None:
        """Leave nothing behind after a failed first run: the folders this run created, or
        our state folder in a folder that was empty."""
        if self.created:
            shutil.rmtree(self.path, ignore_errors=True)  # everything in it is ours
            for d in reversed(self.created[:-1]):
                _rmdir_quiet(d)
        elif not any(walk_files(self.path)):
            shutil.rmtree(self.state, ignore_errors=True)

    def _prepare(self, overwrite: bool) -> None:
        p = self.path
        try:
            if not p.exists():
                self.created = _mkdirs(p)
            elif any(p.iterdir()) and not is_ours(p):
                example = next(iter(sorted(x.name for x in p.iterdir())))
                raise BuildError(
                    f"--out {self.given} is not empty and is not a pcfractal build (it holds {example!r}); "
                    "choose a new or empty folder (--overwrite only replaces pcfractal builds)"
                )
            self.state.mkdir(exist_ok=True)
            self._lock()
            for x in self.state.iterdir():  # a marker write killed midway (walk_files skips this folder)
                if is_partial(x.name):
                    x.unlink(missing_ok=True)
            old = read_marker(p)
            if old == self.marker:
                self.resumed = True
            elif old is None and not (p / OLD_MARKER).exists() and not self.journal() and not any(walk_files(p)):
                pass  # empty, or killed before the marker was written
            elif old is None and (p / manifest_mod.MANIFEST_FILE).is_file() and _manifest_matches(p, self.marker):
                self.resumed = True  # our marker was lost or damaged; the manifest says what this is
            elif overwrite:
                self._remove_owned(old)
            else:
                if old is None:
                    what = "a build of pcfractal 0.1 (or a damaged one), which this version cannot resume"
                elif old.get("pcfractal_version") != __version__ and {**old, "pcfractal_version": __version__} == self.marker:
                    what = (
                        f"this build made by pcfractal {old.get('pcfractal_version')}, which this version ({__version__}) does not resume"
                    )
                else:
                    what = f"another {old['kind']} build (different settings)"
                raise BuildError(f"--out {self.given} holds {what}; choose a new --out, or pass --overwrite to replace it")
            atomic.write_json(self.state / MARKER_FILE, self.marker)
            (p / OLD_MARKER).unlink(missing_ok=True)
        except OSError as e:
            self._unlock()
            self._discard_if_new()
            raise BuildError(f"cannot write to --out {self.given}: {e.strerror or e}") from None
        except BaseException:
            self._unlock()
            self._discard_if_new()
            raise

    def _discard_if_new(self) -> None:
        if self.created:
            self._discard()

    def _lock(self) -> None:
        fd = os.open(self.state / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise BuildError(
                    f"--out {self.given} is being built by another pcfractal process; wait for it to finish or choose another --out"
                ) from None
            raise
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing releases the flock
            self._lock_fd = None

    def _remove_owned(self, old: dict | None) -> None:
        """--overwrite: delete what a previous build wrote, after checking that every file
        in the folder is one; a foreign file stops it before anything is deleted."""
        recorded = self._recorded_files()
        files = list(walk_files(self.path))
        for rel in files:
            base = PARTIAL_RE.sub("", rel)
            if (
                rel in recorded
                or base in recorded
                or rel in (OLD_MARKER, manifest_mod.MANIFEST_FILE)
                or self.owns(base)
                or _old_owns(old, base)
            ):
                continue
            raise BuildError(
                f"--overwrite refused: {self.given / rel} was not written by pcfractal; move it out of {self.given} "
                "(or delete it yourself) and run the command again. Nothing was deleted"
            )
        for rel in files:
            (self.path / rel).unlink(missing_ok=True)
        for d in sorted((x for x in self.path.rglob("*") if x.is_dir() and STATE_DIR not in x.relative_to(self.path).parts), reverse=True):
            _rmdir_quiet(d)
        self.reset_journal()

    def _recorded_files(self) -> set[str]:
        """Files the journal or the manifest (with its folders' SHA256SUMS) name."""
        names: set[str] = set()
        for r in self.journal().values():
            names.update(r["files"])
            for folder in r.get("folders", {}):
                names.update(f"{folder}/{n}" for n in _sums_names(self.path / folder))
        m = read_json(self.path / manifest_mod.MANIFEST_FILE)
        if isinstance(m, dict):
            for e in m.get("files", []) if isinstance(m.get("files"), list) else []:
                if isinstance(e, dict) and isinstance(e.get("path"), str):
                    names.add(e["path"])
            for f in m.get("folders", []) if isinstance(m.get("folders"), list) else []:
                if isinstance(f, dict) and isinstance(f.get("path"), str):
                    names.update(f"{f['path']}/{n}" for n in _sums_names(self.path / f["path"]))
        return names


def _ends_torn(path: Path) -> bool:
    """The file exists, is not empty and its last byte is not a newline."""
    try:
        with open(path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            return f.read(1) != b"\n"
    except OSError:  # missing, or empty (seek before the start)
        return False


def _manifest_matches(folder: Path, marker: dict) -> bool:
    m = read_json(folder / manifest_mod.MANIFEST_FILE)
    return isinstance(m, dict) and m.get("kind") == marker["kind"] and m.get("settings") == marker["settings"]


def _sums_names(folder: Path) -> list[str]:
    try:
        return [*manifest_mod.read_sums(folder / manifest_mod.SUMS_FILE), manifest_mod.SUMS_FILE]
    except (OSError, ValueError):
        return []


# File names of the 0.1 layouts (overwrite of a folder built by pcfractal 0.1).
_OLD_NAMES = re.compile(
    r"^(categories\.json|gallery\.png|stats\.(json|md)|instances\.json|scenes\.json|images\.json|classes\.json|\d{6}\.csv|"
    r"\d{6}(\.info)?\.npy|ply/\d{6}_\d{6}\.ply|(points|instance_mask|semantic_mask)/(\d{6}\.bin|SHA256SUMS)|[\w.-]+_infos_(train|val)\.pkl|"
    r"\d{5}/(\d{5}_\d{5}\.png|SHA256SUMS|\.complete)|shard-\d{6}\.(tar|json))$"
)


def _old_owns(old: dict | None, rel: str) -> bool:
    return old is None and bool(_OLD_NAMES.match(rel))


def _mkdirs(path: Path) -> list[Path]:
    """mkdir -p, returning the folders it created (outermost first)."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    made = []
    for d in reversed(missing):
        d.mkdir()
        made.append(d)
    return made


def _rmdir_quiet(d: Path) -> None:
    with contextlib.suppress(OSError):
        d.rmdir()

"""The Stage protocol and ``run_stage``: THE one loop that runs a build stage.

A stage (categories, instances, scenes, images, export-csv...) only says what to make:
its settings, its plan, its work units and how to make one unit. ``run_stage`` owns the
rest, once for every stage and for library callers and the CLI alike:

1. plan, then check before any work: workers, memory per unit, free space;
2. open the folder (``BuildFolder``): marker, exclusive lock, resume or --overwrite rules,
   leftover ``*.partial`` files removed, foreign files refused;
3. run the units on the executor (local processes or Ray), in key order. A unit a
   previous run finished is kept only when its files still have the bytes the journal
   recorded; otherwise it is made again;
4. ``finish`` (summary files), then seal: every file must be one the units recorded (a
   file the build did not write stops it), per-folder ``SHA256SUMS`` and ``manifest.json``
   last.

>>> # run_stage(InstancesStage(InstancesSettings(categories="cats")), "insts")
"""

from __future__ import annotations

import errno
import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from pcfractal import __version__
from pcfractal.io import atomic
from pcfractal.io import manifest as manifest_mod

from .executor import make_executor
from .output import BuildFolder, is_partial, walk_files
from .plan import BuildError, Plan, check_free_space, check_workers, fit_workers, fmt_bytes, fmt_seconds, free_bytes
from .progress import Log
from .settings import settings_to_dict

CONFIG_FILE = "build_config.json"  # replayable: pcfractal build --config OUT/build_config.json


# --- recording what a unit writes ---------------------------------------------------------


class UnitWriter:
    """Writes a unit's files atomically and records the size and sha256 of the bytes it
    wrote (from memory: nothing is read back). ``durable=False`` skips the per-file fsync
    (call ``sync()`` once at the end, e.g. for thousands of small images)."""

    def __init__(self, root: str | os.PathLike, durable: bool = True):
        self.root = Path(root)
        self.durable = durable
        self.files: dict[str, list] = {}
        self.folders: dict[str, list] = {}
        self._made: set[Path] = set()  # folders made already (a mkdir per file costs ~9 us)

    def path(self, rel: str) -> Path:
        p = self.root / rel
        if p.parent not in self._made:
            p.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(p.parent)
        return p

    def record_file(self, rel: str, size: int, sha256: str, schema: dict | None = None) -> None:
        self.files[rel] = [int(size), sha256, schema or {}]

    def write(self, rel: str, data: bytes, schema: dict | None = None) -> Path:
        p = self.path(rel)
        if self.durable:
            atomic.write_bytes(p, data)
        else:
            atomic.write_bytes_nosync(p, data)
        self.record_file(rel, len(data), hashlib.sha256(data).hexdigest(), schema)
        return p

    def write_text(self, rel: str, text: str) -> Path:
        return self.write(rel, text.encode("utf-8"))

    def write_json(self, rel: str, obj) -> Path:
        return self.write_text(rel, atomic.dumps_json(obj))

    def write_npy(self, rel: str, array: np.ndarray) -> Path:
        a = np.ascontiguousarray(array)
        return self.write(rel, atomic.npy_bytes(a), {"shape": list(a.shape), "dtype": a.dtype.str, "fortran_order": False})

    def sync(self) -> None:
        atomic.sync_filesystem(self.root)

    def seal_folder(self, rel_folder: str) -> None:
        """The unit owns ``rel_folder`` alone: write its ``SHA256SUMS`` from the recorded
        hashes and keep one folder record instead of a record per file."""
        prefix = rel_folder.rstrip("/") + "/"
        mine = {k[len(prefix) :]: v for k, v in self.files.items() if k.startswith(prefix) and "/" not in k[len(prefix) :]}
        text = manifest_mod.sums_text({n: v[1] for n, v in mine.items()}).encode()
        atomic.write_bytes(self.root / prefix / manifest_mod.SUMS_FILE, text)
        for n in mine:
            del self.files[prefix + n]
        self.folders[rel_folder] = [len(mine), sum(v[0] for v in mine.values()), len(text), hashlib.sha256(text).hexdigest()]

    def record(self, key: str, result: Any) -> dict:
        return {"unit": key, "files": self.files, "folders": self.folders, "result": result}


def check_record(root: Path, record: dict) -> str | None:
    """None when every file a journal record names still has its recorded bytes; else
    what is wrong with the first bad file."""
    for rel, (size, digest, _) in sorted(record["files"].items()):
        p = root / rel
        try:
            if p.stat().st_size != size:
                return f"{rel}: size changed"
            if manifest_mod.sha256_file(p)[1] != digest:
                return f"{rel}: bytes changed"
        except OSError:
            return f"{rel}: missing"
    for rel, (n, _, sums_size, sums_sha) in sorted(record.get("folders", {}).items()):
        d = root / rel
        sums = d / manifest_mod.SUMS_FILE
        try:
            if manifest_mod.sha256_file(sums) != (sums_size, sums_sha):
                return f"{rel}/{manifest_mod.SUMS_FILE}: changed"
            hashes = manifest_mod.read_sums(sums)
            names = {x.name for x in d.iterdir() if x.is_file()} - {manifest_mod.SUMS_FILE}
        except (OSError, ValueError):
            return f"{rel}/{manifest_mod.SUMS_FILE}: missing or unreadable"
        if len(hashes) != n:
            return f"{rel}/{manifest_mod.SUMS_FILE}: changed"
        missing = sorted(set(hashes) - names)
        if missing:
            return f"{rel}/{missing[0]}: missing"
        for name in sorted(hashes):
            if manifest_mod.sha256_file(d / name)[1] != hashes[name]:
                return f"{rel}/{name}: bytes changed"
    return None


# --- the protocol ---------------------------------------------------------------------------


class Stage:
    """Base class of the build stages. Subclasses set ``kind`` and implement:

    - ``settings_dict()``: what defines the output (marker and manifest; JSON-able);
    - ``inputs()``: input files/folders (the output may not overlap them);
    - ``check_inputs()``: load and check inputs (category files, ...); raise on bad ones;
    - ``plan(probe)``: a ``Plan`` (``probe``: time a few units here, for --dry-run);
    - ``units()``: ``(key, args)`` per work unit, in output order;
    - ``run_unit(writer, *args)``: make one unit (in a worker), write through ``writer``,
      return a small JSON-able result;
    - ``owns(rel)``: whether a file name is one this stage writes;
    - ``finish(ctx, results)``: write the summary files through ``ctx.writer``; return the
      manifest counts;
    - ``summary(ctx, results)``: ``(title, rows)`` printed at the end.
    ``prepare(ctx)`` (optional) runs serial work first, e.g. a category search. A stage
    keeps its Settings dataclass in ``self.s`` (what ``config`` records for a replay).
    """

    kind = ""
    durable_units = True

    def settings_dict(self) -> dict:
        raise NotImplementedError

    @property
    def seed(self) -> int | None:
        return self.settings_dict().get("seed")

    def inputs(self) -> list[Path]:
        return []

    def check_inputs(self) -> None:
        pass

    def plan(self, probe: bool = False) -> Plan:
        raise NotImplementedError

    def prepare(self, ctx: "RunContext") -> None:
        pass

    def units(self) -> Iterable[tuple[str, tuple]]:
        raise NotImplementedError

    def run_unit(self, writer: UnitWriter, *args) -> Any:
        raise NotImplementedError

    def owns(self, rel: str) -> bool:
        raise NotImplementedError

    def finish(self, ctx: "RunContext", results: list) -> dict:
        raise NotImplementedError

    def summary(self, ctx: "RunContext", results: list) -> tuple[str, list[tuple[str, object]]]:
        return f"{self.kind}: done -> {ctx.folder.given}", []

    def config(self, base: Path | None = None) -> dict:
        """The options that replay this stage (``pcfractal build --config``): its Settings
        (``self.s``), input paths relative to ``base`` (the folder of the config file)."""
        return {"stage": self.kind, "settings": settings_to_dict(self.s, base)}


@dataclass
class RunOptions:
    """How to run (never what to make: output bytes do not depend on these)."""

    workers: int = 0
    ray: bool = False
    ray_address: str | None = None
    overwrite: bool = False
    dry_run: bool = False
    log: Log = field(default_factory=Log)
    config_base: Path | None = None  # input paths in build_config.json: absolute, or relative to this


@dataclass
class RunContext:
    """What a stage's ``prepare``/``finish`` may use during a run."""

    folder: BuildFolder
    executor: Any
    log: Log
    journal: dict
    writer: UnitWriter
    new_records: list = field(default_factory=list)
    t0: float = field(default_factory=time.perf_counter)

    @property
    def root(self) -> Path:
        return self.folder.path

    def serial_unit(self, key: str, make: Callable[[UnitWriter], Any]) -> Any:
        """Run ``make(writer)`` once in this process, journaled like a unit: a previous
        run's output is reused only when its bytes are unchanged (e.g. a classes.json)."""
        rec = self.journal.get(key)
        if rec is not None:
            problem = check_record(self.root, rec)
            if problem is None:
                return rec["result"]
            self.log.warn(f"{self.folder.given / problem.split(':')[0]}: {problem.split(': ', 1)[-1]}; making it again")
        w = UnitWriter(self.root)
        result = make(w)
        record = w.record(key, result)
        self.folder.append_journal([record])
        self.journal[key] = record
        return result


def _do_unit(stage: Stage, key: str, args: tuple, root: str, record: dict | None):
    """Run in a worker: keep a journaled unit whose bytes are unchanged, else make it."""
    problem = None
    if record is not None:
        problem = check_record(Path(root), record)
        if problem is None:
            return record, True, None
    w = UnitWriter(root, durable=stage.durable_units)
    result = stage.run_unit(w, *args)
    if not stage.durable_units:
        w.sync()
    return w.record(key, result), False, problem


# --- the loop -------------------------------------------------------------------------------


def plan_checks(stages: list[Stage], outs: list[Path], opts: RunOptions, probe: bool = False) -> tuple[list[Plan], int, list[str]]:
    """Plans of every stage and the checks on the WHOLE set before any work: workers,
    memory per unit, free space (minus what resumable folders already hold)."""
    workers = check_workers(opts.workers)
    plans = [s.plan(probe=probe) for s in stages]
    notes: list[str] = []
    local = not (opts.ray or opts.ray_address)
    for p in plans:
        w, n = fit_workers(p, workers, local=local)
        notes += [x for x in n if x not in notes]
    need = sum(p.bytes for p in plans) - sum(_held_bytes(o) for o in outs)
    if outs:
        check_free_space(outs[0], max(0, need))
    return plans, workers, notes


def _held_bytes(out: Path) -> int:
    total = 0
    if Path(out).is_dir():
        for rel in walk_files(Path(out)):
            try:
                total += (Path(out) / rel).stat().st_size
            except OSError:
                pass
    return total


def print_plan(stage: Stage, out: Path, plan: Plan, workers: int, opts: RunOptions) -> None:
    secs = plan.seconds(workers)
    who = "Ray" if (opts.ray or opts.ray_address) else f"{workers} local worker process{'es' if workers != 1 else ''}"
    rows = [
        ("files", f"{plan.files:,} + {manifest_mod.MANIFEST_FILE}"),
        ("size", f"{fmt_bytes(plan.bytes)} ({plan.bytes:,} bytes)"),
        ("free space", f"{fmt_bytes(free_bytes(out))}"),
        ("work units", f"{plan.units:,}" + (f", ~{fmt_bytes(plan.unit_bytes)} of memory each" if plan.unit_bytes else "")),
        ("time", f"~{fmt_seconds(secs)} on {who}" if secs is not None else "unknown (planned after the stages before it)"),
    ]
    rows += [tuple(n.split(": ", 1)) if ": " in n else ("note", n) for n in plan.notes]
    summary(f"dry run: {stage.kind} -> {out} (nothing written)", rows)


def summary(title: str, rows: list[tuple[str, object]]) -> None:
    """A two-column summary on stdout."""
    print(title)
    if rows:
        width = max(len(k) for k, _ in rows)
        for k, v in rows:
            print(f"  {k:<{width}}  {v}")


def run_stage(stage: Stage, out: str | os.PathLike, opts: RunOptions | None = None, *, checked: bool = False) -> dict | None:
    """Build ``stage`` into ``out`` with every guarantee (see the module docstring).

    Returns the manifest (None for a dry run). Raises ``BuildError`` (one line) for bad
    input, a busy or foreign folder, a limit, a full disk or a folder this build cannot
    seal. ``checked``: the caller (``build``) already ran ``plan_checks`` on the whole plan.
    """
    opts = opts or RunOptions()
    log = opts.log
    out = Path(out)
    stage.check_inputs()
    folder = BuildFolder(out, stage.kind, stage.settings_dict(), stage.owns, stage.inputs())
    if opts.dry_run:
        plans, workers, notes = plan_checks([stage], [folder.path], opts, probe=True)
        plans[0].notes += notes
        print_plan(stage, out, plans[0], workers, opts)
        return None
    if not checked:
        plans, workers, notes = plan_checks([stage], [folder.path], opts)
    else:
        plans, workers, notes = [stage.plan()], check_workers(opts.workers), []
    workers, more = fit_workers(plans[0], workers, local=not (opts.ray or opts.ray_address))
    for n in notes + [m for m in more if m not in notes]:
        log.info(f"note: {n}")
    executor = make_executor(workers, ray=opts.ray, ray_address=opts.ray_address)
    executor.check()
    try:
        with folder.open(opts.overwrite) as f, executor:
            return _run(stage, f, executor, log, opts.config_base)
    except OSError as e:
        raise _os_error(e, out) from None


def _os_error(e: OSError, out: Path) -> BuildError:
    """A full disk, a read-only or unwritable folder met mid-build, as one line."""
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return BuildError(
            f"disk full while writing {out} ({e.filename or e.strerror}); no partial file was kept: free some space and run the same command again to resume"
        )
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return BuildError(
            f"cannot write to {out}: {e.strerror} ({e.filename}); fix the permissions and run the same command again to resume"
        )
    return BuildError(f"{out}: {e.strerror or e} ({e.filename or ''})")


def _run(stage: Stage, folder: BuildFolder, executor, log: Log, config_base: Path | None) -> dict:
    root = folder.path
    journal = folder.journal()
    recorded = _recorded(journal)

    def ours(rel: str) -> bool:
        # sub-folders get a SHA256SUMS at sealing (one the seal does not expect is refused then)
        d, _, name = rel.rpartition("/")
        return rel in recorded or rel == CONFIG_FILE or stage.owns(rel) or (name == manifest_mod.SUMS_FILE and bool(d))

    removed = _refuse_foreign(root, folder.given, ours)
    if removed:
        log.detail(f"removed {removed} leftover partial file(s) of an interrupted run")
    (root / manifest_mod.MANIFEST_FILE).unlink(missing_ok=True)  # sealed again at the end
    if journal:
        log.info(f"{folder.given}: resuming ({len(journal)} finished unit(s) are checked byte for byte)")
    if not _kernels_cached():
        log.info("compiling the numba kernels (the first run after an install: ~15 s; cached after)")
    ctx = RunContext(folder, executor, log, journal, UnitWriter(root))
    stage.prepare(ctx)
    units = list(stage.units())
    keys = [k for k, _ in units]
    if len(set(keys)) != len(keys):
        raise BuildError(f"{stage.kind}: duplicate work unit keys")  # a programming error, said plainly
    results = []
    pending: list[dict] = []
    last_flush = time.monotonic()
    with log.progress(len(units), stage.kind, "units") as bar:
        args = ((stage, k, a, str(root), journal.get(k)) for k, a in units)
        try:
            for record, kept, problem in executor.imap(_do_unit, args):
                if problem:
                    log.warn(f"{folder.given / problem.split(': ')[0]}: {problem.split(': ', 1)[-1]}; made it again")
                if not kept:
                    pending.append(record)
                    journal[record["unit"]] = record
                results.append(record["result"])
                if pending and (len(pending) >= 64 or time.monotonic() - last_flush > 2):
                    folder.append_journal(pending)
                    pending, last_flush = [], time.monotonic()
                bar.update(1)
        finally:  # an error or Ctrl-C: the units that did finish are kept for the resume
            folder.append_journal(pending)
    ctx.writer = UnitWriter(root)
    counts = stage.finish(ctx, results)
    ctx.writer.write_json(CONFIG_FILE, {"pcfractal_config": 1, "pcfractal_version": __version__, "stages": [stage.config(config_base)]})
    finish_record = ctx.writer.record("finish", None)
    folder.append_journal([finish_record])
    journal["finish"] = finish_record
    m = seal(root, folder.given, stage, journal, counts, folder.settings)
    title, rows = stage.summary(ctx, results)
    if log.level >= 1:
        summary(
            title,
            rows
            + [
                ("time", f"{time.perf_counter() - ctx.t0:.1f} s"),
                ("manifest", f"{m['total_files']:,} files, {fmt_bytes(m['total_bytes'])}, sha256 of each"),
            ],
        )
    return m


def _kernels_cached() -> bool:
    """numba's on-disk cache of the kernels exists (no compile pause ahead)."""
    import pcfractal

    return any(Path(pcfractal.__file__).parent.glob("*/__pycache__/*.nbi"))


def _recorded(journal: dict) -> set[str]:
    names = set()
    for r in journal.values():
        names.update(r["files"])
    return names


def _refuse_foreign(root: Path, given: Path, ok: Callable[[str], bool]) -> int:
    """Delete our leftover ``*.partial`` files (returns how many); refuse any file that
    ``ok`` does not accept, naming it."""
    removed = 0
    for rel in list(walk_files(root)):
        if is_partial(rel):
            (root / rel).unlink(missing_ok=True)
            removed += 1
            continue
        if rel == manifest_mod.MANIFEST_FILE or ok(rel):
            continue
        raise BuildError(
            f"{given / rel}: not written by this build (a stray or renamed file?); move it out of {given} "
            "and run the same command again (pcfractal never seals or deletes a file it did not write)"
        )
    return removed


def seal(root: Path, given: Path, stage: Stage, journal: dict, counts: dict, settings: dict) -> dict:
    """Check that the folder holds exactly what the journal records, write the shared
    folders' ``SHA256SUMS`` and ``manifest.json`` (last)."""
    top: dict[str, list] = {}
    shared: dict[str, dict[str, list]] = {}
    folders: dict[str, list] = {}
    files = {rel: v for r in journal.values() for rel, v in r["files"].items()}
    for r in journal.values():
        folders.update(r.get("folders", {}))
    # A folder of shards (files with a schema) is listed file by file, with the schema; a
    # folder of plain files (points/*.bin, ply/) by its SHA256SUMS.
    listed_dirs = {rel.rpartition("/")[0] for rel, v in files.items() if v[2]}
    for rel, v in files.items():
        d, _, name = rel.rpartition("/")
        if d and d not in listed_dirs:
            shared.setdefault(d, {})[name] = v
        else:
            top[rel] = v
    allowed_dirs = set(folders)

    def ok(rel: str) -> bool:
        d, _, name = rel.rpartition("/")
        if rel in top:
            return True
        if d in shared:
            return name in shared[d] or name == manifest_mod.SUMS_FILE
        return d in allowed_dirs

    _refuse_foreign(root, given, ok)
    entries = [{"path": rel, "size": v[0], "sha256": v[1], **v[2]} for rel, v in top.items()]
    dir_entries = []
    for d, files in shared.items():
        text = manifest_mod.sums_text({n: v[1] for n, v in files.items()}).encode()
        atomic.write_bytes(root / d / manifest_mod.SUMS_FILE, text)
        entries.append({"path": f"{d}/{manifest_mod.SUMS_FILE}", "size": len(text), "sha256": hashlib.sha256(text).hexdigest()})
        dir_entries.append({"path": d, "files": len(files), "bytes": sum(v[0] for v in files.values())})
    for d, (n, nbytes, sums_size, sums_sha) in folders.items():
        entries.append({"path": f"{d}/{manifest_mod.SUMS_FILE}", "size": sums_size, "sha256": sums_sha})
        dir_entries.append({"path": d, "files": n, "bytes": nbytes})
    entries.sort(key=lambda e: e["path"])
    dir_entries.sort(key=lambda e: e["path"])
    m = {
        "format": manifest_mod.FORMAT,
        "format_version": manifest_mod.FORMAT_VERSION,
        "kind": stage.kind,
        "pcfractal_version": __version__,
        "seed": stage.seed,
        "settings": settings,  # the marker's: what this folder is
        "counts": counts,
        "total_files": len(entries) + sum(e["files"] for e in dir_entries),
        "total_bytes": sum(e["size"] for e in entries) + sum(e["bytes"] for e in dir_entries),
        "files": entries,
        "folders": dir_entries,
    }
    manifest_mod.write(root, m)
    return m

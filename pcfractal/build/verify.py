"""``verify``: recheck any pcfractal output against its manifest, or every stage of a
``build`` folder, and say what to do about each problem."""

from __future__ import annotations

from pathlib import Path

from pcfractal.io import manifest as manifest_mod
from pcfractal.io.manifest import Problem

from .output import OLD_MARKER, STATE_DIR, read_json, read_marker
from .plan import BuildError
from .stage import CONFIG_FILE

RERUN = "run the same command again to repair it (damaged and missing files are made again, good ones kept)"


def verify_build(folder: Path) -> list[tuple[str, list[Problem], dict | None]]:
    """``[(stage folder relative to folder, problems, manifest)]`` for a build folder or a
    ``build`` pipeline folder. Raises ``BuildError`` for a folder that is not a build."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BuildError(f"{folder} is not a folder")
    marker = read_marker(folder)
    if marker is not None and marker["kind"] == "build":
        return _verify_pipeline(folder)
    if marker is None and not (folder / manifest_mod.MANIFEST_FILE).exists() and not (folder / OLD_MARKER).exists():
        raise BuildError(
            f"{folder}: not a pcfractal build (no {STATE_DIR}/ and no {manifest_mod.MANIFEST_FILE}); give the --out of a build"
        )
    return [(".", _verify_stage(folder, marker), read_json(folder / manifest_mod.MANIFEST_FILE))]


def _verify_stage(folder: Path, marker: dict | None) -> list[Problem]:
    if not (folder / manifest_mod.MANIFEST_FILE).exists() and marker is not None:
        return [Problem(manifest_mod.MANIFEST_FILE, "missing: the build did not finish; run the same command again to finish it")]
    problems = manifest_mod.verify(folder)
    m = read_json(folder / manifest_mod.MANIFEST_FILE)
    if marker is None and isinstance(m, dict):
        problems.append(
            Problem(
                f"{STATE_DIR}/build.json",
                "the build marker is missing or damaged; the same command rewrites it (the manifest says what this build is)",
            )
        )
    elif marker is not None and isinstance(m, dict) and (m.get("kind") != marker["kind"] or m.get("settings") != marker["settings"]):
        problems.append(Problem(manifest_mod.MANIFEST_FILE, "describes another build than the folder's marker; rebuild with --overwrite"))
    return problems


def _verify_pipeline(folder: Path) -> list[tuple[str, list[Problem], dict | None]]:
    from .pipeline import STAGES

    cfg = read_json(folder / CONFIG_FILE)
    try:
        expected = [s for s in cfg["build"]["stages"].split(",") if s in STAGES]
    except (TypeError, KeyError, AttributeError):
        expected = [s for s in STAGES if (folder / s).is_dir()]
    out = []
    top: list[Problem] = []
    if not isinstance(cfg, dict):
        top.append(Problem(CONFIG_FILE, "missing or unreadable; the same build command writes it again"))
    for name in expected:
        d = folder / name
        if not d.is_dir():
            top.append(Problem(f"{name}/", "missing stage (this build ran it); run the same build command again to make it"))
            continue
        out.append((name, _verify_stage(d, read_marker(d)), read_json(d / manifest_mod.MANIFEST_FILE)))
    for p in sorted(folder.iterdir()):
        if p.name not in (*expected, STATE_DIR, CONFIG_FILE):
            top.append(Problem(p.name + ("/" if p.is_dir() else ""), "unexpected entry (not a stage of this build)"))
    return [(".", top, None)] + out if top else out

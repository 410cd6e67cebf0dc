"""A build killed by a real SIGKILL at a chosen moment (mid-file, just before or after a
rename, mid-manifest, mid-journal line) and resumed with the same command equals an uninterrupted build, byte
for byte (every file and the manifest); no final-named file is ever partial."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pcfractal.io import manifest

from ._util import CATS, HERE, LARGE, REPO, SMALL, TOOL, assert_no_partial_final_file, assert_same_tree, cli, run_main

DRIVER = HERE / "crash_driver.py"
# Renames into the folder in a clean 1-worker instances build of 4 categories: the build
# marker .pcfractal/build.json, then per category .info.npy and .npy, then instances.json,
# build_config.json and manifest.json (test_every_rename_point_is_covered checks the list).
INSTANCE_RENAMES = (
    [".pcfractal/build.json"]
    + [f"{c:06d}{e}" for c in range(4) for e in (".info.npy", ".npy")]
    + ["instances.json", "build_config.json", "manifest.json"]
)
# categories: marker, categories.json, gallery.png, stats.json, stats.md, build_config.json, manifest.json
CATEGORY_RENAMES = [
    ".pcfractal/build.json",
    "categories.json",
    "gallery.png",
    "stats.json",
    "stats.md",
    "build_config.json",
    "manifest.json",
]
INSTANCE_POINTS = (
    [f"replace:{n}:{ph}" for n in (1, 2, 3, 5, 9, 10, 11, 12) for ph in ("before", "after")]
    + [f"write:{n}" for n in (1, 3, 6, 10, 12)]
    + ["journal:1", "journal:2"]
)
CATEGORY_POINTS = [f"replace:{n}:before" for n in range(1, 8)] + ["replace:5:after", "write:4", "write:5", "journal:1"]


def crash(point: str, out: Path, *argv) -> subprocess.CompletedProcess:
    r = cli(*argv, "--workers", "1", "--out", out, driver=DRIVER, env={"PCFRACTAL_CRASH": point, "PCFRACTAL_CRASH_DIR": str(out)})
    return r


@pytest.mark.slow
@pytest.mark.parametrize("point", INSTANCE_POINTS)
def test_instances_killed_then_resumed_equal_clean(capsys, cats, small_ref, tmp_path, point):
    out = tmp_path / "inst"
    r = crash(point, out, "instances", "--categories", cats, *SMALL)
    assert r.returncode == -signal.SIGKILL, (r.returncode, r.stderr[-2000:])
    assert out.is_dir()
    assert_no_partial_final_file(out)
    if point.startswith("write") or point.endswith("before"):
        assert list(out.rglob("*.partial")), "the kill should have left a partial file behind"
    if point.startswith("journal"):
        assert not (out / ".pcfractal" / "journal.jsonl").read_text().endswith("\n"), "the kill should have left a torn journal line"
    code, _, err = run_main(capsys, "instances", "--categories", cats, *SMALL, "--workers", "1", "--out", out)
    assert code == 0, err
    assert not list(out.rglob("*.partial"))
    assert_same_tree(out, small_ref)
    assert manifest.verify(out) == []
    # The journal the resumed run left is whole: one more run checks and keeps every unit.
    before = {p: p.stat().st_mtime_ns for p in out.glob("*.npy")}
    code, _, err = run_main(capsys, "instances", "--categories", cats, *SMALL, "--workers", "1", "--out", out)
    assert code == 0 and "made it again" not in err and "warning" not in err, err
    assert {p: p.stat().st_mtime_ns for p in before} == before, "a finished unit was made again: its journal line was lost"
    assert_same_tree(out, small_ref)


@pytest.mark.slow
@pytest.mark.parametrize("point", CATEGORY_POINTS)
def test_categories_killed_then_resumed_equal_clean(capsys, cats, tmp_path, point):
    out = tmp_path / "cats"
    r = crash(point, out, "categories", *CATS)
    assert r.returncode == -signal.SIGKILL, (r.returncode, r.stderr[-2000:])
    assert_no_partial_final_file(out)
    code, _, err = run_main(capsys, "categories", *CATS, "--workers", "1", "--out", out)
    assert code == 0, err
    assert_same_tree(out, cats)


def test_every_rename_point_is_covered(capsys, cats, tmp_path, monkeypatch):
    """INSTANCE_RENAMES and CATEGORY_RENAMES above are what clean builds do (else the kill
    points miss the marker, the config or the manifest)."""
    calls = []
    real = os.replace

    def counting(src, dst, *a, **k):
        if str(tmp_path) in str(dst):
            calls.append(Path(dst).relative_to(tmp_path).as_posix())
        return real(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", counting)
    code, _, _ = run_main(capsys, "instances", "--categories", cats, *SMALL, "--workers", "1", "--out", tmp_path / "i")
    assert code == 0 and calls == [f"i/{n}" for n in INSTANCE_RENAMES]
    calls.clear()
    code, _, _ = run_main(capsys, "categories", *CATS, "--workers", "1", "--out", tmp_path / "c")
    assert code == 0 and calls == [f"c/{n}" for n in CATEGORY_RENAMES]


def _start(out: Path, cats: Path, workers: int) -> subprocess.Popen:
    cmd = [sys.executable, str(TOOL), "instances", "--categories", str(cats), *LARGE, "--workers", str(workers), "--out", str(out)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO, start_new_session=True)


def _kill_group(p: subprocess.Popen) -> None:
    try:
        os.killpg(p.pid, signal.SIGKILL)  # the build and its worker processes, like kill -9 on all
    except ProcessLookupError:
        pass
    p.wait(timeout=30)


@pytest.mark.slow
def test_kill_9_from_outside_many_times_then_resume(cats, large_ref, tmp_path):
    """Real kill -9 of the whole process group (driver + workers) at moments chosen by what
    is on disk and at random delays, five times over the same folder; then finish."""
    out = tmp_path / "inst"
    rng = random.Random(1234)
    kills = 0
    for target in (1, 3, 5, "random", "random"):
        p = _start(out, cats, workers=2)
        t0 = time.monotonic()
        delay = rng.uniform(0.8, 3.0)
        while p.poll() is None and time.monotonic() - t0 < 120:
            n_done = len(list(out.glob("0*.npy"))) if out.is_dir() else 0
            if (target == "random" and time.monotonic() - t0 > delay) or (target != "random" and n_done >= target):
                break
            time.sleep(0.01)
        if p.poll() is None:
            _kill_group(p)
            kills += 1
        else:
            assert p.returncode == 0, p.stderr.read().decode()[-2000:]
        if out.is_dir():
            assert_no_partial_final_file(out)
    assert kills >= 2, "the build finished before most kills: make LARGE bigger"
    p = _start(out, cats, workers=2)
    assert p.wait(timeout=300) == 0, p.stderr.read().decode()[-2000:]
    assert_same_tree(out, large_ref)

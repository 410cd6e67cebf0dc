"""Misuse as a careless user does it: overwrite of someone's folder, output inside the
input, two builds at once, a killed parent, absurd limits, a full disk. Every case ends
in one clear line (exit 2) or a correct build; nothing that is not ours is deleted."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pcfractal.build import plan as plan_mod
from pcfractal.cli import main

from .conftest import CATS, argv_of, run, tree

REPO = Path(__file__).resolve().parents[2]


def one_line(err: str) -> bool:
    return len(err.strip().splitlines()) == 1


# -- nothing that is not ours is deleted -----------------------------------------------------


def test_overwrite_never_deletes_a_folder_that_is_not_a_build(capsys, tmp_path):
    d = tmp_path / "thesis"
    d.mkdir()
    (d / "thesis.tex").write_text("precious")
    code, _, err = run(capsys, "categories", *CATS, "--out", d, "--overwrite")
    assert code == 2 and one_line(err) and "not a pcfractal build" in err
    assert (d / "thesis.tex").read_text() == "precious" and sorted(p.name for p in d.iterdir()) == ["thesis.tex"]


def test_overwrite_of_a_build_holding_a_foreign_file_deletes_nothing(capsys, refs, copy_of):
    d = copy_of("instances")
    (d / "notes.txt").write_text("mine")
    before = tree(d)
    code, _, err = run(capsys, "instances", "--categories", refs["categories"], "--per-category", "2", "--out", d, "--overwrite")
    assert code == 2 and one_line(err) and "notes.txt" in err and "Nothing was deleted" in err
    assert tree(d) == before


def test_overwrite_replaces_only_our_own_build(capsys, refs, copy_of):
    d = copy_of("instances")
    code, _, err = run(capsys, "instances", "--categories", refs["categories"], "--per-category", "2", "--points", "300", "--out", d)
    assert code == 2 and "holds another instances build" in err and one_line(err)
    code, _, err = run(
        capsys, "instances", "--categories", refs["categories"], "--per-category", "2", "--points", "300", "--out", d, "--overwrite"
    )
    assert code == 0, err
    assert np.load(d / "000000.npy").shape == (2, 300, 3)


@pytest.mark.parametrize("where", ["same", "inside", "containing"])
def test_out_overlapping_the_input_is_refused(capsys, refs, tmp_path, where):
    import shutil

    cats = tmp_path / "a" / "cats"
    shutil.copytree(refs["categories"], cats)
    before = tree(cats)
    out = {"same": cats, "inside": cats / "inst", "containing": tmp_path / "a"}[where]
    code, _, err = run(capsys, "instances", "--categories", cats, "--per-category", "2", "--out", out, "--overwrite")
    assert code == 2 and one_line(err) and "input folder" in err
    assert tree(cats) == before and not (cats / "inst").exists()


def test_symlinked_out_is_resolved(capsys, refs, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    code, _, err = run(capsys, *argv_of("instances", refs, link))
    assert code == 0, err
    assert tree(real) == tree(refs["instances"])


# -- two builds, killed parents ---------------------------------------------------------------


def test_a_second_build_into_a_locked_folder_stops_with_one_line(capsys, refs, copy_of):
    d = copy_of("instances")
    fd = os.open(d / ".pcfractal" / "lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another process holds the build
    try:
        code, _, err = run(capsys, *argv_of("instances", refs, d))
    finally:
        os.close(fd)
    assert code == 2 and one_line(err) and "another pcfractal process" in err
    assert tree(d) == tree(refs["instances"])


@pytest.mark.slow
def test_workers_die_with_a_killed_parent(refs, tmp_path):
    out = tmp_path / "killed"
    cmd = [
        sys.executable,
        str(REPO / "tools" / "build_pcfractal.py"),
        "instances",
        "--categories",
        str(refs["categories"]),
        "--per-category",
        "400",
        "--workers",
        "2",
        "--out",
        str(out),
    ]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and len(_children(p.pid)) < 2:
        time.sleep(0.2)
    kids = _children(p.pid)
    assert kids, "the build never started its workers"
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(_alive(k) for k in kids):
        time.sleep(0.1)
    assert not any(_alive(k) for k in kids), "workers outlived their killed parent"
    assert main(cmd[2:-4] + ["--workers", "1", "--out", str(out)]) == 0  # and the folder resumes


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(d.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# -- limits checked before any work -------------------------------------------------------------


LIMITS = [
    (["categories", *CATS, "--workers", "100000"], "--workers"),
    (["categories", *CATS, "--workers", "-1"], "--workers"),
    (["instances", "--categories", "{cats}", "--per-category", "1000000", "--points", "1000000000000"], "memory"),
    (["scenes", "--categories", "{cats}", "--room-size", "inf"], "finite"),
    (["scenes", "--categories", "{cats}", "--room-size", "1e30"], "at most"),
    (["scenes", "--categories", "{cats}", "--prefix", "../x"], "--prefix"),
    (["scenes", "--categories", "{cats}", "--prefix", "a/b"], "--prefix"),
    (["images", "--kind", "rcdb", "--size", "200000"], "memory"),
    (["categories", "--count", "2", "--threshold", "0.3333", "--max-candidates", "8000"], "--threshold"),
    (["categories", "--count", "300", "--threshold", "0.05", "--max-candidates", "5000"], "--max-candidates"),
    (["categories", "--threshold", "0.5"], "threshold"),
    (["instances", "--categories", "{onemap}"], "at least 2 maps"),
    (["images", "--kind", "rcdb", "--n-points", "10"], "does not apply"),
    (["categories", "--count", "zero"], "--count"),
    (["categories", "--ratio", "0.5"], "unrecognized"),
]


@pytest.mark.parametrize("argv,needle", LIMITS, ids=[" ".join(a[:1] + a[-2:]) for a, _ in LIMITS])
def test_limits_one_line_exit_2_nothing_written(capsys, refs, tmp_path, argv, needle):
    onemap = tmp_path / "onemap"
    onemap.mkdir()
    (onemap / "categories.json").write_text(
        '{"format": "pcfractal.categories", "format_version": 1, "categories": ['
        '{"index": 0, "maps": [[0.5,0,0,0,0.5,0,0,0,0.5,0,0,0]]}, {"index": 1, "maps": [[0.5,0,0,0,0.5,0,0,0,0.5,0,0,0]]}]}'
    )
    argv = [a.format(cats=refs["categories"], onemap=onemap) for a in argv]
    out = tmp_path / "out" / "deeper"
    code, _, err = run(capsys, *argv, "--out", out)
    assert code == 2 and one_line(err) and needle in err, err
    assert not (tmp_path / "out").exists()


def test_free_space_is_checked_for_the_whole_build_before_any_stage(capsys, tmp_path, monkeypatch):
    seen = []

    def tiny_disk(path):
        seen.append(path)
        return 50 * 2**20  # 50 MiB: enough for the categories, not for 10,000 scenes

    monkeypatch.setattr(plan_mod, "free_bytes", tiny_disk)
    code, _, err = run(capsys, "build", "--preset", "small", "--threshold", "0.05", "--out", tmp_path / "b")
    assert code == 2 and one_line(err) and "not enough free space" in err
    assert not (tmp_path / "b").exists()


def test_a_failed_first_run_leaves_no_folder(capsys, tmp_path):
    out = tmp_path / "x" / "y"
    code, _, err = run(capsys, "categories", "--count", "50", "--threshold", "0.2", "--max-candidates", "8000", "--out", out)
    assert code == 2 and one_line(err)
    assert not (tmp_path / "x").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(capsys, "categories", "--count", "50", "--threshold", "0.2", "--max-candidates", "8000", "--out", empty)
    assert code == 2 and list(empty.iterdir()) == []


def test_argparse_errors_are_one_line_with_a_help_hint(capsys, tmp_path):
    code, out, err = run(capsys, "instances", "--per-category", "3", "--out", tmp_path / "o")
    assert code == 2 and one_line(err) and "--categories" in err and "--help" in err
    code, out, err = run(capsys, "nosuchcommand")
    assert code == 2 and one_line(err)


# -- the pipeline --------------------------------------------------------------------------------


def test_build_dry_run_plans_every_stage_and_writes_nothing(capsys, tmp_path):
    code, out, err = run(capsys, "build", "--preset", "paper", "--dry-run", "--out", tmp_path / "b")
    assert code == 0, err
    for stage in ("categories", "instances", "scenes"):
        assert f"dry run: {stage}" in out
    assert not (tmp_path / "b").exists()


@pytest.mark.slow
def test_build_stages_config_replay_and_pipeline_verify(capsys, tmp_path):
    small = ["--count", "3", "--per-category", "2", "--scenes", "2", "--threshold", "0.05", "--points", "200", "--workers", "1"]
    a = tmp_path / "a"
    assert run(capsys, "build", *small, "--stages", "categories,instances", "--out", a)[0] == 0
    assert not (a / "scenes").exists()
    assert run(capsys, "build", *small, "--stages", "scenes", "--out", a)[0] == 0
    b = tmp_path / "b"
    code, _, err = run(capsys, "build", "--config", a / "build_config.json", "--workers", "2", "--out", b)
    assert code == 0, err
    for stage in ("categories", "instances", "scenes"):
        assert tree(a / stage) == tree(b / stage)
    assert run(capsys, "verify", a)[0] == 0
    import shutil

    shutil.rmtree(a / "instances")
    (a / "stray.txt").write_text("x")
    code, _, err = run(capsys, "verify", a)
    assert code == 1 and "instances: missing stage" in err and "stray.txt" in err


def test_a_stage_config_replays_to_the_same_bytes(capsys, refs, tmp_path):
    out = tmp_path / "again"
    code, _, err = run(capsys, "build", "--config", refs["instances"] / "build_config.json", "--out", out)
    assert code == 0, err
    assert tree(out) == tree(refs["instances"])


def test_library_callers_get_the_same_guarantees(tmp_path, tiny_systems):
    from pcfractal.build import BuildError
    from scene_builder import SceneSettings
    from scene_builder.writers.mmdet3d import write_dataset

    s = SceneSettings(base_objects=2, extra_objects_mean=0, instances_per_category=2)
    root = tmp_path / "lib"
    res = write_dataset(root, tiny_systems, 2, seed=1, settings=s)
    assert res["count"] == 2 and (root / "manifest.json").is_file()
    (root / "points" / "000001.bin").write_bytes(b"broken")
    write_dataset(root, tiny_systems, 2, seed=1, settings=s)  # repaired, not sealed as is
    assert np.fromfile(root / "points" / "000001.bin", dtype="<f4").size % 3 == 0
    with pytest.raises(BuildError, match="another scenes build"):
        write_dataset(root, tiny_systems, 3, seed=1, settings=s)


def test_progress_lines_when_stderr_is_not_a_terminal(refs, tmp_path):
    out = tmp_path / "p"
    env = {**os.environ, "PCFRACTAL_PROGRESS_SECONDS": "0"}
    cmd = [sys.executable, str(REPO / "tools" / "build_pcfractal.py"), *map(str, argv_of("instances", refs, out))]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "instances: 3/3 units (100%)" in p.stderr  # a plain line, no terminal bar
    q = subprocess.run(
        [*cmd[:2], *map(str, argv_of("instances", refs, tmp_path / "q")), "--quiet"], capture_output=True, text=True, env=env, timeout=120
    )
    assert q.returncode == 0 and q.stdout == "" and q.stderr == ""


def test_a_diverging_category_file_is_refused_before_any_work(capsys, tmp_path):
    d = tmp_path / "diverging"
    d.mkdir()
    grow = "[2.0,0,0,0,2.0,0,0,0,2.0,0.1,0,0]"
    (d / "categories.json").write_text(
        '{"format": "pcfractal.categories", "format_version": 1, "categories": ['
        f'{{"index": 0, "maps": [{grow}, {grow}]}}, {{"index": 1, "maps": [{grow}, {grow}]}}]}}'
    )
    code, _, err = run(capsys, "instances", "--categories", d, "--out", tmp_path / "o")
    assert code == 2 and one_line(err) and "diverges" in err
    assert not (tmp_path / "o").exists()

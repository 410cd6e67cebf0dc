"""A full disk or an unwritable folder gives one clear error and leaves no partial file;
after a full disk, the same command resumes and gives the bytes of a clean build."""

from __future__ import annotations

import collections
import contextlib
import errno
import os
import subprocess
from pathlib import Path

import pytest

from pcfractal.build import plan, stage
from pcfractal.io import atomic, manifest

from ._util import CATS, LARGE, SMALL, assert_no_partial_final_file, assert_same_tree, run_main, tree


def partials(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.partial")) if folder.exists() else []


@contextlib.contextmanager
def tmpfs(path: Path, size: str, *options: str):
    """Mount a small tmpfs (root only); skip the test where mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    opts = ",".join((f"size={size}", *options))
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip() or 'not root'})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


class _FullDisk:
    """``open`` for pcfractal.io.atomic whose n-th file (and every later one) fills up
    half-way: the bytes written so far stay in the partial file, then ENOSPC."""

    def __init__(self, n: int):
        self.n, self.calls = n, 0

    def __call__(self, path, mode="r", *a, **k):
        f = open(path, mode, *a, **k)
        self.calls += 1
        if "w" not in mode or self.calls < self.n:
            return f
        real_write = f.write

        def write(data):
            real_write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

        f.write = write
        return f


@pytest.mark.parametrize("nth", [2, 4, 9])
def test_enospc_mid_write_clean_error_then_resume(capsys, monkeypatch, cats, small_ref, tmp_path, nth):
    out = tmp_path / "inst"
    argv = ["instances", "--categories", cats, *SMALL, "--workers", "1", "--out", out]
    monkeypatch.setattr(atomic, "open", _FullDisk(nth), raising=False)
    code, _, err = run_main(capsys, *argv)
    assert code == 2 and "disk full" in err and "run the same command again" in err
    assert len(err.strip().splitlines()) == 1, err
    assert partials(out) == [] and not (out / manifest.MANIFEST_FILE).exists()
    ref = tree(small_ref)
    assert all(ref[k] == v for k, v in tree(out).items()), "a final-named file differs from the clean build"
    monkeypatch.undo()  # space is back
    code, _, err = run_main(capsys, *argv)
    assert code == 0, err
    assert_same_tree(out, small_ref)


def test_free_space_is_checked_before_any_work(capsys, monkeypatch, cats, tmp_path):
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(plan.shutil, "disk_usage", lambda p: usage(10**9, 10**9 - 10_000, 10_000))
    out = tmp_path / "inst"
    code, _, err = run_main(capsys, "instances", "--categories", cats, *LARGE, "--workers", "1", "--out", out)
    assert code == 2 and "not enough free space" in err and "needs about" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_dry_run_writes_nothing_and_predicts_the_files(capsys, cats, small_ref, tmp_path):
    out = tmp_path / "inst"
    code, text, _ = run_main(capsys, "instances", "--categories", cats, *SMALL, "--workers", "1", "--out", out, "--dry-run")
    assert code == 0 and not out.exists()
    n_files = len(tree(small_ref)) - 1  # the plan counts the manifest apart
    size = sum(len(v) for k, v in tree(small_ref).items() if k != manifest.MANIFEST_FILE)
    assert f"files       {n_files} + manifest.json" in text
    predicted = int(text.split("size")[1].split("(")[1].split(" bytes")[0].replace(",", ""))
    assert abs(predicted - size) < 0.02 * size + 1000, (predicted, size)
    assert "time" in text and "probe" in text


@pytest.mark.slow
def test_real_full_disk_then_resume(capsys, monkeypatch, cats, large_ref, tmp_path):
    """A real ENOSPC from a small tmpfs in the middle of a build (the up-front check is
    switched off to get there); then the file system grows and the build resumes."""
    need = sum(len(v) for v in tree(large_ref).values())
    with tmpfs(tmp_path / "disk", f"{need // 3}") as disk:
        out = disk / "inst"
        argv = ["instances", "--categories", cats, *LARGE, "--workers", "1", "--out", out]
        code, _, err = run_main(capsys, *argv)
        assert code == 2 and "not enough free space" in err and not out.exists()
        monkeypatch.setattr(stage, "check_free_space", lambda *a, **k: None)
        code, _, err = run_main(capsys, *argv)
        assert code == 2 and "disk full" in err and len(err.strip().splitlines()) == 1, err
        assert partials(out) == []
        assert_no_partial_final_file(out)
        subprocess.run(["mount", "-o", f"remount,size={need * 2}", str(disk)], check=True)
        monkeypatch.undo()
        code, _, err = run_main(capsys, *argv)
        assert code == 0, err
        assert_same_tree(out, large_ref)


def test_unwritable_folder_one_clear_error(capsys, cats, tmp_path):
    if os.geteuid() == 0:
        ctx = tmpfs(tmp_path / "ro", "8m", "ro")  # room for the plan + its 1 MiB margin: the write must be what fails
    else:
        (tmp_path / "ro").mkdir()
        (tmp_path / "ro").chmod(0o555)
        ctx = contextlib.nullcontext(tmp_path / "ro")
    with ctx as ro:
        for argv in (["categories", *CATS], ["instances", "--categories", cats, *SMALL]):
            code, _, err = run_main(capsys, *argv, "--workers", "1", "--out", ro / "out")
            assert code == 2 and "cannot write to --out" in err and len(err.strip().splitlines()) == 1, err
            assert "Read-only" in err or "Permission denied" in err, err
            assert not (ro / "out").exists() and list(ro.iterdir()) == []


def test_folder_made_read_only_mid_build(capsys, monkeypatch, cats, tmp_path):
    """EACCES/EROFS from a write in the middle: one clear line, no partial file."""
    out = tmp_path / "inst"

    class ReadOnly(_FullDisk):
        def __call__(self, path, mode="r", *a, **k):
            self.calls += 1
            if "w" in mode and self.calls >= self.n:
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
            return open(path, mode, *a, **k)

    monkeypatch.setattr(atomic, "open", ReadOnly(3), raising=False)
    code, _, err = run_main(capsys, "instances", "--categories", cats, *SMALL, "--workers", "1", "--out", out)
    assert code == 2 and "cannot write to" in err and "Read-only" in err and len(err.strip().splitlines()) == 1
    assert partials(out) == []

"""``pcfractal scenes`` in-process: output, resume, and bad input (one error line,
exit 2, no output left behind); ``tools/view_scene.py --screenshot`` shows the scene."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pcfractal.cli import main
from scene_builder import SceneSettings, make_scene
from scene_builder.writers.mmdet3d import load_info, read_scene

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["--base-objects", "3", "--extra-objects", "1", "--per-category", "10"]


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def built(tmp_path_factory, category_dir):
    out = tmp_path_factory.mktemp("cli") / "scenes"
    assert (
        main(["scenes", "--categories", str(category_dir), "--count", "5", "--seed", "4", "--workers", "2", "--out", str(out), *SMALL]) == 0
    )
    return out


def test_scenes_subcommand_writes_dataset(built, systems):
    names = {p.name for p in built.iterdir()}
    assert {"points", "instance_mask", "semantic_mask", "pcfractal_infos_train.pkl", "pcfractal_infos_val.pkl", "scenes.json"} <= names
    assert len(list((built / "points").glob("*.bin"))) == 5
    summary = json.loads((built / "scenes.json").read_text())
    assert summary["count"] == 5 and summary["n_train"] == 4 and summary["n_val"] == 1
    e = load_info(built / "pcfractal_infos_val.pkl")["data_list"][0]
    s = make_scene(systems, 4, 4, SceneSettings(base_objects=3, extra_objects_mean=1.0, instances_per_category=10))
    assert read_scene(built, e)["points"].tobytes() == s.points.tobytes()


def test_rerun_resumes_and_other_settings_are_refused(built, category_dir, capsys):
    before = {p: p.stat().st_mtime_ns for p in (built / "points").glob("*.bin")}  # (SHA256SUMS is written again at sealing)
    code, _, err = run(
        ["scenes", "--categories", str(category_dir), "--count", "5", "--seed", "4", "--workers", "1", "--out", str(built), *SMALL], capsys
    )
    assert code == 0 and ": resuming (" in err and "made it again" not in err
    assert len(before) == 5 and {p: p.stat().st_mtime_ns for p in before} == before  # checked, kept, not rewritten
    code, _, err = run(["scenes", "--categories", str(category_dir), "--count", "5", "--seed", "5", "--out", str(built), *SMALL], capsys)
    assert code == 2 and "--overwrite" in err


def bad_cases(tmp_path, category_dir):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    return {
        "zero scenes": (["--categories", str(category_dir), "--count", "0"], "at least 1 scene", tmp_path / "o1"),
        "room too small": (["--categories", str(category_dir), "--room-size", "1.2"], "too small for any object", tmp_path / "o2"),
        "missing category file": (["--categories", str(tmp_path / "nowhere")], "no categories.json there", tmp_path / "o3"),
        "unwritable folder": (["--categories", str(category_dir)], "cannot write to --out", blocker / "sub" / "o4"),
    }


@pytest.mark.parametrize("case", ["zero scenes", "room too small", "missing category file", "unwritable folder"])
def test_bad_input_one_error_no_output(tmp_path, category_dir, capsys, case):
    args, message, out = bad_cases(tmp_path, category_dir)[case]
    code, stdout, err = run(["scenes", *args, "--out", str(out), "--workers", "1"], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], err
    assert not out.exists()


def test_read_only_folder_gives_one_error(tmp_path, category_dir, capsys):
    if os.geteuid() == 0:
        pytest.skip("root can write into a read-only folder; the file-as-parent case covers this")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        code, _, err = run(["scenes", "--categories", str(category_dir), "--out", str(ro / "x")], capsys)
    finally:
        ro.chmod(0o700)
    assert code == 2 and len(err.strip().splitlines()) == 1 and not (ro / "x").exists()


def have_display() -> bool:
    return bool(os.environ.get("DISPLAY")) or shutil.which("Xvfb") is not None


@pytest.mark.skipif(not have_display(), reason="no DISPLAY and no Xvfb: apt-get install xvfb (scripts/install.sh --test does)")
def test_view_scene_screenshot_shows_the_scene(built, tmp_path):
    shot = tmp_path / "shot.png"
    glb = tmp_path / "scene.glb"
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}  # exercise the headless path
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "view_scene.py"),
            str(built),
            "--index",
            "1",
            "--screenshot",
            str(shot),
            "--export",
            str(glb),
            "--size",
            "640x480",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    from PIL import Image

    img = np.asarray(Image.open(shot).convert("RGB"))
    assert img.shape == (480, 640, 3)
    background = np.all(img == 255, axis=-1)
    assert 0.005 < 1 - background.mean() < 0.9  # something drawn, not a blank or full frame
    colours = {tuple(c) for c in img[~background].reshape(-1, 3)[::7]}
    assert len(colours) >= 4  # several instance colours, boxes and labels
    assert glb.stat().st_size > 0


def test_view_scene_bad_input(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "view_scene.py"), str(tmp_path), "--screenshot", str(tmp_path / "x.png")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "infos" in proc.stderr
    assert not (tmp_path / "x.png").exists()


def test_build_runs_the_scenes_stage(tmp_path, capsys):
    code, out, err = run(["build", "--preset", "tiny", "--workers", "2", "--out", str(tmp_path / "b")], capsys)
    assert code == 0, err
    assert len(list((tmp_path / "b" / "scenes" / "points").glob("*.bin"))) == 6

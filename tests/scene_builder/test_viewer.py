"""The viewer on a server: ``--export`` writes and exits with no display, the interactive mode
without a display stops at once with one line naming --screenshot, exports open in trimesh
and Open3D, a missing extra is named, and the screenshot is framed on the objects."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pcfractal.cli import view

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "view_scene.py"


def headless_env() -> dict:
    return {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}


def run_tool(args, timeout=120, code=None):
    cmd = [sys.executable, str(TOOL), *map(str, args)] if code is None else [sys.executable, "-c", code, *map(str, args)]
    return subprocess.run(cmd, env=headless_env(), capture_output=True, text=True, timeout=timeout)


def test_view_is_a_subcommand_with_the_documented_options():
    parser = argparse.ArgumentParser()
    view.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["view", "DIR", "--index", "3", "--export", "s.glb"])
    assert args.func is view.run and args.index == 3 and args.export == Path("s.glb")


@pytest.mark.parametrize("suffix", [".ply", ".glb"])
def test_export_writes_and_exits_without_a_display(category_dir, tmp_path, suffix):
    out = tmp_path / f"scene{suffix}"
    proc = run_tool(["--categories", category_dir, "--seed", "7", "--index", "2", "--per-category", "10", "--export", out], timeout=90)
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stdout and out.stat().st_size > 0
    trimesh = pytest.importorskip("trimesh")
    loaded = trimesh.load(out, process=False)
    geoms = list(loaded.geometry.values()) if hasattr(loaded, "geometry") else [loaded]
    assert sum(len(g.vertices) for g in geoms) >= 1000
    if suffix == ".ply":
        o3d = pytest.importorskip("open3d")
        assert len(o3d.io.read_point_cloud(str(out)).points) == len(loaded.vertices)


def test_interactive_mode_without_display_names_screenshot(category_dir, tmp_path):
    proc = run_tool(["--categories", category_dir, "--per-category", "10"], timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--screenshot" in lines[0], proc.stderr


def test_missing_viewer_extra_is_named(category_dir, tmp_path):
    code = (
        "import sys; sys.modules['open3d'] = None; sys.path.insert(0, %r); from pcfractal.cli.view import main; "
        "sys.exit(main(sys.argv[1:]))" % str(ROOT)
    )
    proc = run_tool(["--categories", category_dir, "--per-category", "10", "--screenshot", tmp_path / "s.png"], code=code)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'pcfractal[viewer]'" in lines[0], proc.stderr
    assert not (tmp_path / "s.png").exists()


def have_display() -> bool:
    return bool(os.environ.get("DISPLAY")) or shutil.which("Xvfb") is not None


@pytest.mark.skipif(not have_display(), reason="no DISPLAY and no Xvfb: apt-get install xvfb (scripts/install.sh --test does)")
def test_screenshot_is_framed_on_the_objects(category_dir, tmp_path):
    shot = tmp_path / "s.png"
    proc = run_tool(
        [
            "--categories",
            category_dir,
            "--seed",
            "7",
            "--index",
            "2",
            "--per-category",
            "10",
            "--no-labels",
            "--screenshot",
            shot,
            "--size",
            "400x300",
        ],
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    from PIL import Image

    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    grey = np.abs(img - img.mean(-1, keepdims=True)).max(-1) < 12  # white background, grey floor and walls
    ys, xs = np.nonzero(~grey)  # object colours and box edges
    assert len(xs) > 0.01 * img.shape[0] * img.shape[1]
    # the objects span most of the frame and none is cut by its edge
    assert xs.max() - xs.min() > 0.5 * img.shape[1] or ys.max() - ys.min() > 0.5 * img.shape[0]
    assert xs.min() > 0 and ys.min() > 0 and xs.max() < img.shape[1] - 1 and ys.max() < img.shape[0] - 1

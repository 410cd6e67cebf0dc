"""Show a scene in Open3D: points coloured by instance, boxes as line sets, a label per box.

Uses Open3D's classic ``Visualizer`` (OpenGL through GLFW). Open3D 0.20's newer GUI
(O3DVisualizer, OffscreenRenderer) needs Vulkan or EGL that a plain CPU server lacks, so it
is not used; the labels are 3D text meshes (``TriangleMesh.create_text``) standing above
each box, so they show in the window and in screenshots alike.

Headless (``screenshot``): the classic Visualizer needs an X display. When ``DISPLAY`` is
unset, ``ensure_display`` starts a private ``Xvfb`` (Debian package ``xvfb``; Mesa's
software OpenGL renders into it) and stops it at exit. No GPU is needed. The interactive
window (``show``) never starts one: without a display it raises ``DisplayError`` naming
``--screenshot``. Open3D comes with the ``[viewer]`` extra.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from .layout import BOX_EDGES, box_corners
from .writers.mesh import instance_colors, palette, require

DEFAULT_SIZE = (1280, 960)
_XVFB: subprocess.Popen | None = None


class DisplayError(RuntimeError):
    """No X display and no Xvfb to start one."""


def _o3d():
    return require("open3d", "the scene viewer")


def has_display() -> bool:
    """Whether an interactive window can open: a display on Linux, always elsewhere."""
    if sys.platform != "linux":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def ensure_display() -> str:
    """Return a usable X display, starting a private Xvfb when ``DISPLAY`` is unset (Linux).

    Must run before Open3D opens its first window. The Xvfb process is stopped at exit.
    """
    global _XVFB
    if os.environ.get("DISPLAY"):
        return os.environ["DISPLAY"]
    if sys.platform != "linux":
        return ""  # macOS / Windows have their own window systems
    exe = shutil.which("Xvfb")
    if exe is None:
        raise DisplayError(
            "no X display (DISPLAY is unset) and Xvfb is not installed: install it "
            "(sudo apt-get install xvfb, or bash scripts/install.sh --test) or run under a desktop session"
        )
    if not os.environ.get("XDG_RUNTIME_DIR"):
        os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="xdg-")
    r, w = os.pipe()
    try:
        proc = subprocess.Popen(
            [exe, "-displayfd", str(w), "-screen", "0", "1920x1440x24", "-nolisten", "tcp"],
            pass_fds=(w,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    finally:
        os.close(w)
    with os.fdopen(r) as f:
        number = f.readline().strip()
    if not number.isdigit():
        proc.kill()
        raise DisplayError("Xvfb did not start (no display number reported)")
    _XVFB = proc
    atexit.register(_stop_xvfb)
    os.environ["DISPLAY"] = f":{number}"
    return os.environ["DISPLAY"]


def _stop_xvfb() -> None:
    global _XVFB
    if _XVFB is not None:
        _XVFB.terminate()
        try:
            _XVFB.wait(5)
        except subprocess.TimeoutExpired:
            _XVFB.kill()
        _XVFB = None


def geometries(
    points: np.ndarray,
    instance_mask: np.ndarray,
    boxes: np.ndarray,
    labels=None,
    classes=None,
    *,
    show_labels: bool = True,
    text_height: float = 0.28,
) -> list:
    """Open3D geometries of a scene: the point cloud, one LineSet for all boxes, text labels.

    Args:
        points: (P, 3) float32; instance_mask: (P,) int64 (0 = background).
        boxes: (K, 7) gravity-centre boxes; labels: (K,) ints; classes: names the labels index.
    """
    o3d = _o3d()

    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)
    pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(np.asarray(points, dtype=np.float64)))
    pcd.colors = o3d.utility.Vector3dVector(instance_colors(instance_mask, len(boxes)).astype(np.float64) / 255.0)
    out = [pcd]
    if len(boxes):
        corners = box_corners(boxes).reshape(-1, 3)
        lines = (BOX_EDGES[None] + 8 * np.arange(len(boxes))[:, None, None]).reshape(-1, 2)
        ls = o3d.geometry.LineSet(o3d.utility.Vector3dVector(corners), o3d.utility.Vector2iVector(lines))
        box_rgb = palette(len(boxes)).astype(np.float64) / 255.0 * 0.7  # darker than the points
        ls.colors = o3d.utility.Vector3dVector(np.repeat(box_rgb, 12, axis=0))
        out.append(ls)
    if show_labels and labels is not None and len(boxes):
        for k, (b, lab) in enumerate(zip(boxes, labels)):
            name = classes[int(lab)] if classes is not None and int(lab) < len(classes) else str(int(lab))
            out.append(_text(f"{k + 1}:{name}", b, text_height, o3d))
    return out


def _text(text: str, box: np.ndarray, height: float, o3d):
    """A text mesh standing upright (facing -y) centred above ``box``."""
    m = o3d.t.geometry.TriangleMesh.create_text(text, depth=0.5).to_legacy()
    v = np.asarray(m.vertices, dtype=np.float64)
    lo, hi = v.min(0), v.max(0)
    scale = height / max(hi[1] - lo[1], 1e-9)
    x = (v[:, 0] - 0.5 * (lo[0] + hi[0])) * scale
    y = (v[:, 1] - lo[1]) * scale
    z = (v[:, 2] - 0.5 * (lo[2] + hi[2])) * scale
    top = box[2] + 0.5 * box[5] + 0.08
    m.vertices = o3d.utility.Vector3dVector(np.stack([box[0] + x, box[1] + z, top + y], 1))
    m.paint_uniform_color([0.1, 0.1, 0.1])
    return m


def focus_points(geoms: list) -> np.ndarray:
    """Points to frame: the box corners and the corners of the label meshes when there are
    boxes (the objects, not the floor or walls), else the whole cloud."""
    pts = []
    for g in geoms[1:]:
        if hasattr(g, "lines"):
            pts.append(np.asarray(g.points, dtype=np.float64))
        elif hasattr(g, "triangles") and not g.is_empty():
            lo, hi = np.asarray(g.get_min_bound()), np.asarray(g.get_max_bound())
            pts.append(np.array([[(lo, hi)[i >> k & 1][k] for k in range(3)] for i in range(8)]))
    return np.vstack(pts) if pts else np.asarray(geoms[0].points, dtype=np.float64)


def _view(ctl, pts: np.ndarray, lookat: np.ndarray):
    """Where ``pts`` land in the current view: (u, v) pixels, the image size (w, h), the focal
    lengths, the lookat distance and the camera's right and down axes; None when a point is
    behind the camera.

    Open3D 0.20's ``convert_to_pinhole_camera_parameters`` returns an up row that is not
    orthogonal to the view direction when the up vector given is not (ours: world z); its
    right and forward rows are right, so the camera is rebuilt from those two."""
    cam = ctl.convert_to_pinhole_camera_parameters()
    k, e = np.asarray(cam.intrinsic.intrinsic_matrix), np.asarray(cam.extrinsic)
    right, forward = e[0, :3], e[2, :3]
    down = np.cross(forward, right)
    distance = float(forward @ lookat + e[2, 3])
    xyz = (pts - (lookat - forward * distance)) @ np.stack([right, down, forward]).T
    if np.any(xyz[:, 2] <= 1e-6):
        return None
    u = k[0, 0] * xyz[:, 0] / xyz[:, 2] + k[0, 2]
    v = k[1, 1] * xyz[:, 1] / xyz[:, 2] + k[1, 2]
    return u, v, (2 * k[0, 2], 2 * k[1, 2]), (k[0, 0], k[1, 1]), distance, right, down


def _setup_camera(vis, geoms: list, front=(0.35, -0.75, 0.55), fill: float = 0.9) -> None:
    """Look at the objects from ``front``, centred, and zoom until they (boxes and labels)
    reach ``fill`` of the way from the image centre to its border on the tighter axis: the
    floor and walls may be cut, no object is. Open3D's zoom scales the camera distance, so a
    few steps converge."""
    pts = focus_points(geoms)
    if not len(pts):
        return
    ctl = vis.get_view_control()
    lookat = 0.5 * (pts.min(0) + pts.max(0))
    ctl.set_lookat(lookat)
    ctl.set_front(np.asarray(front, dtype=np.float64))
    ctl.set_up([0.0, 0.0, 1.0])
    zoom = 0.6
    for _ in range(10):
        ctl.set_zoom(zoom)
        view = _view(ctl, pts, lookat)
        if view is None:  # a point behind the camera: step back
            zoom = min(zoom * 1.5, 2.0)
            continue
        u, v, (w, h), (fx, fy), distance, right, down = view
        du, dv = 0.5 * (u.min() + u.max()) - w / 2, 0.5 * (v.min() + v.max()) - h / 2
        reach = max((u.max() - u.min()) / w, (v.max() - v.min()) / h)
        if abs(reach - fill) < 0.02 and abs(du) < 0.01 * w and abs(dv) < 0.01 * h:
            break
        lookat = lookat + right * du * distance / fx + down * dv * distance / fy  # re-centre
        ctl.set_lookat(lookat)
        zoom = float(np.clip(zoom * reach / fill, 0.02, 2.0))


def _render_options(vis, point_size: float) -> None:
    opt = vis.get_render_option()
    opt.point_size = point_size
    opt.background_color = np.array([1.0, 1.0, 1.0])
    opt.line_width = 2.0
    opt.mesh_show_back_face = True


def show(geoms: list, title: str = "pcfractal scene", size: tuple[int, int] = DEFAULT_SIZE, point_size: float = 2.0) -> None:
    """Open an interactive window (mouse: rotate / pan / zoom; Q or Esc closes).

    Raises DisplayError (naming --screenshot) at once when there is no display."""
    if not has_display():
        raise DisplayError(
            "no display for an interactive window (DISPLAY is unset): use --screenshot PATH.png for a picture, or --export PATH.glb for a file"
        )
    o3d = _o3d()
    vis = o3d.visualization.Visualizer()
    if not vis.create_window(window_name=title, width=size[0], height=size[1]):
        raise DisplayError(f"Open3D could not open a window on display {os.environ.get('DISPLAY', '?')}: use --screenshot PATH.png instead")
    for g in geoms:
        vis.add_geometry(g)
    _render_options(vis, point_size)
    _setup_camera(vis, geoms)
    vis.run()
    vis.destroy_window()


def render(geoms: list, size: tuple[int, int] = DEFAULT_SIZE, point_size: float = 2.0) -> np.ndarray:
    """Render off screen (a hidden window; starts Xvfb when needed); (H, W, 3) uint8 RGB."""
    ensure_display()
    o3d = _o3d()
    vis = o3d.visualization.Visualizer()
    if not vis.create_window(width=size[0], height=size[1], visible=False):
        raise DisplayError(f"Open3D could not open an OpenGL context on display {os.environ.get('DISPLAY', '?')}")
    try:
        for g in geoms:
            vis.add_geometry(g)
        _render_options(vis, point_size)
        _setup_camera(vis, geoms)
        vis.poll_events()
        vis.update_renderer()
        img = np.asarray(vis.capture_screen_float_buffer(do_render=True))
    finally:
        vis.destroy_window()
    return (np.clip(img, 0.0, 1.0) * 255).round().astype(np.uint8)


def screenshot(path: str | os.PathLike, geoms: list, size: tuple[int, int] = DEFAULT_SIZE, point_size: float = 2.0) -> Path:
    """Render ``geoms`` off screen and write a PNG (atomically); return the path."""
    from io import BytesIO

    from PIL import Image

    from pcfractal.io import atomic

    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"{path}: screenshots are PNG files (end the name with .png)")
    img = render(geoms, size, point_size)
    buf = BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return atomic.write_bytes(path, buf.getvalue())

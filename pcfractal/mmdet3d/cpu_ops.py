"""CPU versions of mmcv's CUDA-only point ops, installed behind mmcv's own API.

mmcv 2.x ships furthest_point_sample, ball_query, grouping_operation,
gather_points, three_nn, three_interpolate, knn, points_in_boxes_all and
points_in_boxes_part as CUDA kernels only, so mmdet3d's PointNet++ / VoteNet
cannot run on a CPU as shipped. This module gives each of them a CPU
implementation with the CUDA kernel's semantics (read from mmcv 2.1.0's
``mmcv/ops/csrc/common/cuda/*_cuda_kernel.cuh``), and :func:`install` puts
them behind mmcv's public names without editing files in site-packages:

* The autograd ops are ``torch.autograd.Function`` classes
  (``FurthestPointSampling``, ``FurthestPointSamplingWithDist``,
  ``BallQuery``, ``GroupingOperation``, ``GatherPoints``, ``ThreeNN``,
  ``ThreeInterpolate``, ``KNN``) whose ``apply`` is bound to module-level
  names (``furthest_point_sample = FurthestPointSampling.apply``) and
  imported by name all over mmdet3d. ``Function.apply`` looks ``forward`` and
  ``backward`` up on the class at call time, so replacing those two static
  methods on the class reaches every caller. The replacements dispatch on the
  device of the first tensor argument: CPU tensors take the code below, CUDA
  tensors keep mmcv's original kernels untouched.
* ``points_in_boxes_all`` and ``points_in_boxes_part`` are plain functions;
  they are wrapped the same way and the wrapper is bound to every
  module-level name that held the original (``mmcv.ops``,
  ``mmcv.ops.points_in_boxes``, ``mmdet3d.structures.bbox_3d.base_box3d``,
  ``mmdet3d.models.middle_encoders.sparse_encoder``, ...). Modules imported
  later get the wrapper from ``mmcv.ops`` itself.

Semantics kept from the CUDA kernels (shapes and dtypes as in mmcv):

* furthest_point_sample: (B, N, 3) -> int32 (B, M). Starts from index 0,
  running minimum of squared distances initialised to 1e10; when every
  remaining distance is 0 (fewer points than samples, duplicates) it picks
  index 0 again. Among exactly equal distances it picks the lowest index (the
  CUDA kernel's pick among exact ties depends on its thread layout).
* ball_query: int32 (B, M, S). A point k is taken when ``d2 == 0`` or
  ``min_r**2 <= d2 < max_r**2`` (squared distance, radii squared in float32
  as the kernel does), in index order, at most S; missing slots repeat the
  first index found; a centre with no neighbour gets all zeros.
* three_nn: returns ``(sqrt(d2), int32 idx)`` of the 3 nearest known points,
  ties in index order; with fewer than 3 known points the missing entries
  have d2 = 1e40 (inf in float32) and index 0.
* grouping_operation / gather_points / three_interpolate: plain gathers with
  scatter-add backward passes; three_interpolate gives no gradient to the
  weights (as mmcv's backward).
* knn: int32 (B, k, M), the CUDA kernel's max-heap then heap-sort, so ties
  come out in the same order.
* points_in_boxes_all / _part: boxes (x, y, z_bottom, dx, dy, dz, yaw);
  inside iff ``|z - z_centre| <= dz / 2`` and the rotated local x, y lie
  strictly inside the half sizes. ``_all`` -> int32 (B, M, T) of 0/1,
  ``_part`` -> int32 (B, M), first box index or -1.

Why numba for some ops: furthest point sampling is a sequential loop of M
steps over N points (20,000 x 2,048 in VoteNet); as torch ops each step
costs several kernel launches, while a compiled loop runs the whole thing in
tens of milliseconds. Ball query stops scanning a centre after S hits and
never materialises the (M, N) distance matrix (2 x 2,048 x 20,000 floats
would be 330 MB), three_nn and knn keep a 3-/k-element running best list,
which numba does in one pass. The gathers and their backward passes are
single vectorised torch calls (gather / scatter_add_), which are already
fast. The numba kernels are serial (nogil, no ``parallel=True``) on purpose:
numba's parallel thread pool is not fork-safe, and mmengine forks DataLoader
workers after the model has run, which may use numba kernels of their own.

Public API::

    install()          # idempotent; done by ``import pcfractal.mmdet3d``
    uninstall()        # restore mmcv's originals (tests)
    is_installed()

and the CPU functions themselves (no autograd, torch tensors in and out):
``furthest_point_sample_cpu``, ``furthest_point_sample_with_dist_cpu``,
``ball_query_cpu``, ``grouping_operation_cpu``, ``gather_points_cpu``,
``three_nn_cpu``, ``three_interpolate_cpu``, ``knn_cpu``,
``points_in_boxes_all_cpu``, ``points_in_boxes_part_cpu`` (+ the
``*_backward_cpu`` of the three differentiable ops).
"""

from __future__ import annotations

import functools
import importlib
import sys
from typing import Callable, Optional, Tuple

import numba
import numpy as np
import torch

__all__ = [
    "install",
    "uninstall",
    "is_installed",
    "furthest_point_sample_cpu",
    "furthest_point_sample_with_dist_cpu",
    "ball_query_cpu",
    "grouping_operation_cpu",
    "grouping_operation_backward_cpu",
    "gather_points_cpu",
    "gather_points_backward_cpu",
    "three_nn_cpu",
    "three_interpolate_cpu",
    "three_interpolate_backward_cpu",
    "knn_cpu",
    "points_in_boxes_all_cpu",
    "points_in_boxes_part_cpu",
]


# --------------------------------------------------------------------------
# numba kernels (serial, see the module docstring)
# --------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True, inline="always")
def _xyz_distance(xyz, b, i, k):  # pragma: no cover - compiled
    dx = xyz[b, k, 0] - xyz[b, i, 0]
    dy = xyz[b, k, 1] - xyz[b, i, 1]
    dz = xyz[b, k, 2] - xyz[b, i, 2]
    return dx * dx + dy * dy + dz * dz


@numba.njit(cache=True, nogil=True, inline="always")
def _table_distance(dist, b, i, k):  # pragma: no cover - compiled
    return dist[b, i, k]


def _make_fps_kernel(distance):
    """mmcv's greedy FPS (start at index 0, keep each point's squared distance to the
    chosen set, pick the farthest) over ``distance(data, b, i, k)``: coordinates or a
    precomputed (B, N, N) distance table share this one loop."""

    @numba.njit(cache=True, nogil=True)
    def kernel(data, num_points, out):  # pragma: no cover - compiled
        batch, n = data.shape[0], data.shape[1]
        temp = np.empty(n, dtype=data.dtype)
        for b in range(batch):
            temp[:] = 1e10
            old = 0
            out[b, 0] = 0
            for j in range(1, num_points):
                best = -1.0
                besti = 0
                for k in range(n):
                    d = distance(data, b, old, k)
                    d2 = d if d < temp[k] else temp[k]
                    temp[k] = d2
                    if d2 > best:
                        best = d2
                        besti = k
                old = besti
                out[b, j] = old

    return kernel


_fps_kernel = _make_fps_kernel(_xyz_distance)
_fps_dist_kernel = _make_fps_kernel(_table_distance)


@numba.njit(cache=True, nogil=True)
def _ball_query_kernel(xyz, centers, min_r2, max_r2, nsample, idx):  # pragma: no cover - compiled
    batch, n = xyz.shape[0], xyz.shape[1]
    m = centers.shape[1]
    for b in range(batch):
        for j in range(m):
            cx = centers[b, j, 0]
            cy = centers[b, j, 1]
            cz = centers[b, j, 2]
            cnt = 0
            for k in range(n):
                dx = cx - xyz[b, k, 0]
                dy = cy - xyz[b, k, 1]
                dz = cz - xyz[b, k, 2]
                d2 = dx * dx + dy * dy + dz * dz
                if d2 == 0 or (d2 >= min_r2 and d2 < max_r2):
                    if cnt == 0:
                        for s in range(nsample):
                            idx[b, j, s] = k
                    idx[b, j, cnt] = k
                    cnt += 1
                    if cnt >= nsample:
                        break


@numba.njit(cache=True, nogil=True)
def _three_nn_kernel(unknown, known, dist2, idx):  # pragma: no cover
    batch, n = unknown.shape[0], unknown.shape[1]
    m = known.shape[1]
    for b in range(batch):
        for i in range(n):
            ux = unknown[b, i, 0]
            uy = unknown[b, i, 1]
            uz = unknown[b, i, 2]
            best1 = 1e40
            best2 = 1e40
            best3 = 1e40
            besti1 = 0
            besti2 = 0
            besti3 = 0
            for k in range(m):
                dx = ux - known[b, k, 0]
                dy = uy - known[b, k, 1]
                dz = uz - known[b, k, 2]
                d = dx * dx + dy * dy + dz * dz
                if d < best1:
                    best3 = best2
                    besti3 = besti2
                    best2 = best1
                    besti2 = besti1
                    best1 = d
                    besti1 = k
                elif d < best2:
                    best3 = best2
                    besti3 = besti2
                    best2 = d
                    besti2 = k
                elif d < best3:
                    best3 = d
                    besti3 = k
            dist2[b, i, 0] = best1
            dist2[b, i, 1] = best2
            dist2[b, i, 2] = best3
            idx[b, i, 0] = besti1
            idx[b, i, 1] = besti2
            idx[b, i, 2] = besti3


@numba.njit(cache=True, nogil=True)
def _reheap(dist, idx, k):  # pragma: no cover - compiled
    root = 0
    child = 1
    while child < k:
        if child + 1 < k and dist[child + 1] > dist[child]:
            child += 1
        if dist[root] > dist[child]:
            return
        dist[root], dist[child] = dist[child], dist[root]
        idx[root], idx[child] = idx[child], idx[root]
        root = child
        child = root * 2 + 1


@numba.njit(cache=True, nogil=True)
def _knn_kernel(xyz, centers, k, idx_out, dist_out):  # pragma: no cover
    batch, n = xyz.shape[0], xyz.shape[1]
    m = centers.shape[1]
    best_dist = np.empty(k, dtype=np.float32)
    best_idx = np.empty(k, dtype=np.int32)
    for b in range(batch):
        for j in range(m):
            cx = centers[b, j, 0]
            cy = centers[b, j, 1]
            cz = centers[b, j, 2]
            best_dist[:] = 1e10
            best_idx[:] = 0
            for i in range(n):
                dx = cx - xyz[b, i, 0]
                dy = cy - xyz[b, i, 1]
                dz = cz - xyz[b, i, 2]
                d2 = dx * dx + dy * dy + dz * dz
                if d2 < best_dist[0]:
                    best_dist[0] = d2
                    best_idx[0] = i
                    _reheap(best_dist, best_idx, k)
            # heap sort: ascending distances
            for last in range(k - 1, 0, -1):
                best_dist[0], best_dist[last] = best_dist[last], best_dist[0]
                best_idx[0], best_idx[last] = best_idx[last], best_idx[0]
                _reheap(best_dist, best_idx, last)
            for s in range(k):
                idx_out[b, j, s] = best_idx[s]
                dist_out[b, j, s] = best_dist[s]


# --------------------------------------------------------------------------
# CPU functions (torch in, torch out; no autograd)
# --------------------------------------------------------------------------
def _as_numpy_float(t: torch.Tensor) -> np.ndarray:
    """A contiguous float32/float64 numpy view (or copy) of a CPU tensor."""
    t = t.detach()
    if t.dtype not in (torch.float32, torch.float64):
        t = t.float()
    return t.contiguous().numpy()


def _check_xyz(name: str, t: torch.Tensor) -> None:
    if t.dim() != 3 or t.shape[2] != 3:
        raise ValueError(f"{name} must have shape (B, N, 3), got {tuple(t.shape)}")


def furthest_point_sample_cpu(points_xyz: torch.Tensor, num_points: int) -> torch.Tensor:
    """Furthest point sampling on the CPU (mmcv ``furthest_point_sample``).

    Args:
        points_xyz (Tensor): (B, N, 3) float coordinates.
        num_points (int): M, number of indices to return per batch item; may
            exceed N (index 0 is then repeated once all points are taken).

    Returns:
        Tensor: int32 (B, M) indices, the first one always 0.
    """
    _check_xyz("points_xyz", points_xyz)
    num_points = int(num_points)
    batch = points_xyz.shape[0]
    out = np.zeros((batch, max(num_points, 0)), dtype=np.int32)
    if num_points > 0 and points_xyz.shape[1] > 0:
        _fps_kernel(_as_numpy_float(points_xyz), num_points, out)
    return torch.from_numpy(out)


def furthest_point_sample_with_dist_cpu(points_dist: torch.Tensor, num_points: int) -> torch.Tensor:
    """FPS from a precomputed (B, N, N) distance matrix (mmcv
    ``furthest_point_sample_with_dist``); int32 (B, M) indices."""
    if points_dist.dim() != 3 or points_dist.shape[1] != points_dist.shape[2]:
        raise ValueError(f"points_dist must have shape (B, N, N), got {tuple(points_dist.shape)}")
    num_points = int(num_points)
    out = np.zeros((points_dist.shape[0], max(num_points, 0)), dtype=np.int32)
    if num_points > 0 and points_dist.shape[1] > 0:
        _fps_dist_kernel(_as_numpy_float(points_dist), num_points, out)
    return torch.from_numpy(out)


def ball_query_cpu(min_radius: float, max_radius: float, sample_num: int, xyz: torch.Tensor, center_xyz: torch.Tensor) -> torch.Tensor:
    """Ball query on the CPU (mmcv ``ball_query``, non-stacked form).

    Args:
        min_radius (float): inner radius; points with ``d2 == 0`` count too.
        max_radius (float): outer radius (exclusive).
        sample_num (int): S, neighbours per centre.
        xyz (Tensor): (B, N, 3) points.
        center_xyz (Tensor): (B, M, 3) centres.

    Returns:
        Tensor: int32 (B, M, S) point indices; missing slots repeat the first
        hit, a centre without hits gets zeros.
    """
    _check_xyz("xyz", xyz)
    _check_xyz("center_xyz", center_xyz)
    batch, m = center_xyz.shape[:2]
    sample_num = int(sample_num)
    idx = np.zeros((batch, m, sample_num), dtype=np.int32)
    if sample_num > 0 and m > 0 and xyz.shape[1] > 0:
        pts = _as_numpy_float(xyz)
        ctr = _as_numpy_float(center_xyz).astype(pts.dtype, copy=False)
        # The kernel squares the radii in float32 whatever the point dtype.
        min_r2 = float(np.float32(min_radius) * np.float32(min_radius))
        max_r2 = float(np.float32(max_radius) * np.float32(max_radius))
        _ball_query_kernel(pts, ctr, min_r2, max_r2, sample_num, idx)
    return torch.from_numpy(idx)


def three_nn_cpu(target: torch.Tensor, source: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Three nearest neighbours on the CPU (mmcv ``three_nn``).

    Args:
        target (Tensor): (B, N, 3) points to find neighbours for.
        source (Tensor): (B, M, 3) candidate neighbours.

    Returns:
        tuple[Tensor, Tensor]: distances (B, N, 3), ``sqrt`` of the squared
        distances, in target's dtype, and int32 indices (B, N, 3).
    """
    _check_xyz("target", target)
    _check_xyz("source", source)
    batch, n = target.shape[:2]
    tgt = _as_numpy_float(target)
    src = _as_numpy_float(source).astype(tgt.dtype, copy=False)
    dist2 = np.empty((batch, n, 3), dtype=tgt.dtype)
    idx = np.empty((batch, n, 3), dtype=np.int32)
    _three_nn_kernel(tgt, src, dist2, idx)
    dist = torch.sqrt(torch.from_numpy(dist2)).to(target.dtype)
    return dist, torch.from_numpy(idx)


def knn_cpu(k: int, xyz: torch.Tensor, center_xyz: Optional[torch.Tensor] = None, transposed: bool = False) -> torch.Tensor:
    """k nearest neighbours on the CPU (mmcv ``knn``).

    Args:
        k (int): neighbours per centre, 0 < k < 100.
        xyz (Tensor): (B, N, 3), or (B, 3, N) if ``transposed``.
        center_xyz (Tensor, optional): (B, M, 3) (or (B, 3, M)); defaults to
            ``xyz``.
        transposed (bool): whether the inputs are channel-first.

    Returns:
        Tensor: int32 (B, k, M) indices, nearest first (missing ones 0).
    """
    assert 0 < k < 100, "k should be in range(0, 100)"
    if center_xyz is None:
        center_xyz = xyz
    if transposed:
        xyz = xyz.transpose(2, 1)
        center_xyz = center_xyz.transpose(2, 1)
    _check_xyz("xyz", xyz)
    _check_xyz("center_xyz", center_xyz)
    batch, m = center_xyz.shape[:2]
    pts = _as_numpy_float(xyz)
    ctr = _as_numpy_float(center_xyz).astype(pts.dtype, copy=False)
    idx = np.zeros((batch, m, k), dtype=np.int32)
    dist2 = np.zeros((batch, m, k), dtype=np.float32)
    _knn_kernel(pts, ctr, int(k), idx, dist2)
    return torch.from_numpy(idx).transpose(2, 1).contiguous()


def _expand_idx(indices: torch.Tensor, channels: int) -> torch.Tensor:
    """(B, ...) int indices -> (B, C, prod(...)) int64 for gather/scatter."""
    flat = indices.reshape(indices.shape[0], 1, -1).long()
    return flat.expand(-1, channels, -1)


def grouping_operation_cpu(features: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """(B, C, N) features, (B, M, S) indices -> (B, C, M, S)."""
    batch, channels = features.shape[:2]
    _, m, s = indices.shape
    out = torch.gather(features, 2, _expand_idx(indices, channels))
    return out.view(batch, channels, m, s)


def grouping_operation_backward_cpu(grad_out: torch.Tensor, indices: torch.Tensor, n: int) -> torch.Tensor:
    """(B, C, M, S) gradient -> (B, C, N), summing repeated indices."""
    batch, channels = grad_out.shape[:2]
    grad = grad_out.new_zeros(batch, channels, n)
    grad.scatter_add_(2, _expand_idx(indices, channels), grad_out.reshape(batch, channels, -1))
    return grad


def gather_points_cpu(features: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """(B, C, N) features, (B, M) indices -> (B, C, M)."""
    return torch.gather(features, 2, _expand_idx(indices, features.shape[1]))


def gather_points_backward_cpu(grad_out: torch.Tensor, indices: torch.Tensor, n: int) -> torch.Tensor:
    """(B, C, M) gradient -> (B, C, N), summing repeated indices."""
    batch, channels = grad_out.shape[:2]
    grad = grad_out.new_zeros(batch, channels, n)
    grad.scatter_add_(2, _expand_idx(indices, channels), grad_out)
    return grad


def three_interpolate_cpu(features: torch.Tensor, indices: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """(B, C, M) features, (B, N, 3) indices and weights -> (B, C, N).

    ``out = w0 * f[i0] + w1 * f[i1] + w2 * f[i2]``, summed in that order.
    """
    batch, channels = features.shape[:2]
    n = indices.shape[1]
    g = torch.gather(features, 2, _expand_idx(indices, channels))
    g = g.view(batch, channels, n, 3)
    w = weight.to(features.dtype).unsqueeze(1)
    return g[..., 0] * w[..., 0] + g[..., 1] * w[..., 1] + g[..., 2] * w[..., 2]


def three_interpolate_backward_cpu(grad_out: torch.Tensor, indices: torch.Tensor, weight: torch.Tensor, m: int) -> torch.Tensor:
    """(B, C, N) gradient -> (B, C, M) gradient of the features."""
    batch, channels = grad_out.shape[:2]
    contrib = grad_out.unsqueeze(-1) * weight.to(grad_out.dtype).unsqueeze(1)
    grad = grad_out.new_zeros(batch, channels, m)
    grad.scatter_add_(2, _expand_idx(indices, channels), contrib.reshape(batch, channels, -1))
    return grad


def _points_in_boxes_mask(points: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """(B, M, 3) points, (B, T, 7) boxes -> bool (B, M, T)."""
    if points.shape[0] != boxes.shape[0]:
        raise ValueError(f"points and boxes need the same batch size, got {points.shape[0]} and {boxes.shape[0]}")
    if boxes.shape[2] != 7 or points.shape[2] != 3:
        raise ValueError(f"expected points (B, M, 3) and boxes (B, T, 7), got {tuple(points.shape)} and {tuple(boxes.shape)}")
    dtype = points.dtype if points.is_floating_point() else torch.float32
    if dtype not in (torch.float32, torch.float64):
        dtype = torch.float32
    pts = points.to(dtype).unsqueeze(2)  # (B, M, 1, 3)
    bx = boxes.to(dtype).unsqueeze(1)  # (B, 1, T, 7)
    x, y, z = pts[..., 0], pts[..., 1], pts[..., 2]
    cx, cy, cz = bx[..., 0], bx[..., 1], bx[..., 2]
    x_size, y_size, z_size, rz = bx[..., 3], bx[..., 4], bx[..., 5], bx[..., 6]
    cz = cz + z_size / 2.0  # boxes store the bottom centre
    inside = ~(torch.abs(z - cz) > z_size / 2.0)
    cosa = torch.cos(-rz)
    sina = torch.sin(-rz)
    shift_x = x - cx
    shift_y = y - cy
    local_x = shift_x * cosa + shift_y * (-sina)
    local_y = shift_x * sina + shift_y * cosa
    inside &= (local_x > -x_size / 2.0) & (local_x < x_size / 2.0)
    inside &= (local_y > -y_size / 2.0) & (local_y < y_size / 2.0)
    return inside


def points_in_boxes_all_cpu(points: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """Which boxes hold each point (mmcv ``points_in_boxes_all``).

    Args:
        points (Tensor): (B, M, 3) x, y, z.
        boxes (Tensor): (B, T, 7) x, y, z (bottom centre), x_size, y_size,
            z_size, yaw about +z.

    Returns:
        Tensor: int32 (B, M, T), 1 where point m lies in box t, else 0.
    """
    return _points_in_boxes_mask(points, boxes).to(torch.int32)


def points_in_boxes_part_cpu(points: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """First box holding each point (mmcv ``points_in_boxes_part``).

    Returns:
        Tensor: int32 (B, M), the lowest index of a box that holds the point,
        -1 where none does.
    """
    mask = _points_in_boxes_mask(points, boxes)
    out = torch.full(mask.shape[:2], -1, dtype=torch.int32)
    if mask.shape[2] > 0:
        any_box = mask.any(dim=2)
        first = mask.to(torch.uint8).argmax(dim=2).to(torch.int32)
        out = torch.where(any_box, first, out)
    return out


# --------------------------------------------------------------------------
# autograd.Function forward / backward replacements for CPU tensors
# --------------------------------------------------------------------------
def _fps_forward(ctx, points_xyz, num_points):
    out = furthest_point_sample_cpu(points_xyz, num_points)
    ctx.mark_non_differentiable(out)
    return out


def _fps_dist_forward(ctx, points_dist, num_points):
    out = furthest_point_sample_with_dist_cpu(points_dist, num_points)
    ctx.mark_non_differentiable(out)
    return out


def _ball_query_forward(ctx, min_radius, max_radius, sample_num, xyz, center_xyz, xyz_batch_cnt=None, center_xyz_batch_cnt=None):
    if xyz_batch_cnt is not None and center_xyz_batch_cnt is not None:
        raise NotImplementedError(
            "pcfractal.mmdet3d.cpu_ops: the stacked form of ball_query "
            "(xyz_batch_cnt) has no CPU version; pass (B, N, 3) tensors or "
            "run on a CUDA device."
        )
    assert min_radius < max_radius
    idx = ball_query_cpu(min_radius, max_radius, sample_num, xyz, center_xyz)
    ctx.mark_non_differentiable(idx)
    return idx


def _grouping_forward(ctx, features, indices, features_batch_cnt=None, indices_batch_cnt=None):
    if features_batch_cnt is not None and indices_batch_cnt is not None:
        raise NotImplementedError(
            "pcfractal.mmdet3d.cpu_ops: the stacked form of "
            "grouping_operation (features_batch_cnt) has no CPU version; "
            "pass (B, C, N) features or run on a CUDA device."
        )
    ctx.for_backwards = (indices, features.shape[2])
    return grouping_operation_cpu(features, indices)


def _grouping_backward(ctx, grad_out):
    indices, n = ctx.for_backwards
    return grouping_operation_backward_cpu(grad_out, indices, n), None


def _gather_forward(ctx, features, indices):
    ctx.for_backwards = (indices, features.shape[1], features.shape[2])
    return gather_points_cpu(features, indices)


def _gather_backward(ctx, grad_out):
    indices, _, n = ctx.for_backwards
    return gather_points_backward_cpu(grad_out, indices, n), None


def _three_nn_forward(ctx, target, source):
    dist, idx = three_nn_cpu(target, source)
    ctx.mark_non_differentiable(idx)
    return dist, idx


def _three_interpolate_forward(ctx, features, indices, weight):
    ctx.three_interpolate_for_backward = (indices, weight, features.shape[2])
    return three_interpolate_cpu(features, indices, weight)


def _three_interpolate_backward(ctx, grad_out):
    indices, weight, m = ctx.three_interpolate_for_backward
    grad = three_interpolate_backward_cpu(grad_out, indices, weight, m)
    return grad, None, None


def _knn_forward(ctx, k, xyz, center_xyz=None, transposed=False):
    idx = knn_cpu(k, xyz, center_xyz, transposed)
    ctx.mark_non_differentiable(idx)
    return idx


# (module, class, CPU forward, CPU backward or None when the original
# backward only returns Nones and works on any device)
_FUNCTION_PATCHES = (
    ("mmcv.ops.furthest_point_sample", "FurthestPointSampling", _fps_forward, None),
    ("mmcv.ops.furthest_point_sample", "FurthestPointSamplingWithDist", _fps_dist_forward, None),
    ("mmcv.ops.ball_query", "BallQuery", _ball_query_forward, None),
    ("mmcv.ops.group_points", "GroupingOperation", _grouping_forward, _grouping_backward),
    ("mmcv.ops.gather_points", "GatherPoints", _gather_forward, _gather_backward),
    ("mmcv.ops.three_nn", "ThreeNN", _three_nn_forward, None),
    ("mmcv.ops.three_interpolate", "ThreeInterpolate", _three_interpolate_forward, _three_interpolate_backward),
    ("mmcv.ops.knn", "KNN", _knn_forward, None),
)

_PLAIN_PATCHES = (
    ("mmcv.ops.points_in_boxes", "points_in_boxes_all", points_in_boxes_all_cpu),
    ("mmcv.ops.points_in_boxes", "points_in_boxes_part", points_in_boxes_part_cpu),
)

# Modules known to bind the plain functions by name; imported by install()
# so that the rebinding below reaches them even before mmdet3d imports them.
_PLAIN_USERS = (
    "mmcv.ops",
    "mmdet3d.structures.bbox_3d.base_box3d",
    "mmdet3d.models.middle_encoders.sparse_encoder",
)

_MARK = "_pcfractal_cpu_ops"


def _first_tensor(args, kwargs) -> Optional[torch.Tensor]:
    for a in list(args) + list(kwargs.values()):
        if isinstance(a, torch.Tensor):
            return a
    return None


def _runs_on_cpu(args, kwargs) -> bool:
    t = _first_tensor(args, kwargs)
    return t is not None and t.device.type == "cpu"


def _patch_function(cls, cpu_forward: Callable, cpu_backward: Optional[Callable]) -> None:
    if _MARK in cls.__dict__:
        return
    cuda_forward = cls.__dict__["forward"]
    cuda_backward = cls.__dict__["backward"]
    orig_fwd = cuda_forward.__func__
    orig_bwd = cuda_backward.__func__

    @functools.wraps(orig_fwd)
    def forward(ctx, *args, **kwargs):
        if _runs_on_cpu(args, kwargs):
            ctx._pcfractal_cpu = True
            return cpu_forward(ctx, *args, **kwargs)
        return orig_fwd(ctx, *args, **kwargs)

    @functools.wraps(orig_bwd)
    def backward(ctx, *grads):
        if cpu_backward is not None and getattr(ctx, "_pcfractal_cpu", False):
            return cpu_backward(ctx, *grads)
        return orig_bwd(ctx, *grads)

    setattr(cls, _MARK, (cuda_forward, cuda_backward))
    cls.forward = staticmethod(forward)
    cls.backward = staticmethod(backward)


def _unpatch_function(cls) -> None:
    saved = cls.__dict__.get(_MARK)
    if saved is None:
        return
    cls.forward, cls.backward = saved
    delattr(cls, _MARK)


def _rebind_everywhere(old, new) -> None:
    """Point every module-level name bound to ``old`` at ``new``."""
    for mod in list(sys.modules.values()):
        try:
            namespace = vars(mod)
        except Exception:  # None placeholders, exotic lazy modules
            continue
        for name, value in list(namespace.items()):
            if value is old:
                setattr(mod, name, new)


def _wrap_plain(orig: Callable, cpu_impl: Callable) -> Callable:

    @functools.wraps(orig)
    def wrapper(points, boxes, *args, **kwargs):
        if points.device.type == "cpu":
            return cpu_impl(points, boxes, *args, **kwargs)
        return orig(points, boxes, *args, **kwargs)

    setattr(wrapper, _MARK, orig)
    return wrapper


def install() -> None:
    """Put the CPU versions behind mmcv's point ops (idempotent).

    Afterwards mmcv's ``furthest_point_sample``, ``ball_query``,
    ``grouping_operation``, ``gather_points``, ``three_nn``,
    ``three_interpolate``, ``knn``, ``points_in_boxes_all`` and
    ``points_in_boxes_part`` run on CPU tensors, wherever they were imported
    from; CUDA tensors still take mmcv's CUDA kernels. Imports mmcv.ops and
    the mmdet3d modules that bind the plain functions by name.
    """
    for mod_name, cls_name, fwd, bwd in _FUNCTION_PATCHES:
        cls = getattr(importlib.import_module(mod_name), cls_name)
        _patch_function(cls, fwd, bwd)
    for user in _PLAIN_USERS:
        try:
            importlib.import_module(user)
        except ImportError:  # mmdet3d missing: mmcv alone still works
            pass
    for mod_name, fn_name, cpu_impl in _PLAIN_PATCHES:
        mod = importlib.import_module(mod_name)
        current = getattr(mod, fn_name)
        if hasattr(current, _MARK):
            # Already installed; rebind stragglers that imported the
            # original before a reload (cheap, keeps install() idempotent).
            _rebind_everywhere(getattr(current, _MARK), current)
            continue
        _rebind_everywhere(current, _wrap_plain(current, cpu_impl))


def uninstall() -> None:
    """Undo :func:`install`: restore mmcv's classes and function bindings."""
    for mod_name, cls_name, _, _ in _FUNCTION_PATCHES:
        mod = sys.modules.get(mod_name)
        if mod is not None:
            _unpatch_function(getattr(mod, cls_name))
    for mod_name, fn_name, _ in _PLAIN_PATCHES:
        mod = sys.modules.get(mod_name)
        if mod is None:
            continue
        current = getattr(mod, fn_name)
        orig = getattr(current, _MARK, None)
        if orig is not None:
            _rebind_everywhere(current, orig)


def is_installed() -> bool:
    """Whether :func:`install` is in effect."""
    mod = sys.modules.get("mmcv.ops.furthest_point_sample")
    return mod is not None and _MARK in vars(mod.FurthestPointSampling)

"""CPU point ops against brute-force references, through mmcv's own API.

Each reference below is a plain Python loop written from the CUDA kernel's
description in mmcv 2.1.0, sharing no code with pcfractal.mmdet3d.cpu_ops.
The ops are called the way mmdet3d calls them (``mmcv.ops.<name>``), so the
tests also cover the installation of the CPU versions.
"""

import math
import time

import numpy as np
import pytest
import torch
from mmcv import ops

from pcfractal.mmdet3d import cpu_ops


def _rng(seed):
    return np.random.default_rng(seed)


def _sqdist32(p, q):
    """Squared distance evaluated like the kernels: float32, x + y + z."""
    p = np.asarray(p, dtype=np.float32)
    q = np.asarray(q, dtype=np.float32)
    dx, dy, dz = p[0] - q[0], p[1] - q[1], p[2] - q[2]
    return np.float32(np.float32(dx * dx + dy * dy) + dz * dz)


# ----------------------------------------------------------------- FPS
def ref_fps(xyz, m):
    b_, n, _ = xyz.shape
    out = np.zeros((b_, m), dtype=np.int64)
    for b in range(b_):
        dmin = [np.float32(1e10)] * n
        last = 0
        for j in range(1, m):
            best, besti = -1.0, 0
            for k in range(n):
                dmin[k] = min(dmin[k], _sqdist32(xyz[b, k], xyz[b, last]))
                if dmin[k] > best:  # strict: lowest index wins ties
                    best, besti = dmin[k], k
            last = besti
            out[b, j] = last
    return out


def _fps_cases():
    r = _rng(0)
    dup = r.random((1, 30, 3)).astype(np.float32)
    dup = np.concatenate([dup, dup[:, ::3]], axis=1)  # 10 exact duplicates
    return {
        "random_batch2": (r.random((2, 200, 3)).astype(np.float32), 32),
        "fewer_points_than_samples": (r.random((2, 5, 3)).astype(np.float32), 12),
        "duplicates": (dup, 40),
        "all_identical": (np.ones((1, 7, 3), np.float32), 4),
        "one_sample": (r.random((3, 50, 3)).astype(np.float32), 1),
    }


@pytest.mark.parametrize("case", sorted(_fps_cases()))
def test_furthest_point_sample_matches_reference(case):
    xyz, m = _fps_cases()[case]
    got = ops.furthest_point_sample(torch.from_numpy(xyz), m)
    assert got.dtype == torch.int32
    assert tuple(got.shape) == (xyz.shape[0], m)
    np.testing.assert_array_equal(got.numpy(), ref_fps(xyz, m))
    assert (got[:, 0] == 0).all()


def test_furthest_point_sample_fewer_points_repeats_index_zero():
    xyz = torch.tensor([[[0.0, 0, 0], [1, 0, 0], [0, 2, 0]]])
    got = ops.furthest_point_sample(xyz, 6)
    assert got.tolist() == [[0, 2, 1, 0, 0, 0]]


def test_furthest_point_sample_with_dist_matches_reference():
    r = _rng(1)
    xyz = r.random((2, 60, 3)).astype(np.float32)
    dist = ((xyz[:, :, None] - xyz[:, None]) ** 2).sum(-1).astype(np.float32)
    got = ops.furthest_point_sample_with_dist(torch.from_numpy(dist), 20)
    b_, n = dist.shape[:2]
    want = np.zeros((b_, 20), np.int64)
    for b in range(b_):
        dmin = np.full(n, 1e10, np.float32)
        last = 0
        for j in range(1, 20):
            dmin = np.minimum(dmin, dist[b, last])
            last = int(np.argmax(dmin))  # argmax: first maximum
            want[b, j] = last
    np.testing.assert_array_equal(got.numpy(), want)


# ----------------------------------------------------------- ball query
def ref_ball_query(min_r, max_r, s, xyz, centers):
    b_, m = centers.shape[:2]
    out = np.zeros((b_, m, s), np.int64)
    min2 = np.float32(min_r) * np.float32(min_r)
    max2 = np.float32(max_r) * np.float32(max_r)
    for b in range(b_):
        for j in range(m):
            found = []
            for k in range(xyz.shape[1]):
                d2 = _sqdist32(centers[b, j], xyz[b, k])
                if d2 == 0 or (min2 <= d2 < max2):
                    found.append(k)
                    if len(found) == s:
                        break
            if found:
                out[b, j] = found + [found[0]] * (s - len(found))
    return out


@pytest.mark.parametrize("min_r,max_r,s", [(0.0, 0.3, 8), (0.1, 0.4, 5), (0.0, 0.05, 4), (0.0, 10.0, 6)])
def test_ball_query_matches_reference(min_r, max_r, s):
    r = _rng(2)
    xyz = r.random((2, 150, 3)).astype(np.float32)
    centers = np.concatenate(
        [
            xyz[:, :10],  # centres on points: d2 == 0 counts even if min_r > 0
            r.random((2, 10, 3)).astype(np.float32),
            np.full((2, 3, 3), 50.0, np.float32),  # empty balls
        ],
        axis=1,
    )
    xyz[:, 100:110] = xyz[:, :10]  # duplicate points
    got = ops.ball_query(min_r, max_r, s, torch.from_numpy(xyz), torch.from_numpy(centers))
    assert got.dtype == torch.int32
    assert tuple(got.shape) == (2, centers.shape[1], s)
    np.testing.assert_array_equal(got.numpy(), ref_ball_query(min_r, max_r, s, xyz, centers))
    assert (got[:, -3:] == 0).all()  # empty balls are all zeros


def test_ball_query_fills_with_first_found():
    xyz = torch.tensor([[[5.0, 5, 5], [0.1, 0, 0], [9, 9, 9], [0, 0.2, 0]]])
    center = torch.zeros(1, 1, 3)
    got = ops.ball_query(0.0, 0.5, 5, xyz, center)
    assert got.tolist() == [[[1, 3, 1, 1, 1]]]


# ------------------------------------------------------ three_nn / knn
def ref_three_nn(target, source):
    b_, n = target.shape[:2]
    dist = np.zeros((b_, n, 3), np.float32)
    idx = np.zeros((b_, n, 3), np.int64)
    for b in range(b_):
        for i in range(n):
            d = [(_sqdist32(target[b, i], source[b, k]), k) for k in range(source.shape[1])]
            d.sort()  # by distance, then index: the kernel's tie order
            d += [(np.float32(np.inf), 0)] * 3
            dist[b, i] = [math.sqrt(v) for v, _ in d[:3]]
            idx[b, i] = [k for _, k in d[:3]]
    return dist, idx


@pytest.mark.parametrize("m", [40, 3, 2])
def test_three_nn_matches_reference(m):
    r = _rng(3)
    target = r.random((2, 30, 3)).astype(np.float32)
    source = r.random((2, m, 3)).astype(np.float32)
    if m > 3:
        source[:, 20] = source[:, 5]  # a tie: index 5 must come first
        target[:, 0] = source[:, 5]
    dist, idx = ops.three_nn(torch.from_numpy(target), torch.from_numpy(source))
    assert idx.dtype == torch.int32 and dist.dtype == torch.float32
    want_d, want_i = ref_three_nn(target, source)
    np.testing.assert_array_equal(idx.numpy(), want_i)
    np.testing.assert_allclose(dist.numpy(), want_d, rtol=1e-6, atol=1e-7)
    if m > 3:
        assert idx[0, 0, :2].tolist() == [5, 20]


def test_knn_matches_reference():
    r = _rng(4)
    xyz = r.random((2, 80, 3)).astype(np.float32)
    centers = r.random((2, 25, 3)).astype(np.float32)
    k = 7
    got = ops.knn(k, torch.from_numpy(xyz), torch.from_numpy(centers))
    assert got.dtype == torch.int32 and tuple(got.shape) == (2, k, 25)
    for b in range(2):
        for j in range(25):
            d = sorted((_sqdist32(centers[b, j], xyz[b, i]), i) for i in range(80))
            assert got[b, :, j].tolist() == [i for _, i in d[:k]]
    # transposed input and default centres (= the points themselves)
    got_t = ops.knn(k, torch.from_numpy(xyz).transpose(1, 2).contiguous(), None, True)
    assert (got_t[:, 0] == torch.arange(80)).all()  # each point is its own NN


# ------------------------------------------------------------ gathers
def test_grouping_operation_forward_and_backward():
    r = _rng(5)
    feats = torch.from_numpy(r.random((2, 4, 12)))
    idx = torch.from_numpy(r.integers(0, 12, (2, 5, 3)).astype(np.int32))
    idx[0, 0] = 3  # repeated index: gradients must add up
    got = ops.grouping_operation(feats.float(), idx)
    assert got.shape == (2, 4, 5, 3) and got.dtype == torch.float32
    for b in range(2):
        for c in range(4):
            for m in range(5):
                for s in range(3):
                    assert got[b, c, m, s] == feats.float()[b, c, idx[b, m, s]]
    x = feats.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda f: ops.grouping_operation(f, idx), (x,))
    ops.grouping_operation(x, idx).sum().backward()
    counts = np.zeros((2, 12))
    for b in range(2):
        for v in idx[b].flatten().tolist():
            counts[b, v] += 1
    np.testing.assert_allclose(x.grad.numpy(), np.repeat(counts[:, None], 4, axis=1))


def test_gather_points_forward_and_backward():
    r = _rng(6)
    feats = torch.from_numpy(r.random((2, 3, 10)))
    idx = torch.tensor([[0, 4, 4, 9], [1, 1, 1, 2]], dtype=torch.int32)
    got = ops.gather_points(feats.float().contiguous(), idx)
    assert got.shape == (2, 3, 4)
    for b in range(2):
        for m in range(4):
            assert (got[b, :, m] == feats.float()[b, :, idx[b, m]]).all()
    x = feats.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda f: ops.gather_points(f, idx), (x,))


def test_three_interpolate_forward_and_backward():
    r = _rng(7)
    feats = torch.from_numpy(r.random((2, 5, 9)))
    idx = torch.from_numpy(r.integers(0, 9, (2, 6, 3)).astype(np.int32))
    weight = torch.from_numpy(r.random((2, 6, 3)))
    got = ops.three_interpolate(feats, idx, weight)
    want = np.zeros((2, 5, 6))
    for b in range(2):
        for c in range(5):
            for n in range(6):
                want[b, c, n] = sum(weight[b, n, k].item() * feats[b, c, idx[b, n, k]].item() for k in range(3))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    x = feats.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda f: ops.three_interpolate(f, idx, weight), (x,))
    # as in mmcv, the weights get no gradient
    w = weight.clone().requires_grad_(True)
    ops.three_interpolate(x, idx, w).sum().backward()
    assert w.grad is None


def test_pointnet2_fp_layer_gradients_flow_on_cpu():
    """three_nn + three_interpolate as PointNet++'s FP module uses them."""
    r = _rng(8)
    unknown = torch.from_numpy(r.random((2, 40, 3)).astype(np.float32))
    known = torch.from_numpy(r.random((2, 10, 3)).astype(np.float32))
    feats = torch.randn(2, 6, 10, requires_grad=True)
    dist, idx = ops.three_nn(unknown, known)
    w = 1.0 / (dist + 1e-8)
    w = w / w.sum(dim=2, keepdim=True)
    out = ops.three_interpolate(feats, idx, w)
    out.square().sum().backward()
    assert out.shape == (2, 6, 40) and torch.isfinite(feats.grad).all()


# ----------------------------------------------------- points in boxes
def ref_points_in_boxes(points, boxes):
    b_, m = points.shape[:2]
    t = boxes.shape[1]
    out = np.zeros((b_, m, t), np.int64)
    for b in range(b_):
        for i in range(m):
            x, y, z = (float(v) for v in points[b, i])
            for k in range(t):
                cx, cy, cz, dx, dy, dz, rz = (float(v) for v in boxes[b, k])
                if abs(z - (cz + dz / 2)) > dz / 2:
                    continue
                sx, sy = x - cx, y - cy
                lx = sx * math.cos(-rz) - sy * math.sin(-rz)
                ly = sx * math.sin(-rz) + sy * math.cos(-rz)
                out[b, i, k] = int(-dx / 2 < lx < dx / 2 and -dy / 2 < ly < dy / 2)
    return out


def _boxes_case(seed):
    r = _rng(seed)
    boxes = np.concatenate(
        [
            r.uniform(-2, 2, (2, 5, 3)),
            r.uniform(0.5, 2, (2, 5, 3)),
            r.uniform(-np.pi, np.pi, (2, 5, 1)),
        ],
        axis=2,
    ).astype(np.float32)
    boxes[:, 4] = boxes[:, 3]  # two identical (overlapping) boxes
    points = r.uniform(-3, 3, (2, 400, 3)).astype(np.float32)
    return points, boxes


def test_points_in_boxes_all_matches_reference():
    points, boxes = _boxes_case(9)
    got = ops.points_in_boxes_all(torch.from_numpy(points), torch.from_numpy(boxes))
    assert got.dtype == torch.int32 and tuple(got.shape) == (2, 400, 5)
    want = ref_points_in_boxes(points, boxes)
    np.testing.assert_array_equal(got.numpy(), want)
    assert want.sum() > 20  # the case really has points inside boxes
    # mmcv's own C++ CPU kernel computes the same predicate
    np.testing.assert_array_equal(got.numpy(), ops.points_in_boxes_cpu(torch.from_numpy(points), torch.from_numpy(boxes)).numpy())


def test_points_in_boxes_part_matches_reference():
    points, boxes = _boxes_case(10)
    got = ops.points_in_boxes_part(torch.from_numpy(points), torch.from_numpy(boxes))
    assert got.dtype == torch.int32 and tuple(got.shape) == (2, 400)
    inside = ref_points_in_boxes(points, boxes)
    want = np.where(inside.any(2), inside.argmax(2), -1)
    np.testing.assert_array_equal(got.numpy(), want)
    empty = ops.points_in_boxes_part(torch.from_numpy(points), torch.zeros(2, 0, 7))
    assert (empty == -1).all()


def test_depth_boxes_use_cpu_points_in_boxes():
    """mmdet3d imported points_in_boxes_all by name: the binding is patched."""
    from mmdet3d.structures import DepthInstance3DBoxes
    from mmdet3d.structures.bbox_3d import base_box3d

    assert base_box3d.points_in_boxes_all is ops.points_in_boxes_all
    boxes = DepthInstance3DBoxes(torch.tensor([[0.0, 0, 0, 2, 1, 1, math.pi / 2]]), origin=(0.5, 0.5, 0.5))
    pts = torch.tensor([[0.4, 0.9, 0.0], [0.9, 0.4, 0.0], [0, 0, 0.6]])
    # rotated by 90 degrees: x extent 1, y extent 2
    assert boxes.points_in_boxes_all(pts).flatten().tolist() == [1, 0, 0]
    assert boxes.points_in_boxes_part(pts).tolist() == [0, -1, -1]


# ------------------------------------------------------- installation
def test_install_is_idempotent_and_uninstall_restores():
    from mmcv.ops.furthest_point_sample import FurthestPointSampling
    from mmdet3d.structures.bbox_3d import base_box3d

    assert cpu_ops.is_installed()
    fwd = FurthestPointSampling.forward
    cpu_ops.install()
    assert FurthestPointSampling.forward is fwd
    try:
        cpu_ops.uninstall()
        assert not cpu_ops.is_installed()
        assert not hasattr(base_box3d.points_in_boxes_all, "_pcfractal_cpu_ops")
        with pytest.raises(Exception):  # mmcv's CUDA-only kernel again
            ops.furthest_point_sample(torch.rand(1, 10, 3), 2)
    finally:
        cpu_ops.install()
    assert cpu_ops.is_installed()
    assert base_box3d.points_in_boxes_all is ops.points_in_boxes_all
    assert ops.furthest_point_sample(torch.rand(1, 10, 3), 2).shape == (1, 2)


def test_non_cpu_tensors_keep_mmcv_kernels(monkeypatch):
    """Only CPU tensors take the CPU code; others reach mmcv's own kernels
    (on this CPU-only torch they fail there, which is the point)."""

    def must_not_run(*args, **kwargs):
        raise AssertionError("CPU code called for a non-CPU tensor")

    for name in ("furthest_point_sample_cpu", "ball_query_cpu", "gather_points_cpu", "points_in_boxes_all_cpu"):
        monkeypatch.setattr(cpu_ops, name, must_not_run)
    meta = torch.empty(1, 10, 3, device="meta")
    calls = [
        lambda: ops.furthest_point_sample(meta, 2),
        lambda: ops.ball_query(0.0, 1.0, 4, meta, meta),
        lambda: ops.gather_points(torch.empty(1, 3, 10, device="meta"), torch.zeros(1, 2, dtype=torch.int32, device="meta")),
        lambda: ops.points_in_boxes_all(meta, torch.empty(1, 2, 7, device="meta")),
    ]
    for call in calls:
        with pytest.raises(Exception) as err:
            call()
        assert not isinstance(err.value, AssertionError) or "CPU code called" not in str(err.value)


def test_stacked_forms_say_what_to_do():
    with pytest.raises(NotImplementedError, match="stacked"):
        ops.ball_query(
            0.0, 1.0, 4, torch.rand(10, 3), torch.rand(4, 3), torch.tensor([10], dtype=torch.int32), torch.tensor([4], dtype=torch.int32)
        )


def test_fps_speed_votenet_scale():
    """2 x 20,000 points -> 2,048 samples: a compiled loop, not a crawl."""
    xyz = torch.rand(2, 20000, 3)
    ops.furthest_point_sample(xyz[:, :64].contiguous(), 8)  # compile/load
    t0 = time.perf_counter()
    idx = ops.furthest_point_sample(xyz, 2048)
    elapsed = time.perf_counter() - t0
    assert all(row.unique().numel() == 2048 for row in idx)
    assert elapsed < 5.0, f"FPS took {elapsed:.2f} s"


# ---------------------------------------------- a real VoteNet on the CPU
def _votenet_batch(num_points=4000, batch_size=2, seed=0):
    """A small random SUN RGB-D-like batch: points (x, y, z, height), two
    rotated boxes per scene with points inside them."""
    from mmdet3d.structures import Box3DMode, DepthInstance3DBoxes, Det3DDataSample, PointData
    from mmengine.structures import InstanceData

    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(batch_size):
        boxes = torch.tensor([[1.0, 2.0, 0.0, 1.2, 0.8, 0.9, 0.5], [-1.0, 3.0, 0.0, 0.6, 0.6, 1.1, -1.0]])
        box_obj = DepthInstance3DBoxes(boxes)  # bottom centres
        n_in = num_points // 4
        # points: half in the room, half inside the two boxes
        room = torch.rand(num_points - 2 * n_in, 3, generator=g)
        room = room * torch.tensor([6.0, 6.0, 2.5]) - torch.tensor([3.0, 0.0, 0.0])
        parts = [room]
        for b in boxes:
            local = (torch.rand(n_in, 3, generator=g) - 0.5) * b[3:6] * 0.9
            c, s = math.cos(b[6]), math.sin(b[6])
            rot = torch.tensor([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
            parts.append(local @ rot.T + b[:3] + torch.tensor([0, 0, b[5] / 2]))
        xyz = torch.cat(parts)
        assert box_obj.points_in_boxes_all(xyz).any(1).sum() >= 2 * n_in
        height = xyz[:, 2:3] - torch.quantile(xyz[:, 2], 0.01)
        inputs.append(torch.cat([xyz, height], dim=1))
        ds = Det3DDataSample()
        ds.set_metainfo(dict(box_type_3d=DepthInstance3DBoxes, box_mode_3d=Box3DMode.DEPTH))
        gt = InstanceData()
        gt.bboxes_3d = box_obj
        gt.labels_3d = torch.tensor([0, 3])
        ds.gt_instances_3d = gt
        ds.gt_pts_seg = PointData()
        samples.append(ds)
    return dict(inputs=dict(points=inputs), data_samples=samples)


def test_votenet_sunrgbd_trains_and_predicts_on_cpu():
    import os

    import mmdet3d
    from mmdet3d.registry import MODELS
    from mmdet3d.utils import register_all_modules
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import DefaultScope

    register_all_modules(init_default_scope=False)
    cfg_path = os.path.join(os.path.dirname(mmdet3d.__file__), ".mim", "configs", "votenet", "votenet_8xb16_sunrgbd-3d.py")
    cfg = Config.fromfile(cfg_path)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope("mmdet3d"):
        model = MODELS.build(cfg.model)
    n_params = sum(p.numel() for p in model.parameters())
    assert 0.9e6 < n_params < 1.0e6  # the talk's 0.95M VoteNet
    model.train()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    data = _votenet_batch()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    t0 = time.perf_counter()
    losses = model.train_step(data, optim)
    step_s = time.perf_counter() - t0
    assert all(torch.isfinite(v).all() for v in losses.values())
    assert losses["loss"] > 0
    changed = [k for k, v in model.state_dict().items() if v.is_floating_point() and not torch.equal(v, before[k])]
    assert any(k.startswith("backbone.SA_modules.0") for k in changed)
    assert any(k.startswith("bbox_head") for k in changed)

    model.eval()
    with torch.no_grad():
        results = model.test_step(_votenet_batch(seed=1))
    assert len(results) == 2
    pred = results[0].pred_instances_3d
    assert len(pred.bboxes_3d) > 0
    assert pred.bboxes_3d.tensor.shape[1] == 7
    assert pred.scores_3d.shape == pred.labels_3d.shape
    print(f"VoteNet train step on CPU (2 x 4000 points): {step_s:.2f} s")

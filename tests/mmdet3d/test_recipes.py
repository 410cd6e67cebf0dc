"""The paper's recipe (facebookresearch/votenet's) and the 3x configs hold
what they say; the batch-norm momentum hook; limited-data subsets (one
command, seeded, deterministic) and their configs; the pre-training target
modes; the class-aware top-k evaluation."""

import importlib.util
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mmdet3d_data import write_categories, write_fractal_scenes, write_scannet  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CFG = ROOT / "votenet_cfg"


@pytest.fixture(autouse=True)
def _scope():
    from mmengine.registry import init_default_scope

    init_default_scope("mmdet3d")


def _cfg(name):
    from mmengine.config import Config

    return Config.fromfile(str(CFG / name))


def _tool(name):
    spec = importlib.util.spec_from_file_location(f"pcfractal_tools_{name}", ROOT / "tools" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# --------------------------------------------------------------------------
# recipes


@pytest.mark.parametrize("ds, n_train", [("scannet", 1201), ("sunrgbd", 5285)])
def test_paper_recipe_is_facebookresearch_votenets(ds, n_train):
    for stem in (f"{ds}_votenet_paper_scratch", f"{ds}_votenet_paper_finetune", f"{ds}_votenet_x2_paper_finetune"):
        cfg = _cfg(f"{stem}.py")
        opt = cfg.optim_wrapper
        assert opt.optimizer.type == "Adam"
        assert opt.optimizer.lr == 1e-3 and opt.optimizer.weight_decay == 0
        assert "clip_grad" not in opt  # votenet clips nothing
        assert cfg.train_dataloader.batch_size == 8
        assert cfg.train_dataloader.dataset.times == 1  # no x5 repeat
        assert cfg.train_cfg.max_epochs == 180
        (sched,) = cfg.param_scheduler
        assert sched.type == "MultiStepLR" and sched.by_epoch
        assert sched.milestones == [80, 120, 160] and sched.gamma == 0.1
        (hook,) = cfg.custom_hooks
        assert hook.type == "BNMomentumHook"
        assert (hook.init, hook.decay, hook.step, hook.minimum) == (0.5, 0.5, 20, 0.001)
        # mmdet3d's data pipeline and model are kept
        mm = _cfg(f"{ds}_votenet_3x_scratch.py")
        assert cfg.train_dataloader.dataset.dataset.pipeline == mm.train_dataloader.dataset.dataset.pipeline
        assert cfg.model.bbox_head.num_classes == mm.model.bbox_head.num_classes
    # mmdet3d's schedule, unchanged, in the 3x configs
    mm = _cfg(f"{ds}_votenet_3x_scratch.py")
    assert mm.optim_wrapper.optimizer.type == "AdamW"
    assert mm.optim_wrapper.optimizer.lr == 0.008
    assert mm.train_cfg.max_epochs == 36
    assert mm.train_dataloader.dataset.times == 5


def test_bn_momentum_hook_follows_votenet():
    from mmengine.config import Config  # noqa: F401
    from torch import nn

    from pcfractal.mmdet3d.hooks import BNMomentumHook, bn_momentum

    # max(0.5 * 0.5 ** (epoch // 20), 0.001), torch's momentum convention
    assert [bn_momentum(e) for e in (0, 19, 20, 39, 40, 179)] == [0.5, 0.5, 0.25, 0.25, 0.125, max(0.5 * 0.5**8, 0.001)]
    assert bn_momentum(400) == 0.001

    class FakeRunner:
        epoch = 45
        model = nn.Sequential(nn.Conv1d(3, 4, 1), nn.BatchNorm1d(4), nn.BatchNorm2d(4))

        class message_hub:  # noqa: N801
            scalars = {}

            @classmethod
            def update_scalar(cls, k, v):
                cls.scalars[k] = v

    hook = BNMomentumHook()
    hook.before_train_epoch(FakeRunner)
    assert FakeRunner.model[1].momentum == 0.125
    assert FakeRunner.model[2].momentum == 0.125
    assert FakeRunner.message_hub.scalars["train/bn_momentum"] == 0.125
    with pytest.raises(ValueError):
        BNMomentumHook(init=0.5, minimum=0.6)


# --------------------------------------------------------------------------
# limited data


def test_make_subset_is_seeded_and_deterministic(tmp_path):
    root = write_scannet(tmp_path / "scannet", n_train=40, n_val=1)
    info = root / "scannet_infos_train.pkl"
    tool = _tool("make_subset")
    assert tool.main([str(info), "--fraction", "0.1", "--seed", "0"]) == 0
    out = root / "scannet_infos_train_10pct_seed0.pkl"
    blob = out.read_bytes()
    sub = pickle.loads(blob)
    full = pickle.loads(info.read_bytes())
    meta = sub["metainfo"]["subset"]
    assert meta["count"] == 4 and meta["source_count"] == 40
    idx = np.sort(np.random.default_rng(0).permutation(40)[:4])
    assert meta["indices"] == idx.tolist()
    assert sub["data_list"] == [full["data_list"][i] for i in idx]
    assert sub["metainfo"]["categories"] == full["metainfo"]["categories"]
    # the same command gives the same bytes; another seed other scenes
    assert tool.main([str(info), "--fraction", "0.1", "--seed", "0"]) == 0
    assert out.read_bytes() == blob
    other = tmp_path / "o.pkl"
    assert tool.main([str(info), "--fraction", "0.1", "--seed", "1", "--out", str(other)]) == 0
    assert pickle.loads(other.read_bytes())["metainfo"]["subset"]["indices"] != meta["indices"]
    # 1 % of 40 scenes is still one scene; bad input: status 2
    assert tool.main([str(info), "--fraction", "0.01"]) == 0
    assert pickle.loads((root / "scannet_infos_train_1pct_seed0.pkl").read_bytes())["metainfo"]["subset"]["count"] == 1
    assert tool.main([str(info), "--fraction", "0"]) == 2
    assert tool.main([str(info), "--fraction", "1.5"]) == 2
    assert tool.main([str(tmp_path / "missing.pkl"), "--fraction", ".1"]) == 2
    assert tool.main([str(out), "--fraction", "0.5"]) == 2  # a subset's subset


@pytest.mark.parametrize("ds", ["scannet", "sunrgbd"])
@pytest.mark.parametrize("pct", [1, 5, 10, 20, 50])
def test_limited_configs_read_the_subset_and_keep_the_iterations(ds, pct):
    from pcfractal.mmdet3d.subsets import subset_name

    n = dict(scannet=1201, sunrgbd=5285)[ds]
    for init in ("scratch", "finetune"):
        cfg = _cfg(f"limited/{ds}_votenet_paper_{init}_{pct}pct.py")
        full = _cfg(f"{ds}_votenet_paper_{init}.py")
        inner = cfg.train_dataloader.dataset
        # the file tools/make_subset.py writes by default
        assert inner.dataset.ann_file == subset_name(f"{ds}_infos_train.pkl", pct / 100, 0)
        assert inner.dataset.ann_file == f"{ds}_infos_train_{pct}pct_seed0.pkl"
        # same iterations per epoch as the whole data (within 1 %), same
        # schedule
        kept = max(1, round(pct / 100 * n))
        assert abs(kept * inner.times - n) / n < 0.01
        assert cfg.param_scheduler == full.param_scheduler
        assert cfg.train_cfg == full.train_cfg
        assert cfg.custom_hooks == full.custom_hooks
        assert cfg.model.backbone.get("init_cfg") == full.model.backbone.get("init_cfg")


def test_limited_config_trains_on_a_made_subset(tmp_path):
    """make_subset's output is what the limited config loads: the dataset
    has the subset's scenes, repeated."""
    from mmdet3d.registry import DATASETS

    root = write_scannet(tmp_path / "scannet", n_train=20, n_val=1)
    assert _tool("make_subset").main([str(root / "scannet_infos_train.pkl"), "--fraction", "0.1"]) == 0
    cfg = _cfg("limited/scannet_votenet_paper_scratch_10pct.py")
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.dataset.data_root = str(root)
    dataset = DATASETS.build(ds_cfg)
    assert len(dataset.dataset) == 2 and len(dataset) == 20
    names = {dataset.dataset.get_data_info(i)["lidar_points"]["lidar_path"] for i in range(2)}
    idx = np.sort(np.random.default_rng(0).permutation(20)[:2])
    assert names == {str(root / "points" / f"scene{i:04d}_00.bin") for i in idx}


# --------------------------------------------------------------------------
# the pre-training target


@pytest.mark.parametrize("box_mode", ["rotated", "axis_aligned", "no_heading"])
@pytest.mark.parametrize("size_mode", ["shared", "per_category"])
def test_target_modes_build_and_take_one_step(box_mode, size_mode, tmp_path):
    """Each (box_mode, size_mode) of the tiny pre-training config builds and
    computes every loss on real fractal scenes; the targets are what the
    mode says."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    from pcfractal.mmdet3d.recipes import fractal_target

    cats = write_categories(tmp_path / "cats", count=4)
    write_fractal_scenes(tmp_path / "scenes", cats, count=4, seed=0, val_fraction=0.25)
    cfg = Config.fromfile(str(CFG / "tiny_pretrain_votenet_fractal.py"))
    cfg.merge_from_dict(fractal_target(cfg, box_mode, size_mode))
    for split in ("train", "val", "test"):
        cfg[f"{split}_dataloader"].dataset.data_root = str(tmp_path / "scenes")
    cfg.work_dir = str(tmp_path / "work")
    cfg.experiment_name = f"target_{box_mode}_{size_mode}"
    cfg.visualizer.name = cfg.experiment_name
    head = cfg.model.bbox_head
    assert head.type == "FractalVoteHead"
    assert head.bbox_coder.num_sizes == (1 if size_mode == "shared" else 4)
    assert head.bbox_coder.with_rot == (box_mode != "axis_aligned")
    assert head.bbox_coder.num_dir_bins == (1 if box_mode == "axis_aligned" else 12)
    types = [t["type"] for t in cfg.train_dataloader.dataset.pipeline]
    assert ("AxisAlignFractalBoxes" in types) == (box_mode == "axis_aligned")
    if box_mode == "axis_aligned":
        assert types.index("AxisAlignFractalBoxes") == types.index("GlobalRotScaleTrans") + 1
    runner = Runner.from_cfg(cfg)
    batch = next(iter(runner.build_dataloader(cfg.train_dataloader)))
    model = runner.model
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode="loss")
    for k, v in losses.items():
        assert torch.isfinite(v).all(), k
    if size_mode == "shared":
        assert float(losses["size_class_loss"]) == 0.0
    else:
        assert float(losses["size_class_loss"]) > 0.1
    if box_mode == "no_heading":
        assert float(losses["dir_class_loss"]) == 0.0
        assert float(losses["dir_res_loss"]) == 0.0
    if box_mode == "rotated":
        assert float(losses["dir_class_loss"]) > 0.1
    if box_mode == "axis_aligned":
        gt = batch["data_samples"][0].gt_instances_3d.bboxes_3d
        assert not gt.with_yaw and torch.all(gt.tensor[:, 6] == 0)
        seg = batch["data_samples"][0].gt_pts_seg
        assert (seg.pts_instance_mask > 0).any()


def test_axis_aligned_boxes_are_the_min_max_of_each_objects_points(tmp_path):
    from mmdet3d.structures import DepthInstance3DBoxes
    from mmdet3d.structures.points import DepthPoints

    import scene_builder
    from pcfractal.mmdet3d.transforms import AxisAlignFractalBoxes
    from pcfractal.pointclouds.category_file import CategorySet

    cats = write_categories(tmp_path / "cats", count=4)
    scene = scene_builder.make_scene(
        CategorySet.load(cats).systems,
        3,
        0,
        scene_builder.SceneSettings(base_objects=4, extra_objects_mean=1.0, room_size=6.0, instances_per_category=4),
    )
    boxes = DepthInstance3DBoxes(np.asarray(scene.boxes, np.float32), box_dim=7, origin=(0.5, 0.5, 0.5))
    labels = np.asarray(scene.labels)
    res = AxisAlignFractalBoxes()(
        dict(
            points=DepthPoints(np.asarray(scene.points, np.float32)),
            gt_bboxes_3d=boxes,
            gt_labels_3d=labels,
            eval_ann_info=dict(gt_bboxes_3d=boxes.clone(), gt_labels_3d=labels.copy()),
        )
    )
    aabb = res["gt_bboxes_3d"]
    assert not aabb.with_yaw and len(aabb) == len(boxes)
    inst = np.asarray(scene.instance_mask)
    for k in range(len(boxes)):
        pts = np.asarray(scene.points)[inst == k + 1]
        lo, hi = pts.min(0), pts.max(0)
        np.testing.assert_allclose(aabb.gravity_center[k].numpy(), (lo + hi) / 2, atol=1e-5)
        np.testing.assert_allclose(aabb.dims[k].numpy(), hi - lo, atol=1e-5)
    # the masks are the scene's own (every object point found in its box)
    np.testing.assert_array_equal(res["pts_instance_mask"], inst)
    sem = res["pts_semantic_mask"]
    assert (sem[inst > 0] == labels[inst[inst > 0] - 1]).all()
    assert (sem[inst == 0] == AxisAlignFractalBoxes.BACKGROUND).all()
    torch.testing.assert_close(res["eval_ann_info"]["gt_bboxes_3d"].tensor, aabb.tensor)


# --------------------------------------------------------------------------
# class-aware top-k evaluation


def _head(k):
    from mmdet3d.registry import MODELS
    from mmengine.config import ConfigDict

    cfg = _cfg("tiny_pretrain_votenet_fractal.py")
    head = dict(cfg.model.bbox_head)
    head.update(num_classes=20, train_cfg=cfg.model.train_cfg, test_cfg=ConfigDict(cfg.model.test_cfg, max_classes_per_proposal=k))
    return MODELS.build(head)


def test_top_k_is_votehead_truncated_to_each_proposals_k_best_classes():
    from mmdet3d.structures import DepthInstance3DBoxes

    g = torch.Generator().manual_seed(0)
    n, c = 64, 20
    centres = torch.rand(n, 3, generator=g) * torch.tensor([6.0, 6.0, 0.5])
    bbox = torch.cat([centres, torch.rand(n, 3, generator=g) * 0.5 + 0.8, torch.rand(n, 1, generator=g) * 3], 1)
    points = torch.rand(20000, 3, generator=g) * torch.tensor([7.0, 7.0, 1.5])
    obj = torch.rand(n, generator=g)
    sem = torch.softmax(torch.randn(n, c, generator=g) * 2, -1)
    meta = dict(box_type_3d=DepthInstance3DBoxes)
    full = _head(None).multiclass_nms_single(obj, sem, bbox, points, meta)
    every = _head(c).multiclass_nms_single(obj, sem, bbox, points, meta)
    # k >= classes: exactly mmdet3d's VoteHead
    for a, b in zip(full, every):
        torch.testing.assert_close(a, b)
    kept = len(full[1]) // c
    assert kept > 5
    b3, s3, l3 = _head(3).multiclass_nms_single(obj, sem, bbox, points, meta)
    assert len(s3) == 3 * kept
    full_set = {(tuple(np.round(b.tolist(), 5)), int(l), round(float(s), 6)) for b, s, l in zip(*full)}
    top_set = {(tuple(np.round(b.tolist(), 5)), int(l), round(float(s), 6)) for b, s, l in zip(b3, s3, l3)}
    # a subset of VoteHead's copies: per box, its 3 most probable classes
    assert top_set <= full_set
    per_box = {}
    for b, l, s in top_set:
        per_box.setdefault(b, []).append(s)
    for b, l, s in full_set:
        if b in per_box and s > min(per_box[b]) + 1e-6:
            assert (b, l, s) in top_set


def test_object_pretraining_config_sees_one_class(tmp_path):
    """pretrain_votenet_fractal_object.py: one head class, every fractal
    object labelled 'object' by its written-scene dataset."""
    from mmdet3d.registry import DATASETS

    cats = write_categories(tmp_path / "cats", count=4)
    write_fractal_scenes(tmp_path / "scenes", cats, count=4, seed=0, val_fraction=0.25)
    cfg = _cfg("pretrain_votenet_fractal_object.py")
    assert cfg.model.bbox_head.num_classes == 1
    for split in ("train", "val", "test"):
        ds_cfg = cfg[f"{split}_dataloader"].dataset
        assert ds_cfg.class_mode == "object"
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.data_root = str(tmp_path / "scenes")
    dataset = DATASETS.build(ds_cfg)
    assert dataset.metainfo["classes"] == ("object",)
    labels = np.concatenate([dataset.get_data_info(i)["ann_info"]["gt_labels_3d"] for i in range(len(dataset))])
    assert len(labels) > 3 and (labels == 0).all()

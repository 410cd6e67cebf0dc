"""The fractal-scene datasets (written and on the fly), the PC-FractalDB
instance dataset, VoteNet's vote targets on rotated fractal boxes, and the
metrics."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mmdet3d_data import TINY_INSTANCE_SETTINGS, TINY_SCENE_SETTINGS, write_categories, write_fractal_scenes  # noqa: E402

N_SCENES = 6


@pytest.fixture(autouse=True)
def _mmdet3d_scope():
    from mmengine.registry import init_default_scope

    init_default_scope("mmdet3d")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("fractal")
    cats = write_categories(root / "cats", count=4)
    summary = write_fractal_scenes(root / "scenes", cats, N_SCENES, seed=3, val_fraction=0.34)
    return dict(cats=cats, scenes=root / "scenes", summary=summary)


def _load_pipeline():
    return [
        dict(type="LoadPointsFromFile", coord_type="DEPTH", shift_height=True, load_dim=3, use_dim=[0, 1, 2]),
        dict(type="LoadAnnotations3D"),
    ]


def _written(data, split="train", **kw):
    from pcfractal.mmdet3d.datasets import FractalSceneDataset

    return FractalSceneDataset(data_root=str(data["scenes"]), ann_file=f"pcfractal_infos_{split}.pkl", pipeline=_load_pipeline(), **kw)


def _onthefly(data, **kw):
    from pcfractal.mmdet3d.datasets import FractalSceneOnTheFlyDataset

    kw.setdefault("num_scenes", N_SCENES)
    return FractalSceneOnTheFlyDataset(
        category_file=str(data["cats"]),
        seed=3,
        scene_settings=TINY_SCENE_SETTINGS,
        instance_settings=TINY_INSTANCE_SETTINGS,
        pipeline=[dict(type="LoadFractalScene", with_mask_3d=True)],
        **kw,
    )


def _raw(ds, i):
    """The pipeline's result dict of entry i (no packing)."""
    import copy

    info = copy.deepcopy(ds.get_data_info(i))
    info["box_type_3d"] = ds.box_type_3d
    info["box_mode_3d"] = ds.box_mode_3d
    return ds.pipeline(info)


def test_written_dataset_reads_rotated_boxes(data):
    from mmdet3d.structures import DepthInstance3DBoxes

    from scene_builder.writers.mmdet3d import load_info

    ds = _written(data)
    info = load_info(data["scenes"] / "pcfractal_infos_train.pkl")
    assert len(ds) == data["summary"]["n_train"] == len(info["data_list"])
    assert ds.metainfo["classes"] == tuple(info["metainfo"]["classes"])
    for i in range(len(ds)):
        r = _raw(ds, i)
        boxes = r["gt_bboxes_3d"]
        assert isinstance(boxes, DepthInstance3DBoxes) and boxes.with_yaw
        want = np.array([o["bbox_3d"] for o in info["data_list"][i]["instances"]])
        # gravity centre in, gravity centre out; yaw kept
        np.testing.assert_allclose(boxes.gravity_center.numpy(), want[:, :3], atol=1e-5)
        np.testing.assert_allclose(boxes.dims.numpy(), want[:, 3:6], atol=1e-5)
        np.testing.assert_allclose(boxes.yaw.numpy(), want[:, 6], atol=1e-6)
        assert r["points"].shape[1] == 4  # xyz + height
        assert list(r["gt_labels_3d"]) == [o["bbox_label_3d"] for o in info["data_list"][i]["instances"]]


def test_object_mode_and_class_subset(data):
    ds = _written(data, class_mode="object")
    assert ds.metainfo["classes"] == ("object",)
    r = _raw(ds, 0)
    assert set(r["gt_labels_3d"].tolist()) == {0}
    names = _written(data).metainfo["classes"]
    sub = _written(data, metainfo=dict(classes=names[2:]))
    for i in range(len(sub)):
        full = _raw(_written(data), i)["gt_labels_3d"]
        got = _raw(sub, i)["gt_labels_3d"]
        assert got.tolist() == [v - 2 for v in full.tolist() if v >= 2]


def test_onthefly_equals_written(data):
    """On-the-fly scene i is the written scene i, point for point."""
    written = _written(data)
    onthefly = _onthefly(data)
    assert len(onthefly) == N_SCENES
    assert onthefly.metainfo["classes"] == written.metainfo["classes"]
    for i in range(len(written)):
        a, b = _raw(written, i), _raw(onthefly, i)
        np.testing.assert_array_equal(a["points"].tensor.numpy(), b["points"].tensor.numpy())
        np.testing.assert_allclose(a["gt_bboxes_3d"].tensor.numpy(), b["gt_bboxes_3d"].tensor.numpy(), atol=1e-6)
        np.testing.assert_array_equal(a["gt_labels_3d"], b["gt_labels_3d"])


def test_onthefly_holdout_and_eval_ann(data):
    val = _onthefly(data, num_scenes=2, start_index=4, test_mode=True)
    written_val = _written(data, split="val", test_mode=True)
    for i in range(2):
        r = _raw(val, i)
        assert "eval_ann_info" in r
        w = written_val.get_data_info(i)["eval_ann_info"]
        np.testing.assert_allclose(r["eval_ann_info"]["gt_bboxes_3d"].tensor, w["gt_bboxes_3d"].tensor, atol=1e-6)
    with pytest.raises(ValueError, match="num_scenes"):
        _onthefly(data, num_scenes=0)


def test_full_pipeline_packs(data):
    """The pre-training pipeline of the configs runs on both datasets."""
    from mmengine.config import Config

    cfg_dir = Path(__file__).resolve().parents[2] / "votenet_cfg"
    cfg = Config.fromfile(str(cfg_dir / "tiny_pretrain_votenet_fractal.py"))
    from pcfractal.mmdet3d.datasets import FractalSceneDataset

    ds = FractalSceneDataset(data_root=str(data["scenes"]), ann_file="pcfractal_infos_train.pkl", pipeline=cfg.train_pipeline)
    out = ds[0]
    assert out["inputs"]["points"].shape == (4096, 4)
    assert len(out["data_samples"].gt_instances_3d.labels_3d) > 0
    cfg = Config.fromfile(str(cfg_dir / "tiny_pretrain_votenet_fractal_onthefly.py"))
    ds = _onthefly(data)
    from mmengine.dataset import Compose

    ds.pipeline = Compose(cfg.train_pipeline)
    out = ds[1]
    assert out["inputs"]["points"].shape == (4096, 4)


def test_vote_targets_on_rotated_boxes(data):
    """VoteNet's with_rot=True targets on a fractal scene: every object point
    (bar the few on the box's side faces, which points_in_boxes counts as
    outside) votes for its own box's gravity centre, nothing else votes."""
    from mmdet3d.registry import MODELS
    from mmengine.config import Config
    from mmengine.structures import InstanceData

    cfg = Config.fromfile(str(Path(__file__).resolve().parents[2] / "votenet_cfg" / "tiny_pretrain_votenet_fractal.py"))
    head = MODELS.build(cfg.model).bbox_head
    assert head.bbox_coder.with_rot and head.num_dir_bins == 12
    r = _raw(_onthefly(data), 0)
    pts = r["points"].tensor
    boxes = r["gt_bboxes_3d"]
    inst = torch.as_tensor(r["pts_instance_mask"])
    gt = InstanceData(bboxes_3d=boxes, labels_3d=torch.as_tensor(r["gt_labels_3d"]))
    preds = dict(aggregated_points=boxes.gravity_center[None, :1].repeat(1, 8, 1))
    targets = head.get_targets([pts], preds, [gt], [None], [None])
    vote, mask = targets[0][0], targets[1][0]
    on_obj = inst > 0
    assert not mask[~on_obj].any()
    assert mask[on_obj].float().mean() > 0.99
    centres = boxes.gravity_center[inst[on_obj & (mask > 0)] - 1]
    sel = on_obj & (mask > 0)
    for j in range(3):  # gt_per_seed copies: one box per point here
        torch.testing.assert_close(vote[sel, 3 * j : 3 * j + 3], centres - pts[sel, :3], atol=1e-5, rtol=0)


def test_instance_dataset(data):
    from pcfractal.mmdet3d.datasets import PCFractalDBInstanceDataset

    ds = PCFractalDBInstanceDataset(
        category_file=str(data["cats"]),
        instances_per_category=3,
        seed=0,
        instance_settings=TINY_INSTANCE_SETTINGS,
        pipeline=[dict(type="LoadFractalInstance", object_size=1.0), dict(type="Pack3DDetInputs", keys=["points", "gt_labels_3d"])],
    )
    assert len(ds) == 12 and len(ds.metainfo["classes"]) == 4
    from pcfractal.pointclouds.category_file import CategorySet
    from pcfractal.pointclouds.instances import InstanceSettings, make_instance

    systems = CategorySet.load(data["cats"]).systems
    for i in (0, 5, 11):
        out = ds[i]
        pts = out["inputs"]["points"].numpy()
        assert pts.shape == (1000, 4)
        assert out["data_samples"].gt_instances_3d.labels_3d.tolist() == [i // 3]
        ext = pts[:, :3].max(0) - pts[:, :3].min(0)
        assert abs(ext.max() - 1.0) < 1e-5 and abs(pts[:, 2].min()) < 1e-6
        # the very instance of pcfractal.pointclouds.instances, scaled and moved
        ref = make_instance(systems, i // 3, i % 3, 0, InstanceSettings(**TINY_INSTANCE_SETTINGS)).points
        ref_ext = ref.max(0) - ref.min(0)
        np.testing.assert_allclose(ext, ref_ext / ref_ext.max(), atol=1e-5)


def test_fractal_scene_metric():
    from mmdet3d.structures import DepthInstance3DBoxes

    from pcfractal.mmdet3d.metrics import PresentClassesIndoorMetric

    boxes = DepthInstance3DBoxes(torch.tensor([[0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.3], [3.0, 0.0, 0.0, 1.0, 1.0, 1.0, -1.0]]))
    ann = dict(gt_bboxes_3d=boxes, gt_labels_3d=np.array([0, 1]))
    metric = PresentClassesIndoorMetric()
    metric.dataset_meta = dict(classes=("a", "b", "c"), box_type_3d="Depth")
    # perfect boxes, plus a confident box of class 'c', absent from the GT
    pred = dict(
        bboxes_3d=DepthInstance3DBoxes(torch.cat([boxes.tensor, boxes.tensor[:1]])),
        scores_3d=torch.tensor([0.9, 0.8, 0.95]),
        labels_3d=torch.tensor([0, 1, 2]),
    )
    res = metric.compute_metrics([(ann, pred)])
    assert res["mAP_0.25"] == pytest.approx(1.0)
    assert res["mAP_0.50"] == pytest.approx(1.0)
    assert not np.isnan(res["object_mAP_0.25"])
    assert res["object_mAR_0.25"] == pytest.approx(1.0)


def test_mmdet3d_indoor_metric_runs_under_numpy2():
    """mmdet3d's own IndoorMetric (ScanNetV2 / SUN RGB-D) prints its table
    with float() of 1-element arrays, which numpy 2 refuses; importing
    pcfractal.mmdet3d fixes it without changing the numbers."""
    from mmdet3d.evaluation.metrics import IndoorMetric
    from mmdet3d.structures import DepthInstance3DBoxes

    boxes = DepthInstance3DBoxes(torch.tensor([[0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0], [3.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0]]))
    ann = dict(gt_bboxes_3d=boxes, gt_labels_3d=np.array([0, 1]))
    pred = dict(bboxes_3d=boxes.clone(), scores_3d=torch.tensor([0.9, 0.8]), labels_3d=torch.tensor([0, 1]))
    metric = IndoorMetric()
    metric.dataset_meta = dict(classes=("a", "b"), box_type_3d="Depth")
    res = metric.compute_metrics([(ann, pred)])
    assert res["mAP_0.25"] == pytest.approx(1.0)
    assert res["a_AP_0.50"] == pytest.approx(1.0)


def test_train_tool_checks_num_classes(data, tmp_path):
    """tools/train.py stops, with the options to add, when the detection head
    has fewer classes than the fractal data."""
    import importlib.util

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("pcfractal_tools_train_check", root / "tools" / "train.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    d = str(data["scenes"])
    args = tool.parse_args(
        [
            str(root / "votenet_cfg" / "tiny_pretrain_votenet_fractal.py"),
            "--work-dir",
            str(tmp_path),
            "--cfg-options",
            "model.bbox_head.num_classes=2",
            "model.bbox_head.bbox_coder.num_sizes=2",
            f"train_dataloader.dataset.data_root={d}",
            f"val_dataloader.dataset.data_root={d}",
            f"test_dataloader.dataset.data_root={d}",
            "experiment_name=check_num_classes",
            "visualizer.name=check_num_classes",
        ]
    )
    runner = tool.build_runner(args)
    with pytest.raises(ValueError, match="model.bbox_head.num_classes=4"):
        tool.check_num_classes(runner)

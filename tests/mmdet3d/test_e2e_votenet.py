"""End to end on CPU, through tools/train.py and tools/test.py:

1. pre-train a tiny VoteNet on tiny written fractal scenes and on tiny
   fractal scenes built on the fly; the loss falls; checkpoints are saved;
2. fine-tune from those checkpoints on a tiny ScanNetV2-format and a tiny SUN
   RGB-D-format dataset (written here in the real layouts); the fine-tuned
   model starts from the pre-trained backbone (weights compared after loading,
   before the first step) and not from the pre-trained heads;
3. evaluate the fine-tuned checkpoints with tools/test.py and print
   mAP@0.25 / mAP@0.5 (numbers of a few CPU iterations on toy data: they show
   the path works, not what VoteNet reaches);
4. the classification pre-training's backbone transfers the same way.
"""

import importlib.util
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mmdet3d_data import write_categories, write_fractal_scenes, write_scannet, write_sunrgbd  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CFG = ROOT / "votenet_cfg"


def _tool(name):
    spec = importlib.util.spec_from_file_location(f"pcfractal_tools_{name}", ROOT / "tools" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


train_tool = _tool("train")
test_tool = _tool("test")


def _options(run_name, **kv):
    """--cfg-options list; unique names keep mmengine's per-run singletons
    (message hub, logger, visualizer) apart within one process."""
    opts = [f"experiment_name={run_name}", f"visualizer.name={run_name}"]
    opts += [f"{k}={v}" for k, v in kv.items()]
    return opts


def _train(config, work_dir, run_name, **kv):
    args = train_tool.parse_args([str(CFG / config), "--work-dir", str(work_dir), "--cfg-options", *_options(run_name, **kv)])
    runner = train_tool.build_runner(args)
    train_tool.check_num_classes(runner)
    return runner


def _losses(runner):
    values, _ = runner.message_hub.get_scalar("train/loss").data
    return np.asarray(values, dtype=float)


def _last_ckpt(work_dir):
    return (Path(work_dir) / "last_checkpoint").read_text().strip()


def _assert_loss_falls(losses, what):
    k = max(3, len(losses) // 5)
    first, last = losses[:k].mean(), losses[-k:].mean()
    print(f"[e2e] {what}: {len(losses)} iterations, loss {first:.3f} -> {last:.3f}")
    assert np.isfinite(losses).all()
    assert last < 0.9 * first, (what, losses)


class _SnapshotAfterInit:
    """A hook that records the model right after weight initialisation and
    checkpoint loading, before the first training step."""

    priority = "VERY_HIGH"

    def __init__(self):
        self.state = None

    def before_train(self, runner):
        model = runner.model.module if hasattr(runner.model, "module") else runner.model
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}


def _hook(snapshot):
    from mmengine.hooks import Hook

    class SnapshotHook(Hook):
        priority = "VERY_HIGH"

        def before_train(self, runner):
            snapshot.before_train(runner)

    return SnapshotHook()


def _assert_started_from(snapshot, ckpt_path):
    ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    pre = ckpt["state_dict"]
    bb = {k: v for k, v in pre.items() if k.startswith("backbone.")}
    assert bb, "the pre-training checkpoint holds no backbone"
    for k, v in bb.items():
        torch.testing.assert_close(snapshot.state[k], v, rtol=0, atol=0, msg=f"{k} not loaded")
    # the heads are new: none of the pre-trained head tensors was copied in
    same_head = [
        k
        for k, v in pre.items()
        if not k.startswith("backbone.")
        and k in snapshot.state
        and snapshot.state[k].shape == v.shape
        and v.dtype.is_floating_point
        and v.numel() > 1
        and torch.equal(snapshot.state[k], v)
    ]
    assert not same_head, same_head


def _fresh_backbone_differs(config, ckpt_path):
    """Sanity: a freshly initialised backbone of the same config is not the
    checkpoint's (so equality above is evidence of loading)."""
    from mmdet3d.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    init_default_scope("mmdet3d")
    cfg = Config.fromfile(str(CFG / config))
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    model.init_weights()
    pre = torch.load(ckpt_path, map_location="cpu", weights_only=False)["state_dict"]
    w = "backbone.SA_modules.0.mlps.0.layer0.conv.weight"
    assert not torch.equal(model.state_dict()[w], pre[w])


def _evaluate(config, ckpt, work_dir, run_name, **kv):
    args = test_tool.parse_args([str(CFG / config), ckpt, "--work-dir", str(work_dir), "--cfg-options", *_options(run_name, **kv)])
    metrics = test_tool.build_runner(args).test()
    return {k: float(v) for k, v in metrics.items()}


def test_pretrain_finetune_evaluate(tmp_path):
    t0 = time.time()
    cats = write_categories(tmp_path / "cats", count=4)
    scenes = tmp_path / "scenes"
    write_fractal_scenes(scenes, cats, count=10, seed=0, val_fraction=0.2)
    scannet = write_scannet(tmp_path / "scannet")
    sunrgbd = write_sunrgbd(tmp_path / "sunrgbd")
    print(f"[e2e] data written in {time.time() - t0:.1f} s")

    # 1a. pre-train on written fractal scenes
    t = time.time()
    wd_written = tmp_path / "pretrain_written"
    runner = _train(
        "tiny_pretrain_votenet_fractal.py",
        wd_written,
        "e2e_pretrain_written",
        **{
            "train_dataloader.dataset.data_root": scenes,
            "val_dataloader.dataset.data_root": scenes,
            "test_dataloader.dataset.data_root": scenes,
        },
    )
    runner.train()
    losses_written = _losses(runner)
    _assert_loss_falls(losses_written, "pre-training on written scenes")
    ckpt_written = _last_ckpt(wd_written)
    n_iter = runner.iter
    print(
        f"[e2e] written pre-training: {n_iter} iterations in "
        f"{time.time() - t:.1f} s ({(time.time() - t) / n_iter:.2f} s/it "
        "incl. validation)"
    )

    # 1b. pre-train on scenes built on the fly
    t = time.time()
    wd_fly = tmp_path / "pretrain_onthefly"
    runner = _train(
        "tiny_pretrain_votenet_fractal_onthefly.py",
        wd_fly,
        "e2e_pretrain_onthefly",
        **{f"{s}_dataloader.dataset.category_file": cats for s in ("train", "val", "test")},
    )
    runner.train()
    losses_fly = _losses(runner)
    _assert_loss_falls(losses_fly, "pre-training on on-the-fly scenes")
    # the same 8 scenes (same category file, seed, settings) and the same
    # training seed: building them on the fly changes nothing
    np.testing.assert_allclose(losses_fly, losses_written, rtol=1e-4)
    ckpt_fly = _last_ckpt(wd_fly)
    print(f"[e2e] on-the-fly pre-training: {time.time() - t:.1f} s")
    _fresh_backbone_differs("tiny_pretrain_votenet_fractal.py", ckpt_written)

    results = {}
    for name, root, ckpt in (("scannet", scannet, ckpt_written), ("sunrgbd", sunrgbd, ckpt_fly)):
        # 2. fine-tune from the pre-trained backbone
        t = time.time()
        cfg = f"tiny_{name}_votenet_finetune.py"
        wd = tmp_path / f"finetune_{name}"
        snap = _SnapshotAfterInit()
        runner = _train(
            cfg,
            wd,
            f"e2e_finetune_{name}",
            **{
                "model.backbone.init_cfg.checkpoint": ckpt,
                "train_dataloader.dataset.dataset.data_root": root,
                "val_dataloader.dataset.data_root": root,
                "test_dataloader.dataset.data_root": root,
            },
        )
        runner.register_hook(_hook(snap))
        runner.train()
        _assert_started_from(snap, ckpt)
        print(f"[e2e] fine-tuning on {name}: {time.time() - t:.1f} s")
        # 3. evaluate the fine-tuned checkpoint with tools/test.py
        metrics = _evaluate(
            cfg,
            _last_ckpt(wd),
            wd,
            f"e2e_test_{name}",
            **{
                "test_dataloader.dataset.data_root": root,
            },
        )
        results[name] = metrics
        print(f"[e2e] {name}: mAP@0.25 = {metrics['mAP_0.25']:.4f}  mAP@0.5 = {metrics['mAP_0.50']:.4f}")
        for k in ("mAP_0.25", "mAP_0.50"):
            assert 0.0 <= metrics[k] <= 1.0

    # 4. classification pre-training -> the same backbone transfer
    t = time.time()
    wd_cls = tmp_path / "pretrain_cls"
    runner = _train(
        "tiny_pretrain_cls_pcfractaldb.py",
        wd_cls,
        "e2e_pretrain_cls",
        **{f"{s}_dataloader.dataset.category_file": cats for s in ("train", "val", "test")},
    )
    runner.train()
    ckpt_cls = _last_ckpt(wd_cls)
    snap = _SnapshotAfterInit()
    runner = _train(
        "tiny_scannet_votenet_finetune.py",
        tmp_path / "finetune_from_cls",
        "e2e_finetune_from_cls",
        **{
            "model.backbone.init_cfg.checkpoint": ckpt_cls,
            "train_dataloader.dataset.dataset.data_root": scannet,
            "val_dataloader.dataset.data_root": scannet,
            "test_dataloader.dataset.data_root": scannet,
            "train_cfg.max_epochs": 1,
            "train_cfg.val_interval": 100,
        },
    )
    runner.register_hook(_hook(snap))
    runner.train()
    _assert_started_from(snap, ckpt_cls)
    print(f"[e2e] classification pre-training + transfer: {time.time() - t:.1f} s")
    print(f"[e2e] total {time.time() - t0:.1f} s")

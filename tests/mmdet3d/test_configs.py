"""Every config in votenet_cfg/ (and votenet_cfg/limited/) parses (through
mmdet3d's own _base_ files) and builds its model; names say what a config
is; parameter counts; backbones transfer key for key; the paper's recipe,
the 3x schedule and the limited-data configs hold what their names say."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CFG_DIR = ROOT / "votenet_cfg"
CONFIGS = sorted(str(p.relative_to(CFG_DIR)) for p in list(CFG_DIR.glob("*.py")) + list(CFG_DIR.glob("limited/*.py")))


def _cfg(name):
    from mmengine.config import Config

    return Config.fromfile(str(CFG_DIR / name))


def _model(name):
    from mmdet3d.registry import MODELS
    from mmengine.registry import init_default_scope

    init_default_scope("mmdet3d")
    return MODELS.build(_cfg(name).model)


def _count(module):
    return sum(p.numel() for p in module.parameters())


def _backbone_shapes(name):
    return {k: tuple(v.shape) for k, v in _model(name).backbone.state_dict().items()}


def test_config_names_say_what_they_are():
    assert len(CONFIGS) >= 50
    for name in CONFIGS:
        stem = Path(name).stem
        assert any(w in stem for w in ("pretrain", "scannet", "sunrgbd")), name
        if "finetune" in stem or "scratch" in stem:
            assert "scannet" in stem or "sunrgbd" in stem, name
            if not stem.startswith("tiny_"):
                # every fine-tuning / scratch config names its recipe
                assert "_paper_" in stem or "_3x_" in stem, name
        if name.startswith("limited/"):
            assert stem.endswith("pct") and "_paper_" in stem, name


@pytest.mark.parametrize("name", CONFIGS)
def test_config_builds(name):
    cfg = _cfg(name)
    assert cfg.default_scope == "mmdet3d"
    assert "pcfractal.mmdet3d" in cfg.custom_imports["imports"]
    for key in ("train_dataloader", "val_dataloader", "test_dataloader", "optim_wrapper", "train_cfg", "val_evaluator"):
        assert key in cfg, f"{name} has no {key}"
    model = _model(name)
    assert _count(model) > 0
    if "finetune" in name:
        init = cfg.model.backbone.init_cfg
        assert init.type == "Pretrained" and init.prefix == "backbone."
    if "scratch" in name:
        assert not cfg.model.backbone.get("init_cfg")
    if ("finetune" in name or "scratch" in name) and not name.startswith("tiny_"):
        # fine-tuning keeps the best epoch and the last ones (resume)
        ck = cfg.default_hooks.checkpoint
        assert ck.save_best == "mAP_0.25" and ck.rule == "greater"
        assert ck.save_last and ck.interval > 0 and ck.max_keep_ckpts >= 1


def test_votenet_parameter_counts():
    """mmdet3d's VoteNet on SUN RGB-D is 0.95M parameters (0.64M backbone),
    the talk's 0.95M; our scratch configs are that model unchanged."""
    sun = _model("sunrgbd_votenet_paper_scratch.py")
    assert round(_count(sun) / 1e6, 2) == 0.95
    assert round(_count(sun.backbone) / 1e6, 2) == 0.64
    assert _count(sun) == _count(_model("sunrgbd_votenet_3x_scratch.py"))
    x2 = _model("sunrgbd_votenet_x2_paper_scratch.py")
    # every backbone MLP twice as wide: about 4x the backbone weights
    assert 3.5 < _count(x2.backbone) / _count(sun.backbone) < 4.1
    # ... and only the backbone: the head grows only by its layers that read
    # the 512-channel seeds (vote module input/residual, first aggregation
    # layer)
    head, head_x2 = _count(sun.bbox_head), _count(x2.bbox_head)
    assert head_x2 - head == (
        256 * (512 - 256)  # vote_conv.0 reads 512 channels
        + (515 - 259) * (256 + 1)  # conv_out: 3 + 512 outputs (+ bias)
        + 128 * (515 - 259)
    )  # vote_aggregation layer0 reads 3 + 512


@pytest.mark.parametrize(
    "pretrain, finetunes",
    [
        (
            "pretrain_votenet_fractal.py",
            [
                "scannet_votenet_paper_finetune.py",
                "sunrgbd_votenet_paper_finetune.py",
                "scannet_votenet_3x_finetune.py",
                "sunrgbd_votenet_3x_finetune.py",
                "scannet_votenet_paper_finetune_object.py",
                "sunrgbd_votenet_paper_finetune_cls.py",
                "scannet_votenet_paper_finetune_authors.py",
                "limited/scannet_votenet_paper_finetune_10pct.py",
                "pretrain_votenet_fractal_onthefly.py",
                "pretrain_votenet_fractal_object.py",
                "pretrain_cls_pcfractaldb.py",
            ],
        ),
        (
            "pretrain_votenet_x2_fractal.py",
            [
                "scannet_votenet_x2_paper_finetune.py",
                "sunrgbd_votenet_x2_paper_finetune.py",
                "scannet_votenet_x2_3x_finetune.py",
                "pretrain_cls_x2_pcfractaldb.py",
            ],
        ),
        (
            "tiny_pretrain_votenet_fractal.py",
            [
                "tiny_scannet_votenet_finetune.py",
                "tiny_sunrgbd_votenet_finetune.py",
                "tiny_pretrain_votenet_fractal_onthefly.py",
                "tiny_pretrain_cls_pcfractaldb.py",
            ],
        ),
    ],
)
def test_backbones_transfer_key_for_key(pretrain, finetunes):
    """A pre-trained backbone (detection or classification) loads into the
    fine-tuning model with every key and shape equal."""
    ref = _backbone_shapes(pretrain)
    for name in finetunes:
        assert _backbone_shapes(name) == ref, name

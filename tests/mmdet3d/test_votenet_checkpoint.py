"""facebookresearch/votenet checkpoints convert to mmdet3d's VoteNet.

The state dicts here are built from that code's module layout, read from its
``models/`` and ``pointnet2/`` (no code of it is used): ``Pointnet2Backbone``
(``sa1``..``sa4`` = ``PointnetSAModuleVotes`` whose ``mlp_module`` is a
``SharedMLP`` of ``layer{j}`` = ``Conv2d`` wrappers holding ``conv`` (no bias:
followed by batch norm) and ``bn`` (a ``BatchNorm2d`` wrapper, hence
``bn.bn.*``), with 3 xyz channels added to the first layer's input;
``fp1``/``fp2`` = ``PointnetFPModule`` with ``mlp``), ``VotingModule``
(``vgen``: ``conv1``..``conv3`` = ``torch.nn.Conv1d`` with bias, ``bn1``,
``bn2``) and ``ProposalModule`` (``pnet``: ``vote_aggregation`` as an SA
module, ``conv1``..``conv3``, ``bn1``, ``bn2``; ``conv3`` has
2 + 3 + 2 H + 4 S + C outputs). A checkpoint file is
``{'epoch', 'model_state_dict', 'optimizer_state_dict', 'loss'}``, its keys
prefixed ``module.`` when saved from DataParallel.
"""

import importlib.util
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from pcfractal.mmdet3d.votenet_checkpoint import check_against, convert_state_dict

ROOT = Path(__file__).resolve().parents[2]
CFG = ROOT / "votenet_cfg"
BN = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


def _shared_mlp(sd, prefix, channels, g):
    for j, (cin, cout) in enumerate(zip(channels[:-1], channels[1:])):
        sd[f"{prefix}.layer{j}.conv.weight"] = torch.randn(cout, cin, 1, 1, generator=g)
        _bn(sd, f"{prefix}.layer{j}.bn.bn", cout, g)


def _bn(sd, prefix, c, g):
    sd[f"{prefix}.weight"] = torch.rand(c, generator=g) + 0.5
    sd[f"{prefix}.bias"] = torch.randn(c, generator=g)
    sd[f"{prefix}.running_mean"] = torch.randn(c, generator=g)
    sd[f"{prefix}.running_var"] = torch.rand(c, generator=g) + 0.5
    sd[f"{prefix}.num_batches_tracked"] = torch.tensor(1234)


def votenet_state_dict(
    input_feature_dim=1, num_class=18, num_heading_bin=1, num_size_cluster=18, vote_factor=1, seed=0, dataparallel=False
):
    """A VoteNet state dict with facebookresearch/votenet's key names and
    shapes (random values)."""
    g = torch.Generator().manual_seed(seed)
    sd = OrderedDict()
    sa = [[input_feature_dim, 64, 64, 128], [128, 128, 128, 256], [256, 128, 128, 256], [256, 128, 128, 256]]
    for i, mlp in enumerate(sa, 1):
        _shared_mlp(sd, f"backbone_net.sa{i}.mlp_module", [mlp[0] + 3] + mlp[1:], g)
    for i in (1, 2):
        _shared_mlp(sd, f"backbone_net.fp{i}.mlp", [256 + 256, 256, 256], g)
    for k in (1, 2):
        sd[f"vgen.conv{k}.weight"] = torch.randn(256, 256, 1, generator=g)
        sd[f"vgen.conv{k}.bias"] = torch.randn(256, generator=g)
    sd["vgen.conv3.weight"] = torch.randn((3 + 256) * vote_factor, 256, 1, generator=g)
    sd["vgen.conv3.bias"] = torch.randn((3 + 256) * vote_factor, generator=g)
    for k in (1, 2):
        _bn(sd, f"vgen.bn{k}", 256, g)
    _shared_mlp(sd, "pnet.vote_aggregation.mlp_module", [256 + 3, 128, 128, 128], g)
    rows = 2 + 3 + num_heading_bin * 2 + num_size_cluster * 4 + num_class
    for k in (1, 2):
        sd[f"pnet.conv{k}.weight"] = torch.randn(128, 128, 1, generator=g)
        sd[f"pnet.conv{k}.bias"] = torch.randn(128, generator=g)
    sd["pnet.conv3.weight"] = torch.randn(rows, 128, 1, generator=g)
    sd["pnet.conv3.bias"] = torch.randn(rows, generator=g)
    for k in (1, 2):
        _bn(sd, f"pnet.bn{k}", 128, g)
    if dataparallel:
        sd = OrderedDict((f"module.{k}", v) for k, v in sd.items())
    return sd


def _model(config):
    from mmdet3d.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    init_default_scope("mmdet3d")
    cfg = Config.fromfile(str(CFG / config))
    cfg.model.backbone.init_cfg = None
    return cfg, MODELS.build(cfg.model)


def _tool():
    spec = importlib.util.spec_from_file_location("pcfractal_tools_convert", ROOT / "tools" / "convert_votenet_checkpoint.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize(
    "config, dims",
    [
        ("scannet_votenet_paper_scratch.py", (18, 1, 18)),
        ("sunrgbd_votenet_paper_scratch.py", (10, 12, 10)),
    ],
)
def test_keys_and_shapes_match_mmdet3d(config, dims):
    num_class, nh, ns = dims
    src = votenet_state_dict(num_class=num_class, num_heading_bin=nh, num_size_cluster=ns)
    sd, report = convert_state_dict(src, predictor=dims)
    assert not report["unknown"] and not report["skipped"]
    assert report["converted"] == len(src) + 2  # conv3 -> conv_cls + reg
    _, model = _model(config)
    ref = model.state_dict()
    # every converted tensor has its key and shape in mmdet3d's model ...
    check_against(sd, ref, prefixes=("backbone.",))
    # ... and everything mmdet3d's model has is converted
    assert set(sd) == set(ref)
    # the values are the source's, unchanged
    assert torch.equal(sd["backbone.SA_modules.0.mlps.0.layer0.conv.weight"], src["backbone_net.sa1.mlp_module.layer0.conv.weight"])
    assert torch.equal(sd["backbone.FP_modules.1.mlps.layer1.bn.running_var"], src["backbone_net.fp2.mlp.layer1.bn.bn.running_var"])
    model.load_state_dict(sd, strict=True)


def test_predictor_rows_go_to_the_right_outputs():
    """pnet.conv3's rows (objectness 2, centre 3, heading H + H, size S +
    3 S, classes C) land in conv_cls (objectness, classes) and conv_reg
    (centre, heading, size) in mmdet3d's order."""
    c, h, s = 10, 12, 10
    src = votenet_state_dict(num_class=c, num_heading_bin=h, num_size_cluster=s)
    w = src["pnet.conv3.weight"]
    sd, _ = convert_state_dict(src, predictor=(c, h, s))
    cls, reg = (sd["bbox_head.conv_pred.conv_cls.weight"], sd["bbox_head.conv_pred.conv_reg.weight"])
    assert torch.equal(cls[:2], w[:2])  # objectness
    assert torch.equal(cls[2:], w[5 + 2 * h + 4 * s :])  # classes
    assert torch.equal(reg[:3], w[2:5])  # centre offset
    assert torch.equal(reg[3 : 3 + 2 * h], w[5 : 5 + 2 * h])  # heading
    assert torch.equal(reg[3 + 2 * h :], w[5 + 2 * h : 5 + 2 * h + 4 * s])
    with pytest.raises(ValueError, match="output rows"):
        convert_state_dict(src, predictor=(18, 1, 18))


def test_vote_module_computes_what_votenet_computes():
    """facebookresearch/votenet's VotingModule (conv-bn-relu x2, conv3 ->
    3 offset + feature-residual channels), written from its code, and
    mmdet3d's VoteModule with the converted weights give the same votes."""
    src = votenet_state_dict()
    sd, _ = convert_state_dict(src)
    _, model = _model("scannet_votenet_paper_scratch.py")
    model.load_state_dict(sd, strict=False)
    vote = model.bbox_head.vote_module.eval()
    g = torch.Generator().manual_seed(1)
    seed_xyz = torch.randn(2, 64, 3, generator=g)
    feats = torch.randn(2, 256, 64, generator=g)

    def bn(x, p):
        return F.batch_norm(x, src[f"{p}.running_mean"], src[f"{p}.running_var"], src[f"{p}.weight"], src[f"{p}.bias"], False, 0.0, 1e-5)

    net = F.relu(bn(F.conv1d(feats, src["vgen.conv1.weight"], src["vgen.conv1.bias"]), "vgen.bn1"))
    net = F.relu(bn(F.conv1d(net, src["vgen.conv2.weight"], src["vgen.conv2.bias"]), "vgen.bn2"))
    net = F.conv1d(net, src["vgen.conv3.weight"], src["vgen.conv3.bias"])
    net = net.transpose(2, 1).reshape(2, 64, 1, 259)
    want_xyz = (seed_xyz.unsqueeze(2) + net[..., :3]).reshape(2, 64, 3)
    want_feats = (feats.transpose(2, 1).unsqueeze(2) + net[..., 3:]).reshape(2, 64, 256).transpose(2, 1)
    vote.norm_feats = False  # mmdet3d's extra normalisation, not votenet's
    with torch.no_grad():
        got_xyz, got_feats, _ = vote(seed_xyz, feats)
    torch.testing.assert_close(got_xyz, want_xyz, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(got_feats, want_feats, rtol=1e-4, atol=1e-4)


def test_backbone_only_and_errors():
    src = votenet_state_dict(dataparallel=True)
    sd, report = convert_state_dict(src, head=False)
    assert sd and all(k.startswith("backbone.") for k in sd)
    assert any(k.startswith("module.vgen.") for k in report["skipped"])
    bad = dict(src, **{"module.roi_head.weight": torch.zeros(1)})
    with pytest.raises(ValueError, match="roi_head"):
        convert_state_dict(bad)
    # a checkpoint trained with colour (input features 1 + 3) does not fit
    # the height-only configs: refused with the first mismatching key
    rgb, _ = convert_state_dict(votenet_state_dict(input_feature_dim=4))
    _, model = _model("scannet_votenet_paper_scratch.py")
    with pytest.raises(ValueError, match="SA_modules.0.mlps.0.layer0"):
        check_against(rgb, model.state_dict())


def test_tool_converts_a_votenet_checkpoint_file_for_finetuning(tmp_path, capsys):
    """The tool reads a checkpoint file in that code's format (DataParallel
    keys), writes an mmengine checkpoint, and the authors' fine-tuning
    config initialises its backbone from it."""
    src = votenet_state_dict(dataparallel=True, seed=3)
    path = tmp_path / "pcfractaldb_votenet_weight.tar"
    torch.save(dict(epoch=180, model_state_dict=src, optimizer_state_dict=dict(state={}, param_groups=[]), loss=0.5), path)
    dst = tmp_path / "converted.pth"
    tool = _tool()
    assert tool.main([str(path), str(dst)]) == 0
    assert "(epoch 180)" in capsys.readouterr().out
    from mmdet3d.registry import MODELS
    from mmengine.config import Config

    cfg = Config.fromfile(str(CFG / "scannet_votenet_paper_finetune_authors.py"))
    assert cfg.model.backbone.init_cfg.checkpoint.endswith("pcfractaldb_votenet_mmdet3d.pth")
    cfg.model.backbone.init_cfg.checkpoint = str(dst)
    model = MODELS.build(cfg.model)
    model.init_weights()
    got = model.state_dict()
    for k, v in src.items():
        if k.startswith("module.backbone_net.sa3.mlp_module.layer1"):
            new = k.replace("module.backbone_net.sa3.mlp_module.layer1", "backbone.SA_modules.2.mlps.0.layer1").replace(".bn.bn.", ".bn.")
            assert torch.equal(got[new], v), new
    # wrong inputs: exit status 2 and one line
    rgb = tmp_path / "rgb.tar"
    torch.save(dict(model_state_dict=votenet_state_dict(input_feature_dim=4)), rgb)
    assert tool.main([str(rgb), str(tmp_path / "x.pth")]) == 2
    assert "shapes differ" in capsys.readouterr().err

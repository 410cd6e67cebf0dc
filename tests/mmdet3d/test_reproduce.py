"""tools/reproduce.py: the paper plan lists every run of the table with its
command and GPU-hour estimate; ``run`` trains a chosen subset in order
(tiny CPU runs writing real mmengine logs) and skips what is done;
``collect`` prints the table from those logs."""

import importlib.util
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mmdet3d_data import write_categories, write_fractal_scenes, write_scannet  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "reproduce.py"


def _tool():
    spec = importlib.util.spec_from_file_location("pcfractal_tools_repro", TOOL)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def _reproduce(*argv, check=True):
    proc = subprocess.run([sys.executable, str(TOOL), *map(str, argv)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    if check and proc.returncode != 0:
        raise AssertionError(proc.stdout[-4000:] + proc.stderr[-4000:])
    return proc


def test_paper_plan_lists_every_run():
    repro = _tool()
    runs = repro.paper_plan([0, 1, 2])
    names = [r.name for r in runs]
    assert len(names) == len(set(names))
    by = {}
    for r in runs:
        assert (ROOT / r.config).is_file(), r.config
        by.setdefault((r.kind, r.row, r.dataset), []).append(r.seed)
    # pre-training: 4 kinds x 3 seeds
    pre = [r for r in runs if r.kind == "pretrain"]
    assert len(pre) == 12
    # every table row, ablation, 3x row and limited fraction: both datasets,
    # 3 seeds
    rows = ["scratch", "pcfractaldb", "scratch_x2", "pcfractaldb_x2", "object", "cls", "authors", "scratch_3x", "pcfractaldb_3x"] + [
        f"{k}_{p}pct" for k in ("scratch", "pcfractaldb") for p in (1, 5, 10, 20, 50)
    ]
    for ds in ("scannet", "sunrgbd"):
        for row in rows:
            seeds = [s for (k, rr, d), v in by.items() if rr == row and d == ds for s in v]
            assert sorted(seeds) == [0, 1, 2], (row, ds)
    # a fine-tuning of seed s starts from the pre-training of seed s, which
    # comes before it
    order = {n: i for i, n in enumerate(names)}
    for r in runs:
        if r.pretrain:
            assert r.pretrain.endswith(f"_seed{r.seed}")
            assert order[r.pretrain] < order[r.name]
    # the plan's epochs are the configs' (the nominal checkpoint names)
    from mmengine.config import Config

    for stem, epochs in (
        ("pretrain_votenet_fractal", 36),
        ("pretrain_cls_pcfractaldb", 10),
        ("scannet_votenet_paper_scratch", 180),
        ("sunrgbd_votenet_3x_scratch", 36),
    ):
        cfg = Config.fromfile(str(ROOT / "votenet_cfg" / f"{stem}.py"))
        assert cfg.train_cfg.max_epochs == epochs
        assert all(r.epochs == epochs for r in runs if Path(r.config).stem == stem)
    # iterations: ScanNetV2's 1,201 scenes at batch 8 for 180 epochs; the
    # limited runs repeat their subset to about the same
    r = next(r for r in runs if r.name == "scannet_votenet_paper_scratch_seed0")
    assert r.iterations == math.ceil(1201 / 8) * 180
    r10 = next(r for r in runs if r.name == "scannet_votenet_paper_finetune_10pct_seed0")
    assert abs(r10.iterations - r.iterations) / r.iterations < 0.01

    out = _reproduce("list").stdout
    hours = [float(m) for m in re.findall(r"^\S+\s+\S+\s+\S+\s+[\d,]+\s+([\d.]+)", out, re.M)]
    assert len(hours) == len(runs)
    total = float(re.search(r"# total ([\d,]+) GPU hours", out)[1].replace(",", ""))
    assert abs(total - sum(hours)) <= 0.5 + 0.05 * len(hours)
    assert (
        "tools/train.py votenet_cfg/scannet_votenet_paper_finetune.py "
        "--work-dir work_dirs/reproduce/scannet_votenet_paper_finetune_seed1"
        " --cfg-options randomness.seed=1 model.backbone.init_cfg."
        "checkpoint=work_dirs/reproduce/pretrain_votenet_fractal_seed1/"
        "epoch_36.pth"
    ) in out
    sub = _reproduce("list", "--group", "limited", "--only", "scannet_*10pct*", "--seeds", "0").stdout
    assert sub.count("tools/train.py") == 2


def _val_from_text_log(work_dir: Path):
    """The validations of a run from mmengine's text log (not the
    scalars.json that reproduce.py reads): [(epoch, mAP_0.25, mAP_0.50)]."""
    out = []
    for log in sorted(work_dir.glob("*/*.log")):
        for line in log.read_text().splitlines():
            m = re.search(
                r"Epoch\(val\) \[(\d+)\]\[\d+/\d+\].*?"
                r"mAP_0\.25: ([\d.]+).*?mAP_0\.50: ([\d.]+)",
                line,
            )
            if m:
                out.append((int(m[1]), float(m[2]), float(m[3])))
    return out


@pytest.mark.slow
def test_run_and_collect_tiny(tmp_path):
    cats = write_categories(tmp_path / "cats", count=4)
    scenes = tmp_path / "scenes"
    write_fractal_scenes(scenes, cats, count=10, seed=0, val_fraction=0.2)
    scannet = write_scannet(tmp_path / "scannet")
    work = tmp_path / "work"
    common = ["--plan", "tiny", "--seeds", "0", "1", "--work-root", work]
    sets = []
    for split in ("train", "val", "test"):
        sets += ["--set", f"pretrain:{split}_dataloader.dataset.data_root={scenes}"]
    for kind in ("finetune", "scratch"):
        sets += [
            "--set",
            f"{kind}:train_dataloader.dataset.dataset.data_root={scannet}",
            "--set",
            f"{kind}:val_dataloader.dataset.data_root={scannet}",
            "--set",
            f"{kind}:test_dataloader.dataset.data_root={scannet}",
        ]
    # a fine-tuning without its pre-training is refused before anything runs
    proc = _reproduce("run", *common, *sets, "--only", "*finetune*", check=False)
    assert proc.returncode != 0 and "pretrain" in proc.stderr
    proc = _reproduce("run", *common, *sets)
    runs = re.findall(r"^\[reproduce\] (\d+)/6 (\S+):", proc.stdout, re.M)
    assert [n for _, n in runs] == [
        "tiny_pretrain_seed0",
        "tiny_pretrain_seed1",
        "tiny_scannet_scratch_seed0",
        "tiny_scannet_scratch_seed1",
        "tiny_scannet_finetune_seed0",
        "tiny_scannet_finetune_seed1",
    ]
    for _, name in runs:
        assert (work / name / "reproduce_done.json").is_file()
    # the fine-tuning of seed 1 started from the pre-training of seed 1
    done = json.loads((work / "tiny_scannet_finetune_seed1" / "reproduce_done.json").read_text())
    ckpt = [c for c in done["command"] if "init_cfg.checkpoint=" in c][0]
    assert "tiny_pretrain_seed1" in ckpt and Path(ckpt.split("=")[1]).is_file()
    # fine-tuning keeps its best epoch beside the last one
    for name in ("tiny_scannet_scratch_seed0", "tiny_scannet_finetune_seed1"):
        assert list((work / name).glob("best_mAP_0.25_epoch_*.pth")), name
        assert (work / name / "epoch_2.pth").is_file()
    # again: everything is done
    proc = _reproduce("run", *common, *sets)
    assert proc.stdout.count("done, skipped") == 6
    # a run that stopped resumes from its last checkpoint (here: one more
    # epoch for a run whose done marker is gone)
    (work / "tiny_scannet_scratch_seed0" / "reproduce_done.json").unlink()
    proc = _reproduce("run", *common, *sets, "--set", "scratch:train_cfg.max_epochs=3", "--only", "tiny_scannet_scratch_seed0")
    assert "(resuming)" in proc.stdout and "--resume" in proc.stdout
    v = _val_from_text_log(work / "tiny_scannet_scratch_seed0")
    assert [e for e, _, _ in v] == [1, 2, 3]
    logs = "".join(p.read_text() for p in (work / "tiny_scannet_scratch_seed0").glob("*/*.log"))
    assert "resumed epoch: 2" in logs

    out = tmp_path / "table.json"
    proc = _reproduce("collect", *common, "--json", out)
    print(proc.stdout)
    table = {t["row"]: t for t in json.loads(out.read_text())}
    assert set(table) == {"scratch", "pcfractaldb"}
    for row, kind in (("scratch", "scratch"), ("pcfractaldb", "finetune")):
        vals = []
        for s in (0, 1):
            v = _val_from_text_log(work / f"tiny_scannet_{kind}_seed{s}")
            # val every epoch (the resumed run has a third)
            assert [e for e, _, _ in v][:2] == [1, 2]
            vals.append(v[-1])  # the last validation
        m25 = [100 * v[1] for v in vals]
        mean = sum(m25) / 2
        sd = math.sqrt(sum((x - mean) ** 2 for x in m25))  # n - 1 = 1
        t = table[row]
        assert t["seeds"] == [0, 1]
        assert t["map25"] == pytest.approx(mean, abs=0.01)
        assert t["sd25"] == pytest.approx(sd, abs=0.015)
        assert t["map50"] == pytest.approx(sum(100 * v[2] for v in vals) / 2, abs=0.01)
    gain = table["pcfractaldb"]["map25"] - table["scratch"]["map25"]
    assert table["pcfractaldb"]["gain25"] == pytest.approx(gain)
    assert table["scratch"]["paper25"] == 57.9
    assert "| ScanNetV2 | PC-FractalDB, PointNet++ | 2 |" in proc.stdout
    # --metric best reads the best validation instead
    best = json.loads((_reproduce("collect", *common, "--metric", "best", "--json", out).stdout and out).read_text())
    for t in best:
        assert t["map25"] >= table[t["row"]]["map25"] - 1e-9

"""The real paper pre-training configs stay bounded at 1,000 classes.

``votenet_cfg/pretrain_votenet_fractal.py`` (written scenes) and
``pretrain_votenet_fractal_onthefly.py`` run as shipped (1,000 classes, the
paper's scene sizes: 15 m rooms of ~20 objects x 4,000 points, 40,000
points fed to VoteNet, the configs' model, schedule, metric and
checkpointing) for one epoch of 4 training scenes at batch 2 (two
iterations) and one validation on 3 held-out scenes, on CPU. Only what a
CPU test must change is overridden: where the data is, the batch size
(2 instead of 8), loader workers (0), one epoch with validation at its
end, and how many held-out scenes are validated.

Bounds (per validated scene unless said):

* predicted boxes <= 1,280 (5 classes x 256 proposals): the evaluation must
  not copy proposals once per class (mmdet3d's ``per_class_proposal``
  gives 100-250 thousand boxes per scene with 1,000 classes);
* predictions held by the metric <= 64 KB (5 MB per scene before: 5 GB for
  the 1,000 held-out scenes, before indoor_eval's own Python objects);
* validation wall time <= 30 s (a CPU forward pass takes 3-6 s on a busy
  2-core machine) and memory growth over the validation <= 512 MB;
* the whole run (data, two iterations, validation) <= 300 s, peak memory of
  the process <= 6 GB.

The 1,000 categories are 40 found by a real variance search, repeated: the
cost depends on the class count, not on which systems the classes are.

To check the test against other configs (e.g. the configs before the
bounded evaluation, ``git archive <commit> votenet_cfg | tar -x -C /tmp/old``),
point ``PCFRACTAL_VOTENET_CFG`` at their folder.
"""

import importlib.util
import os
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mmdet3d_data import write_fractal_scenes, write_tiled_categories  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CFG = Path(os.environ.get("PCFRACTAL_VOTENET_CFG", ROOT / "votenet_cfg"))
NUM_CLASSES = 1000
TRAIN_SCENES, VAL_SCENES, BATCH = 4, 3, 2

MAX_BOXES_PER_SCENE = 5 * 256
MAX_HELD_BYTES_PER_SCENE = 64 * 1024
MAX_VAL_SECONDS_PER_SCENE = 30.0
MAX_VAL_RSS_GROWTH_MB = 512
MAX_RUN_SECONDS = 300.0
MAX_PEAK_RSS_MB = 6 * 1024


def _train_tool():
    spec = importlib.util.spec_from_file_location("pcfractal_tools_train_paper_scale", ROOT / "tools" / "train.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("paper_scale")
    t = time.time()
    cats = write_tiled_categories(root / "categories", NUM_CLASSES)
    scenes = root / "scenes"
    summary = write_fractal_scenes(
        scenes, cats, TRAIN_SCENES + VAL_SCENES, seed=0, val_fraction=VAL_SCENES / (TRAIN_SCENES + VAL_SCENES), paper=True
    )
    assert summary["n_train"] == TRAIN_SCENES
    assert summary["n_val"] == VAL_SCENES
    print(f"[paper-scale] {NUM_CLASSES} categories, {TRAIN_SCENES}+{VAL_SCENES} default scenes written in {time.time() - t:.1f} s")
    return dict(cats=cats, scenes=scenes)


def _overrides(config, data, run_name):
    opts = {
        "experiment_name": run_name,
        "visualizer.name": run_name,
        "train_dataloader.batch_size": BATCH,
        "train_dataloader.num_workers": 0,
        "train_dataloader.persistent_workers": False,
        "val_dataloader.num_workers": 0,
        "test_dataloader.num_workers": 0,
        "train_cfg.max_epochs": 1,
        "train_cfg.val_interval": 1,
    }
    if "onthefly" in config:
        for split in ("train", "val", "test"):
            opts[f"{split}_dataloader.dataset.category_file"] = str(data["cats"])
        opts["train_dataloader.dataset.num_scenes"] = TRAIN_SCENES
        opts["val_dataloader.dataset.num_scenes"] = VAL_SCENES
        opts["val_dataloader.dataset.start_index"] = TRAIN_SCENES
    else:
        for split in ("train", "val", "test"):
            opts[f"{split}_dataloader.dataset.data_root"] = str(data["scenes"])
        opts["val_dataloader.dataset.indices"] = VAL_SCENES
    return opts


class _Measure:
    """Hook body: validation time, boxes and held bytes per scene, RSS."""

    def __init__(self):
        self.proc = psutil.Process()
        self.boxes, self.held, self.rss = [], [], []
        self.val_s = None
        self.train_iters = 0

    def after_train_iter(self, runner, *a, **k):
        self.train_iters += 1

    def before_val(self, runner):
        self.t = time.perf_counter()
        self.rss0 = self.proc.memory_info().rss / 2**20

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        for out in outputs:
            self.boxes.append(len(out.pred_instances_3d.bboxes_3d))
        _, pred = runner.val_evaluator.metrics[0].results[-1]
        self.held.append(sum(v.numel() * v.element_size() for v in (pred["bboxes_3d"].tensor, pred["scores_3d"], pred["labels_3d"])))
        self.rss.append(self.proc.memory_info().rss / 2**20)

    def after_val_epoch(self, runner, metrics=None):
        self.val_s = time.perf_counter() - self.t
        self.metrics = dict(metrics or {})
        self.rss.append(self.proc.memory_info().rss / 2**20)


def _hook(measure):
    from mmengine.hooks import Hook

    class MeasureHook(Hook):
        priority = "VERY_LOW"

    h = MeasureHook()
    for name in ("after_train_iter", "before_val", "after_val_iter", "after_val_epoch"):
        setattr(h, name, getattr(measure, name))
    return h


@pytest.mark.parametrize("config", ["pretrain_votenet_fractal.py", "pretrain_votenet_fractal_onthefly.py"])
def test_paper_pretraining_trains_and_validates_bounded(config, data, tmp_path):
    t0 = time.perf_counter()
    train_tool = _train_tool()
    run_name = f"paper_scale_{config[:-3]}"
    cfg = train_tool.load_config(str(CFG / config), _overrides(config, data, run_name), work_dir=str(tmp_path / "work"))
    assert cfg.model.bbox_head.num_classes == NUM_CLASSES
    from mmengine.runner import Runner

    runner = Runner.from_cfg(cfg)
    train_tool.check_num_classes(runner)
    measure = _Measure()
    runner.register_hook(_hook(measure))
    runner.train()
    run_s = time.perf_counter() - t0
    peak_mb = measure.proc.memory_info().rss / 2**20
    try:
        import resource

        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    except ImportError:  # pragma: no cover
        pass

    n = len(measure.boxes)
    per_scene_s = measure.val_s / max(n, 1)
    growth = max(measure.rss) - measure.rss0
    print(
        f"[paper-scale] {config}: {measure.train_iters} iterations + "
        f"validation of {n} scenes in {run_s:.1f} s; per scene "
        f"{np.mean(measure.boxes):.0f} boxes, "
        f"{np.mean(measure.held) / 1024:.1f} KB held, {per_scene_s:.1f} s "
        f"(1,000 held-out scenes: {per_scene_s * 1000 / 60:.0f} CPU-min); "
        f"RSS +{growth:.0f} MB over validation, peak {peak_mb:.0f} MB"
    )
    print("[paper-scale] metrics: " + ", ".join(f"{k} {float(v):.4f}" for k, v in measure.metrics.items() if "mAP" in k))

    assert measure.train_iters == TRAIN_SCENES // BATCH
    assert n == VAL_SCENES
    assert all(np.isfinite(float(v)) for k, v in measure.metrics.items() if "mAP" in k)
    assert max(measure.boxes) <= MAX_BOXES_PER_SCENE, (
        f"{max(measure.boxes)} predicted boxes in one scene: the evaluation copies proposals per class"
    )
    assert max(measure.held) <= MAX_HELD_BYTES_PER_SCENE, measure.held
    assert per_scene_s <= MAX_VAL_SECONDS_PER_SCENE, per_scene_s
    assert growth <= MAX_VAL_RSS_GROWTH_MB, growth
    assert run_s <= MAX_RUN_SECONDS, run_s
    assert peak_mb <= MAX_PEAK_RSS_MB, peak_mb

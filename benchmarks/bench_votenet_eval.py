"""What one validation costs per scene with 1,000 fractal classes against 18
(ScanNet's class count), measured in the same run, on CPU.

    .venv/bin/python benchmarks/bench_votenet_eval.py [--scenes 5] [--json OUT]

Each case runs in its own process (so its peak memory is its own): the
real on-the-fly pre-training config (``votenet_cfg/
pretrain_votenet_fractal_onthefly.py``: default scenes of ~20 objects x
4,000 points, 40,000 points fed to VoteNet, the config's metric) evaluates
``--scenes`` held-out scenes with freshly initialised weights (the worst
case: nearly every proposal passes the objectness threshold, as early in
training), through mmengine's ValLoop. Cases:

* ``1000 per-class`` - mmdet3d's VoteHead evaluation (``per_class_proposal``
  copies every kept proposal once per class): what the configs did before;
* ``1000 top-5`` - the configs' evaluation now (``FractalVoteHead``,
  ``max_classes_per_proposal=5``: each proposal scored for its 5 most
  probable classes);
* ``18 per-class`` - the same model with 18 classes and mmdet3d's
  evaluation (ScanNetV2's head), the reference.

The metric is mmdet3d's ``IndoorMetric``, which scores every class: the
configs' ``PresentClassesIndoorMetric`` first drops the boxes of classes
absent from the held-out scenes, which with a few scenes and 1,000 classes
is nearly all of them, but with the configs' 200 held-out scenes (about
4,000 objects) almost none; scoring every class is the cost at that scale.

Per scene it prints the predicted boxes, the seconds of the model's forward
pass and post-processing plus the metric's ``process`` (per ValLoop
iteration), the seconds of the metric's ``compute_metrics`` per scene, the
predictions the metric holds per scene (tensor bytes, kept until the end
of the validation) and the memory ``compute_metrics`` adds per scene (peak
resident memory while it runs minus before: mmdet3d's ``indoor_eval`` makes
a box object per predicted box); then what 200 and 1,000 held-out scenes
(the configs' val subset and the whole held-out split) would cost at that
rate, in CPU minutes and GB. The 1,000 categories are
40 real categories (a variance search at 0.05) repeated: cost depends on the
class count, not on which systems they are.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = (("1000 per-class", 1000, None), ("1000 top-5", 1000, 5), ("18 per-class", 18, None))


def write_categories(folder: Path, count: int, real: int = 40) -> Path:
    """A category file of ``count`` systems: ``real`` found by the variance
    search (threshold 0.05), repeated in order."""
    sys.path.insert(0, str(ROOT))
    from pcfractal.pointclouds.category_file import CategorySet
    from pcfractal.pointclouds.search import SearchSettings, search_categories

    res = search_categories(min(real, count), 0, SearchSettings(threshold=0.05))
    params = [c.params for c in res.categories]
    params = [params[i % len(params)] for i in range(count)]
    folder.mkdir(parents=True, exist_ok=True)
    return CategorySet(params, 0, {"threshold": 0.05}).save(folder / "categories.json")


def child(spec: dict) -> dict:
    """One case, in this process: the config's ValLoop on spec['scenes']
    held-out scenes; returns the measurements."""
    import resource
    import threading

    import psutil

    sys.path.insert(0, str(ROOT / "tools"))
    import torch
    import train as train_tool
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    torch.set_num_threads(int(spec.get("threads") or torch.get_num_threads()))
    k = spec["k"]
    opts = {
        "model.test_cfg.max_classes_per_proposal": k,
        "val_dataloader.num_workers": 0,
        "val_dataloader.persistent_workers": False,
        "val_dataloader.dataset.num_scenes": spec["scenes"],
        "val_dataloader.dataset.category_file": spec["categories"],
        "train_dataloader.dataset.category_file": spec["categories"],
        "test_dataloader.dataset.category_file": spec["categories"],
        # mmdet3d's IndoorMetric scores every class: the cost of the configs'
        # metric once the held-out scenes hold every class (200 held-out
        # scenes hold ~98 % of 1,000 categories; a few scenes only a few %,
        # and the configs' metric drops the boxes of absent classes first)
        "val_evaluator": dict(_delete_=True, type="IndoorMetric"),
        "randomness": dict(seed=0),
        "experiment_name": f"eval_{spec['classes']}_{k}",
    }
    if spec["classes"] != 1000:
        # the same head with N classes; size classes follow the config's
        # size_mode (shared: 1)
        opts["model.bbox_head.num_classes"] = spec["classes"]
    cfg = train_tool.load_config(str(ROOT / "votenet_cfg" / "pretrain_votenet_fractal_onthefly.py"), opts, work_dir=spec["work_dir"])
    if cfg.model.bbox_head.bbox_coder.num_sizes > 1:
        cfg.model.bbox_head.bbox_coder.num_sizes = spec["classes"]
    runner = Runner.from_cfg(cfg)
    out = dict(iter_s=[], boxes=[], held_bytes=[])
    proc = psutil.Process()
    sampling = dict(on=False, peak=0.0)

    def sample():  # RSS while the metric computes
        while sampling["on"]:
            sampling["peak"] = max(sampling["peak"], proc.memory_info().rss / 2**20)
            time.sleep(0.01)

    class Measure(Hook):
        priority = "VERY_LOW"

        def before_val(self, runner):
            out["rss_before_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        def before_val_iter(self, runner, batch_idx, data_batch=None):
            self.t = time.perf_counter()

        def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            out["iter_s"].append(time.perf_counter() - self.t)
            self.t_last = time.perf_counter()
            for o in outputs:
                out["boxes"].append(len(o.pred_instances_3d.bboxes_3d))
            _, pred = runner.val_evaluator.metrics[0].results[-1]
            out["held_bytes"].append(
                sum(v.numel() * v.element_size() for v in (pred["bboxes_3d"].tensor, pred["scores_3d"], pred["labels_3d"]))
            )
            if batch_idx == spec["scenes"] - 1:  # the metric computes next
                out["rss_compute_start_mb"] = proc.memory_info().rss / 2**20
                sampling.update(on=True, peak=out["rss_compute_start_mb"])
                self.thread = threading.Thread(target=sample, daemon=True)
                self.thread.start()
                self.t_last = time.perf_counter()

        def after_val_epoch(self, runner, metrics=None):
            out["compute_s"] = time.perf_counter() - self.t_last
            sampling["on"] = False
            self.thread.join()
            out["rss_compute_growth_mb"] = sampling["peak"] - out["rss_compute_start_mb"]
            out["metrics"] = {k: float(v) for k, v in (metrics or {}).items() if "mAP" in k}

    runner.register_hook(Measure())
    runner.val()
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def run_case(name, classes, k, args, tmp: Path) -> dict:
    cats = tmp / f"cats{classes}"
    if not (cats / "categories.json").is_file():
        write_categories(cats, classes)
    spec = dict(
        classes=classes, k=k, scenes=args.scenes, categories=str(cats), work_dir=str(tmp / f"work_{classes}_{k}"), threads=args.threads
    )
    cmd = [sys.executable, __file__, "--child", json.dumps(spec)]
    t = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=str(ROOT))
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"case {name!r} failed")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_JSON ")][-1]
    res = json.loads(line[len("BENCH_JSON ") :])
    res["wall_s"] = time.time() - t
    return res


def summarise(name, r, n) -> dict:
    it = sum(r["iter_s"]) / n
    comp = r["compute_s"] / n
    return dict(
        case=name,
        boxes_per_scene=sum(r["boxes"]) / n,
        forward_and_process_s=it,
        compute_metrics_s=comp,
        seconds_per_scene=it + comp,
        held_kb_per_scene=sum(r["held_bytes"]) / n / 1024,
        metric_mb_per_scene=r["rss_compute_growth_mb"] / n,
        peak_rss_mb=r["peak_rss_mb"],
        rss_growth_mb=r["peak_rss_mb"] - r["rss_before_mb"],
        val200_min=(it + comp) * 200 / 60,
        val1000_min=(it + comp) * 1000 / 60,
        metrics=r["metrics"],
    )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scenes", type=int, default=5, help="held-out scenes per case (default 5)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's)")
    p.add_argument("--json", help="write the results to this JSON file")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        res = child(json.loads(args.child))
        print("BENCH_JSON " + json.dumps(res), flush=True)
        return res
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_votenet_eval_") as tmp:
        for name, classes, k in CASES:
            t = time.time()
            r = run_case(name, classes, k, args, Path(tmp))
            rows.append(summarise(name, r, args.scenes))
            print(f"[eval] {name}: done in {time.time() - t:.0f} s", flush=True)
    ref = rows[-1]
    print(f"\nvalidation cost per held-out scene, {args.scenes} default scenes per case, CPU, random weights (same run):")
    hdr = (
        f"{'case':16s} {'boxes':>8s} {'fwd+proc s':>10s} "
        f"{'metric s':>9s} {'s/scene':>8s} {'x 18 cls':>8s} "
        f"{'held KB':>9s} {'metric MB':>9s} {'200 sc min':>10s} "
        f"{'1000 sc min':>11s} {'1000 sc GB':>10s}"
    )
    print(hdr)
    for r in rows:
        print(
            f"{r['case']:16s} {r['boxes_per_scene']:8.0f} "
            f"{r['forward_and_process_s']:10.2f} "
            f"{r['compute_metrics_s']:9.3f} {r['seconds_per_scene']:8.2f} "
            f"{r['seconds_per_scene'] / ref['seconds_per_scene']:8.2f} "
            f"{r['held_kb_per_scene']:9.1f} "
            f"{r['metric_mb_per_scene']:9.2f} "
            f"{r['val200_min']:10.1f} {r['val1000_min']:11.1f} "
            f"{(r['held_kb_per_scene'] / 1024 + r['metric_mb_per_scene']) * 1000 / 1024:10.2f}"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
    return rows


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()

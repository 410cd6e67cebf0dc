"""Reproduce the paper's VoteNet (PointNet++) experiments: list every run with
its command and estimated GPU hours, run a chosen subset in order, and
collect the table from the work dirs' logs.

    python tools/reproduce.py list    [--group G ...] [--only PATTERN ...] [--seeds 0 1 2]
    python tools/reproduce.py run     [--group G ...] [--only PATTERN ...] [--dry-run] [--gpus N]
    python tools/reproduce.py collect [--metric last|best] [--work-root work_dirs/reproduce]

Runs (``--plan paper``, seeds 0, 1, 2 each; every run trains with
``randomness.seed`` = its seed, and a fine-tuning of seed s starts from the
pre-training of seed s):

* group ``table``: the paper's table rows that use PointNet++, with the
  paper's recipe (facebookresearch/votenet's, ``*_paper_*`` configs):
  scratch, PC-FractalDB (``pretrain_votenet_fractal`` -> fine-tune) and
  PC-FractalDB x2 (``pretrain_votenet_x2_fractal`` -> fine-tune, with its
  own x2 scratch as the baseline), on ScanNetV2 and SUN RGB-D;
* group ``ablation``: one-class ("object") detection pre-training,
  classification pre-training (``pretrain_cls_pcfractaldb``), and the
  authors' published checkpoint (converted with
  ``tools/convert_votenet_checkpoint.py`` to
  ``checkpoints/pcfractaldb_votenet_mmdet3d.pth``; no pre-training run);
* group ``limited``: 1, 5, 10, 20 and 50 % of the ScanNetV2 and SUN RGB-D
  training scenes (``votenet_cfg/limited/``; subsets made first with
  ``tools/make_subset.py``), scratch and fine-tuned;
* group ``3x``: scratch and PC-FractalDB on mmdet3d's 3x schedule
  (``*_3x_*`` configs), beside the paper's recipe.

A run is done when its work dir (``WORK_ROOT/<run name>``) holds
``reproduce_done.json``, written after training ends; ``run`` skips done
runs and resumes a run that stopped (``--resume``). ``collect`` reads the
validation metrics mmengine logged in each work dir
(``<timestamp>/vis_data/scalars.json``): by default those of the last
validation (the final model), ``--metric best`` the best epoch's; it prints
mAP@0.25 and mAP@0.5 in % as mean +- standard deviation over the seeds
found, the gain over the row's scratch baseline (same dataset, recipe,
backbone and data fraction) and the paper's value.

GPU hours are estimates: iterations (from the dataset sizes, batch and
epochs of each config) times an assumed time per iteration on one current
data-centre GPU (``SEC_PER_ITER``; none measured on a GPU here; replace
them with ``--sec-per-iter KEY=S`` from a measurement, e.g.
``scripts/gpu_check.sh``'s iterations/s).

``--plan tiny`` is the same machinery on the tiny CPU configs (what the
tests run); ``--set KIND:KEY=VALUE`` adds a ``--cfg-options`` entry to the
runs of one kind (pretrain, finetune, scratch) or all (``all:``).
"""

from __future__ import annotations

import argparse
import fnmatch
import glob
import json
import math
import os.path as osp
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DONE = "reproduce_done.json"
DATASETS = ("scannet", "sunrgbd")
DATASET_NAMES = dict(scannet="ScanNetV2", sunrgbd="SUN RGB-D")
# training scenes of the official splits (mmdet3d's converters)
TRAIN_SCENES = dict(scannet=1201, sunrgbd=5285)
FRACTAL_TRAIN_SCENES = 9000
PCFRACTALDB_INSTANCES = 1000 * 1000

# Assumed seconds per iteration on one current data-centre GPU (an estimate,
# not a measurement): batch 8 x 40,000 points (ScanNetV2, fractal scenes),
# batch 8 x 20,000 (SUN RGB-D, the paper's recipe), batch 16 x 20,000 (SUN
# RGB-D, mmdet3d's 3x), the classification pre-training's batch 32 x 4,000;
# x2 backbones about twice the time.
SEC_PER_ITER = {
    "scannet": 0.25,
    "sunrgbd": 0.18,
    "sunrgbd_3x": 0.30,
    "fractal": 0.30,
    "cls": 0.15,
}
X2_FACTOR = 2.0

# the paper's values (mAP in %), talk's table and the authors' README
PAPER = {
    ("scratch", "scannet"): (57.9, 32.1),
    ("scratch", "sunrgbd"): (57.4, 32.8),
    ("pcfractaldb", "scannet"): (61.9, 38.3),
    ("pcfractaldb", "sunrgbd"): (59.4, 33.9),
    ("pcfractaldb_x2", "scannet"): (63.4, 39.9),
    ("pcfractaldb_x2", "sunrgbd"): (60.2, 35.2),
    ("pcfractaldb_10pct", "scannet"): (38.3, None),
}
ROWS = {
    # row: (label, baseline row)
    "scratch": ("scratch, PointNet++ (paper recipe)", None),
    "pcfractaldb": ("PC-FractalDB, PointNet++", "scratch"),
    "scratch_x2": ("scratch, PointNet++ x2", None),
    "pcfractaldb_x2": ("PC-FractalDB, PointNet++ x2", "scratch_x2"),
    "object": ('PC-FractalDB one class ("object")', "scratch"),
    "cls": ("PC-FractalDB classification", "scratch"),
    "authors": ("authors' published checkpoint", "scratch"),
    "scratch_3x": ("scratch, mmdet3d 3x schedule", None),
    "pcfractaldb_3x": ("PC-FractalDB, mmdet3d 3x schedule", "scratch_3x"),
}
LIMITED_PCTS = (1, 5, 10, 20, 50)
for _p in LIMITED_PCTS:
    ROWS[f"scratch_{_p}pct"] = (f"scratch, {_p} % of the scenes", None)
    ROWS[f"pcfractaldb_{_p}pct"] = (f"PC-FractalDB, {_p} % of the scenes", f"scratch_{_p}pct")


@dataclass
class Run:
    name: str  # work dir name under the work root
    config: str  # path relative to the repository root
    kind: str  # pretrain | finetune | scratch
    group: str
    seed: int
    epochs: int
    iterations: int
    sec_key: str
    row: Optional[str] = None
    dataset: Optional[str] = None
    pretrain: Optional[str] = None  # run whose checkpoint it starts from
    checkpoint: Optional[str] = None  # a fixed checkpoint file instead
    options: List[str] = field(default_factory=list)
    x2: bool = False

    def gpu_hours(self, sec: Dict[str, float]) -> float:
        s = sec[self.sec_key] * (X2_FACTOR if self.x2 else 1.0)
        return self.iterations * s / 3600


def _iters(n: int, batch: int, epochs: int, times: int = 1) -> int:
    return math.ceil(n * times / batch) * epochs


def _limited_n(dataset: str, pct: int) -> int:
    n = TRAIN_SCENES[dataset]
    f = pct / 100
    return max(1, round(f * n)) * max(1, round(1 / f))


def paper_plan(seeds: Sequence[int]) -> List[Run]:
    """Every run of the table and its ablations, in dependency order."""
    cfg = "votenet_cfg/"
    runs: List[Run] = []
    pre = dict(
        fractal=("pretrain_votenet_fractal", 36, "table", False, "fractal"),
        fractal_x2=("pretrain_votenet_x2_fractal", 36, "table", True, "fractal"),
        object=("pretrain_votenet_fractal_object", 36, "ablation", False, "fractal"),
        cls=("pretrain_cls_pcfractaldb", 10, "ablation", False, "cls"),
    )
    for key, (stem, epochs, group, x2, sec) in pre.items():
        for s in seeds:
            its = _iters(PCFRACTALDB_INSTANCES, 32, epochs) if key == "cls" else _iters(FRACTAL_TRAIN_SCENES, 8, epochs)
            runs.append(Run(f"{stem}_seed{s}", f"{cfg}{stem}.py", "pretrain", group, s, epochs, its, sec, x2=x2))
    for ds in DATASETS:
        n = TRAIN_SCENES[ds]
        paper_its = _iters(n, 8, 180)
        threex_its = _iters(n, 8 if ds == "scannet" else 16, 36, 5)
        threex_sec = ds if ds == "scannet" else "sunrgbd_3x"
        rows = [
            # row, config stem, kind, group, pre-training, x2, 3x
            ("scratch", f"{ds}_votenet_paper_scratch", "scratch", "table", None, False, False),
            ("pcfractaldb", f"{ds}_votenet_paper_finetune", "finetune", "table", "pretrain_votenet_fractal", False, False),
            ("scratch_x2", f"{ds}_votenet_x2_paper_scratch", "scratch", "table", None, True, False),
            ("pcfractaldb_x2", f"{ds}_votenet_x2_paper_finetune", "finetune", "table", "pretrain_votenet_x2_fractal", True, False),
            ("object", f"{ds}_votenet_paper_finetune_object", "finetune", "ablation", "pretrain_votenet_fractal_object", False, False),
            ("cls", f"{ds}_votenet_paper_finetune_cls", "finetune", "ablation", "pretrain_cls_pcfractaldb", False, False),
            ("authors", f"{ds}_votenet_paper_finetune_authors", "finetune", "ablation", None, False, False),
            ("scratch_3x", f"{ds}_votenet_3x_scratch", "scratch", "3x", None, False, True),
            ("pcfractaldb_3x", f"{ds}_votenet_3x_finetune", "finetune", "3x", "pretrain_votenet_fractal", False, True),
        ]
        for row, stem, kind, group, pretrain, x2, is3x in rows:
            for s in seeds:
                runs.append(
                    Run(
                        f"{stem}_seed{s}",
                        f"{cfg}{stem}.py",
                        kind,
                        group,
                        s,
                        36 if is3x else 180,
                        threex_its if is3x else paper_its,
                        threex_sec if is3x else ds,
                        row=row,
                        dataset=ds,
                        pretrain=f"{pretrain}_seed{s}" if pretrain else None,
                        checkpoint=("checkpoints/pcfractaldb_votenet_mmdet3d.pth" if row == "authors" else None),
                        x2=x2,
                    )
                )
        for pct in LIMITED_PCTS:
            for kind, row_p in (("scratch", "scratch"), ("finetune", "pcfractaldb")):
                stem = f"{ds}_votenet_paper_{kind}_{pct}pct"
                for s in seeds:
                    runs.append(
                        Run(
                            f"{stem}_seed{s}",
                            f"{cfg}limited/{stem}.py",
                            kind,
                            "limited",
                            s,
                            180,
                            _iters(_limited_n(ds, pct), 8, 180),
                            ds,
                            row=f"{row_p}_{pct}pct",
                            dataset=ds,
                            pretrain=(f"pretrain_votenet_fractal_seed{s}" if kind == "finetune" else None),
                        )
                    )
    return runs


TINY_ROWS = ("scratch", "pcfractaldb")


def tiny_plan(seeds: Sequence[int]) -> List[Run]:
    """The tiny CPU configs through the same machinery (tests): a tiny
    detection pre-training per seed, then tiny ScanNetV2-format fine-tuning
    from it and from scratch. Short schedules; data paths come with --set."""
    cfg = "votenet_cfg/"
    runs = []
    for s in seeds:
        runs.append(
            Run(
                f"tiny_pretrain_seed{s}",
                f"{cfg}tiny_pretrain_votenet_fractal.py",
                "pretrain",
                "table",
                s,
                1,
                4,
                "fractal",
                options=["train_cfg.max_epochs=1", "train_cfg.val_interval=1"],
            )
        )
    ft = ["train_cfg.max_epochs=2", "train_cfg.val_interval=1"]
    for s in seeds:
        runs.append(
            Run(
                f"tiny_scannet_scratch_seed{s}",
                f"{cfg}tiny_scannet_votenet_finetune.py",
                "scratch",
                "table",
                s,
                2,
                4,
                "scannet",
                row="scratch",
                dataset="scannet",
                options=ft + ["model.backbone.init_cfg=None"],
            )
        )
    for s in seeds:
        runs.append(
            Run(
                f"tiny_scannet_finetune_seed{s}",
                f"{cfg}tiny_scannet_votenet_finetune.py",
                "finetune",
                "table",
                s,
                2,
                4,
                "scannet",
                row="pcfractaldb",
                dataset="scannet",
                pretrain=f"tiny_pretrain_seed{s}",
                options=list(ft),
            )
        )
    return runs


PLANS = dict(paper=paper_plan, tiny=tiny_plan)


# ---------------------------------------------------------------------------
# selection and commands


def select(runs: List[Run], groups=None, only=None, seeds=None) -> List[Run]:
    out = []
    for r in runs:
        if groups and r.group not in groups:
            continue
        if only and not any(fnmatch.fnmatch(r.name, p) or fnmatch.fnmatch(osp.basename(r.config), p) for p in only):
            continue
        if seeds is not None and r.seed not in seeds:
            continue
        out.append(r)
    return out


def _pretrain_checkpoint(run: Run, work_root: str, resolve: bool) -> str:
    """The checkpoint a fine-tuning starts from: its pre-training's final
    checkpoint (``last_checkpoint`` once it ran), or a fixed file."""
    if run.checkpoint:
        return run.checkpoint
    wd = osp.join(work_root, run.pretrain)
    last = osp.join(wd, "last_checkpoint")
    if resolve and osp.isfile(last):
        with open(last) as f:
            return f.read().strip()
    pre = {r.name: r for r in _ALL_RUNS}.get(run.pretrain)
    epochs = pre.epochs if pre else 36
    return osp.join(wd, f"epoch_{epochs}.pth")


_ALL_RUNS: List[Run] = []


def command(
    run: Run,
    work_root: str,
    python: str = "python",
    gpus: int = 1,
    extra: Optional[Dict[str, List[str]]] = None,
    resolve: bool = False,
    resume: bool = False,
) -> List[str]:
    """The tools/train.py command line of a run."""
    if gpus > 1:
        head = ["torchrun", f"--nproc_per_node={gpus}", "tools/train.py"]
    else:
        head = [python, "tools/train.py"]
    opts = [f"randomness.seed={run.seed}"] + list(run.options)
    if run.kind == "finetune":
        opts.append("model.backbone.init_cfg.checkpoint=" + _pretrain_checkpoint(run, work_root, resolve))
    for kind in ("all", run.kind):
        opts += (extra or {}).get(kind, [])
    cmd = head + [run.config, "--work-dir", osp.join(work_root, run.name), "--cfg-options"] + opts
    if gpus > 1:
        cmd += ["--launcher", "pytorch"]
    if resume:
        cmd.append("--resume")
    return cmd


def _parse_sets(items: Sequence[str]) -> Dict[str, List[str]]:
    out: Dict[str, List[str]] = {}
    for item in items or ():
        kind, sep, kv = item.partition(":")
        if not sep or kind not in ("all", "pretrain", "finetune", "scratch") or "=" not in kv:
            raise SystemExit(f"--set {item!r}: expected KIND:KEY=VALUE with KIND all, pretrain, finetune or scratch")
        out.setdefault(kind, []).append(kv)
    return out


def _sec(items: Sequence[str]) -> Dict[str, float]:
    sec = dict(SEC_PER_ITER)
    for item in items or ():
        k, sep, v = item.partition("=")
        if not sep or k not in sec:
            raise SystemExit(f"--sec-per-iter {item!r}: expected KEY=SECONDS with KEY one of {sorted(sec)}")
        sec[k] = float(v)
    return sec


def is_done(run: Run, work_root: str) -> bool:
    return osp.isfile(osp.join(work_root, run.name, DONE))


# ---------------------------------------------------------------------------
# list and run


def cmd_list(runs: List[Run], args) -> None:
    sec = _sec(args.sec_per_iter)
    extra = _parse_sets(args.set)
    total = 0.0
    print(f"# {len(runs)} runs (plan {args.plan}); GPU hours are estimates (iterations x assumed s/iteration on one GPU)")
    print(f"{'run':48s} {'group':8s} {'kind':8s} {'iterations':>10s} {'GPU-h':>6s}  status")
    for r in runs:
        h = r.gpu_hours(sec)
        total += h
        status = "done" if is_done(r, args.work_root) else ""
        print(f"{r.name:48s} {r.group:8s} {r.kind:8s} {r.iterations:10,d} {h:6.1f}  {status}")
        print("    " + shlex.join(command(r, args.work_root, extra=extra, gpus=args.gpus)))
    print(f"# total {total:,.0f} GPU hours on one GPU")


def cmd_run(runs: List[Run], args) -> int:
    extra = _parse_sets(args.set)
    names = {r.name for r in runs}
    python = args.python or sys.executable
    for r in runs:
        if r.pretrain and r.pretrain not in names and not is_done({x.name: x for x in _ALL_RUNS}[r.pretrain], args.work_root):
            raise SystemExit(
                f"{r.name} starts from {r.pretrain}, which is neither done "
                f"in {args.work_root} nor selected: select it too (runs go in "
                "order, pre-training first)"
            )
    for i, r in enumerate(runs, 1):
        wd = osp.join(args.work_root, r.name)
        if is_done(r, args.work_root):
            print(f"[reproduce] {i}/{len(runs)} {r.name}: done, skipped", flush=True)
            continue
        resume = osp.isfile(osp.join(wd, "last_checkpoint"))
        cmd = command(r, args.work_root, python=python, gpus=args.gpus, extra=extra, resolve=True, resume=resume)
        print(f"[reproduce] {i}/{len(runs)} {r.name}{' (resuming)' if resume else ''}: {shlex.join(cmd)}", flush=True)
        if args.dry_run:
            continue
        if r.checkpoint and not osp.isfile(osp.join(ROOT, r.checkpoint)) and not osp.isfile(r.checkpoint):
            raise SystemExit(
                f"{r.name} needs {r.checkpoint}: convert the authors' checkpoint with tools/convert_votenet_checkpoint.py first"
            )
        t = time.time()
        rc = subprocess.call(cmd, cwd=ROOT)
        if rc != 0:
            print(f"[reproduce] {r.name} failed (exit {rc}); run the same command again to resume", file=sys.stderr)
            return rc
        with open(osp.join(wd, DONE), "w") as f:
            json.dump(dict(run=r.name, config=r.config, seed=r.seed, command=cmd, seconds=round(time.time() - t, 1)), f, indent=1)
    return 0


# ---------------------------------------------------------------------------
# collect


def read_val_metrics(work_dir: str) -> List[dict]:
    """Every validation logged in a work dir, in training order: dicts with
    'step' (epoch) and the metrics (mmengine's vis_data/scalars.json of each
    timestamped run folder, resumed runs included; tools/test.py runs are
    not validations and are ignored)."""
    entries = {}
    for path in sorted(glob.glob(osp.join(work_dir, "*", "vis_data", "scalars.json"))):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                rec = json.loads(line)
                if "mAP_0.25" in rec and "lr" not in rec:
                    entries[int(rec.get("step", len(entries)))] = rec
    return [entries[k] for k in sorted(entries)]


def run_result(run: Run, work_root: str, metric: str) -> Optional[dict]:
    vals = read_val_metrics(osp.join(work_root, run.name))
    if not vals:
        return None
    rec = max(vals, key=lambda r: r["mAP_0.25"]) if metric == "best" else vals[-1]
    return {k: 100.0 * float(rec[k]) for k in ("mAP_0.25", "mAP_0.50")}


def _mean_sd(values):
    if not values:
        return None, None
    m = sum(values) / len(values)
    if len(values) < 2:
        return m, None
    return m, math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))


def collect(runs: List[Run], work_root: str, metric: str = "last") -> list:
    """Per (dataset, row): seeds found, mean and sd of mAP@0.25 / @0.5 (in
    %), gain over the baseline row, the paper's values."""
    cells = {}
    for r in runs:
        if r.kind == "pretrain" or r.row is None:
            continue
        res = run_result(r, work_root, metric)
        c = cells.setdefault((r.dataset, r.row), dict(seeds=[], m25=[], m50=[]))
        if res is not None:
            c["seeds"].append(r.seed)
            c["m25"].append(res["mAP_0.25"])
            c["m50"].append(res["mAP_0.50"])
    table = []
    for (ds, row), c in cells.items():
        m25, sd25 = _mean_sd(c["m25"])
        m50, sd50 = _mean_sd(c["m50"])
        base = ROWS.get(row, (row, None))[1]
        gain25 = gain50 = None
        if base and (ds, base) in cells and m25 is not None:
            b = cells[(ds, base)]
            b25, b50 = _mean_sd(b["m25"])[0], _mean_sd(b["m50"])[0]
            if b25 is not None:
                gain25, gain50 = m25 - b25, m50 - b50
        paper = PAPER.get((row, ds), (None, None))
        table.append(
            dict(
                dataset=ds,
                row=row,
                label=ROWS.get(row, (row, None))[0],
                seeds=sorted(c["seeds"]),
                map25=m25,
                sd25=sd25,
                map50=m50,
                sd50=sd50,
                gain25=gain25,
                gain50=gain50,
                baseline=base,
                paper25=paper[0],
                paper50=paper[1],
            )
        )
    return table


def _fmt(m, sd):
    if m is None:
        return "-"
    return f"{m:.1f} +- {sd:.1f}" if sd is not None else f"{m:.1f}"


def _fmt_gain(g):
    return "-" if g is None else f"{g:+.1f}"


def _fmt_paper(p):
    return "-" if p is None else f"{p:.1f}"


def print_table(table: list, metric: str) -> None:
    print(
        f"mAP in % on the val split, {metric} validation of each run, "
        "mean +- sd over the seeds found; gain = mean - the baseline "
        "row's mean (same dataset)"
    )
    print("| dataset | experiment | seeds | mAP@0.25 | gain | paper | mAP@0.5 | gain | paper |")
    print("|---|---|---|---|---|---|---|---|---|")
    for t in table:
        print(
            f"| {DATASET_NAMES.get(t['dataset'], t['dataset'])} | "
            f"{t['label']} | {len(t['seeds'])} | "
            f"{_fmt(t['map25'], t['sd25'])} | {_fmt_gain(t['gain25'])} | "
            f"{_fmt_paper(t['paper25'])} | {_fmt(t['map50'], t['sd50'])} | "
            f"{_fmt_gain(t['gain50'])} | {_fmt_paper(t['paper50'])} |"
        )


# ---------------------------------------------------------------------------


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="tools/reproduce.py", description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("action", choices=("list", "run", "collect"))
    p.add_argument("--plan", choices=sorted(PLANS), default="paper")
    p.add_argument("--work-root", default="work_dirs/reproduce", help="where each run gets its work dir (default: %(default)s)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--group", nargs="+", choices=("table", "ablation", "limited", "3x"), help="only these groups (default: all)")
    p.add_argument("--only", nargs="+", metavar="PATTERN", help="only runs whose name or config matches a glob, e.g. 'scannet_*' '*x2*'")
    p.add_argument("--gpus", type=int, default=1, help="GPUs per run (torchrun); default 1")
    p.add_argument(
        "--set",
        action="append",
        metavar="KIND:KEY=VALUE",
        help="extra --cfg-options for runs of a kind (all, pretrain, finetune, scratch); repeatable",
    )
    p.add_argument("--sec-per-iter", nargs="+", metavar="KEY=S", help=f"replace an assumed s/iteration ({SEC_PER_ITER})")
    p.add_argument("--dry-run", action="store_true", help="run: print the commands only")
    p.add_argument("--python", help="python for the runs (default: this one)")
    p.add_argument("--metric", choices=("last", "best"), default="last", help="collect: the last validation (default) or the best")
    p.add_argument("--json", help="collect: also write the table as JSON")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    global _ALL_RUNS
    _ALL_RUNS = PLANS[args.plan](args.seeds)
    runs = select(_ALL_RUNS, args.group, args.only)
    if not runs:
        raise SystemExit("no run selected")
    if args.action == "list":
        cmd_list(runs, args)
        return 0
    if args.action == "run":
        # the runs start in the repository root: an absolute work root
        args.work_root = osp.abspath(args.work_root)
        return cmd_run(runs, args)
    table = collect(runs, args.work_root, args.metric)
    print_table(table, args.metric)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(table, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

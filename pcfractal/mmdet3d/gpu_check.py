"""The GPU check behind ``scripts/gpu_check.sh`` (``python -m pcfractal.mmdet3d.gpu_check``).

1. mmcv's CUDA point ops against pcfractal's CPU versions (cpu_ops) on random
   inputs: furthest point sampling (every pick the furthest point; share of
   indices equal to the CPU's), ball query, grouping, gathering, three_nn,
   three_interpolate, knn, points_in_boxes_all.
2. Training iterations on the GPU of the pre-training config
   (pretrain_votenet_fractal_onthefly: on-the-fly fractal scenes, batch 8 x
   40,000 points) and of the ScanNetV2 and SUN RGB-D fine-tuning configs
   (data/scannet, data/sunrgbd when prepared, else tiny synthetic rooms in their
   format): iterations/s with the batches collated ahead (the loader not timed).
3. The loader's samples/s per worker (one process, the whole mmdet3d pipeline
   of on-the-fly scenes) and how many workers keep the GPU busy at the
   measured rate.

Without a CUDA GPU it prints one line and exits 0.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


# The configs the check trains (votenet_cfg/NAME.py): the paper's recipe.
PRETRAIN_CONFIG = "pretrain_votenet_fractal_onthefly"
FINETUNE_CONFIG = "{}_votenet_paper_finetune"  # .format('scannet' | 'sunrgbd')


def _say(msg):
    print(msg, flush=True)


def cuda_missing_reason():
    """None when a CUDA GPU is usable, else why not (one line)."""
    try:
        import torch
    except ImportError as e:
        return f"torch does not import ({e})"
    if not torch.version.cuda:
        return f"torch {torch.__version__} is a CPU build"
    if not torch.cuda.is_available():
        return f"torch {torch.__version__} has CUDA {torch.version.cuda} but sees no GPU"
    return None


def compare_ops(seed: int = 0) -> list:
    """(op, ok, detail) for each of mmcv's CUDA point ops against the CPU
    versions on random inputs."""
    import torch
    from mmcv import ops

    from pcfractal.mmdet3d import cpu_ops
    from pcfractal.mmdet3d.check_install import fps_is_furthest

    g = torch.Generator().manual_seed(seed)
    B, N, M, C = 2, 8192, 1024, 32
    xyz = torch.rand(B, N, 3, generator=g) * 4
    feats = torch.rand(B, C, N, generator=g)
    res = []

    def add(name, ok, detail):
        res.append((name, bool(ok), detail))

    fps_gpu = ops.furthest_point_sample(xyz.cuda(), M).cpu()
    fps_cpu = cpu_ops.furthest_point_sample_cpu(xyz, M)
    bad = fps_is_furthest(xyz, fps_gpu)
    same = float((fps_gpu == fps_cpu).float().mean())
    add("furthest_point_sample", bad == 0, f"{bad} non-furthest picks on the GPU; {same:.1%} of indices equal the CPU's")
    centres = torch.gather(xyz, 1, fps_cpu.long()[..., None].expand(-1, -1, 3)).contiguous()
    for r0, r1, s in ((0.0, 0.2, 64), (0.1, 0.4, 16)):
        bq_gpu = ops.ball_query(r0, r1, s, xyz.cuda(), centres.cuda()).cpu()
        bq_cpu = cpu_ops.ball_query_cpu(r0, r1, s, xyz, centres)
        diff = float((bq_gpu != bq_cpu).float().mean())
        add(f"ball_query r=({r0},{r1}) S={s}", diff <= 1e-4, f"{diff:.4%} of indices differ")
    idx = bq_cpu.contiguous()
    gr_gpu = ops.grouping_operation(feats.cuda(), idx.cuda()).cpu()
    gr_cpu = cpu_ops.grouping_operation_cpu(feats, idx)
    add("grouping_operation", torch.equal(gr_gpu, gr_cpu), "exact")
    ga_gpu = ops.gather_points(feats.cuda(), fps_cpu.cuda()).cpu()
    ga_cpu = cpu_ops.gather_points_cpu(feats, fps_cpu)
    add("gather_points", torch.equal(ga_gpu, ga_cpu), "exact")
    d_gpu, i_gpu = ops.three_nn(centres.cuda(), xyz.cuda())
    d_cpu, i_cpu = cpu_ops.three_nn_cpu(centres, xyz)
    dd = float((d_gpu.cpu() - d_cpu).abs().max())
    add(
        "three_nn",
        dd <= 1e-5,
        f"max distance difference {dd:.2e}; {float((i_gpu.cpu() != i_cpu).float().mean()):.4%} of indices differ (ties)",
    )
    w = torch.rand(B, M, 3, generator=g)
    w = w / w.sum(-1, keepdim=True)
    ti_gpu = ops.three_interpolate(feats.cuda(), i_cpu.cuda(), w.cuda()).cpu()
    ti_cpu = cpu_ops.three_interpolate_cpu(feats, i_cpu, w)
    dt = float((ti_gpu - ti_cpu).abs().max())
    add("three_interpolate", dt <= 1e-5, f"max difference {dt:.2e}")
    k = 16
    kn_gpu = ops.knn(k, xyz.cuda(), centres.cuda()).cpu()
    kn_cpu = cpu_ops.knn_cpu(k, xyz, centres)

    def kdist(ix):  # distances of the chosen neighbours, sorted
        pts = torch.gather(xyz[:, None].expand(-1, k, -1, -1), 2, ix.long()[..., None].expand(-1, -1, -1, 3))  # (B, k, M, 3)
        return ((pts - centres[:, None]) ** 2).sum(-1).sort(1).values

    dk = float((kdist(kn_gpu) - kdist(kn_cpu)).abs().max())
    add("knn k=16", dk <= 1e-5, f"max neighbour-distance difference {dk:.2e}")
    boxes = torch.cat(
        [torch.rand(B, 20, 3, generator=g) * 4, 0.2 + torch.rand(B, 20, 3, generator=g), (torch.rand(B, 20, 1, generator=g) - 0.5) * 6.28],
        -1,
    )
    pb_gpu = ops.points_in_boxes_all(xyz.cuda(), boxes.cuda()).cpu()
    pb_cpu = cpu_ops.points_in_boxes_all_cpu(xyz, boxes)
    diff = int((pb_gpu != pb_cpu).sum())
    add("points_in_boxes_all", diff <= 2, f"{diff} of {pb_cpu.numel()} memberships differ")
    return res


def finetune_data(name: str, tmp: Path):
    """data_root for a fine-tuning config: data/<name> when prepared, else a
    tiny synthetic dataset in its format (tests/mmdet3d/_mmdet3d_data.py)."""
    real = REPO / "data" / name
    if (real / f"{name}_infos_train.pkl").is_file():
        return real, "prepared data"
    sys.path.insert(0, str(REPO / "tests" / "mmdet3d"))
    import _mmdet3d_data as fx

    root = tmp / name
    (fx.write_scannet if name == "scannet" else fx.write_sunrgbd)(root, n_train=8, n_val=1)
    return root, "synthetic rooms"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--iters", type=int, default=20, help="timed training iterations per config")
    ap.add_argument("--loader-samples", type=int, default=16)
    ap.add_argument("--count", type=int, default=50, help="categories to search when data/pcfractal/categories.json is absent")
    args = ap.parse_args(argv)
    reason = cuda_missing_reason()
    if reason:
        _say(f"gpu_check: no CUDA GPU ({reason}); nothing checked")
        return 0
    import torch

    t_all = time.time()
    gpu = torch.cuda.get_device_name(0)
    _say(f"gpu_check on {gpu} (torch {torch.__version__}, CUDA {torch.version.cuda})")
    import pcfractal.mmdet3d  # noqa: F401  registers datasets, CPU ops
    from pcfractal.mmdet3d import throughput as tp

    failed = []
    _say("1. mmcv CUDA point ops vs pcfractal CPU ops (random inputs)")
    for name, ok, detail in compare_ops():
        _say(f"   {'ok  ' if ok else 'FAIL'} {name}: {detail}")
        if not ok:
            failed.append(name)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cats = REPO / "data" / "pcfractal" / "categories" / "categories.json"
        if not cats.is_file():
            t = time.perf_counter()
            cats = tp.make_categories(tmp / "cats", args.count)
            _say(f"   (category search: {args.count} categories in {time.perf_counter() - t:.0f} s)")
        ncat = tp.category_count(cats)
        _say(f"2. training iterations on the GPU ({args.iters} timed, batches collated ahead)")
        rates = {}
        runs = [(PRETRAIN_CONFIG, cats, {}, f"{ncat} fractal categories")]
        for ds_name in ("scannet", "sunrgbd"):
            root, what = finetune_data(ds_name, tmp)
            runs.append((FINETUNE_CONFIG.format(ds_name), None, {"train_dataloader.dataset.dataset.data_root": str(root) + "/"}, what))
        for cfg_name, cat_file, opts, what in runs:
            try:
                cfg = tp.load_cfg(REPO / "votenet_cfg" / f"{cfg_name}.py", cat_file, opts)
                bs = cfg.train_dataloader.batch_size
                batches = tp.collated_batches(cfg, 3, bs)
                r = tp.train_rate(cfg, batches, args.iters)
            except Exception as e:  # report and go on with the next config
                _say(f"   FAIL {cfg_name}: {type(e).__name__}: {str(e).splitlines()[0][:200]}")
                failed.append(cfg_name)
                continue
            rates[cfg_name] = r
            _say(
                f"   ok   {cfg_name} ({what}): {r['it_per_s']:.2f} it/s at batch {bs} "
                f"({r['it_per_s'] * bs:.1f} samples/s), loss {r['first_loss']:.2f} -> {r['last_loss']:.2f}"
            )

        _say("3. loader: on-the-fly fractal scenes, whole mmdet3d pipeline, one worker")
        cfg = tp.load_cfg(tp.ONTHEFLY_CFG, cats)
        lr = tp.loader_rate(cfg, args.loader_samples)
        _say(
            f"   {lr['samples_per_s']:.2f} samples/s per worker ({lr['ms_per_sample']:.0f} ms/sample; "
            f"bare make_scene {lr.get('scene_ms', float('nan')):.0f} ms)"
        )
        pre = rates.get("pretrain_votenet_fractal_onthefly")
        if pre:
            w = tp.workers_needed(pre["it_per_s"], pre["batch_size"], lr["samples_per_s"])
            _say(
                f"   the GPU trains {pre['it_per_s'] * pre['batch_size']:.1f} samples/s: "
                f"{w} loader workers keep it busy (train_dataloader.num_workers={w})"
            )
    _say(f"gpu_check: {'FAILED: ' + ', '.join(failed) if failed else 'all checks passed'} in {time.time() - t_all:.0f} s on {gpu}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

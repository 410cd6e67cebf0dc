"""Engine benchmarks (issue 2): chaos-game throughput, category search, instances.

    python benchmarks/bench_engine.py            # everything, PC-FractalDB-1k sizes (~6 min)
    python benchmarks/bench_engine.py --quick    # smaller counts, extrapolated (~1 min)

Every figure is printed beside a reference measured in the same run:
- chaos game: our kernel *including* its random draws vs a tight 3D loop written here with
  the map sequence precomputed (no draws, no selection, no bound check);
- search: seconds for N categories at 0.15 and 0.05 on all cores, and the per-trial cost
  of a plain-Python 10,000-point trial (the authors' approach) for the ratio;
- pre-screen: how many categories the exact search accepts that the screen would lose;
- instances: instances/s and peak memory of the real CLI path (written to a temp folder).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from numba import njit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pcfractal.build.executor import LocalExecutor, default_workers  # noqa: E402
from pcfractal.cli import main as cli_main  # noqa: E402
from pcfractal.core import chaos, ifs  # noqa: E402
from pcfractal.core.normalize import normalized_variances  # noqa: E402
from pcfractal.pointclouds import search


@njit(cache=True, inline="always")
def _affine3(a, t, k, x0, x1, x2):
    """x <- A_k x + t_k, hand-unrolled for 3D."""
    return (
        a[k, 0, 0] * x0 + a[k, 0, 1] * x1 + a[k, 0, 2] * x2 + t[k, 0],
        a[k, 1, 0] * x0 + a[k, 1, 1] * x1 + a[k, 1, 2] * x2 + t[k, 1],
        a[k, 2, 0] * x0 + a[k, 2, 1] * x1 + a[k, 2, 2] * x2 + t[k, 2],
    )


@njit(cache=True)
def _same_job_reference(a, t, cum, u, out):
    """Tight reference for the same job: 3D hand-unrolled, search selection, no bound check."""
    x0 = x1 = x2 = 0.0
    m = cum.shape[0]
    for s in range(u.shape[0]):
        k = 0
        while k < m - 1 and u[s] >= cum[k]:
            k += 1
        x0, x1, x2 = _affine3(a, t, k, x0, x1, x2)
        out[s, 0], out[s, 1], out[s, 2] = x0, x1, x2


@njit(cache=True)
def _reference_loop(a, t, seq, out):
    """Bare affine loop: 3D steps along a precomputed map sequence (no draws, no selection)."""
    x0 = x1 = x2 = 0.0
    for s in range(seq.shape[0]):
        x0, x1, x2 = _affine3(a, t, seq[s], x0, x1, x2)
        out[s, 0], out[s, 1], out[s, 2] = x0, x1, x2


def best_of(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_chaos(n=100_000, calls=40):
    """Calls of n points each (ExFractalDB's image size), the way generators use the kernel."""
    rng = np.random.default_rng(0)
    params = rng.uniform(-0.5, 0.5, (5, 12))
    a, t = ifs.split(params)
    p = ifs.probabilities(params)
    out = np.empty((n, 3))
    chaos.chaos_game(params, 1000, np.random.default_rng(1))  # compile
    g = np.random.default_rng(1)
    ours = best_of(lambda: [chaos.chaos_game(params, n, g, out=out) for _ in range(calls)]) / calls
    seq = np.random.default_rng(2).choice(5, size=n, p=p).astype(np.int64)
    _reference_loop(a, t, seq[:10], out[:10])
    bare = best_of(lambda: [_reference_loop(a, t, seq, out) for _ in range(calls)]) / calls
    cum = chaos.cumulative(p)
    _same_job_reference(a, t, cum, np.random.default_rng(1).random(10), out[:10])
    ref = best_of(lambda: [_same_job_reference(a, t, cum, g.random(n), out) for _ in range(calls)]) / calls
    print(f"chaos game, 1 core, {calls} orbits of {n:,} points, 5 maps")
    print(f"  ours: any dimension, with numpy draws, selection, bound check  {n / ours / 1e6:7.1f} M points/s")
    print(f"  tight reference, same job (3D unrolled, numpy draws, no check) {n / ref / 1e6:7.1f} M points/s")
    print(f"  bare affine loop (map sequence precomputed, no draws)          {n / bare / 1e6:7.1f} M points/s")
    print(f"  ratio ours / same-job reference                                {ref / ours:7.2f}   (target >= 0.50)")
    print(f"  ratio ours / bare affine loop                                  {bare / ours:7.2f}")


def python_trial_seconds(trials=5):
    """Per-trial time of a plain-Python chaos game of 10,000 points (the authors' style)."""
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    for _ in range(trials):
        params = ifs.sample_uniform(rng) * 0.5
        mats, trans = ifs.split(params)
        cum = np.cumsum(ifs.probabilities(params))
        x = np.zeros(3)
        pts = np.empty((10_000, 3))
        for s in range(10_000):
            j = int(np.searchsorted(cum[:-1], rng.random(), side="right"))
            x = mats[j] @ x + trans[j]
            pts[s] = x
    return (time.perf_counter() - t0) / trials


def bench_search(counts, workers):
    search.search_block(0, 0, search.SearchSettings(block_size=8))  # compile
    py = python_trial_seconds()
    print(f"category search, {workers} workers (plain-Python 10k-point trial: {py * 1e3:.1f} ms)")
    for threshold, count in counts:
        s = search.SearchSettings(threshold=threshold)
        with LocalExecutor(workers) as ex:
            t0 = time.perf_counter()
            res = search.search_categories(count, seed=0, settings=s, executor=ex)
            dt = time.perf_counter() - t0
        per_trial = dt * workers / res.tried
        target = 120 if threshold == 0.15 else 10
        print(
            f"  threshold {threshold}: {count} categories in {dt:6.1f} s  "
            f"(tried {res.tried:,}, accepted {res.acceptance_rate:.4%}, diverged {res.diverged / res.tried:.0%}); "
            f"{per_trial * 1e6:.1f} us/trial/core = {py / per_trial:,.0f}x the Python trial; "
            f"1,000 categories ~ {dt * 1000 / count:.0f} s (target {target} s)"
        )


def bench_screen_loss(threshold, count, workers):
    """Exact search (no screen); count accepted categories whose 500-point prefix fails the screen."""
    s = search.SearchSettings(threshold=threshold, screen_points=0)
    with LocalExecutor(workers) as ex:
        res = search.search_categories(count, seed=123, settings=s, executor=ex)
    lost, ratios = 0, []
    for c in res.categories:
        g = search.candidate_generator(123, c.block, c.offset)
        p = ifs.sample_uniform(g)
        pts = chaos.chaos_game(p, s.n_points, g)
        r = normalized_variances(pts[: search.SearchSettings.screen_points]).min() / threshold
        ratios.append(r)
        lost += r <= search.SearchSettings.screen_factor
    print(
        f"pre-screen at {threshold}: {lost} of {len(res.categories)} exactly-accepted categories would be lost "
        f"(lowest prefix/threshold ratio {min(ratios):.2f}; the screen cuts at {search.SearchSettings.screen_factor})"
    )


def bench_instances(categories, per_category, workers):
    with tempfile.TemporaryDirectory() as tmp:
        cats = Path(tmp) / "cats"
        assert (
            cli_main(["categories", "--count", str(categories), "--threshold", "0.05", "--workers", str(workers), "-q", "--out", str(cats)])
            == 0
        )
        t0 = time.perf_counter()
        assert (
            cli_main(
                [
                    "instances",
                    "--categories",
                    str(cats),
                    "--per-category",
                    str(per_category),
                    "--workers",
                    str(workers),
                    "-q",
                    "--out",
                    str(Path(tmp) / "inst"),
                ]
            )
            == 0
        )
        dt = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in (Path(tmp) / "inst").glob("*.npy"))
    n = categories * per_category
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    print(
        f"instances, {workers} workers: {n:,} in {dt:.1f} s = {n / dt:,.0f} instances/s "
        f"({n * 4000 / dt / 1e6:.1f} M points/s); PC-FractalDB-1k (1,000,000) ~ {1e6 / (n / dt) / 60:.1f} min (target 5 min); "
        f"peak RSS of one process {peak:,.0f} MiB (target < 2,048); {size / n / 1024:.1f} KiB per instance on disk"
    )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller counts (extrapolated)")
    ap.add_argument("--workers", type=int, default=default_workers())
    args = ap.parse_args(argv)
    print(f"machine: {os.cpu_count()} cores; workers {args.workers}; numpy {np.__version__}")
    bench_chaos()
    if args.quick:
        bench_search([(0.05, 100), (0.15, 50)], args.workers)
        bench_screen_loss(0.05, 100, args.workers)
        bench_instances(20, 200, args.workers)
    else:
        bench_search([(0.05, 1000), (0.15, 1000)], args.workers)
        bench_screen_loss(0.05, 400, args.workers)
        bench_screen_loss(0.15, 20, args.workers)
        bench_instances(50, 1000, args.workers)


if __name__ == "__main__":
    main()

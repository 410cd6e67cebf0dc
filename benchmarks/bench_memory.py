"""Peak memory of large builds (issue 6: under 2 GB for any build size), Ray's overhead,
and the cost of sealing (manifest) and verifying.

    python benchmarks/bench_memory.py            # large builds (~10 min on 2 cores)
    python benchmarks/bench_memory.py --quick    # the same shapes, smaller (~2 min)
    python benchmarks/bench_memory.py --ray      # also the instance build on a local Ray
    python benchmarks/bench_memory.py --paper    # also 1,000 x 1,000 instances (24 GB, ~7 min)

Each build runs as the real command in its own process group; a sampler reads every
process of the group every 0.2 s (psutil) and keeps the peaks of
- RSS of the driver, and the largest RSS of one worker;
- the sum of PSS over the group (proportional set size: shared pages split between the
  processes that share them; the memory the build really holds. Summing RSS would count
  the pages fork shares between the driver and its workers once per process).
The 2 GB budget applies to the PSS sum. Output: a table on stdout, and the same as JSON
with --json FILE.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "build_pcfractal.py"
BUDGET = 2 * 2**30


def _group(pid: int) -> list[psutil.Process]:
    try:
        p = psutil.Process(pid)
        return [p, *p.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _sampled_run(argv: list[str], env: dict | None = None, interval: float = 0.2) -> dict:
    """Run the tool with ``argv``; return seconds, exit code and memory peaks (bytes)."""
    peaks = {"driver_rss": 0, "worker_rss": 0, "pss_sum": 0, "rss_sum": 0, "processes": 0}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(TOOL), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            pss = rss = 0
            procs = _group(proc.pid)
            peaks["processes"] = max(peaks["processes"], len(procs))
            for i, p in enumerate(procs):
                try:
                    m = p.memory_full_info()
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                pss += getattr(m, "pss", m.rss)
                rss += m.rss
                if i == 0:
                    peaks["driver_rss"] = max(peaks["driver_rss"], m.rss)
                else:
                    peaks["worker_rss"] = max(peaks["worker_rss"], m.rss)
            peaks["pss_sum"] = max(peaks["pss_sum"], pss)
            peaks["rss_sum"] = max(peaks["rss_sum"], rss)
            stop.wait(interval)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    try:
        out, err = proc.communicate()
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)  # our own process group only
        proc.wait()
        raise
    finally:
        stop.set()
        th.join()
    if proc.returncode != 0:
        sys.stderr.write(err.decode()[-3000:])
    return {"seconds": time.perf_counter() - t0, "code": proc.returncode, **peaks, "stdout": out.decode()}


def _mib(n: int) -> str:
    return f"{n / 2**20:,.0f}"


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller builds of the same shapes")
    ap.add_argument("--ray", action="store_true", help="also run the instance build on a local Ray (--ray)")
    ap.add_argument("--paper", action="store_true", help="also the full instance set: categories x 1,000 (24 GB at full size)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep", type=Path, help="build here and keep the output (default: a temp folder, removed)")
    ap.add_argument("--json", type=Path, help="also write the results as JSON")
    args = ap.parse_args()

    q = args.quick
    n_cat = 200 if q else 1000
    work = Path(args.keep or tempfile.mkdtemp(prefix="pcfractal-bench-mem-"))
    work.mkdir(parents=True, exist_ok=True)
    w = ["--workers", str(args.workers)]
    cats = work / "cats"
    # Categories at the authors' 0.05 (fast); what matters here is their number.
    builds = [
        (
            "categories",
            f"{n_cat} categories (search, threshold 0.05)",
            ["categories", "--count", str(n_cat), "--threshold", "0.05", "--out", str(cats), *w],
        ),
        (
            "instances-many",
            f"{n_cat} categories x {50 if q else 200} instances (4,000 pts, float16)",
            ["instances", "--categories", str(cats), "--per-category", str(50 if q else 200), "--out", str(work / "inst_many"), *w],
        ),
        (
            "categories-few",
            f"{8 if q else 24} categories",
            ["categories", "--count", str(8 if q else 24), "--threshold", "0.05", "--out", str(work / "cats_few"), *w],
        ),
        (
            "instances-paper-unit",
            f"{8 if q else 24} categories x 1,000 instances (a paper-size unit per worker)",
            ["instances", "--categories", str(work / "cats_few"), "--per-category", "1000", "--out", str(work / "inst_big"), *w],
        ),
        (
            "scenes",
            f"{200 if q else 1000} scenes (~20 objects x 4,000 pts, masks)",
            [
                "scenes",
                "--categories",
                str(cats),
                "--count",
                str(200 if q else 1000),
                "--per-category",
                "1000",
                "--out",
                str(work / "scenes"),
                *w,
            ],
        ),
        (
            "images-shards",
            f"exfractaldb {50 if q else 200} classes x {20 if q else 50} images, 224 px, webdataset shards",
            [
                "images",
                "--kind",
                "exfractaldb",
                "--categories",
                str(cats),
                "--count",
                str(50 if q else 200),
                "--per-category",
                str(20 if q else 50),
                "--n-points",
                "20000",
                "--layout",
                "shards",
                "--shard-size",
                "500",
                "--out",
                str(work / "images"),
                *w,
            ],
        ),
        ("verify", "verify the many-categories instance build (rehash all)", ["verify", str(work / "inst_many")]),
    ]
    if args.paper:
        builds.insert(
            -1,
            (
                "instances-paper",
                f"PC-FractalDB-1k size: {n_cat} categories x 1,000 instances (~{n_cat * 24 / 1000:.0f} GB)",
                ["instances", "--categories", str(cats), "--per-category", "1000", "--out", str(work / "inst_paper"), *w],
            ),
        )
    if args.ray:
        builds.insert(
            2,
            (
                "instances-many-ray",
                "the same on a local Ray (--ray, 2 CPUs)",
                [
                    "instances",
                    "--categories",
                    str(cats),
                    "--per-category",
                    str(50 if q else 200),
                    "--out",
                    str(work / "inst_ray"),
                    "--ray",
                    *w,
                ],
            ),
        )
    results = []
    try:
        for key, what, argv in builds:
            print(f"... {key}: {what}", file=sys.stderr, flush=True)
            r = _sampled_run(argv)
            out_dir = Path(argv[argv.index("--out") + 1]) if "--out" in argv else None
            r.update(key=key, what=what, output_bytes=_size(out_dir) if out_dir and out_dir.exists() else 0)
            results.append(r)
            if r["code"] != 0:
                print(f"{key} failed (exit {r['code']})", file=sys.stderr)
                return 1
        if args.ray:
            same = all(
                (work / "inst_many" / f).read_bytes() == (work / "inst_ray" / f).read_bytes() for f in ("manifest.json", "000000.npy")
            )
            results.append({"key": "ray-same-bytes", "value": same})
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print(f"\nPeak memory, {args.workers} workers (MiB; budget: PSS sum < {_mib(BUDGET)})\n")
    print("| build | output MiB | seconds | driver RSS | worker RSS (max) | RSS sum | PSS sum | under 2 GB |")
    print("|---|---:|---:|---:|---:|---:|---:|:---:|")
    for r in results:
        if "seconds" not in r:
            continue
        ok = "yes" if r["pss_sum"] < BUDGET else "NO"
        print(
            f"| {r['key']}: {r['what']} | {_mib(r['output_bytes'])} | {r['seconds']:.1f} | {_mib(r['driver_rss'])} | {_mib(r['worker_rss'])} | {_mib(r['rss_sum'])} | {_mib(r['pss_sum'])} | {ok} |"
        )
    by = {r["key"]: r for r in results}
    if "instances-many-ray" in by:
        a, b = by["instances-many"], by["instances-many-ray"]
        print(
            f"\nRay overhead on the same build: {b['seconds'] - a['seconds']:+.1f} s ({b['seconds']:.1f} vs {a['seconds']:.1f} s); "
            f"same bytes: {by['ray-same-bytes']['value']}"
        )
    if args.json:
        args.json.write_text(json.dumps([{k: v for k, v in r.items() if k != "stdout"} for r in results], indent=2))
    return 0 if all(r.get("pss_sum", 0) < BUDGET for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

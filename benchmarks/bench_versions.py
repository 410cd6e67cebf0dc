"""This tree's image generators against another checkout of pcfractal (e.g. release 0.1),
timed in alternation on one core, so both see the same machine (a shared machine drifts by
a third within minutes; alternating short runs cancels that). Per image: render + the
version's own default PNG encode, CPU ms, median over the rounds, and the ratio.

    git worktree add /tmp/pcfractal-0.1 <commit>
    .venv/bin/python benchmarks/bench_versions.py /tmp/pcfractal-0.1 [--rounds 7] [--images 300] [--kinds exfractaldb ...]

Both versions must offer ``pcfractal.images.get_generator`` and ``encode_gray`` (0.1 and
later do). Only ExFractalDB's default output is the same in 0.1 and now (same pixels); 0.1's
FractalDB and RCDB drew something else (see docs/FIDELITY.md), so their ratio compares the
cost of each version's default, not of the same images. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
SETTINGS = {"exfractaldb": {"size": 224, "n_points": 100_000}, "fractaldb": {"size": 362}, "rcdb": {"size": 512}}

# run in a fresh interpreter with the version's tree first on sys.path
PROBE = """
import json, sys, time
kind, n, over = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
import pcfractal
from pcfractal.images import encode_gray, get_generator
gen = get_generator(kind)
s = gen.settings(**over)
params = gen.make_classes(2, 0, s).params[0]
list(gen.render_many(params, 0, range(3), 0, s))  # compiled kernels loaded
t = time.process_time()
for _, image in gen.render_many(params, 0, range(n), 0, s):
    encode_gray(image)
print((time.process_time() - t) / n * 1e3, pcfractal.__file__)
"""


def ms_per_image(tree: Path, kind: str, n: int) -> float:
    env = dict(os.environ, PYTHONPATH=str(tree), PCFRACTAL_PROGRESS_SECONDS="0")
    out = subprocess.run(
        [sys.executable, "-c", PROBE, kind, str(n), json.dumps(SETTINGS[kind])],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=tree,
    ).stdout.split()
    if not Path(out[1]).resolve().is_relative_to(tree.resolve()):
        raise SystemExit(f"{tree}: imported pcfractal from {out[1]}, not from that tree")
    return float(out[0])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("other", type=Path, help="the other checkout's root (holds pcfractal/)")
    ap.add_argument("--rounds", type=int, default=7, help="alternations per kind (default 7)")
    ap.add_argument("--images", type=int, default=300, help="images per timing (default 300)")
    ap.add_argument("--kinds", nargs="*", choices=list(SETTINGS), default=list(SETTINGS))
    a = ap.parse_args(argv)
    if not (a.other / "pcfractal" / "images").is_dir():
        ap.error(f"{a.other}: not a pcfractal checkout (no pcfractal/images)")
    print(f"this tree: {HERE}; other: {a.other}; {a.rounds} rounds of {a.images} images, one core, load {os.getloadavg()[0]:.1f}")
    for kind in a.kinds:
        ours, theirs = [], []
        for _ in range(a.rounds):
            theirs.append(ms_per_image(a.other, kind, a.images))
            ours.append(ms_per_image(HERE, kind, a.images))
        ratios = [t / o for t, o in zip(theirs, ours)]
        print(
            f"{kind:<12} other {statistics.median(theirs):.2f} ms/image, this tree {statistics.median(ours):.2f}: "
            f"this tree {statistics.median(ratios):.2f}x as fast (rounds {min(ratios):.2f}-{max(ratios):.2f}x)"
        )


if __name__ == "__main__":
    main()

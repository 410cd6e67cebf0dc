"""Which mmcv build a venv needs, and whether the installed one is that build.

Run by path (``python pcfractal/mmdet3d/check_install.py ...``): it must work
before mmcv / mmdet3d import, so it imports nothing of them at module level
(and does not go through ``pcfractal.mmdet3d.__init__``, which needs them).
``scripts/install_mmdet3d.sh`` calls it twice:

``plan``
    prints shell assignments for the build: ``FLAVOUR=cuda|cpu`` (cuda exactly
    when torch is a CUDA build: ``torch.version.cuda`` is set),
    ``TORCH_CUDA_ARCH_LIST`` (the environment's value, else the compute
    capabilities of the visible GPUs, e.g. ``8.0;9.0``), ``CUDA_HOME``,
    ``NVCC_VERSION`` and ``WHEEL_KEY`` (torch version, CUDA version, Python
    tag and architectures: the folder a CUDA wheel is kept under, so that a
    CPU wheel and CUDA wheels for other torch builds or GPUs are never taken
    for it). With a CUDA torch it fails, one line, when no nvcc is found, when
    nvcc's major version differs from torch's CUDA, or when no architecture is
    known (no GPU visible and no TORCH_CUDA_ARCH_LIST).
``verify --expect cuda|cpu [--mmcv-version V]``
    checks the installed mmcv: its version, that its compiled ``_ext`` loads
    with the point ops VoteNet needs, and for cuda that it was compiled with
    CUDA (``mmcv.ops.get_compiling_cuda_version()``, same major version as
    torch's) and, where a GPU is visible, that furthest point sampling runs on
    a CUDA tensor and picks the same points as pcfractal's CPU version. Exit 0
    and one summary line, or exit 1 and the reason.

The decisions are pure functions of a :class:`Probe` (tested with fake probes);
:func:`probe` fills one from the real environment.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

if __name__ == "__main__":  # run by path: our folder must not shadow top-level modules
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if p and Path(p).resolve() != _here]

# the ops mmdet3d's PointNet++ / VoteNet call (the CPU build has their symbols
# too, with CUDA-only implementations), plus nms (a CPU kernel)
NEEDED_OPS = (
    "furthest_point_sampling_forward",
    "ball_query_forward",
    "group_points_forward",
    "gather_points_forward",
    "three_nn_forward",
    "three_interpolate_forward",
    "points_in_boxes_all_forward",
    "nms",
)


class CheckError(RuntimeError):
    """One line for the user: what is wrong and what to do."""


@dataclass
class Probe:
    """What the environment says (every field can be faked in tests)."""

    torch_version: str
    torch_cuda: str | None  # torch.version.cuda
    gpu_capabilities: list = field(default_factory=list)  # [(major, minor), ...] visible GPUs
    gpu_names: list = field(default_factory=list)
    cuda_home: str | None = None  # torch.utils.cpp_extension.CUDA_HOME
    nvcc_version: str | None = None  # 'X.Y' from `nvcc --version`
    python_tag: str = "cp311"
    # of the installed mmcv (verify only)
    mmcv_version: str | None = None
    mmcv_error: str | None = None  # why mmcv.ops / its _ext did not load
    mmcv_cuda: str | None = None  # mmcv.ops.get_compiling_cuda_version()
    fps: object = None  # callable() -> None, raises if FPS on CUDA is wrong


def major(version: str | None) -> str | None:
    return version.split(".")[0] if version else None


def parse_nvcc_version(text: str) -> str | None:
    """'release 12.4, V12.4.131' -> '12.4'."""
    m = re.search(r"release (\d+)\.(\d+)", text)
    return f"{m.group(1)}.{m.group(2)}" if m else None


def arch_list(env_value: str | None, capabilities) -> str:
    """TORCH_CUDA_ARCH_LIST to build for: the user's value, else the visible
    GPUs' compute capabilities, sorted, without repeats ('8.0;9.0')."""
    if env_value and env_value.strip():
        archs = [a for a in re.split(r"[;\s]+", env_value.strip()) if a]
        bad = [a for a in archs if not re.fullmatch(r"\d+\.\d+a?(\+PTX)?", a)]
        if bad:
            raise CheckError(f"TORCH_CUDA_ARCH_LIST='{env_value}': '{bad[0]}' is not like 8.0, 9.0 or 8.6+PTX")
        return ";".join(archs)
    caps = sorted(set(tuple(c) for c in capabilities))
    if not caps:
        raise CheckError(
            "torch has CUDA but no GPU is visible to pick the architectures from: "
            "set TORCH_CUDA_ARCH_LIST (e.g. '8.0;9.0' for A100 and H100) and run again"
        )
    return ";".join(f"{a}.{b}" for a, b in caps)


def plan(p: Probe, env_arch: str | None = None) -> dict:
    """The build for this venv (see the module doc). Raises CheckError."""
    if not p.torch_cuda:
        return {"FLAVOUR": "cpu", "WHEEL_KEY": f"torch{p.torch_version}-cpu-{p.python_tag}"}
    if not p.cuda_home or not p.nvcc_version:
        raise CheckError(
            f"torch {p.torch_version} is built for CUDA {p.torch_cuda} but no nvcc was found "
            f"(CUDA_HOME={p.cuda_home}): install the CUDA {major(p.torch_cuda)}.x toolkit "
            "or set CUDA_HOME; mmcv would otherwise build without its CUDA ops"
        )
    if major(p.nvcc_version) != major(p.torch_cuda):
        raise CheckError(
            f"nvcc {p.nvcc_version} ({p.cuda_home}) does not match torch's CUDA {p.torch_cuda}: "
            f"install the CUDA {major(p.torch_cuda)}.x toolkit or point CUDA_HOME at it"
        )
    archs = arch_list(env_arch, p.gpu_capabilities)
    key = f"torch{p.torch_version}-cu{p.torch_cuda}-{p.python_tag}-sm{archs.replace(';', '_')}"
    return {
        "FLAVOUR": "cuda",
        "TORCH_CUDA_ARCH_LIST": archs,
        "CUDA_HOME": p.cuda_home,
        "NVCC_VERSION": p.nvcc_version,
        "WHEEL_KEY": re.sub(r"[^A-Za-z0-9._+-]", "_", key),
    }


def verify(p: Probe, expect: str, mmcv_version: str | None = None) -> str:
    """Check the installed mmcv against the expected flavour. Returns the
    summary line; raises CheckError with the reason."""
    if p.mmcv_version is None:
        raise CheckError("mmcv is not installed")
    if mmcv_version and p.mmcv_version != mmcv_version:
        raise CheckError(f"mmcv {p.mmcv_version} is installed, {mmcv_version} is wanted")
    if p.mmcv_error:
        raise CheckError(f"mmcv {p.mmcv_version} has no working compiled ops: {p.mmcv_error}")
    if expect == "cpu":
        return f"mmcv {p.mmcv_version}: compiled ops load (CPU build; torch {p.torch_version})"
    if expect != "cuda":
        raise ValueError(expect)
    if not p.torch_cuda:
        raise CheckError(f"torch {p.torch_version} has no CUDA: install a CUDA build of torch first")
    if not p.mmcv_cuda or p.mmcv_cuda == "not available":
        raise CheckError(
            f"mmcv {p.mmcv_version} was compiled without CUDA ops (a CPU-only build) "
            f"but torch has CUDA {p.torch_cuda}: rebuild it (bash scripts/install_mmdet3d.sh)"
        )
    if major(p.mmcv_cuda) != major(p.torch_cuda):
        raise CheckError(
            f"mmcv was compiled with CUDA {p.mmcv_cuda}, torch has CUDA {p.torch_cuda}: rebuild it (bash scripts/install_mmdet3d.sh)"
        )
    head = f"mmcv {p.mmcv_version}: CUDA ops compiled with CUDA {p.mmcv_cuda} (torch {p.torch_version})"
    if not p.gpu_names:
        return head + "; furthest point sampling NOT run: no GPU visible here"
    try:
        p.fps()
    except Exception as e:  # the op's own message says what failed
        raise CheckError(
            f"furthest point sampling on {p.gpu_names[0]} failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        )
    return head + f"; furthest point sampling ran on {p.gpu_names[0]} and picked the furthest points"


# ---------------------------------------------------------------- real probes


def fps_is_furthest(points, idx, rtol=1e-5) -> int:
    """How many picks of a furthest point sampling are NOT (within ``rtol``)
    the furthest point from those picked before; 0 for a correct sampling.
    A valid result may still differ from another valid one where distances tie
    to float precision, so this, not index equality, is the check."""
    import torch

    pts = points.double()
    bad = 0
    for b in range(pts.shape[0]):
        sel = idx[b].long()
        if int(sel[0]) != 0:
            bad += 1
        dmin = ((pts[b] - pts[b, sel[0]]) ** 2).sum(1)
        for i in range(1, len(sel)):
            if dmin[sel[i]] < dmin.max() * (1 - rtol):
                bad += 1
            dmin = torch.minimum(dmin, ((pts[b] - pts[b, sel[i]]) ** 2).sum(1))
    return bad


def _fps_on_cuda():
    """FPS of random points on the GPU is a correct furthest point sampling
    (the check pcfractal's CPU version passes too)."""
    import torch
    from mmcv.ops import furthest_point_sample

    pts = torch.rand(2, 4096, 3, generator=torch.Generator().manual_seed(0))
    got = furthest_point_sample(pts.cuda(), 256).cpu()
    torch.cuda.synchronize()
    if got.shape != (2, 256):
        raise AssertionError(f"shape {tuple(got.shape)} instead of (2, 256)")
    bad = fps_is_furthest(pts, got)
    if bad:
        raise AssertionError(f"{bad} of 512 picks are not the furthest point")


def probe(with_mmcv: bool) -> Probe:
    import torch

    p = Probe(
        torch_version=torch.__version__, torch_cuda=torch.version.cuda, python_tag=f"cp{sys.version_info.major}{sys.version_info.minor}"
    )
    if torch.version.cuda and torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            p.gpu_capabilities.append(torch.cuda.get_device_capability(i))
            p.gpu_names.append(torch.cuda.get_device_name(i))
    if torch.version.cuda:
        from torch.utils import cpp_extension

        p.cuda_home = cpp_extension.CUDA_HOME
        if p.cuda_home and os.path.exists(os.path.join(p.cuda_home, "bin", "nvcc")):
            out = subprocess.run([os.path.join(p.cuda_home, "bin", "nvcc"), "--version"], capture_output=True, text=True).stdout
            p.nvcc_version = parse_nvcc_version(out)
    if with_mmcv:
        from importlib.metadata import PackageNotFoundError, version

        try:
            p.mmcv_version = version("mmcv")
        except PackageNotFoundError:
            return p
        try:
            import mmcv.ops
            from mmcv.utils import ext_loader

            ext_loader.load_ext("_ext", list(NEEDED_OPS))
            p.mmcv_cuda = mmcv.ops.get_compiling_cuda_version()
        except Exception as e:  # ImportError, AssertionError (missing symbol), OSError
            p.mmcv_error = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        p.fps = _fps_on_cuda
    return p


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Plan or verify the mmcv build of this venv.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("plan", help="print the build settings as shell assignments")
    v = sub.add_parser("verify", help="check the installed mmcv")
    v.add_argument("--expect", choices=["cuda", "cpu", "auto"], default="auto", help="auto: cuda when torch has CUDA")
    v.add_argument("--mmcv-version")
    v.add_argument("--quiet", action="store_true", help="no summary line on success")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "plan":
            for k, val in plan(probe(False), os.environ.get("TORCH_CUDA_ARCH_LIST")).items():
                print(f"{k}='{val}'")
        else:
            p = probe(True)
            expect = args.expect if args.expect != "auto" else ("cuda" if p.torch_cuda else "cpu")
            line = verify(p, expect, args.mmcv_version)
            if not args.quiet:
                print(line)
    except CheckError as e:
        print(f"check_install: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

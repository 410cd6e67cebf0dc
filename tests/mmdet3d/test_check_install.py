"""pcfractal/mmdet3d/check_install.py: the mmcv build plan and its check.

The CUDA branch cannot run here (no GPU, no CUDA torch): its decisions are
tested with fake probes; the real probe is run on this machine's CPU build.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from pcfractal.mmdet3d import check_install as ci

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "pcfractal" / "mmdet3d" / "check_install.py"


def cuda_probe(**kw):
    base = dict(
        torch_version="2.5.1+cu124",
        torch_cuda="12.4",
        gpu_capabilities=[(9, 0)],
        gpu_names=["NVIDIA H100"],
        cuda_home="/usr/local/cuda",
        nvcc_version="12.6",
        python_tag="cp311",
        mmcv_version="2.1.0",
        mmcv_cuda="12.6",
        fps=lambda: None,
    )
    base.update(kw)
    return ci.Probe(**base)


def test_plan_cpu_torch():
    p = ci.Probe(torch_version="2.13.0+cpu", torch_cuda=None)
    assert ci.plan(p) == {"FLAVOUR": "cpu", "WHEEL_KEY": "torch2.13.0+cpu-cpu-cp311"}
    # TORCH_CUDA_ARCH_LIST does not turn a CPU torch into a CUDA build
    assert ci.plan(p, "9.0")["FLAVOUR"] == "cpu"


def test_plan_cuda_arches_from_gpus_or_env():
    p = cuda_probe(gpu_capabilities=[(9, 0), (8, 0), (9, 0)])
    got = ci.plan(p)
    assert got["FLAVOUR"] == "cuda" and got["TORCH_CUDA_ARCH_LIST"] == "8.0;9.0"
    assert got["WHEEL_KEY"] == "torch2.5.1+cu124-cu12.4-cp311-sm8.0_9.0"
    assert got["CUDA_HOME"] == "/usr/local/cuda" and got["NVCC_VERSION"] == "12.6"
    env = ci.plan(p, "7.0 8.6+PTX")
    assert env["TORCH_CUDA_ARCH_LIST"] == "7.0;8.6+PTX"
    assert env["WHEEL_KEY"] != got["WHEEL_KEY"]  # another build, another wheel folder
    # no GPU visible (a login node): the user must name the architectures
    with pytest.raises(ci.CheckError, match="set TORCH_CUDA_ARCH_LIST"):
        ci.plan(cuda_probe(gpu_capabilities=[], gpu_names=[]))
    assert ci.plan(cuda_probe(gpu_capabilities=[]), "9.0")["TORCH_CUDA_ARCH_LIST"] == "9.0"
    with pytest.raises(ci.CheckError, match="'sm_90' is not like"):
        ci.plan(p, "sm_90")


def test_plan_cuda_needs_matching_nvcc():
    with pytest.raises(ci.CheckError, match="no nvcc was found"):
        ci.plan(cuda_probe(nvcc_version=None))
    with pytest.raises(ci.CheckError, match="no nvcc was found"):
        ci.plan(cuda_probe(cuda_home=None, nvcc_version=None))
    with pytest.raises(ci.CheckError, match="nvcc 11.8 .* does not match torch's CUDA 12.4"):
        ci.plan(cuda_probe(nvcc_version="11.8"))


def test_parse_nvcc_version():
    out = (
        "nvcc: NVIDIA (R) Cuda compiler driver\nCopyright (c) 2005-2024 NVIDIA Corporation\n"
        "Cuda compilation tools, release 12.4, V12.4.131\nBuild cuda_12.4.r12.4/compiler.34097967_0\n"
    )
    assert ci.parse_nvcc_version(out) == "12.4"
    assert ci.parse_nvcc_version("command not found") is None


def test_verify_cuda_build():
    assert "furthest point sampling ran on NVIDIA H100" in ci.verify(cuda_probe(), "cuda", "2.1.0")
    # a CPU-only mmcv (e.g. from pip's cache) in a CUDA venv: refused
    with pytest.raises(ci.CheckError, match="compiled without CUDA ops"):
        ci.verify(cuda_probe(mmcv_cuda="not available"), "cuda")
    with pytest.raises(ci.CheckError, match="compiled with CUDA 11.8, torch has CUDA 12.4"):
        ci.verify(cuda_probe(mmcv_cuda="11.8"), "cuda")
    with pytest.raises(ci.CheckError, match="mmcv 2.2.0 is installed, 2.1.0 is wanted"):
        ci.verify(cuda_probe(mmcv_version="2.2.0"), "cuda", "2.1.0")
    with pytest.raises(ci.CheckError, match="no working compiled ops: ImportError"):
        ci.verify(cuda_probe(mmcv_error="ImportError: libc10_cuda.so"), "cuda")

    def broken():
        raise RuntimeError("furthest_point_sampling_forward_impl: implementation for device cuda:0 not found.\nmore")

    with pytest.raises(ci.CheckError, match="failed: RuntimeError: .*cuda:0 not found.$"):
        ci.verify(cuda_probe(fps=broken), "cuda")
    # compiled, no GPU to run on: passes, and says FPS was not run
    line = ci.verify(cuda_probe(gpu_names=[], gpu_capabilities=[], fps=broken), "cuda")
    assert "NOT run: no GPU visible" in line
    with pytest.raises(ci.CheckError, match="has no CUDA"):
        ci.verify(cuda_probe(torch_cuda=None), "cuda")


def test_fps_is_furthest_accepts_cpu_fps_and_catches_a_wrong_pick():
    from pcfractal.mmdet3d.cpu_ops import furthest_point_sample_cpu

    pts = torch.rand(2, 500, 3, generator=torch.Generator().manual_seed(1))
    idx = furthest_point_sample_cpu(pts, 40)
    assert ci.fps_is_furthest(pts, idx) == 0
    wrong = idx.clone()
    wrong[1, 7] = wrong[1, 6]  # a repeated point is never the furthest
    assert ci.fps_is_furthest(pts, wrong) >= 1


def run_script(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120)


def test_real_probe_on_this_machine():
    """Here torch is the CPU build: plan says cpu; the installed mmcv passes the
    CPU check and is refused as a CUDA build (it has no CUDA ops)."""
    r = run_script("plan")
    assert r.returncode == 0, r.stderr
    if torch.version.cuda:
        pytest.skip("torch has CUDA here; the CPU assertions below do not apply")
    assert "FLAVOUR='cpu'" in r.stdout
    r = run_script("verify", "--expect", "cpu", "--mmcv-version", "2.1.0")
    assert r.returncode == 0 and "compiled ops load (CPU build" in r.stdout, r.stderr
    r = run_script("verify", "--expect", "cuda")
    assert r.returncode == 1 and r.stderr.count("\n") == 1
    assert r.stderr.startswith("check_install: torch ") and "has no CUDA" in r.stderr

#!/usr/bin/env bash
# Install pcfractal into ./.venv (created if missing) on a Debian machine with Python 3.11.
#   bash scripts/install.sh          generation + viewer + the CPU torch: pcfractal[viewer,torch]
#   bash scripts/install.sh --test   + test tools, Ray, the mmdetection3d stack, and .venv-loaders
#                                    (torchvision, timm, datasets, webdataset for the loader tests)
# Safe to re-run: every step is skipped or served from pip's cache when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

with_test=0
for arg in "$@"; do
  case "$arg" in
    --test) with_test=1 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option '$arg' (use --test or --help)" >&2; exit 2 ;;
  esac
done

PY=${PYTHON:-python3}
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"

# System libraries: open3d needs libusb-1.0; the viewer's headless screenshot needs Xvfb.
need_apt=()
"$PY" -c "import ensurepip, venv" 2>/dev/null || need_apt+=(python3-venv)
dpkg -s libusb-1.0-0 >/dev/null 2>&1 || need_apt+=(libusb-1.0-0)
if [ "$with_test" = 1 ]; then dpkg -s xvfb >/dev/null 2>&1 || need_apt+=(xvfb); fi
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "[install] apt-get install ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || { echo "[install] creating .venv"; "$PY" -m venv .venv; }
VPY=.venv/bin/python
# pip, quietly; on failure its whole log goes to stderr and the script stops.
pipq() {
  local log; log=$(mktemp)
  if ! "$VPY" -m pip install -q --disable-pip-version-check "$@" >"$log" 2>&1; then
    grep -v "^WARNING: Location" "$log" >&2; rm -f "$log"; return 1
  fi
  rm -f "$log"
}

# setuptools: torch 2.13 requires >= 77.0.3; mmcv's setup.py and mmengine's config loader
# import pkg_resources, which setuptools 82 removed.
pipq "pip>=23" "setuptools>=77.0.3,<82" wheel
# torch==2.13.0 is the CPU build; asking for any other version pulls gigabytes of CUDA.
"$VPY" -c "import torch" 2>/dev/null || pipq torch==2.13.0
if [ "$with_test" = 1 ]; then extras="test"; else extras="viewer,torch"; fi
pipq -e ".[$extras]" "setuptools>=77.0.3,<82"
"$VPY" -c "import pcfractal, open3d, trimesh, scipy, torch" || { echo "[install] pcfractal[$extras] did not import" >&2; exit 1; }

if [ "$with_test" = 1 ] && [ -f scripts/install_mmdet3d.sh ]; then
  bash scripts/install_mmdet3d.sh "$VPY"
fi

# The loader tests (tests/loaders) read the image outputs with torchvision, timm, datasets and
# webdataset. torchvision from PyPI does not import beside the CPU torch 2.13.0 of .venv
# ("operator torchvision::nms does not exist"), so they get their own environment with a
# matching torch/torchvision pair, run by the tests as a subprocess. About 5 GB once (torch
# 2.14.1 brings its CUDA libraries); when it is already there only a version check runs.
if [ "$with_test" = 1 ]; then
  LPY=.venv-loaders/bin/python
  [ -x "$LPY" ] || { echo "[install] creating .venv-loaders (loader tests)"; "$PY" -m venv .venv-loaders; }
  if ! "$LPY" -c "from importlib.metadata import version as v; assert v('torch') == '2.14.1' and v('torchvision') == '0.29.1'; [v(p) for p in ('timm', 'datasets', 'webdataset')]" 2>/dev/null; then
    echo "[install] .venv-loaders: torch 2.14.1, torchvision 0.29.1, timm, datasets, webdataset"
    VPY=$LPY pipq torch==2.14.1 torchvision==0.29.1 timm datasets webdataset
  fi
fi
echo "[install] done: $("$VPY" -c 'import pcfractal; print("pcfractal", pcfractal.__version__)')"

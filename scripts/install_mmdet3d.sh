#!/usr/bin/env bash
# Install the mmdetection3d stack into a venv that already has torch:
#   bash scripts/install_mmdet3d.sh [PYTHON]        (PYTHON defaults to .venv/bin/python)
#
# mmengine 0.10.7, mmcv 2.1.0 compiled from its sdist with its ops, mmdet 3.2.0, and mmdet3d 1.4.0
# without its declared requirements (they pull nuscenes-devkit / lyft-dataset-sdk pins
# that do not build) plus what mmdet3d really imports. pcfractal.mmdet3d then adds CPU
# versions of mmcv's CUDA-only point ops and fixes checkpoint loading for torch >= 2.6.
#
# torch is never changed: every pip call is constrained to the torch (and numpy) already
# in the venv, so CPU users keep torch 2.13.0+cpu and CUDA users keep their CUDA build.
# Which mmcv build (pcfractal/mmdet3d/check_install.py decides and checks it):
# * torch without CUDA (torch==2.13.0, the CPU build): mmcv with its CPU ops. The compile
#   takes about 9 min on 2 idle cores; pip keeps the built wheel in its cache
#   (~/.cache/pip/wheels), and later runs install it in seconds.
# * torch with CUDA: mmcv with its CUDA ops, always compiled with FORCE_CUDA=1 for
#   TORCH_CUDA_ARCH_LIST (yours if set, else the visible GPUs' compute capabilities) by the
#   nvcc of torch's CUDA_HOME, whose major version must match torch's CUDA. Built with
#   --no-cache-dir, so pip's cache can neither serve a CPU-only wheel here nor receive a
#   CUDA one; the wheel is kept in ~/.cache/pcfractal/wheels/<torch, CUDA, python, archs>/
#   (PCFRACTAL_WHEEL_CACHE) for later installs with exactly those. No nvcc, a mismatched
#   nvcc, or no GPU and no TORCH_CUDA_ARCH_LIST stops the script with the reason. After the
#   install the CUDA ops must be compiled in and furthest point sampling must run on a
#   CUDA tensor (where a GPU is visible), or the script fails.
# When everything is already in place the script only checks it and exits. Needs root (or
# sudo) only if a system library is missing (libGL for opencv).
set -euo pipefail

PY=${1:-}
cd "$(dirname "$0")/.."
if [ -z "$PY" ]; then
  PY=$PWD/.venv/bin/python
elif [[ "$PY" == */* ]]; then  # a path, relative to where the script was started
  PY=$(cd "$OLDPWD" && cd "$(dirname "$PY")" && pwd)/$(basename "$PY")
else
  PY=$(command -v "$PY") || { echo "[install_mmdet3d] error: no '$1' on PATH" >&2; exit 1; }
fi
MMENGINE=0.10.7
MMCV=2.1.0
MMDET=3.2.0
MMDET3D=1.4.0
# What mmdet3d 1.4.0 imports (found by importing its models, datasets, evaluation,
# engine and visualisation packages) beyond mmdet's and mmengine's own requirements.
EXTRAS=(pyquaternion pandas scikit-learn cachetools plyfile scikit-image networkx
        shapely terminaltables pycocotools tensorboard scipy numba trimesh open3d)
# Installed with --no-deps: their metadata pins an old matplotlib / numpy < 2.
NODEPS=(nuscenes-devkit==1.2.0 lyft_dataset_sdk==0.0.8)

log() { echo "[install_mmdet3d] $*"; }
die() { echo "[install_mmdet3d] error: $*" >&2; exit 1; }

[ -x "$PY" ] || die "no python at '$PY': create the venv and install torch first (bash scripts/install.sh)"
"$PY" -c "import torch" 2>/dev/null \
  || die "torch is not importable with $PY: install it first (pip install torch==2.13.0 for the CPU build)"

# The mmcv build this torch needs: FLAVOUR=cpu|cuda, and for cuda TORCH_CUDA_ARCH_LIST,
# CUDA_HOME, NVCC_VERSION; WHEEL_KEY names the build. Fails (one line) when a CUDA build
# cannot be right.
CHECK=pcfractal/mmdet3d/check_install.py
if ! plan=$("$PY" "$CHECK" plan 2>&1); then
  die "$(echo "$plan" | tail -1 | sed 's/^check_install: //')"
fi
FLAVOUR='' TORCH_CUDA_ARCH_LIST_PLAN='' CUDA_HOME_PLAN='' NVCC_VERSION='' WHEEL_KEY=''
while IFS='=' read -r key val; do
  val=${val#\'}; val=${val%\'}
  case "$key" in
    FLAVOUR) FLAVOUR=$val ;;
    TORCH_CUDA_ARCH_LIST) TORCH_CUDA_ARCH_LIST_PLAN=$val ;;
    CUDA_HOME) CUDA_HOME_PLAN=$val ;;
    NVCC_VERSION) NVCC_VERSION=$val ;;
    WHEEL_KEY) WHEEL_KEY=$val ;;
  esac
done <<<"$plan"
[ -n "$FLAVOUR" ] && [ -n "$WHEEL_KEY" ] || die "check_install.py plan printed no build plan: $plan"

# The check that decides whether anything needs doing, and that ends every run.
check_stack() {
  "$PY" - "$MMENGINE" "$MMCV" "$MMDET" "$MMDET3D" <<'EOF'
import sys
from importlib.metadata import version, PackageNotFoundError
want = dict(zip(('mmengine', 'mmcv', 'mmdet', 'mmdet3d'), sys.argv[1:]))
for name, ver in want.items():
    try:
        have = version(name)
    except PackageNotFoundError:
        sys.exit(f'{name} is not installed')
    if have != ver:
        sys.exit(f'{name} {have} is installed, {ver} is wanted')
import cv2  # noqa: F401
import mmdet3d.datasets, mmdet3d.engine, mmdet3d.evaluation  # noqa: F401,E401
import mmdet3d.models, mmdet3d.visualization  # noqa: F401,E401
EOF
  # mmcv's compiled ops, of the planned flavour (the CUDA ops where torch has CUDA)
  "$PY" "$CHECK" verify --expect "$FLAVOUR" --mmcv-version "$MMCV" --quiet
}

t_start=$(date +%s)
if check_stack 2>/dev/null; then
  log "mmengine $MMENGINE, mmcv $MMCV (with $FLAVOUR ops), mmdet $MMDET, mmdet3d $MMDET3D already installed"
  exit 0
fi

BIN=$(dirname "$PY")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Pin what the venv already has: pip must never swap torch (a CUDA build is GBs) or numpy.
"$PY" - >"$tmp/constraints.txt" <<'EOF'
import numpy, torch
print(f'torch=={torch.__version__}')
print(f'numpy=={numpy.__version__}')
EOF
log "constraints: $(tr '\n' ' ' <"$tmp/constraints.txt")"

pipq() {  # pip install, quiet; the whole log on failure
  if ! "$PY" -m pip install --disable-pip-version-check -c "$tmp/constraints.txt" "$@" \
      >"$tmp/pip.log" 2>&1; then
    grep -v "^WARNING: Location" "$tmp/pip.log" >&2
    die "pip install $* failed"
  fi
}

# mmcv's setup.py imports pkg_resources (setuptools < 70); mmengine uses it at run time too.
# ninja lets torch's extension builder compile on every core.
pipq "setuptools<70" wheel
if ! command -v ninja >/dev/null 2>&1 && [ ! -x "$BIN/ninja" ]; then pipq ninja; fi
export PATH="$BIN:$PATH"

mmcv_ops_ok() {  # the installed mmcv is $MMCV with working ops of the planned flavour
  "$PY" "$CHECK" verify --expect "$FLAVOUR" --mmcv-version "$MMCV" --quiet >/dev/null 2>&1
}

# CFLAGS -g0 drops the debug info that Python's own CFLAGS (-g -O3) would put in every
# object: the compile then needs about 16 CPU-minutes instead of 42 (8.5 min on 2 idle
# cores) and mmcv/_ext.so is 2 MB instead of 83 MB. -O3 stays.
install_mmcv() {  # CPU build: pip install mmcv with its ops, and say whether it compiled
  local t0; t0=$(date +%s)
  CFLAGS="${CFLAGS:-} -g0" MMCV_WITH_OPS=1 FORCE_CUDA=0 pipq --no-build-isolation "$@" "mmcv==$MMCV"
  if grep -q "Building wheel for mmcv" "$tmp/pip.log"; then
    log "mmcv compiled in $(( $(date +%s) - t0 )) s; pip keeps the wheel in its cache"
  elif grep -q "Using cached mmcv-" "$tmp/pip.log"; then
    log "mmcv installed from pip's wheel cache in $(( $(date +%s) - t0 )) s (no compile)"
  fi
}

WHEELS=${PCFRACTAL_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pcfractal/wheels}/$WHEEL_KEY
install_mmcv_cuda() {  # CUDA build: our keyed wheel, else a compile that bypasses pip's cache
  local t0 whl; t0=$(date +%s)
  whl=$(ls "$WHEELS"/mmcv-"$MMCV"-*.whl 2>/dev/null | head -1 || true)
  if [ -n "$whl" ]; then
    log "mmcv $MMCV with CUDA ops from $whl"
    "$PY" -m pip uninstall -y -q mmcv >/dev/null 2>&1 || true
    pipq --no-cache-dir "$whl"
    if mmcv_ops_ok; then return 0; fi
    log "that wheel fails the check: removing it and compiling"
    rm -rf "$WHEELS"
  fi
  log "compiling mmcv $MMCV with CUDA ops for TORCH_CUDA_ARCH_LIST='$TORCH_CUDA_ARCH_LIST_PLAN'" \
      "(nvcc $NVCC_VERSION in $CUDA_HOME_PLAN)"
  rm -rf "$tmp/wheel"
  if ! FORCE_CUDA=1 MMCV_WITH_OPS=1 TORCH_CUDA_ARCH_LIST="$TORCH_CUDA_ARCH_LIST_PLAN" \
       CUDA_HOME="$CUDA_HOME_PLAN" CFLAGS="${CFLAGS:-} -g0" \
       "$PY" -m pip wheel --disable-pip-version-check --no-cache-dir --no-deps \
       --no-build-isolation -w "$tmp/wheel" "mmcv==$MMCV" >"$tmp/pip.log" 2>&1; then
    tail -40 "$tmp/pip.log" >&2
    die "compiling mmcv $MMCV with CUDA ops failed (the end of its log is above)"
  fi
  whl=$(ls "$tmp/wheel"/mmcv-"$MMCV"-*.whl)
  "$PY" -m pip uninstall -y -q mmcv >/dev/null 2>&1 || true
  pipq --no-cache-dir "$whl"
  mkdir -p "$WHEELS" && cp "$whl" "$WHEELS/"
  log "mmcv compiled with CUDA ops in $(( $(date +%s) - t0 )) s; the wheel is kept in $WHEELS"
}

if [ "$FLAVOUR" = cuda ]; then
  if ! mmcv_ops_ok; then
    install_mmcv_cuda
    if ! err=$("$PY" "$CHECK" verify --expect cuda --mmcv-version "$MMCV" 2>&1 >/dev/null); then
      die "mmcv $MMCV was built for CUDA but fails its check: ${err#check_install: }"
    fi
  fi
elif ! mmcv_ops_ok; then
  log "mmcv $MMCV with ops: building from the sdist unless pip's cache has the wheel" \
      "(a cold build takes about 9 min on 2 idle cores)"
  install_mmcv
  if ! mmcv_ops_ok; then  # an installed copy without working ops: reinstall it
    log "the installed mmcv has no working ops: reinstalling it"
    install_mmcv --force-reinstall --no-deps
  fi
  if ! mmcv_ops_ok; then  # a cached wheel built against another torch, or without ops
    log "pip's cached mmcv wheel has no working ops: dropping it and rebuilding"
    "$PY" -m pip cache remove "mmcv-$MMCV*" >/dev/null 2>&1 || true
    install_mmcv --force-reinstall --no-deps
    mmcv_ops_ok || die "mmcv $MMCV was built but its ops do not load"
  fi
fi

log "mmengine $MMENGINE, mmdet $MMDET, mmdet3d $MMDET3D and what mmdet3d imports"
pipq "mmengine==$MMENGINE" "mmdet==$MMDET" "${EXTRAS[@]}"
pipq --no-deps "mmdet3d==$MMDET3D" "${NODEPS[@]}"

# opencv-python (required by mmcv) needs libGL / libglib at import time.
if ! "$PY" -c "import cv2" >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  log "import cv2 failed: installing libgl1 and libglib2.0-0"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libgl1 libglib2.0-0 >/dev/null
fi

if ! err=$(check_stack 2>&1); then
  echo "$err" >&2
  die "the mmdetection3d stack does not import"
fi
log "$("$PY" "$CHECK" verify --expect "$FLAVOUR" --mmcv-version "$MMCV")"
log "done in $(( $(date +%s) - t_start )) s: mmengine $MMENGINE, mmcv $MMCV, mmdet $MMDET, mmdet3d $MMDET3D"

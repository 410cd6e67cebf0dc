#!/usr/bin/env bash
# The checks a CUDA user runs once after installing (at most 12 minutes on one GPU):
#   bash scripts/gpu_check.sh [PYTHON]      (PYTHON defaults to .venv/bin/python)
# 1. mmcv's CUDA point ops agree with pcfractal's CPU ops on random inputs;
# 2. training iterations of the pre-training and fine-tuning configs run on the GPU
#    (iterations/s printed);
# 3. the data loader's samples/s per worker (on-the-fly fractal scenes through the whole
#    mmdet3d pipeline) and how many loader workers keep the GPU busy.
# Without a CUDA GPU it prints one line and exits 0. Exit 1 when a check fails.
set -euo pipefail
PY=${1:-}
cd "$(dirname "$0")/.."
[ -n "$PY" ] || PY=.venv/bin/python
if ! [ -x "$PY" ] && ! command -v "$PY" >/dev/null 2>&1; then
  echo "gpu_check: error: no python at '$PY' (bash scripts/install.sh --test first)" >&2; exit 1
fi
if ! command -v nvidia-smi >/dev/null 2>&1 && ! [ -e /dev/nvidia0 ]; then
  echo "gpu_check: no CUDA GPU (no nvidia-smi, no /dev/nvidia0); nothing checked"; exit 0
fi
rc=0
timeout --foreground 720 "$PY" -m pcfractal.mmdet3d.gpu_check "${@:2}" || rc=$?
if [ "$rc" = 124 ]; then echo "gpu_check: error: did not finish within 12 minutes" >&2; fi
exit "$rc"

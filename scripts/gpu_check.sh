#!/usr/bin/env bash
# GPU check: on an NVIDIA machine with nothing but this repository, install synthscene,
# confirm that NVIDIA's EGL renders (prints the GL renderer string; llvmpipe means the GPU is not
# used), then print frames/s of the standard workload with 1 worker and with one worker per core.
# Meant to finish in under 5 minutes; CI never runs it.
#
#   bash scripts/gpu_check.sh            # from the repository root
#   FRAMES=200 bash scripts/gpu_check.sh
#
# If the GL renderer is not NVIDIA's, the script retries with glvnd pointed at NVIDIA's EGL vendor
# file (where container images put it: /usr/share/glvnd/egl_vendor.d/10_nvidia.json or
# /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json).
set -euo pipefail
cd "$(dirname "$0")/.."
FRAMES=${FRAMES:-120}
export PYOPENGL_PLATFORM=egl PIP_DISABLE_PIP_VERSION_CHECK=1

echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null \
  || echo "nvidia-smi: not found"
echo "cores: $(nproc)"

echo "== install"
if [ ! -x .venv-gpu/bin/python ]; then
  python3 -m venv .venv-gpu
fi
. .venv-gpu/bin/activate
pip install -q . 2>&1 | tail -n 2

renderer() {
  python - <<'PY'
from synthscene.render.platform import gl_strings

print(" | ".join(gl_strings()))
PY
}

echo "== GL"
gl=$(renderer 2>&1 | tail -n 1)
if ! grep -qi nvidia <<<"$gl"; then
  echo "not NVIDIA ($gl); trying NVIDIA's glvnd EGL vendor file"
  for f in /usr/share/glvnd/egl_vendor.d/10_nvidia.json \
           /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json; do
    if [ -f "$f" ]; then
      export __EGL_VENDOR_LIBRARY_FILENAMES=$f
      gl=$(renderer 2>&1 | tail -n 1)
      grep -qi nvidia <<<"$gl" && break
    fi
  done
fi
echo "GL renderer: $gl"
grep -qi nvidia <<<"$gl" || echo "WARNING: the figures below are not the GPU's"

echo "== standard workload (640x480, 20 objects, lit, labels and files written), $FRAMES frames"
python scripts/benchmark.py --workers 1 --frames "$FRAMES" --runs 1 2>&1 | grep -E "median|CPU"
python scripts/benchmark.py --workers "$(nproc)" --frames "$FRAMES" --runs 1 2>&1 \
  | grep -E "median|CPU"
echo "== benchmark suite: standard, 4 views, 4 views + flat + JPEG (1 and 2 workers), pyrender reference"
python scripts/benchmark.py --suite --frames "$FRAMES" --runs 1 2>&1 | tail -n 8

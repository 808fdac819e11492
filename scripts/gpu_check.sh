#!/usr/bin/env bash
# GPU check of the fast path, in one command on a fresh GPU machine (~5 minutes):
#
#   scripts/gpu_check.sh            # from anywhere; results go to $OUT if set,
#                                   # else to a new temporary directory (printed)
#
# 1. uv sync --locked (the exact locked environment), 2. nvidia-smi and torch's view of
# the device, 3. the tests marked `gpu` (device-resident CUDA batches equal the CPU
# batches; short CUDA fp32/bf16 training runs match the CPU path within tolerance; the
# same for three epochs of ml-train), 4. the benchmark on the GPU at full PCAM size
# (`python -m benchmarks.bench --device cuda --full-size`: loaders, models, and
# ml-train under torchrun with 1 and N GPUs when there are several). Every step runs
# even if an earlier check fails; the exit code is non-zero when any step failed.
# Extra arguments go to the benchmark.
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo" || exit 2
results="${OUT:-$(mktemp -d -t ml-core-gpu-check.XXXXXX)}"
mkdir -p "$results" || exit 2
failed=()

step() {
  # step NAME SECONDS COMMAND...: run with a time limit, log to $results/NAME.log
  local name="$1" limit="$2"
  shift 2
  echo "== $name: $*"
  if ! timeout "$limit" "$@" 2>&1 | tee "$results/$name.log"; then
    echo "== $name FAILED (see $results/$name.log)"
    failed+=("$name")
  fi
}

if ! command -v uv >/dev/null; then
  echo "gpu_check: uv not found on PATH (https://docs.astral.sh/uv/)" >&2
  exit 2
fi
step sync 300 uv sync --locked
step nvidia-smi 30 nvidia-smi
step torch 60 uv run --no-sync python -c '
import torch
print("torch", torch.__version__, "CUDA", torch.version.cuda)
print("cuda available:", torch.cuda.is_available())
for index in range(torch.cuda.device_count()):
    print(f"cuda:{index}", torch.cuda.get_device_name(index))
assert torch.cuda.is_available(), "torch sees no CUDA device"
'
step gpu-tests 300 uv run --no-sync pytest -q -rs -p no:cacheprovider -m gpu \
  tests/train/test_gpu_fast_path.py
gpus="$(uv run --no-sync python -c 'import torch; print(torch.cuda.device_count())')"
step bench 480 uv run --no-sync python -m benchmarks.bench --device cuda --full-size \
  --workdir "$results/bench" --batch-size 256 --epochs 1 --ranks "${gpus:-0}" --json "$@"

echo "results: $results"
if ((${#failed[@]})); then
  echo "gpu_check: failed steps: ${failed[*]}" >&2
  exit 1
fi
echo "gpu_check: all steps passed"

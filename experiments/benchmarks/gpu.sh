#!/usr/bin/env bash
# The GPU figures, in one command, on the first machine with a GPU (#24):
#   training, embedding and generation images/s at the paper's 128 px against its figures
#   (method §8: 1,300 / 4,000 / 4,600 images/s on V100s), the precision and XLA options,
#   the per-step cost of the default method, and the time to result at 32 px.
# Writes experiments/benchmarks/results/gpu_*.{json,md}. About 10 minutes on one GPU.
set -euo pipefail
cd "$(dirname "$0")"
out=results
mkdir -p "$out"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$out/gpu_device.txt" || true
python throughput.py --options --json "$out/gpu_throughput.json" | tee "$out/gpu_throughput.txt"
python time_to_result.py --steps 32,64,128 --runs 2000,20000 --out "$out/gpu_time_to_result.md"

#!/usr/bin/env bash
# The benchmarks: one line per figure, `name: value unit (goal …) ok|MISS`,
# each a ratio against a baseline measured in the same run where the goal is a ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
status=0
for bench in tests/bench/bench_*.py; do
  .venv/bin/python "$bench" || status=1
done
exit $status

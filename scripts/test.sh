#!/usr/bin/env bash
# Set up (idempotent), then run the whole test suite against the real parts.
# On both cores: two pytest-xdist workers, each test module whole on one of them (its
# module-wide fixtures, a kiosk walkthrough say, run once). TEST_WORKERS=0: one process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/pytest -p no:cacheprovider -n "${TEST_WORKERS:-2}" --dist loadscope "$@"

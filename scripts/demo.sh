#!/usr/bin/env bash
# The kiosk's main job: set up (idempotent), then the scripted walkthrough
# against the emulators and a local central server. With no DISPLAY it starts
# Xvfb; with one, the window is visible. Screenshots and the receipt PNG go to
# out/demo/ and their paths are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/kiosk demo --out out/demo "$@"

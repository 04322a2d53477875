"""Run one `kiosk demo` scenario in its own process (its own Xvfb, emulators and
central server) and collect what it wrote: screenshots, receipts and its report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_scenario(scenario: str, out: Path, orientation: str = "portrait") -> dict:
    """``{shot name: path}`` plus ``"report"``: the facts the walkthrough reported (if any)."""
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}  # the demo starts its own Xvfb
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "kiosk.cli",
            "demo",
            "--orientation",
            orientation,
            "--scenario",
            scenario,
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=360,
    )
    assert proc.returncode == 0, (
        f"scenario {scenario} failed:\n{proc.stdout}\n{proc.stderr[-3000:]}"
    )
    prefix = f"{scenario}-{orientation}-"
    found: dict = {
        Path(p).stem.removeprefix(prefix): Path(p)
        for p in proc.stdout.split()
        if p.endswith(".png")
    }
    report = out / f"{prefix}report.json"
    found["report"] = json.loads(report.read_text()) if report.exists() else {}
    return found

"""Run one `kiosk demo` scenario in its own process (its own Xvfb, emulators and
central server) and collect what it wrote: screenshots, receipts and its report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STOP_GRACE = 30  # seconds a timed-out demo has to stop its Xvfb, emulators and server


def demo(orientation: str, out: Path, scenario: str = "journey", timeout: float = 300,
         options: tuple[str, ...] = ()) -> subprocess.CompletedProcess:  # fmt: skip
    """``kiosk demo`` as a person runs it; a failure or a timeout fails the test with its
    output (``options``: more of the demo's options). A demo past ``timeout`` is sent SIGTERM first (it then stops every part it
    started, as on Ctrl-C), and killed only if it does not stop: no Xvfb or server is
    left running behind a slow test."""
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}  # the demo starts its own Xvfb
    cmd = [sys.executable, "-m", "kiosk.cli", "demo", "--orientation", orientation,
           "--scenario", scenario, "--out", str(out), *options]  # fmt: skip
    with subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:  # fmt: skip
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)
            try:
                stdout, stderr = proc.communicate(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                proc.kill()
                stdout, stderr = proc.communicate()
            raise AssertionError(
                f"demo {scenario} ({orientation}) did not finish in {timeout:g} s:\n"
                f"{stdout}\n{stderr[-3000:]}"
            ) from None
    done = subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
    assert done.returncode == 0, f"demo {scenario} ({orientation}) failed:\n{stdout}\n{stderr[-3000:]}"
    # and no screen it shot drew anything over its neighbours (screens/layout_check.py)
    spilled = drawn_outside(out, orientation, scenario)
    assert spilled == {}, f"demo {scenario} ({orientation}) drew outside its boxes: {spilled}"
    return done


def drawn_outside(out: Path, orientation: str, scenario: str = "journey") -> dict[str, list[str]]:
    """What each screenshot's screen drew outside its box (screens/layout_check.py), by
    screenshot, as the demo wrote it: nothing, on a screen laid out right."""
    prefix = f"{orientation}-" if scenario == "journey" else f"{scenario}-{orientation}-"
    return json.loads((out / f"{prefix}layout.json").read_text())


def run_scenario(scenario: str, out: Path, orientation: str = "portrait") -> dict:
    """``{shot name: path}`` plus ``"report"``: the facts the walkthrough reported (if any)."""
    proc = demo(orientation, out, scenario, timeout=360)
    prefix = f"{scenario}-{orientation}-"
    found: dict = {
        Path(p).stem.removeprefix(prefix): Path(p)
        for p in proc.stdout.split()
        if p.endswith(".png")
    }
    report = out / f"{prefix}report.json"
    found["report"] = json.loads(report.read_text()) if report.exists() else {}
    return found

"""`kiosk selftest` against every emulator and the real central server: a
technician's pass/fail table, with the reason for each failure."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.cli import demo_config, selftest
from peripherals.supervisor import Supervisor

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    sup = Supervisor(tmp_path_factory.mktemp("rig"),
                     parts=("central", "pcsc", "idcard", "printer", "camera", "scanner"))
    sup.start()
    saved = dict(os.environ)
    os.environ.update(sup.env())
    yield sup
    sup.stop()
    # libpcsclite keeps the socket path it first read: later pcscd fixtures reuse it.
    saved.update({k: v for k, v in os.environ.items() if k == "PCSCLITE_CSOCK_NAME"})
    os.environ.clear()
    os.environ.update(saved)


def enrolled_config(rig):
    cfg = demo_config(rig, "portrait")
    code = subprocess.run(
        [sys.executable, "-m", "central.cli", "terminals", "add-code", "--point", "zhouhu",
         "--data-dir", str(rig["central"].data_dir)],
        capture_output=True, text=True, check=True, timeout=60, cwd=ROOT).stdout.split()[-1]
    from kiosk.cli import enrol, with_enrolment

    asyncio.run(enrol(cfg, code))
    return with_enrolment(cfg)


def test_every_device_passes_against_the_emulators(rig, capsys):
    cfg = enrolled_config(rig)
    jobs_before = len(rig["printer"].emulator.jobs())
    assert asyncio.run(selftest(cfg)) == 0
    out = capsys.readouterr().out
    for device in ("idcard", "sscard", "printer", "document_camera", "face_camera", "scanner",
                   "platform"):
        assert any(line.startswith(device) and "PASS" in line for line in out.splitlines()), out
    assert out.strip().splitlines()[-1] == "7 passed, 0 failed"
    assert rig["printer"].emulator.wait_for_jobs(jobs_before + 1, 5), "no test page reached the printer"


def test_a_printer_out_of_paper_fails_with_the_reason(rig, capsys):
    cfg = enrolled_config(rig)
    rig["printer"].emulator.set_paper("out")
    try:
        assert asyncio.run(selftest(cfg)) == 1
    finally:
        rig["printer"].emulator.set_paper("ok")
    printer_line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("printer"))
    assert "FAIL" in printer_line and "paper" in printer_line.lower()

"""The technician's self-test: every device exercised, a pass/fail table with the
reason for each failure. Pure orchestration over the ports (no device library)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from dataclasses import dataclass

from kiosk.errors import CaptureRejected, KioskError
from kiosk.health import Health
from kiosk.receipt import test_receipt
from kiosk.terminal import Terminal


@dataclass(frozen=True)
class Check:
    device: str
    passed: bool
    detail: str  # for a technician: what was done, or why it failed


async def _exercise(name: str, work) -> Check:
    try:
        detail = await work()
    except KioskError as err:
        return Check(name, False, f"{type(err).__name__}: {err.detail or err.message_key}")
    return Check(name, True, detail)


async def run(terminal: Terminal, now: dt.datetime) -> list[Check]:
    """Exercise each configured device in turn (blocking calls run in threads)."""
    p = terminal.ports
    checks: list[Check] = []

    def health_work(device):
        async def work():
            h: Health = await asyncio.to_thread(device.health)
            if h.state.value == "fault":
                raise KioskError(h.reason)
            return h.reason or "answers"
        return work

    if p.id_reader is not None:
        async def idcard():
            await health_work(p.id_reader)()
            card = await asyncio.to_thread(p.id_reader.read_card, 0.0)
            return "read a test card" if card else "reader answers; no card on it"
        checks.append(await _exercise("idcard", idcard))
    if p.social_reader is not None:
        checks.append(await _exercise("sscard", health_work(p.social_reader)))
    if p.printer is not None:
        async def printer():
            receipt = test_receipt(job_id=uuid.uuid4().hex, terminal_id=terminal.config.terminal.id,
                                   point_name=terminal.config.terminal.point_name, citizen_name="",
                                   track_url=terminal.config.platform.url, now=now,
                                   health=tuple((c.device, "ok" if c.passed else "FAIL") for c in checks))
            await asyncio.to_thread(p.printer.print_receipt, receipt)
            return "printed a test page"
        checks.append(await _exercise("printer", printer))
    for name, camera in (("document_camera", p.document_camera), ("face_camera", p.face_camera)):
        if camera is None:
            continue

        async def capture(camera=camera):
            try:
                frame = await asyncio.to_thread(camera.capture)
            except CaptureRejected as err:  # a frame came, it just shows no page or face
                return f"captured a frame ({err.message_key})"
            return f"captured {frame.width}x{frame.height}"
        checks.append(await _exercise(name, capture))
    if p.scanner is not None:
        checks.append(await _exercise("scanner", health_work(p.scanner)))
    if p.platform is not None:
        async def platform():
            info = await p.platform.health()
            return f"reached, version {info.get('version', '?')}"
        checks.append(await _exercise("platform", platform))
    return checks


def table(checks: list[Check]) -> str:
    width = max((len(c.device) for c in checks), default=6)
    lines = [f"{'device':<{width}}  result  detail", "-" * (width + 40)]
    lines += [f"{c.device:<{width}}  {'PASS' if c.passed else 'FAIL':<6}  {c.detail}" for c in checks]
    passed = sum(c.passed for c in checks)
    lines.append(f"{passed} passed, {len(checks) - passed} failed")
    return "\n".join(lines)


def as_health(checks: list[Check]) -> list[Health]:
    """The results as health reports, for the dashboard (sent with a heartbeat)."""
    return [Health.good(c.device) if c.passed else Health.fault(c.device, c.detail) for c in checks]

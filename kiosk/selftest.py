"""The technician's self-test: every device exercised, a pass/fail table with the
reason for each failure. Pure orchestration over the ports (no device library).

Each check's result is a kiosk.i18n key with its values (``selftest.*``): the
technician screen says it in the screen's language (``Check.text``); the
``kiosk selftest`` table, the diagnostics bundle and the dashboard get the English
(``Check.detail``). A failure's words come from the error's class
(``selftest.error.<Class>``, the nearest one the catalogue has) with the driver's
own detail beside them.

``run_and_report`` is what both the ``kiosk selftest`` command and the technician
screen run: the checks, kept for the diagnostics bundle, and sent to the dashboard (a
signed heartbeat: one the platform refuses, its clock check, an unknown or revoked
terminal, fails the platform check, which an unsigned ``/health`` alone had passed).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from kiosk.errors import CaptureRejected, DeviceError, KioskError, PlatformRejected
from kiosk.health import Health
from kiosk.i18n import known, translate
from kiosk.receipt import Receipt, test_receipt
from kiosk.terminal import Terminal


@dataclass(frozen=True)
class Check:
    device: str
    passed: bool
    detail: str  # for a technician, in English: what was done, or why it failed
    key: str = ""  # the same as a kiosk.i18n key, with its ``values`` ('' : just ``detail``)
    values: tuple[tuple[str, str], ...] = ()

    def text(self, language: str) -> str:
        """What was done, or why it failed, in ``language`` (the technician screen's)."""
        return _say(self.key, dict(self.values), language) if self.key else self.detail


def _say(key: str, values: Mapping[str, str], language: str) -> str:
    # a value named "…_key" is itself a message key: said in the same language, without the suffix
    filled = {k.removesuffix("_key"): translate(v, language) if k.endswith("_key") else v
              for k, v in values.items()}  # fmt: skip
    return translate(key, language, **filled)


def _failure(err: KioskError) -> tuple[str, dict[str, str]]:
    key = next(k for k in (f"selftest.error.{c.__name__}" for c in type(err).__mro__)
               if known(k) or k == "selftest.error.KioskError")  # fmt: skip
    return key, {"error": type(err).__name__, "detail": err.detail or err.message_key}


async def _exercise(name: str, work) -> Check:
    """Run ``work``, which returns (key, values) saying what it did; a KioskError fails it."""
    try:
        key, values = await work()
        passed = True
    except KioskError as err:
        (key, values), passed = _failure(err), False
    return Check(name, passed, _say(key, values, "en"), key, tuple(values.items()))


async def run(terminal: Terminal, now: dt.datetime) -> list[Check]:
    """Exercise each configured device in turn (blocking calls run in threads)."""
    p = terminal.ports
    checks: list[Check] = []

    def health_work(device):
        async def work():
            h: Health = await asyncio.to_thread(device.health)
            if h.state.value == "fault":
                raise DeviceError(h.reason)
            if h.reason:
                return "selftest.answers_with", {"reason": h.reason}
            return "selftest.answers", {}
        return work

    if p.id_reader is not None:
        async def idcard():
            await health_work(p.id_reader)()
            card = await asyncio.to_thread(p.id_reader.read_card, 0.0)
            return ("selftest.card_read" if card else "selftest.no_card"), {}
        checks.append(await _exercise("idcard", idcard))
    if p.social_reader is not None:
        checks.append(await _exercise("sscard", health_work(p.social_reader)))
    if p.printer is not None:
        async def printer():
            receipt = test_page(terminal, now, tuple((c.device, "ok" if c.passed else "FAIL") for c in checks))  # fmt: skip
            await asyncio.to_thread(p.printer.print_receipt, receipt)
            return "selftest.printed", {}
        checks.append(await _exercise("printer", printer))
    for name, camera in (("document_camera", p.document_camera), ("face_camera", p.face_camera)):
        if camera is None:
            continue

        async def capture(camera=camera):
            try:
                frame = await asyncio.to_thread(camera.capture)
            except CaptureRejected as err:  # a frame came, it just shows no page or face
                return "selftest.captured_rejected", {"why_key": err.message_key}
            return "selftest.captured", {"width": str(frame.width), "height": str(frame.height)}
        checks.append(await _exercise(name, capture))
    if p.scanner is not None:
        checks.append(await _exercise("scanner", health_work(p.scanner)))
    if p.platform is not None:
        async def platform():
            info = await p.platform.health()
            return "selftest.reached", {"version": str(info.get("version", "?"))}
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


def test_page(terminal: Terminal, now: dt.datetime, health: tuple[tuple[str, str], ...] = ()) -> Receipt:  # fmt: skip
    """The printer's test page: this terminal, its hall, a QR to scan (no citizen)."""
    t = terminal.config
    return test_receipt(job_id=uuid.uuid4().hex, terminal_id=t.terminal.id, point_name=t.terminal.point_name,
                        citizen_name="", track_url=t.platform.url, now=now, health=health)  # fmt: skip


@dataclass(frozen=True)
class Report:
    checks: list[Check]
    not_kept: str = ""  # why the results were not kept for the diagnostics bundle ('' : kept)
    not_sent: str = ""  # why they did not reach the dashboard ('' : sent, or no platform)
    sent: bool = False

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


async def run_and_report(terminal: Terminal, now: dt.datetime, version: str,
                         uptime: int | None = None) -> Report:  # fmt: skip
    """Run the checks, keep them for the diagnostics bundle (``data_dir``), and send them
    to the dashboard as a heartbeat from the "selftest" screen (with the kiosk's
    ``uptime`` when it is the running kiosk's self-test). Keeping and sending are side
    effects: their failure is reported, the checks stand."""
    from kiosk.diagnostics import record_selftest

    checks = await run(terminal, now)
    not_kept = not_sent = ""
    sent = False
    try:
        await asyncio.to_thread(record_selftest, terminal.config.data_dir, checks, now)
    except OSError as err:
        not_kept = str(err)
    beat = getattr(terminal.ports.platform, "heartbeat", None)
    if beat is not None:
        try:
            await beat(as_health(checks), software_version=version, screen="selftest",
                       paper=await terminal.paper(), uptime=uptime,
                       catalog_version=await terminal.catalog_version(),
                       config_version=terminal.config_version or None)  # fmt: skip
            sent = True
        except PlatformRejected as err:  # reached, and refused: the platform check fails
            not_sent = err.detail or err.message_key
            values = {"status": str(err.status), "detail": err.message_key}
            checks = [Check("platform", False, _say("selftest.platform_refused", values, "en"),
                            "selftest.platform_refused", tuple(values.items()))
                      if c.device == "platform" else c for c in checks]  # fmt: skip
        except KioskError as err:
            not_sent = err.detail or err.message_key
    return Report(checks, not_kept, not_sent, sent)

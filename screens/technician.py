"""The technician screen: what this terminal is and how its devices are, and the
technician's tools: the self-test (the same run as ``kiosk selftest``: the pass/fail
table with the reason for each failure, sent to the dashboard), enrolment with a
one-time code typed on the on-screen keyboard, a printer test page, a diagnostics
bundle sent to the dashboard, and the way out.

Opened only after the PIN (screens.technician_pin), with no citizen's visit open
(``Terminal.begin_service``); leaving it, or a while without a touch, gives the
terminal back to citizens (``Terminal.end_service``).
"""

from __future__ import annotations

import asyncio
import logging

from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import BooleanProperty, OptionProperty, StringProperty

from kiosk import __version__, selftest
from kiosk.config import china_time
from kiosk.technician import enrolment_code, facts, send_diagnostics, uptime_parts
from screens.base import KioskScreen
from screens.keyboard import KioskKeyboard
from screens.technician_pin import IdleWatch

log = logging.getLogger(__name__)
HEALTH_EVERY = 10.0  # s between refreshes of the devices' health while the screen is open


def _made(cls: str, **values):
    """A row of a kv class whose properties the kv rule declares (set after it is made)."""
    row = getattr(Factory, cls)()
    for name, value in values.items():
        setattr(row, name, value)
    return row


class TechnicianScreen(KioskScreen):
    panel = OptionProperty("start", options=["start", "selftest", "enrol"])
    message = StringProperty("")  # what the last tool did
    summary = StringProperty("")  # the self-test's count, and whether the dashboard has it
    passed = BooleanProperty(True)
    code = StringProperty("")  # the enrolment code as typed, grouped for reading

    def __init__(self, terminal, nav, **kw):
        self._panels: dict = {}
        super().__init__(terminal, nav, **kw)
        self.keyboard: KioskKeyboard | None = None
        self.report: selftest.Report | None = None  # the last self-test's, while on screen
        self._watch = IdleWatch(terminal, self.exit)
        self._refresh_task: asyncio.Task | None = None
        self._said: tuple[str, dict] = ("", {})
        self._health_tick = None

    def on_kv_post(self, *_):
        # ids are weak references: keep the panels alive while they are off screen
        self._panels = {name: self.ids[f"{name}_panel"].__self__
                        for name in ("start", "selftest", "enrol")}  # fmt: skip
        self.on_panel()

    def on_panel(self, *_):
        if not self._panels:
            return
        area = self.ids.work
        panel = self._panels[self.panel]
        if panel.parent is not area:
            area.clear_widgets()
            area.add_widget(panel)
        self.ids.work_scroll.scroll_y = 1  # a panel opens at its top

    # -- entering and leaving ----------------------------------------------
    def on_pre_enter(self, *_):
        self.panel, self.error, self.summary = "start", "", ""
        self.say("")
        self.ids.checks.clear_widgets()
        self.report = None
        self.refresh()
        self._health_tick = Clock.schedule_interval(self._tick, HEALTH_EVERY)
        self._watch.start()

    def on_leave(self, *_):
        super().on_leave()
        self._watch.stop()
        if self._health_tick is not None:
            self._health_tick.cancel()
            self._health_tick = None
        if self._refresh_task is not None:
            self._refresh_task.cancel()
        self._close_keyboard()
        self.terminal.end_service()  # the terminal is the citizens' again

    def run(self, coro) -> None:
        self._watch.hold(True)  # the kiosk works: the technician is not idle
        super().run(self._then_refresh(coro))

    async def _then_refresh(self, coro):
        try:
            await coro
        finally:
            self._watch.hold(False)
            self.refresh()

    # -- what the terminal is, and how its devices are ------------------------
    def _tick(self, _dt) -> None:
        if not self.busy:  # the self-test has the devices: its end refreshes the view
            self.refresh()

    def refresh(self) -> None:
        if self._refresh_task is None or self._refresh_task.done():
            self._refresh_task = asyncio.get_event_loop().create_task(self._refresh())

    async def _refresh(self) -> None:
        try:
            f = await facts(self.terminal)
            health = await self.terminal.device_health()
        except Exception:  # a side view: log for the technician, keep the screen
            log.exception("technician screen: terminal facts not read")
            return
        days, hours, minutes = uptime_parts(f.uptime)
        point = self.terminal.point_name_in(self.terminal.language) or f.point_name
        rows = [
            ("technician.terminal_id", f.terminal_id),
            ("technician.service_point", f"{point} ({f.service_point})" if point else f.service_point),
            ("technician.place", self.terminal.config.terminal.place),
            ("technician.software", f.software_version),
            ("technician.catalog", f.catalog_version[:12] or self.t("technician.none")),
            ("technician.uptime", self.t("technician.uptime_value", days=days, hours=hours,
                                         minutes=minutes)),
            ("technician.enrolment", self.t("technician.enrolled" if f.enrolled
                                            else "technician.not_enrolled")),
        ]  # fmt: skip
        grid = self.ids.facts
        grid.clear_widgets()
        for key, value in rows:
            grid.add_widget(_made("TechFact", name=self.t(key), value=value or "—"))
        devices = self.ids.devices
        devices.clear_widgets()
        for h in health:
            devices.add_widget(_made("TechDevice",
                text=self.device_name(h.device), state=h.state.value,
                state_text=self.t(f"health.{h.state.value}"), reason=h.reason))  # fmt: skip

    # -- the tools ----------------------------------------------------------
    def run_selftest(self) -> None:
        if self.busy:
            return
        self._close_keyboard()
        self.panel, self.summary = "selftest", ""
        self.say("technician.selftest_running")
        self.ids.checks.clear_widgets()
        self.report = None
        self.run(self._selftest())

    async def _selftest(self) -> None:
        report = await selftest.run_and_report(self.terminal, china_time(), __version__,
                                               uptime=self.terminal.uptime())  # fmt: skip
        self.report = report
        self.show_report()
        if report.sent:
            self.say("technician.selftest_sent")
        else:
            self.say("")
            self.error = self.t("technician.selftest_not_sent")
            log.warning("self-test results not sent to the dashboard: %s", report.not_sent)

    def show_report(self) -> None:
        """The self-test's table: each device, pass or fail, and what was done or went wrong."""
        grid, report = self.ids.checks, self.report
        grid.clear_widgets()
        if report is None:
            return
        for c in report.checks:
            grid.add_widget(_made("TechCheck",
                device=self.device_name(c.device), passed=c.passed, detail=c.text(self.terminal.language),
                verdict=self.t("technician.pass" if c.passed else "technician.fail")))  # fmt: skip
        failed = sum(not c.passed for c in report.checks)
        self.passed = failed == 0
        self.summary = self.t("technician.selftest_summary", passed=len(report.checks) - failed,
                              failed=failed)  # fmt: skip

    def start_enrol(self) -> None:
        if self.busy:
            return
        self.panel, self.error, self.code = "enrol", "", ""
        if self.terminal.enrolled:  # a new code makes it another terminal: say so first
            self.say("technician.enrol_replaces", terminal_id=self.terminal.config.terminal.id)
        else:
            self.say("")
        if self.keyboard is None:
            self.keyboard = KioskKeyboard(modes=["letters", "digits"], mode="letters",
                                          on_done=lambda *_: self.enrol())  # fmt: skip
            self.keyboard.bind(text=self._typed)
            self.ids.keyboard_area.add_widget(self.keyboard)
        self.keyboard.text = ""
        # where the panel is taller than its room, the code and the keys in view (its title
        # and hint scrolled up; the scroll keeps to the bottom as the keyboard is laid out)
        self.ids.work_scroll.scroll_y = 0

    def _typed(self, _keyboard, text: str) -> None:
        chars = enrolment_code(text).replace("-", "")
        self.code = " ".join(chars[i : i + 4] for i in range(0, len(chars), 4))
        self.error = ""

    def enrol(self) -> None:
        if self.busy or self.keyboard is None:
            return
        typed = self.keyboard.text
        if not enrolment_code(typed):
            self.error = self.t("technician.enrol_hint")
            return
        self.say("technician.enrolling")
        self.run(self._enrol(typed))

    async def _enrol(self, typed: str) -> None:
        terminal_id = await self.terminal.enrol(typed)
        self.say("technician.enrolled_as", terminal_id=terminal_id)
        self._close_keyboard()
        self.panel = "start"

    def print_test_page(self) -> None:
        if self.busy:
            return
        self.say("common.printing")
        self.run(self._print())

    async def _print(self) -> None:
        await self.terminal.print_receipt(selftest.test_page(self.terminal, china_time()))
        self.say("technician.printed")

    def send_diagnostics(self) -> None:
        if self.busy:
            return
        self.say("technician.diagnostics_sending")
        self.run(self._diagnostics())

    async def _diagnostics(self) -> None:
        bundle_id = await send_diagnostics(self.terminal)
        self.say("technician.diagnostics_sent", bundle=bundle_id)

    def exit(self) -> None:
        self.nav("attract")

    # -- plumbing -------------------------------------------------------------
    def _close_keyboard(self) -> None:
        if self.keyboard is not None:
            self.ids.keyboard_area.remove_widget(self.keyboard)
            self.keyboard = None
        self.code = ""

    def say(self, key: str, **values) -> None:
        """What the last tool did, kept as a key so a change of language re-says it."""
        self._said = (key, values)
        self.message = self.t(key, **values) if key else ""

    def relanguage(self) -> None:
        self.refresh()
        self.show_report()
        if self.message:
            self.say(self._said[0], **self._said[1])
        self.retell_error()

    def on_failure(self) -> None:
        self.message = ""  # what failed replaces what was being done

    def device_name(self, device: str) -> str:
        key = f"device.{device}"
        name = self.t(key)
        return device if name == key else name

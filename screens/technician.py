"""The technician screen: what this terminal is and how its devices are, and the
technician's tools: the self-test (the same run as ``kiosk selftest``: the pass/fail
table with the reason for each failure, sent to the dashboard), enrolment with a
one-time code typed on the on-screen keyboard, the devices' serial ports (what answers on
each, and a device put on the port it was found on: kiosk.devices), a printer test page, a
diagnostics bundle sent to the dashboard, and the way out.

Opened only after the PIN (screens.technician_pin), with no citizen's visit open
(``Terminal.begin_service``); leaving it, or a while without a touch, gives the
terminal back to citizens (``Terminal.end_service``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from functools import partial

from kivy.clock import Clock
from kivy.factory import Factory
from kivy.metrics import dp
from kivy.properties import BooleanProperty, NumericProperty, OptionProperty, StringProperty

from kiosk import __version__, selftest
from kiosk.config import china_time
from kiosk.devices import (
    IN_USE,
    NOTHING,
    PLACEABLE,
    UNREADABLE,
    WEDGE,
    CameraView,
    Finding,
    where,
)
from kiosk.technician import enrolment_code, facts, send_diagnostics, uptime_parts
from screens.base import KioskScreen
from screens.keyboard import KioskKeyboard
from screens.technician_pin import IdleWatch

log = logging.getLogger(__name__)
HEALTH_EVERY = 10.0  # s between refreshes of the devices' health while the screen is open
LISTEN_SECONDS = 30  # s the kiosk listens for the scanner being tried


def _made(cls: str, **values):
    """A row of a kv class whose properties the kv rule declares (set after it is made)."""
    row = getattr(Factory, cls)()
    for name, value in values.items():
        setattr(row, name, value)
    return row


class TechnicianScreen(KioskScreen):
    panel = OptionProperty("start", options=["start", "selftest", "enrol", "ports"])
    message = StringProperty("")  # what the last tool did
    summary = StringProperty("")  # the self-test's count, and whether the dashboard has it
    passed = BooleanProperty(True)
    code = StringProperty("")  # the enrolment code as typed, grouped for reading
    camera_hint = StringProperty("")  # the two cameras may be swapped: said under them
    paper_mm = NumericProperty(0)  # the receipt paper's width; 0: no printer fitted

    def __init__(self, terminal, nav, **kw):
        self._panels: dict = {}
        super().__init__(terminal, nav, **kw)
        self.keyboard: KioskKeyboard | None = None
        self.report: selftest.Report | None = None  # the last self-test's, while on screen
        self._watch = IdleWatch(terminal, self.exit)
        self._refresh_task: asyncio.Task | None = None
        self._said: tuple[str, dict] = ("", {})
        self._health_tick = None
        self.findings: list[Finding] = []  # what "find devices" found on the serial ports
        self.views: list[CameraView] = []  # what the cameras showed (while on screen)
        self._listening = threading.Event()  # set: stop listening for the scanner

    def on_kv_post(self, *_):
        # ids are weak references: keep the panels alive while they are off screen
        self._panels = {name: self.ids[f"{name}_panel"].__self__
                        for name in ("start", "selftest", "enrol", "ports")}  # fmt: skip
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
        self.findings = []
        self.ids.port_rows.clear_widgets()
        self.refresh()
        self._health_tick = Clock.schedule_interval(self._tick, HEALTH_EVERY)
        self._watch.start()

    def on_leave(self, *_):
        super().on_leave()
        self._listening.set()  # no scanner tried any more: its ports go back
        self.show_cameras([])  # no camera's picture stays (a face, a page)
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

    # -- the devices' ports ------------------------------------------------------
    def show_ports(self) -> None:
        if self.busy:
            return
        self._close_keyboard()
        self.panel = "ports"
        self.say("")
        self.show_placed()
        self.show_findings()
        self.run(self._look())  # what each camera sees, at once

    def show_placed(self) -> None:
        """Where each serial device is now, and the receipt paper's width."""
        printer = self.terminal.config.printer
        self.paper_mm = printer.paper_mm if self.terminal.ports.printer is not None else 0
        rows = self.ids.placed
        rows.clear_widgets()
        for device in PLACEABLE:
            rows.add_widget(_made("TechFact", name=self.device_name(device),
                                  value=self._where(device)))  # fmt: skip

    def _where(self, device: str) -> str:
        cfg = self.terminal.config
        at = where(cfg, device)
        if not at:
            wedge = device == "scanner" and cfg.scanner.driver == "wedge"
            return self.t("technician.ports_wedge" if wedge else "technician.ports_off")
        if not at.startswith("/"):  # a network printer: not on a serial port
            return self.t("technician.ports_network", address=at)
        return at

    def find_devices(self) -> None:
        if self.busy:
            return
        self.panel, self.findings = "ports", []
        self.show_placed()
        self.show_findings()
        self.say("technician.ports_finding")
        self.run(self._find())

    async def _find(self, said: tuple[str, dict] | None = None) -> None:
        self.findings = await self.terminal.find_devices()
        self.show_findings()
        if said is not None:
            self.say(said[0], **said[1])
        elif not self.findings:
            self.say("technician.ports_no_ports")
        else:
            self.say("technician.ports_found", ports=len(self.findings),
                     devices=sum(f.placeable for f in self.findings))  # fmt: skip

    def listen_for_scanner(self) -> None:
        if self.busy:
            return
        self.panel = "ports"
        self._listening = threading.Event()
        self.say("technician.ports_scan_now", seconds=LISTEN_SECONDS)
        self.run(self._listen(self._listening))

    async def _listen(self, stop: threading.Event) -> None:
        heard = await self.terminal.listen_for_scanner(LISTEN_SECONDS, stop)
        if heard is None:
            self.say("technician.ports_not_heard")
            return
        self.findings = [heard, *(f for f in self.findings if f.port != heard.port)]
        self.show_findings()
        if heard.port == WEDGE:
            self.say("technician.ports_heard_typing")
        else:
            self.say("technician.ports_heard", port=heard.port)

    def show_findings(self) -> None:
        rows = self.ids.port_rows
        rows.clear_widgets()
        first: list = []  # the first row with a device to use: brought into view
        for f in self.findings:
            about = " ".join(x for x in (f.about, f"→ {f.same_as}" if f.same_as else "") if x)
            rows.add_widget(_made(
                "TechPort", port=self._port_name(f), about=about, found_text=self._found_text(f),
                good=f.placeable, use_action=f"ports:use:{f.port}",
                use_text=self._use_text(f), choose=partial(self.place, f)))  # fmt: skip
            if f.placeable and not first:
                first.append(rows.children[0])
        if first:  # the list from its top, and the first device to use within it
            self._into_view(rows, first[0])

    def _port_name(self, f: Finding) -> str:
        """The port as the technician reads it (a scanner that types has none)."""
        return self.t("technician.ports_wedge") if f.port == WEDGE else f.port

    def _use_text(self, f: Finding) -> str:
        """The words of a row's button: "" for none (nothing there to use)."""
        if not f.placeable:
            return ""
        if f.port == WEDGE:
            return self.t("technician.ports_use_typing")
        return self.t("technician.ports_use", device=self.device_name(f.found))

    def _found_text(self, f: Finding) -> str:
        if f.found == IN_USE:
            return self.t("technician.ports_in_use", device=self.device_name(f.used_by))
        if f.found == NOTHING:
            return self.t("technician.ports_nothing")
        if f.found == UNREADABLE:
            return self.t("technician.ports_unreadable", why=f.detail)
        if f.found == "idcard":
            return self.t("technician.ports_found_idcard", sam=f.detail, baud=f.baudrate)
        if f.port == WEDGE:
            return self.t("technician.ports_found_typing")
        return self.t(f"technician.ports_found_{f.found}", baud=f.baudrate)

    def place(self, f: Finding) -> None:
        if self.busy:
            return
        port = self._port_name(f)
        self.say("technician.ports_placing", device=self.device_name(f.found), port=port)
        self.run(self._place(f, port))

    async def _place(self, f: Finding, port: str) -> None:
        await self.terminal.place_device(f.found, f.port, f.baudrate)
        self.show_placed()
        # the ports as they are now (the one used before is free, this one in use), then
        # what was done: a scanner found by a scan is not found by asking again
        await self._find(("technician.ports_placed",
                          {"device": self.device_name(f.found), "port": port}))

    def change_paper(self) -> None:
        """The other width (58 or 80 mm): receipts laid out for it from now on."""
        if self.busy or not self.paper_mm:
            return
        self.run(self._paper(58 if self.paper_mm == 80 else 80))

    async def _paper(self, mm: int) -> None:
        await self.terminal.set_paper(mm)
        self.show_placed()
        self.say("technician.paper_changed", mm=mm)

    def look_cameras(self) -> None:
        if self.busy:
            return
        self.run(self._look())

    async def _look(self) -> None:
        self.show_cameras(await self.terminal.camera_views())

    def show_cameras(self, views: list[CameraView]) -> None:
        """Each camera's picture now and what was found in it: a page under the document
        camera, a face before the face camera (both missing: the cables may be swapped)."""
        grid = self.ids.camera_views
        grid.clear_widgets()
        for v in views:
            if v.preview is None:
                sees = self.t("technician.cameras_no_picture", why=v.detail)
            else:
                sees = self.t(f"technician.cameras_{v.device}_{'sees' if v.sees else 'blind'}")
            cell = _made("TechCamera", name=self.device_name(v.device), source=v.source,
                         sees_text=sees, good=bool(v.sees))  # fmt: skip
            if v.preview is not None:
                cell.ids.picture.show_frame(v.preview)
            grid.add_widget(cell)
        pictures = [v for v in views if v.preview is not None]
        self.camera_hint = (self.t("technician.cameras_swapped_maybe")
                            if len(pictures) == 2 and not any(v.sees for v in pictures) else "")  # fmt: skip
        self.views = views
        if self.camera_hint:  # the technician must see both pictures
            self._into_view(grid)

    def swap_cameras(self) -> None:
        if self.busy:
            return
        self.say("technician.cameras_swapping")
        self.run(self._swap())

    async def _swap(self) -> None:
        await self.terminal.swap_cameras()
        await self._look()
        self.say("technician.cameras_swapped")

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
    def _into_view(self, *widgets) -> None:
        """Scroll the tool's panel (taller than its room) to each of ``widgets`` in turn,
        once laid out (the next frame); scroll_to moves only as far as it must, so a later
        one stays in view with an earlier one where both fit."""

        def scroll(_dt) -> None:
            for widget in widgets:
                self.ids.work_scroll.scroll_to(widget, padding=dp(12), animate=False)

        Clock.schedule_once(scroll, 0.1)

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
        self.show_placed()
        self.show_findings()
        self.show_cameras(self.views)
        if self.message:
            self.say(self._said[0], **self._said[1])
        self.retell_error()

    def on_failure(self) -> None:
        self.message = ""  # what failed replaces what was being done

    def device_name(self, device: str) -> str:
        key = f"device.{device}"
        name = self.t(key)
        return device if name == key else name

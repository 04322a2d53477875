"""The technician's walkthrough (`kiosk demo --scenario technician`): the corner gesture
on the header, a wrong PIN then the right one, the ID card reader and the scanner found on
ports the config file does not name and put there, the two cameras swapped back, enrolment with a one-time code typed
on the on-screen keyboard, the self-test's table, and the way out. Like
screens.walkthrough it knows the screens, not the devices.
"""

from __future__ import annotations

import time

from kivy.metrics import dp

from kiosk.devices import where
from kiosk.technician import PATTERN
from screens.touch import press, release
from screens.walkthrough import Props, Walkthrough, until


def corner_gesture(w: Walkthrough, pattern=PATTERN) -> None:
    """Quick taps near the header's corners, as a technician's finger makes them. All in
    one go: a window drawing slowly (software GL on a loaded machine) must not make
    them slower than a finger is."""
    header = w.app.root.ids.header
    left, bottom = header.to_window(header.x, header.y)
    for zone in pattern:
        x = left + dp(48) if zone == "left" else left + header.width - dp(48)
        release(press(x, bottom + header.height / 2))


DEMO_PLACE = "东侧入口 1 号机"


async def type_keys(w: Walkthrough, text: str) -> None:
    for ch in text:
        await w.tap(f"key:{ch.lower()}")


def _state(screen, device: str) -> str:
    """The state the technician screen's device list shows for ``device``."""
    name = screen.device_name(device)
    return next((row.state for row in screen.ids.devices.children if row.text == name), "")


async def use_tool(w: Walkthrough, screen, action: str, done, what: str,
                   timeout: float = 20) -> None:
    """Tap ``action`` and wait until the screen is idle again with ``done()`` true."""
    await w.tap(action)
    await until(lambda: not screen.busy and done(), timeout, what)


async def find_devices(w: Walkthrough, screen, props: Props, seen: dict) -> None:
    """The reader and the scanner are on ports the config does not name, the cameras on
    each other's (kiosk.cli's miswired): put right from the technician screen."""
    seen["before"] = {d: _state(screen, d) for d in ("idcard", "scanner")}
    await w.tap("technician:ports")
    await until(lambda: len(screen.views) == 2 and not screen.busy, 15, "the cameras' pictures")
    seen["cameras_before"] = {v.device: v.sees for v in screen.views}
    seen["camera_hint"] = screen.camera_hint
    await w.tap("ports:find")
    await until(lambda: bool(screen.findings) and not screen.busy, 30, "what is on the ports")
    await w.settle(0.3)
    await w.screenshot("t04b-ports-found")
    seen["found"] = [[f.port.rsplit("/", 1)[-1], f.found, f.used_by] for f in screen.findings]
    seen["found_message"] = screen.message
    reader = next(f for f in screen.findings if f.found == "idcard")
    await w.tap(f"ports:use:{reader.port}")
    await until(lambda: not screen.busy and screen.terminal.config.idcard.port == reader.port,
                30, "the reader on its port")  # fmt: skip
    # the device list says so at its next look (asked now, not in 10 s)
    screen.refresh()
    await until(lambda: _state(screen, "idcard") == "ok", 15, "the reader working")
    seen["placed_message"] = screen.message
    await w.screenshot("t04c-reader-placed")
    # The scanner only sends: the kiosk listens on the free ports while one code is scanned
    await w.tap("ports:listen")
    await until(lambda: screen.busy, 5, "the kiosk listening")
    seen["listen_message"] = screen.message
    await w.settle(1.0)
    props.scan_code("https://zwfw.example.gov.cn/track/AF2026120800001")
    await until(lambda: not screen.busy and any(f.found == "scanner" for f in screen.findings),
                30, "the scanner heard")  # fmt: skip
    scanner = next(f for f in screen.findings if f.found == "scanner")
    await w.settle(0.3)
    await w.screenshot("t04d-scanner-heard")
    await w.tap(f"ports:use:{scanner.port}")
    # on a serial port, or (a scanner that types) the keyboard-type driver
    await until(lambda: not screen.busy and where(screen.terminal.config, "scanner") in (
        scanner.port, ""), 30, "the scanner on its port")  # fmt: skip
    seen["scanner_driver"] = screen.terminal.config.scanner.driver
    screen.refresh()
    await until(lambda: _state(screen, "scanner") == "ok", 15, "the scanner")
    seen["after"] = {d: _state(screen, d) for d in ("idcard", "scanner")}
    seen["placed_ports"] = [screen.terminal.config.idcard.port.rsplit("/", 1)[-1],
                            screen.terminal.config.scanner.port.rsplit("/", 1)[-1]]  # fmt: skip
    await w.screenshot("t04e-ports-placed")
    # The cameras, plugged into each other's hub ports: neither saw what it is for. Swapped.
    await w.tap("ports:look")
    await until(lambda: not screen.busy and len(screen.views) == 2, 15, "the cameras' pictures")
    await w.settle(0.3)
    await w.screenshot("t04f-cameras-swapped")
    await use_tool(w, screen, "ports:swap", lambda: all(v.sees for v in screen.views),
                   "each camera seeing what it is for")  # fmt: skip
    seen["cameras_after"] = {v.device: v.sees for v in screen.views}
    seen["cameras_message"] = screen.message
    await w.settle(0.3)
    await w.screenshot("t04g-cameras-right")
    # The receipt paper's width: a 58 mm roll, then back to the rig's 80 mm printer
    def paper():
        return screen.terminal.config.printer

    await use_tool(w, screen, "ports:paper", lambda: paper().paper_mm == 58, "58 mm paper")
    seen["paper_message"] = screen.message
    await w.settle(0.3)
    await w.screenshot("t04h-paper-58")
    await use_tool(w, screen, "ports:paper", lambda: paper().paper_mm == 80, "80 mm paper again")


async def technician_steps(w: Walkthrough, props: Props, pin: str, code: str) -> None:
    seen: dict = {}
    await w.screenshot("t01-attract")
    # A citizen's taps on one corner, however many, open nothing
    corner_gesture(w, ("right",) * 8)
    await w.settle(0.3)
    seen["one_corner_opened"] = not w.on("attract")
    corner_gesture(w)
    await until(lambda: w.on("technician_pin"), 5, "the PIN pad")
    wrong = pin[:-1] + ("1" if pin[-1] != "1" else "2")
    await type_keys(w, wrong)
    await w.screenshot("t02-pin-typed")
    await w.tap("pin:ok")
    await until(lambda: bool(w.screen().error) and not w.screen().busy, 10, "the wrong-PIN message")
    await w.screenshot("t03-pin-wrong")
    seen["wrong_pin"] = w.screen().error
    await w.tap("language")  # the pad in the other language, then back
    seen["pin_pad_switched"] = [w.app.language, w.screen().message, w.screen().error]
    await w.tap("language")
    await type_keys(w, pin)
    await w.tap("pin:ok")
    await until(lambda: w.on("technician"), 10, "the technician screen")
    screen = w.screen()
    await until(lambda: len(screen.ids.devices.children) > 0, 10, "the devices' health")
    seen["servicing"] = screen.terminal.servicing
    await w.screenshot("t04-technician")
    await find_devices(w, screen, props, seen)
    # Enrolment: the code the platform gave, typed on the on-screen keyboard
    await w.tap("technician:enrol")
    await type_keys(w, code.replace("-", ""))
    await w.screenshot("t05-enrol-typed")
    await w.tap("key:done")
    await until(lambda: screen.terminal.enrolled and not screen.busy, 20, "the enrolment")
    await until(lambda: screen.error == "" and screen.terminal.config.terminal.id in " ".join(
        c.value for c in screen.ids.facts.children), 10, "the new terminal id on screen")  # fmt: skip
    seen["enrolled_as"] = screen.terminal.config.terminal.id
    seen["enrol_message"] = screen.message
    # The hall names where it stands on the dashboard; the terminal hears it at its next
    # beat (asked for now: the platform's pushes are read afresh every few seconds)
    props.name_place(screen.terminal.config.terminal.id, DEMO_PLACE)

    asked = [0.0]

    def placed() -> bool:
        if screen.terminal.config.terminal.place != DEMO_PLACE:
            if time.monotonic() - asked[0] > 1:  # a beat a second until it comes
                asked[0] = time.monotonic()
                screen.terminal.beat_now()
            return False
        return DEMO_PLACE in [c.value for c in screen.ids.facts.children]

    await until(placed, 20, "the terminal's place on its technician screen")
    seen["place_shown"] = DEMO_PLACE
    await w.screenshot("t06-enrolled")
    await w.tap("technician:enrol")  # again, now enrolled: what a new code would replace
    await until(lambda: screen.panel == "enrol" and bool(screen.message), 5, "the warning")
    seen["enrol_again"] = screen.message
    await w.tap("technician:selftest")
    await until(lambda: screen.report is not None and not screen.busy, 90, "the self-test's table")
    await w.settle(0.5)
    await w.screenshot("t07-selftest")
    seen["checks"] = [[c.device, c.passed, c.detail] for c in screen.report.checks]
    seen["selftest_sent"] = screen.report.sent
    seen["selftest_message"] = screen.message or screen.error
    first = w.app.language
    await w.tap("language")  # the same table in the other language
    await until(
        lambda: w.app.language != first and w.shows(w.app.t("technician.selftest_title")),
        5,
        "the screen in the other language",
    )
    await w.screenshot(f"t08-selftest-{w.app.language}")
    await w.tap("language")
    await w.tap("technician:exit")
    await until(lambda: w.on("attract"), 5, "the attract screen")
    seen["servicing_after_exit"] = screen.terminal.servicing
    props.report(seen)

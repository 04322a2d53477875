"""The kiosk in a real window, its ID card reader the GA 467 emulator on a pty (the real
serial driver), for two things a citizen sees around the end of a visit. Run by
tests/ui/test_header_and_goodbye.py in its own process (Kivy makes one window per process):
``python tests/ui/header_goodbye_app.py OUT_DIR WIDTH HEIGHT MODE``.

``error-notice``: what a touch set going meets a defect (it raises in a Clock callback,
where Kivy hands it to the app's exception handler); the header's "something went wrong"
notice is shown, passes after its time (shortened here), and, shown again, ends with the
visit: the next citizen's header is clear.

``done-at-once``: the reader is switched to 9600 baud once the citizen is identified (a
card's read then takes over a second on the wire), and 完成 is touched as soon as the
goodbye is up, before the watch of the readers has looked at them; the card is still on
the reader.

Prints one JSON line: what was seen, and the screenshots' paths.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTICE_SECONDS = 2.0  # the error notice's time in this test (the kiosk's is a minute)


async def waited(check, timeout: float) -> bool:
    """Whether ``check()`` came true within ``timeout`` seconds (polled, not raised)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def identified(app, emulator, index: int) -> None:
    from screens.walkthrough import until

    emulator.insert(index)  # laid on the reader: the kiosk reads it and greets the citizen
    await until(lambda: app.screens.current == "home" and app.terminal.session is not None, 20,
                "the home screen of the visit")  # fmt: skip


async def error_notice(app, w, emulator, _reader) -> dict:
    from kivy.clock import Clock

    import screens.app as kiosk_app
    from screens.walkthrough import until

    kiosk_app.CALL_FAILED_SECONDS = NOTICE_SECONDS
    await identified(app, emulator, 0)
    home = app.screens.get_screen("home")

    def defect(_dt) -> None:
        raise RuntimeError("a defect in a screen (raised by the test)")

    # the button's work, done on the next frame (as a screen's updates are), meets a bug
    home.read_social_card = lambda: Clock.schedule_once(defect)
    # A touch runs into the defect: the header says something went wrong
    await w.tap("read_social_card")
    shown = await waited(lambda: bool(app.notice), 5)
    shown_at = time.monotonic()
    said = app.notice
    shown_shot = await w.screenshot("error-notice-shown")
    # ... for its time, then it passes by itself
    still_at_1s = await waited(lambda: not app.notice, shown_at + 1.0 - time.monotonic()) is False
    passed = await waited(lambda: not app.notice, NOTICE_SECONDS + 3)
    passed_after = round(time.monotonic() - shown_at, 2)
    passed_shot = await w.screenshot("error-notice-passed")
    # Shown again (with the kiosk's own minute), then the visit ends: 完成, the card taken
    kiosk_app.CALL_FAILED_SECONDS = 60
    await w.tap("read_social_card")
    again = await waited(lambda: bool(app.notice), 5)
    await w.tap("finish")
    await until(lambda: app.screens.current == "end", 10, "the goodbye")
    at_goodbye = app.notice
    removed_at = time.monotonic()
    emulator.remove()
    await until(lambda: app.terminal.cards_checked_at > removed_at + 0.05
                and not app.terminal.cards_left, 10, "the card seen taken")  # fmt: skip
    await w.tap("done")
    await until(lambda: app.screens.current == "attract", 10, "the attract screen")
    at_attract = app.notice
    # The next citizen lays their card: their header is clear
    await identified(app, emulator, 2)
    next_shot = await w.screenshot("error-notice-next-visit")
    return {"shown": shown, "said": said, "still_at_1s": still_at_1s, "passed": passed,
            "passed_after": passed_after, "shown_again": again, "at_goodbye": at_goodbye,
            "at_attract": at_attract, "next_visit": app.notice,
            "shots": {"shown": str(shown_shot), "passed": str(passed_shot),
                      "next_visit": str(next_shot)}}  # fmt: skip


async def done_at_once(app, w, emulator, reader) -> dict:
    from screens.walkthrough import until

    await identified(app, emulator, 0)
    # the reader and its port at 9600 baud from now on (the protocol's 60 0n command)
    await asyncio.to_thread(reader.set_baudrate, 9600)
    entered: list[float] = []
    shown: list[str] = []  # the screens shown from the goodbye on

    def changed(_manager, current: str) -> None:
        shown.append(current)
        if current == "end" and not entered:
            entered.append(time.monotonic())

    app.screens.bind(current=changed)
    # The citizen is done and touches 完成 on the goodbye at once, the card still on the reader
    await w.tap("finish")
    await until(lambda: app.screens.current == "end", 10, "the goodbye")
    await w.tap("done")
    tapped = time.monotonic()
    looked_before_tap = app.terminal.cards_checked_at >= entered[0]
    end = app.screens.get_screen("end")
    asked = await waited(lambda: app.screens.current != "end" or end.left == ["id_card"], 6)
    after_tap = [s for s in shown if s != "end"]
    still_shot = await w.screenshot("done-at-once-card-still-there")
    facts = {"looked_before_tap": looked_before_tap,
             "tapped_after": round(tapped - entered[0], 2), "asked": asked,
             "current": app.screens.current, "left": list(end.left),
             "after_tap": after_tap, "attract_card_left": app.screens.get_screen("attract").card_left,
             "shots": {"still": str(still_shot)}}  # fmt: skip
    # Taken: the goodbye goes at once, and the next citizen reads of no card left
    emulator.remove()
    facts["went_when_taken"] = await waited(lambda: app.screens.current == "attract", 8)
    facts["card_left_after"] = app.screens.get_screen("attract").card_left
    return facts


def main() -> None:
    out, mode = Path(sys.argv[1]), sys.argv[4]
    sys.path.insert(0, str(ROOT))
    from kiosk.config import DisplayConfig, KioskConfig
    from screens.window import configure

    display = DisplayConfig(width=int(sys.argv[2]), height=int(sys.argv[3]))
    configure(display, out / "kivy")
    from kiosk.catalog import default_catalog_dir, load_catalog
    from kiosk.terminal import Ports, Terminal
    from peripherals.idcard.driver import SerialIdCardReader
    from peripherals.idcard.emulator import IdCardReaderEmulator
    from screens.app import KioskApp
    from screens.walkthrough import Walkthrough, until
    from tests.support.window_child import drive

    emulator = IdCardReaderEmulator()
    emulator.start()
    reader = SerialIdCardReader(emulator.path, reply_timeout=0.3)
    terminal = Terminal(Ports(id_reader=reader), KioskConfig(), load_catalog(default_catalog_dir()))
    app = KioskApp(terminal, ["通知"], "洲湖镇便民服务中心")
    steps = {"error-notice": error_notice, "done-at-once": done_at_once}[mode]

    async def script() -> dict:
        await until(lambda: app.root is not None and app.screens.current == "attract", 30,
                    "the attract screen")  # fmt: skip
        w = Walkthrough(app, out)
        await w.drawn()
        return await steps(app, w, emulator, reader)

    try:
        print(json.dumps(drive(app, script)))
    finally:
        reader.close()
        emulator.stop()


if __name__ == "__main__":
    main()

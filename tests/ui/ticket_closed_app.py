"""The queue-ticket screen when the hall's windows are shut, in a real window: the hall's
office hours over the queues, and, when the platform gives no ticket (409 ticket.closed,
tested against the real server in tests/integration/test_citizen_api.py), why and when to
come back, in the citizen's language. The platform here answers as that server does.
Run by tests/ui/test_ticket_closed.py in its own process:
``python tests/ui/ticket_closed_app.py OUT_DIR WIDTH HEIGHT``.

Prints one JSON line: what the screen says, and screenshots.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OPENS = "2026-12-08T08:30:00+08:00"  # as the platform says when the windows next open


class ShutHall:
    """The platform's answer to a ticket asked for at night (its JSON, as the client parses it)."""

    async def ticket(self, point: str, kind: str):
        from kiosk.errors import PlatformRejected

        raise PlatformRejected("HTTP 409 ticket.closed", status=409, message_key="ticket.closed",
                               messages={"zh": "窗口现在不办公，不能取号。"}, details=(OPENS,))  # fmt: skip


async def script(app, out: Path) -> dict:
    from screens.walkthrough import until
    from tests.support.window_child import attract

    w = await attract(app, out)
    app.show("ticket")
    await until(lambda: app.screens.current == "ticket", 10, "the ticket screen")
    screen = app.screens.current_screen
    await w.drawn()
    got = {"hours": screen.hours}
    await w.tap("queue:general")
    await until(lambda: bool(screen.error), 10, "the answer")
    await w.drawn()
    got.update(said=screen.error, taken=screen.taken, shot=str(await w.screenshot("ticket-closed")))
    await w.tap("language")
    await until(lambda: app.language == "en", 5, "English")
    await w.drawn()
    got.update(said_en=screen.error, hours_en=screen.hours,
               shot_en=str(await w.screenshot("ticket-closed-en")))  # fmt: skip
    return got


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from kiosk.config import KioskConfig, TerminalConfig
    from tests.support.window_child import kiosk_window

    def ports():
        from kiosk.terminal import Ports

        return Ports(platform=ShutHall())

    kiosk_window(script, ports=ports, config=KioskConfig(terminal=TerminalConfig(service_point="zhouhu")))

"""systemd's notification protocol (sd_notify): READY, WATCHDOG, STOPPING.

The kiosk unit is Type=notify with WatchdogSec: the app says READY once the
first frame is drawn and pings WATCHDOG from its main loop, so a frozen UI is
restarted by systemd. Outside systemd ($NOTIFY_SOCKET unset) every call is a no-op.
"""

from __future__ import annotations

import os
import socket


class Notifier:
    def __init__(self, address: str | None = None):
        self.address = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    def watchdog_interval(self) -> float:
        """Half the unit's WatchdogSec, in seconds (0 when there is no watchdog)."""
        usec = os.environ.get("WATCHDOG_USEC", "")
        return int(usec) / 2_000_000 if usec.isdigit() else 0.0

    def notify(self, state: str) -> bool:
        if not self.enabled:
            return False
        addr = self.address
        if addr.startswith("@"):  # abstract namespace socket
            addr = "\0" + addr[1:]
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.connect(addr)
                sock.sendall(state.encode())
        except OSError:
            return False  # a side effect: systemd will notice by itself if we are gone
        return True

    def ready(self) -> bool:
        return self.notify("READY=1")

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")

"""Code scanner drivers implementing ``kiosk.ports.CodeScanner``.

* :class:`SerialCodeScanner` reads a serial (or USB-CDC) scanner with pyserial;
  the port is reopened when the device comes back after being unplugged.
* :class:`KeyboardWedgeScanner` recognises a scan among key presses: the
  scanner "types" a whole code in a fast burst ending in Enter, a person is
  slower. The screen feeds it key events; it queues the codes.

Both are blocking and meant for a worker thread (``asyncio.to_thread``).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import deque

import serial

from kiosk.errors import DeviceError
from kiosk.health import Health
from peripherals.errors import cause
from peripherals.scanner.framing import IDLE_TIMEOUT, ScanFramer

log = logging.getLogger(__name__)

POLL = 0.05  # seconds one serial read may block: how late read_code may return


class SerialCodeScanner:
    """A scanner on a serial port (8N1, no flow control).

    Opening is lazy and retried at most every ``reconnect_interval`` seconds,
    so an unplugged scanner costs nothing and is picked up again when it
    returns (under the same path: a udev symlink on a real terminal).
    """

    def __init__(
        self,
        port: str,
        baudrate: int = 9600,
        name: str = "scanner",
        *,
        idle_timeout: float = IDLE_TIMEOUT,
        reconnect_interval: float = 0.5,
    ) -> None:
        self.name = name
        self.port = port
        self.baudrate = baudrate
        self.reconnect_interval = reconnect_interval
        self._framer = ScanFramer(idle_timeout=idle_timeout)
        self._codes: deque[str] = deque()
        self._serial: serial.Serial | None = None
        self._lock = threading.Lock()  # one reader at a time; health() reads state only
        self._closing = threading.Event()  # lets close() cut a long read_code short
        self._fault = ""
        self._next_open = 0.0
        self._dropped_seen = 0
        self._degraded = ""
        self._quiet = True  # the last read found the line quiet (no byte within POLL)

    def read_code(self, timeout: float) -> str | None:
        """The next scanned code, or None if none arrives within ``timeout`` s.

        :raises DeviceError: the port cannot be opened or failed while reading
            (unplugged); a later call reopens it once the device is back.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        with self._lock:
            while True:
                if self._codes:
                    return self._codes.popleft()
                now = time.monotonic()
                if now >= deadline or self._closing.is_set():
                    return None
                port = self._ensure_open(now)
                self._read_some(port)

    def health(self) -> Health:
        """ok / degraded (garbled or over-long frames) / fault (port gone); never raises."""
        if self._fault:
            return Health.fault(self.name, self._fault, port=self.port)
        if self._serial is None:
            return Health.degraded(self.name, "port not opened yet", port=self.port)
        if self._degraded:
            return Health.degraded(self.name, self._degraded, port=self.port)
        return Health.good(self.name, port=self.port, baudrate=str(self.baudrate))

    def close(self) -> None:
        """Release the port; a read_code waiting in another thread returns None
        within one poll. A later read_code opens the port again."""
        self._closing.set()
        with self._lock:
            self._close_port()
            self._closing.clear()

    def _ensure_open(self, now: float) -> serial.Serial:
        if self._serial is not None:
            return self._serial
        if now < self._next_open and self._fault:
            raise DeviceError(self._fault, message_key="error.scanner")
        self._next_open = now + self.reconnect_interval
        try:
            self._serial = serial.Serial(
                self.port, self.baudrate, bytesize=8, parity="N", stopbits=1, timeout=POLL
            )
        except (serial.SerialException, OSError, ValueError) as err:
            self._fault = f"cannot open scanner port {self.port}: {cause(err)}"
            raise DeviceError(self._fault, message_key="error.scanner") from err
        if self._fault:
            log.info("scanner on %s is back", self.port)
        self._fault = ""
        self._framer = ScanFramer(idle_timeout=self._framer.idle_timeout)
        self._dropped_seen = 0
        self._quiet = True
        return self._serial

    def _read_some(self, port: serial.Serial) -> None:
        try:
            # Block for the first byte (at most the port's POLL timeout), then take
            # whatever else has arrived. The timeout is fixed at open: changing it
            # reconfigures the tty on every call.
            data = port.read(1)
            if data and port.in_waiting:
                data += port.read(port.in_waiting)
        except (serial.SerialException, OSError) as err:
            self._close_port()
            self._fault = f"scanner port {self.port} failed (unplugged?): {cause(err)}"
            log.warning("%s", self._fault)
            raise DeviceError(self._fault, message_key="error.scanner") from err
        now = time.monotonic()
        if data:
            # Only a read that found nothing shows the line was quiet: bytes that
            # queued while this thread was not scheduled (a busy machine) are no gap.
            codes = self._framer.feed(data, now, gap_seen=self._quiet)
            self._quiet = False
        else:
            self._quiet = True
            codes = self._framer.flush(now)
        self._codes.extend(codes)
        self._note_drops(bool(codes))

    def _note_drops(self, got_code: bool) -> None:
        if self._framer.dropped_total != self._dropped_seen:
            self._dropped_seen = self._framer.dropped_total
            last = self._framer.last_dropped
            if last is not None and last.reason == "undecodable":
                self._degraded = f"unreadable data from scanner (is it set to {self.baudrate} 8N1?)"
            elif last is not None:
                self._degraded = f"scanned code too long ({last.length} bytes), dropped"
        elif got_code:
            self._degraded = ""

    def _close_port(self) -> None:
        if self._serial is not None:
            # Already gone after an unplug: nothing left to release.
            with contextlib.suppress(serial.SerialException, OSError):
                self._serial.close()
            self._serial = None


class KeyboardWedgeScanner:
    """A scanner that types: a burst of keys faster than ``max_gap`` ending in Enter.

    :meth:`feed_key` is pure (returns the code it completed, if any) and also
    queues the code for :meth:`read_code`, so this is a ``CodeScanner`` too.
    Times are monotonic seconds from the key events.
    """

    ENTER = ("\r", "\n")

    def __init__(self, name: str = "scanner", *, max_gap: float = 0.05, min_length: int = 4):
        self.name = name
        self.max_gap = max_gap
        self.min_length = min_length
        self._keys: list[str] = []
        self._last: float | None = None
        self._queue: queue.Queue[str] = queue.Queue()

    def feed_key(self, char: str, t: float) -> str | None:
        """One key event; returns the code when this Enter ends a scanner burst."""
        fast = self._last is not None and t - self._last < self.max_gap
        self._last = t
        if char in self.ENTER:
            code = "".join(self._keys) if fast and len(self._keys) >= self.min_length else None
            self._keys.clear()
            if code is not None:
                self._queue.put(code)
            return code
        if not fast:
            self._keys.clear()  # a slow key starts a new candidate burst
        self._keys.append(char)
        return None

    def read_code(self, timeout: float) -> str | None:
        """The next code typed by the scanner, or None after ``timeout`` s."""
        try:
            return self._queue.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None

    def health(self) -> Health:
        """Always ok: a keyboard wedge has no link of its own to check."""
        return Health.good(self.name, mode="keyboard-wedge")

    def close(self) -> None:
        self._keys.clear()

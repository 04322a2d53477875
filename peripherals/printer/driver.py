"""The receipt printer adapter: kiosk.ports.ReceiptPrinter over python-escpos.

Blocking calls, for a worker thread. One lock serialises the status poller and
printing. Status is read before a job and again after it, for a short while,
because many printers only notice the end of the roll once the job is in
their buffer. A job that met an empty roll is kept (one job, never a queue)
and printed again in full once paper is back, unless it has gone stale: the
citizen it belongs to has left, and their slip must not land in the tray for
the next person.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import socket
import termios
import threading
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from kiosk.errors import PaperOut, PrinterError
from kiosk.health import Health
from kiosk.ports import PrinterStatus
from kiosk.receipt import Align, Pair, Qr, Receipt, Rule, Text
from peripherals.printer.layout import layout, paper
from peripherals.printer.status import QUERY, StatusReport, check, decode

log = logging.getLogger(__name__)

_PRINTABLE = (PrinterStatus.OK, PrinterStatus.PAPER_NEAR_END)


# what a serial port that has gone (unplugged, power-cycled) raises: pyserial's errors are
# OSErrors, but termios.error (from reset_input_buffer on a vanished tty) is not
_IO_ERRORS = (OSError, termios.error)


class _LinkLost(PrinterError):
    """The connection died under us; one fresh connection is worth a try."""


def _utc(t: dt.datetime) -> dt.datetime:
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t


class EscposPrinter:
    """An ESC/POS printer at ``tcp://host:port`` or ``serial:///dev/ttyX?baudrate=9600``."""

    def __init__(
        self,
        connection: str,
        paper_mm: int = 80,
        name: str = "printer",
        stale_after: float = 120.0,
        native_qr: bool = True,
        *,
        timeout: float = 3.0,
        settle: float = 1.0,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        """:param settle: seconds to keep polling status after a job for a late paper end.
        :param clock: the current time (tests give a fixed one); naive ``created_at``
            values are taken as UTC.
        :raises ValueError: a connection URL or paper width we do not know.
        """
        paper(paper_mm)
        self.connection, self.paper_mm, self.name = connection, paper_mm, name
        self.stale_after, self.native_qr = stale_after, native_qr
        self.timeout, self.settle = timeout, settle
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._kind, self._args = self._parse(connection)
        self._lock = threading.RLock()
        self._dev = None  # an open python-escpos printer, or None
        self._pending: Receipt | None = None
        self._discard = False  # the session ended: drop the kept job (see discard_pending)

    @staticmethod
    def _parse(url: str) -> tuple[str, dict]:
        u = urlsplit(url)
        if u.scheme == "tcp" and u.hostname:
            return "tcp", {"host": u.hostname, "port": u.port or 9100}
        if u.scheme == "serial" and u.path:
            q = {k: v[-1] for k, v in parse_qs(u.query).items()}
            return "serial", {
                "devfile": u.path,
                "baudrate": int(q.get("baudrate", 9600)),
                "dsrdtr": q.get("dsrdtr", "0") == "1",
            }
        raise ValueError(
            f"printer connection {url!r}: use tcp://host:port or serial:///dev/ttyX?baudrate=9600"
        )

    # -- link -----------------------------------------------------------------------
    def _open(self):
        if self._dev is not None:
            return self._dev
        # Imported here: python-escpos makes a temp directory when imported.
        from escpos.exceptions import Error as EscposError
        from escpos.printer import Network, Serial

        try:
            if self._kind == "tcp":
                dev = Network(timeout=self.timeout, **self._args)
            else:
                dev = Serial(timeout=self.timeout, **self._args)
            dev.open()
            if self._kind == "tcp":  # DLE EOT is 3 bytes: send it now, not after Nagle's wait
                dev.device.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (EscposError, OSError) as err:
            raise PrinterError(
                f"unreachable: cannot open {self.connection}: {err}".replace("\n", " ")
            ) from err
        self._dev = dev
        return dev

    def _drop(self) -> None:
        dev, self._dev = self._dev, None
        if dev is None:
            return
        try:
            dev.close()
        except _IO_ERRORS:
            # a serial port that has gone fails the flush before its close: close the port
            # itself, so its descriptor is freed now (and escpos' __del__ does not try again)
            with contextlib.suppress(*_IO_ERRORS, AttributeError):
                dev.device.close()

    def _drain(self, dev) -> None:
        """Throw away stale bytes (a late answer to an earlier query) before asking."""
        if self._kind == "serial":
            dev.device.reset_input_buffer()
            return
        sock: socket.socket = dev.device
        sock.setblocking(False)
        try:
            while True:
                if not sock.recv(256):
                    raise _LinkLost(f"{self.connection} closed the connection")
        except BlockingIOError:
            pass
        finally:
            sock.settimeout(self.timeout)

    def _query(self, dev, n: int) -> int:
        self._drain(dev)
        dev._raw(QUERY[n])
        # python-escpos' Serial._read asks for 16 bytes and so always sits out the
        # whole timeout; a status reply is one byte.
        reply = dev.device.read(1) if self._kind == "serial" else dev._read()
        if not reply:
            if self._kind == "tcp":
                raise _LinkLost(f"{self.connection} closed the connection")
            raise PrinterError(
                f"no reply to DLE EOT {n} within {self.timeout:g} s on {self.connection}"
            )
        return check(n, reply[-1:])

    def _report_once(self) -> StatusReport:
        dev = self._open()
        try:
            return decode(*(self._query(dev, n) for n in (1, 2, 4)))
        except TimeoutError as err:
            self._drop()
            raise PrinterError(
                f"no reply to a status query within {self.timeout:g} s on {self.connection}"
            ) from err
        except PrinterError:
            self._drop()
            raise
        except _IO_ERRORS as err:
            self._drop()
            raise _LinkLost(f"{self.connection}: {err}") from err

    def _report(self) -> StatusReport:
        """One status reading; a dead connection gets one fresh reconnect."""
        try:
            return self._report_once()
        except _LinkLost:
            return self._report_once()

    def _send(self, data: bytes) -> None:
        dev = self._open()
        try:
            dev._raw(data)
        except _IO_ERRORS as err:
            self._drop()
            raise PrinterError(
                f"link failed while sending a job to {self.connection}: {err}"
            ) from err

    # -- the port ---------------------------------------------------------------------
    def status(self) -> PrinterStatus:
        """Real-time status (DLE EOT 1, 2, 4).

        :raises PrinterError: unreachable, no answer in time, or a garbled answer.
        """
        with self._locked():
            return self._report().status

    def print_receipt(self, receipt: Receipt) -> None:
        """Print one receipt in full, checking status before and after.

        A pending job of another receipt is dropped: its citizen has moved on.

        :raises PaperOut: no paper before, or paper ran out during, the job; the
            job is kept and :meth:`reprint_pending` prints it in full later.
        :raises PrinterError: offline, cover open, unreachable, or the link
            failed (a job the link failed in the middle of is kept too).
        """
        with self._locked():
            if self._pending is not None and self._pending.job_id != receipt.job_id:
                log.warning("printer: pending job %s dropped for a new job", self._pending.job_id)
                self._pending = None
            self._print(receipt)

    def _print(self, receipt: Receipt) -> None:
        before = self._report()
        if before.paper_out:
            self._pending = receipt
            raise PaperOut(f"before job {receipt.job_id}: {before.reason}")
        if before.status not in _PRINTABLE:
            raise PrinterError(f"before job {receipt.job_id}: {before.reason}")
        data = layout(receipt, self.paper_mm, native_qr=self.native_qr)
        self._pending = receipt  # until the printer has confirmed it
        self._send(data)
        after = self._after_job()
        if after.paper_out:
            raise PaperOut(f"during job {receipt.job_id}: {after.reason}; kept for a full reprint")
        if after.status not in _PRINTABLE:
            raise PrinterError(
                f"during job {receipt.job_id}: {after.reason}; kept for a full reprint"
            )
        self._pending = None
        if after.paper_near_end:
            log.warning("printer: %s", after.reason)

    def _after_job(self) -> StatusReport:
        deadline = time.monotonic() + self.settle
        while True:
            try:
                # not _report: a link lost after the job was sent is a printer that may have
                # restarted with the job half-taken (a power glitch); reconnected, it says
                # "ready" either way, and the receipt would count as printed. (A blip after
                # a receipt that did print gives a second copy on "print again": better
                # than none. A print server that hung up after every job would fail each.)
                report = self._report_once()
            except _LinkLost as err:
                raise PrinterError(f"link lost after the job was sent ({err.detail}); "
                                   "kept for a full reprint") from err  # fmt: skip
            if report.status not in _PRINTABLE or time.monotonic() >= deadline:
                return report
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    @property
    def pending_job_id(self) -> str | None:
        with self._locked():
            return self._pending.job_id if self._pending else None

    def reprint_pending(self, fresh: Receipt | None = None) -> bool:
        """Print the kept job in full if paper is back and it is not stale; ``fresh``, the
        same job built again (in the language the citizen reads now), in its place.

        A stale job (``created_at`` older than ``stale_after`` s) is dropped,
        logged by job id only, and never printed. Returns True if it printed.

        :raises PaperOut: still no paper, or it ran out again (the job stays kept).
        :raises PrinterError: not ready (cover open, offline), unreachable, or the link
            failed (the job stays kept).
        """
        with self._locked():
            job = self._pending
            if job is None:
                return False
            if fresh is not None and fresh.job_id == job.job_id:
                job = self._pending = dataclasses.replace(fresh, created_at=job.created_at)
            age = (self._clock() - _utc(job.created_at)).total_seconds()
            if age > self.stale_after:
                self._pending = None
                log.warning(
                    "printer: stale job %s dropped unprinted (%.0f s old, limit %.0f s)",
                    job.job_id, age, self.stale_after,
                )  # fmt: skip
                return False
            self._print(job)  # (which says why it cannot, the job kept)
            return True

    def discard_pending(self) -> None:
        """Forget the kept job (the session is being wiped). Never waits for the printer:
        while a status reading holds it (a heartbeat's, up to the connect timeout when the
        printer is gone), the screen would freeze; the job is dropped as that one lets go,
        or before anything else is done with the printer."""
        self._discard = True
        if self._lock.acquire(blocking=False):
            try:
                self._drop_discarded()
            finally:
                self._lock.release()

    @contextlib.contextmanager
    def _locked(self):
        """The printer to this thread; a job discarded meanwhile is dropped first and last."""
        with self._lock:
            self._drop_discarded()
            try:
                yield
            finally:
                self._drop_discarded()

    def _drop_discarded(self) -> None:
        if self._discard:
            self._discard, self._pending = False, None

    def health(self) -> Health:
        """ok / degraded (paper near end) / fault, with a technician's reason; never raises."""
        details = {"connection": self.connection, "paper_mm": str(self.paper_mm)}
        with self._locked():
            if self._pending is not None:
                details["pending_job"] = self._pending.job_id
            try:
                report = self._report()
            except PrinterError as err:
                return Health.fault(self.name, err.detail or str(err), **details)
        details["status"] = report.status.value
        if report.status is PrinterStatus.OK:
            return Health.good(self.name, **details)
        if report.status is PrinterStatus.PAPER_NEAR_END:
            return Health.degraded(self.name, report.reason, **details)
        return Health.fault(self.name, report.reason, **details)

    def print_test_page(self) -> None:
        """The technician's page: sizes, bold, alignment, Chinese punctuation, QR, cut.

        :raises PaperOut: as :meth:`print_receipt`.
        :raises PrinterError: as :meth:`print_receipt`.
        """
        now = self._clock()
        p = paper(self.paper_mm)
        self.print_receipt(
            Receipt(
                job_id=f"test-{now:%Y%m%d%H%M%S}",
                kind="test",
                created_at=now,
                blocks=(
                    Text("打印机自检页", bold=True, size=2, align=Align.CENTER),
                    Text(f"{p.mm} mm · {p.dots} dots · {p.columns} columns", align=Align.CENTER),
                    Rule(),
                    Text("正常字号 Normal size 0123456789"),
                    Text("粗体 Bold", bold=True),
                    Text("倍宽倍高 2x", size=2),
                    Text("居中 Center", align=Align.CENTER),
                    Text("靠右 Right", align=Align.RIGHT),
                    Text("标点：，。、；！？（）“”《》￥"),
                    Pair("连接", self.connection),
                    Pair("时间", now.strftime("%Y-%m-%d %H:%M:%S")),
                    Rule("="),
                    Qr(f"PRINTER-SELFTEST {now:%Y%m%d%H%M%S}", caption="二维码 QR"),
                ),
            )
        )

    def close(self) -> None:
        with self._locked():
            self._drop()

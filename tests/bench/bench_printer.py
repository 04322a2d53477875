"""Receipt printing: time from "print" to the last byte at the printer emulator.

Baselines, in the same run, on an open socket: (1) the job's bytes sent raw;
(2) the least a paper-checking driver must do: one DLE EOT 4 round trip, then
the bytes. The driver adds the layout and reads DLE EOT 1, 2 and 4 (cover,
offline cause, paper) before the job, so the goal is a ratio against (2).
Run: ``.venv/bin/python tests/bench/bench_printer.py``.
"""

from __future__ import annotations

import socket
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from peripherals.printer.driver import EscposPrinter  # noqa: E402
from peripherals.printer.emulator import PrinterEmulator  # noqa: E402
from peripherals.printer.layout import layout  # noqa: E402
from tests.printer_samples import acceptance_receipt  # noqa: E402

ROUNDS = 50
# vs one status round trip + send. The driver's extra is ~0.6 ms of layout (CPU)
# and two more round trips; a loopback round trip is 40-250 us depending on load,
# so the ratio moves 4x-20x from run to run. 30x catches a real regression (the
# QR mask search in layout once cost 5 ms: ~100x) without crying wolf.
RATIO_GOAL = 30.0
ABS_GOAL_MS = 50.0  # and a citizen must never wait on it: well under a frame budget x3


def _last_byte_after(emu: PrinterEmulator, jobs_before: int, t0: float) -> float:
    if not emu.wait_for_jobs(jobs_before + 1, timeout=5):
        raise RuntimeError("the emulator never saw the job")
    return emu.job_records()[jobs_before].last_byte_at - t0


def bench() -> list[str]:
    receipt = acceptance_receipt()
    data = layout(receipt, 80)
    raw: list[float] = []
    checked: list[float] = []
    drv: list[float] = []
    # Two emulators (a 9100 port serves one host at a time), measured in turns so
    # that load from other processes falls on baseline and driver alike.
    with PrinterEmulator(paper_mm=80) as emu_raw, PrinterEmulator(paper_mm=80) as emu_drv:
        printer = EscposPrinter(f"tcp://127.0.0.1:{emu_drv.port}", paper_mm=80, settle=0.0)
        try:
            with socket.create_connection(("127.0.0.1", emu_raw.port), timeout=5) as sock:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as the driver does
                printer.print_receipt(receipt)  # warm-up: connect, load python-escpos
                for _ in range(ROUNDS):
                    n = len(emu_raw.jobs())
                    t0 = time.perf_counter()
                    sock.sendall(data)
                    raw.append(_last_byte_after(emu_raw, n, t0))

                    n = len(emu_raw.jobs())
                    t0 = time.perf_counter()
                    sock.sendall(b"\x10\x04\x04")
                    if sock.recv(1) != b"\x12":
                        raise RuntimeError("emulator status is not ok")
                    sock.sendall(data)
                    checked.append(_last_byte_after(emu_raw, n, t0))

                    n = len(emu_drv.jobs())
                    t0 = time.perf_counter()
                    printer.print_receipt(receipt)
                    drv.append(_last_byte_after(emu_drv, n, t0))
        finally:
            printer.close()
    base_ms, drv_ms = statistics.median(raw) * 1e3, statistics.median(drv) * 1e3
    checked_ms = statistics.median(checked) * 1e3
    ratio = drv_ms / checked_ms
    return [
        f"printer_raw_send_to_last_byte: {base_ms:.3f} ms (baseline) ok",
        f"printer_raw_status_then_send_to_last_byte: {checked_ms:.3f} ms (baseline) ok",
        f"printer_print_to_last_byte: {drv_ms:.2f} ms (goal <= {ABS_GOAL_MS:g} ms) "
        + ("ok" if drv_ms <= ABS_GOAL_MS else "MISS"),
        f"printer_print_vs_raw_status_then_send: {ratio:.1f} x (goal <= {RATIO_GOAL:g} x) "
        + ("ok" if ratio <= RATIO_GOAL else "MISS"),
    ]


if __name__ == "__main__":
    for line in bench():
        print(line)

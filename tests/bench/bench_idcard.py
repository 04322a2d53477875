"""ID card reader benchmarks over a real pty, each figure a line `name: value unit (goal …) ok|MISS`.

- a card read (find, select, read text + photo) at 115200 baud, as a ratio of
  the time its bytes take on the wire at that rate (goal ≤ 1.5×); the
  emulator paces its replies at 10 bits a byte, so the wire time is real;
- CPU the driver uses while polling an empty reader every 0.3 s (goal < 2 %
  of a core), measured with time.process_time over a few seconds.

The emulator runs in its own process, so only the driver's CPU is counted.
Run: `.venv/bin/python tests/bench/bench_idcard.py` (or scripts/bench.sh).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from peripherals.idcard import protocol as p  # noqa: E402
from peripherals.idcard.driver import SerialIdCardReader  # noqa: E402

BAUD = 115200
READS = 15
POLL_SECONDS = 4.0


def line(name: str, value: float, unit: str, goal: str, ok: bool) -> None:
    print(f"{name}: {value:.3g} {unit} (goal {goal}) {'ok' if ok else 'MISS'}", flush=True)


def start_emulator(*args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "peripherals.idcard.emulator", "--baudrate", str(BAUD), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    path = proc.stdout.readline().strip()  # the emulator prints its path once it serves
    if not path:
        proc.kill()
        raise SystemExit("ID card emulator did not start")
    return proc, path


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def wire_seconds_of_a_read() -> float:
    requests = [p.FIND_CARD, p.SELECT_CARD, p.READ_TEXT_PHOTO]
    sent = sum(len(p.build_request(*r)) for r in requests)
    received = len(p.build_response(0x9F, bytes(4))) + len(p.build_response(0x90, bytes(8)))
    received += len(p.build_response(0x90, bytes(4 + 256 + 1024)))
    return (sent + received) * 10 / BAUD


def bench_read_time() -> None:
    proc, path = start_emulator()
    reader = SerialIdCardReader(path, BAUD)
    try:
        reader.read_card()  # open the port and warm up
        times = []
        for _ in range(READS):
            started = time.perf_counter()
            card = reader.read_card()
            times.append(time.perf_counter() - started)
            assert card is not None, "no card read"
    finally:
        reader.close()
        stop(proc)
    ratio = statistics.median(times) / wire_seconds_of_a_read()
    line("idcard_read_vs_wire_time", ratio, "x", "≤ 1.5x", ratio <= 1.5)


def bench_polling_cpu() -> None:
    proc, path = start_emulator("--empty")
    reader = SerialIdCardReader(path, BAUD)
    stop_polling = threading.Event()
    timer = threading.Timer(POLL_SECONDS, stop_polling.set)
    try:
        reader.read_card()  # open the port first: opening is not polling
        cpu0, wall0 = time.process_time(), time.monotonic()
        timer.start()
        card = reader.wait_for_card(stop_polling, interval=0.3)
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        assert card is None
    finally:
        timer.cancel()
        timer.join(5)
        reader.close()
        stop(proc)
    percent = 100 * cpu / wall
    line("idcard_polling_cpu_no_card", percent, "% of a core", "< 2 %", percent < 2)


if __name__ == "__main__":
    bench_read_time()
    bench_polling_cpu()

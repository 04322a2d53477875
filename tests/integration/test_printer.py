"""The printer driver against the emulator over a real TCP socket."""

from __future__ import annotations

import datetime as dt
import socket
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from kiosk.errors import PaperOut, PrinterError
from kiosk.health import HealthState
from kiosk.ports import PrinterStatus, ReceiptPrinter
from peripherals.printer.driver import EscposPrinter
from peripherals.printer.emulator import PrinterEmulator, PtyPrinterEmulator
from peripherals.printer.layout import layout
from tests.printer_samples import LAST_LINE, TRACK_URL, acceptance_receipt, best_match

pytestmark = pytest.mark.integration

PNG_DIR = Path("var/test-output/printer")  # kept for a person to look at


class Clock:
    """The kiosk's clock port, set by the test."""

    def __init__(self) -> None:
        self.t = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.t


@pytest.fixture(params=[80, 58], ids=["80mm", "58mm"])
def paper_mm(request) -> int:
    return request.param


@pytest.fixture
def emulator(paper_mm):
    emu = PrinterEmulator(paper_mm=paper_mm)
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def printer(emulator, paper_mm, clock):
    p = EscposPrinter(
        f"tcp://127.0.0.1:{emulator.port}", paper_mm=paper_mm, timeout=2.0, settle=0.2, clock=clock
    )
    yield p
    p.close()


def rendered(emulator: PrinterEmulator, name: str, job_index: int = -1) -> Image.Image:
    PNG_DIR.mkdir(parents=True, exist_ok=True)
    return Image.open(emulator.render(PNG_DIR / f"{name}.png", job_index))


def test_printer_implements_the_port(printer):
    assert isinstance(printer, ReceiptPrinter)


def test_receipt_arrives_byte_for_byte_and_prints_chinese_and_a_scannable_qr(
    printer, emulator, paper_mm
):
    # Given an acceptance receipt
    receipt = acceptance_receipt()
    # When the kiosk prints it
    printer.print_receipt(receipt)
    # Then the printer received exactly the laid-out job, once
    assert emulator.wait_for_jobs(1, timeout=3)
    assert emulator.jobs() == [layout(receipt, paper_mm)]
    # And the slip shows the Chinese text, bold last line, and a QR that scans to the tracking URL
    img = rendered(emulator, f"acceptance-{paper_mm}")
    assert img.width == {58: 384, 80: 576}[paper_mm]
    assert best_match(img, "新生儿出生一件事") > 0.95
    assert best_match(img, LAST_LINE, bold=True) > 0.95
    assert best_match(img, "新生儿死亡一件事") < 0.9  # the check can tell strings apart
    text, *_ = cv2.QRCodeDetector().detectAndDecode(np.asarray(img.convert("RGB")))
    assert text == TRACK_URL
    assert printer.pending_job_id is None


def test_raster_qr_config_prints_a_scannable_image(emulator, paper_mm):
    p = EscposPrinter(
        f"tcp://127.0.0.1:{emulator.port}", paper_mm=paper_mm, native_qr=False, settle=0.1
    )
    try:
        p.print_receipt(acceptance_receipt())
    finally:
        p.close()
    assert emulator.wait_for_jobs(1, timeout=3)
    assert b"\x1dv0" in emulator.jobs()[0] and b"\x1d(k" not in emulator.jobs()[0]
    img = rendered(emulator, f"acceptance-raster-{paper_mm}")
    assert cv2.QRCodeDetector().detectAndDecode(np.asarray(img.convert("RGB")))[0] == TRACK_URL


@pytest.mark.parametrize(
    ("setup", "status", "health"),
    [
        (lambda e: None, PrinterStatus.OK, HealthState.OK),
        (lambda e: e.set_paper("near_end"), PrinterStatus.PAPER_NEAR_END, HealthState.DEGRADED),
        (lambda e: e.set_paper("out"), PrinterStatus.PAPER_OUT, HealthState.FAULT),
        (lambda e: e.set_cover_open(True), PrinterStatus.COVER_OPEN, HealthState.FAULT),
        (lambda e: e.set_offline(True), PrinterStatus.OFFLINE, HealthState.FAULT),
    ],
    ids=["ok", "near_end", "paper_out", "cover_open", "offline"],
)
def test_status_and_health_follow_the_printer(printer, emulator, setup, status, health):
    setup(emulator)
    assert printer.status() is status
    h = printer.health()
    assert h.state is health
    assert (h.reason == "") == (health is HealthState.OK)


def test_near_end_still_prints(printer, emulator):
    emulator.set_paper("near_end")
    printer.print_receipt(acceptance_receipt())
    assert emulator.wait_for_jobs(1, timeout=3)


def test_paper_out_before_the_job_raises_and_prints_nothing(printer, emulator):
    emulator.set_paper("out")
    with pytest.raises(PaperOut):
        printer.print_receipt(acceptance_receipt())
    assert emulator.jobs() == []
    assert printer.pending_job_id == "SL20250501000123"


@pytest.mark.parametrize("setter", ["set_cover_open", "set_offline"])
def test_cover_open_or_offline_refuses_the_job_with_a_reason(printer, emulator, setter):
    getattr(emulator, setter)(True)
    with pytest.raises(PrinterError) as err:
        printer.print_receipt(acceptance_receipt())
    assert not isinstance(err.value, PaperOut)
    assert ("cover open" if setter == "set_cover_open" else "offline") in err.value.detail
    assert emulator.jobs() == []


def test_a_visit_ending_drops_the_kept_job_without_waiting_for_a_slow_status_reading(
        printer, emulator):  # fmt: skip
    import threading

    # Given a receipt kept after the paper ran out
    emulator.set_paper("out")
    with pytest.raises(PaperOut):
        printer.print_receipt(acceptance_receipt())
    assert printer.pending_job_id == "SL20250501000123"
    # And a status reading that holds the printer (a heartbeat's, on a printer that is slow
    # to answer: up to the connect timeout)
    holding, let_go = threading.Event(), threading.Event()

    def reading() -> None:
        with printer._lock:
            holding.set()
            let_go.wait(10)

    slow = threading.Thread(target=reading)
    slow.start()
    assert holding.wait(5)
    try:
        # When the visit ends (on the UI thread), it returns at once: the screen never froze
        printer.discard_pending()
        assert slow.is_alive()
    finally:
        let_go.set()
        slow.join(5)
    # Then the job is gone: the next citizen can never be handed the last one's receipt
    emulator.refill()
    assert printer.pending_job_id is None
    assert printer.reprint_pending() is False and emulator.jobs() == []


def test_paper_out_mid_job_is_noticed_and_the_receipt_is_reprinted_in_full(
    printer, emulator, paper_mm
):
    # Given a roll that ends eight lines into the receipt
    emulator.run_out_after(n_lines=8)
    receipt = acceptance_receipt()
    # When the receipt is printed, the driver notices the paper ran out
    with pytest.raises(PaperOut):
        printer.print_receipt(receipt)
    assert printer.pending_job_id == receipt.job_id
    half = rendered(emulator, f"half-{paper_mm}", 0)
    assert best_match(half, LAST_LINE, bold=True) < 0.9
    # And while there is no paper, nothing is reprinted: it says so, and keeps the job
    with pytest.raises(PaperOut):
        printer.reprint_pending()
    assert printer.pending_job_id == receipt.job_id and len(emulator.jobs()) == 1
    # When a new roll goes in
    emulator.refill()
    assert printer.reprint_pending() is True
    # Then the whole receipt comes out, last line included, and nothing is left pending
    assert emulator.wait_for_jobs(2, timeout=3)
    assert emulator.jobs()[1] == layout(receipt, paper_mm)
    assert best_match(rendered(emulator, f"reprinted-{paper_mm}", 1), LAST_LINE, bold=True) > 0.95
    assert printer.pending_job_id is None
    assert printer.reprint_pending() is False


def test_stale_job_is_never_printed_after_a_refill(printer, emulator, clock):
    # Given a receipt that met an empty roll
    emulator.set_paper("out")
    with pytest.raises(PaperOut):
        printer.print_receipt(acceptance_receipt(created_at=clock()))
    # When the paper comes back only after the citizen has long gone
    clock.t += dt.timedelta(seconds=121)
    emulator.refill()
    # Then the slip is dropped, not printed into the tray for the next person
    assert printer.reprint_pending() is False
    assert printer.pending_job_id is None
    assert emulator.jobs() == []


def test_a_new_receipt_replaces_a_pending_one_no_bulk_reprint(printer, emulator):
    emulator.set_paper("out")
    with pytest.raises(PaperOut):
        printer.print_receipt(acceptance_receipt(job_id="A"))
    emulator.refill()
    printer.print_receipt(acceptance_receipt(job_id="B"))
    assert printer.reprint_pending() is False
    assert emulator.wait_for_jobs(1, timeout=3)
    assert len(emulator.jobs()) == 1


def test_discard_pending_forgets_the_job(printer, emulator):
    emulator.set_paper("out")
    with pytest.raises(PaperOut):
        printer.print_receipt(acceptance_receipt())
    printer.discard_pending()
    emulator.refill()
    assert printer.reprint_pending() is False
    assert emulator.jobs() == []


def test_unreachable_printer_is_a_clear_fault_and_reconnects_when_back(printer, emulator):
    # Given the printer worked, then is unplugged
    assert printer.status() is PrinterStatus.OK
    emulator.stop()
    # Then status raises PrinterError naming the address, and health is a fault
    with pytest.raises(PrinterError) as err:
        printer.status()
    assert "unreachable" in err.value.detail and str(emulator.port) in err.value.detail
    h = printer.health()
    assert h.state is HealthState.FAULT and "unreachable" in h.reason
    # When it comes back on the same port, the driver reconnects by itself
    emulator.start()
    assert printer.status() is PrinterStatus.OK
    printer.print_receipt(acceptance_receipt())
    assert emulator.wait_for_jobs(1, timeout=3)


def test_nothing_listening_gives_printer_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens there
    p = EscposPrinter(f"tcp://127.0.0.1:{port}", timeout=1.0)
    with pytest.raises(PrinterError, match="unreachable"):
        p.print_receipt(acceptance_receipt())
    p.close()


def test_a_mute_printer_times_out_with_a_reason():
    # Given something that accepts the connection but never answers
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        p = EscposPrinter(f"tcp://127.0.0.1:{server.getsockname()[1]}", timeout=0.3)
        try:
            with pytest.raises(PrinterError, match="no reply"):
                p.status()
        finally:
            p.close()


def test_test_page_prints(printer, emulator, paper_mm):
    printer.print_test_page()
    assert emulator.wait_for_jobs(1, timeout=3)
    img = rendered(emulator, f"testpage-{paper_mm}")
    assert best_match(img, "标点：，。、；！？（）") > 0.95


def test_serial_connection_prints_over_a_pty():
    # Given the printer on a serial line (a real pseudo-terminal pair)
    emu = PtyPrinterEmulator()
    path = emu.start()
    p = EscposPrinter(f"serial://{path}?baudrate=9600", paper_mm=58, timeout=1.0, settle=0.1)
    try:
        # When a receipt is printed
        assert p.status() is PrinterStatus.OK
        p.print_receipt(acceptance_receipt())
        # Then the bytes arrive intact, cut included, and paper out is seen the same way
        deadline = time.monotonic() + 3
        while not emu.jobs() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert emu.jobs() == [layout(acceptance_receipt(), 58)]
        emu.core.paper = "out"
        assert p.status() is PrinterStatus.PAPER_OUT
    finally:
        p.close()
        emu.stop()


def test_a_serial_printer_unplugged_is_a_fault_in_its_health_never_an_error_that_escapes():
    # Given the printer on a serial line that has answered once
    emu = PtyPrinterEmulator()
    path = emu.start()
    p = EscposPrinter(f"serial://{path}?baudrate=9600", paper_mm=58, timeout=0.5, settle=0.1)
    try:
        assert p.status() is PrinterStatus.OK
        # When it is unplugged (the line hangs up: termios.error on a vanished tty)
        emu.stop()
        # Then the heartbeat's health reading says fault, with the reason, again and again
        for _ in range(2):
            health = p.health()
            assert health.state is HealthState.FAULT and path in health.reason
        # And a receipt is refused with the kiosk's own error, for the screen to explain
        with pytest.raises(PrinterError):
            p.print_receipt(acceptance_receipt())
    finally:
        p.close()


def test_a_kept_receipt_reprints_in_the_language_the_citizen_switched_to(printer, emulator, clock):
    import dataclasses

    from kiosk.receipt import Text

    # Given a receipt built in Chinese that met an empty roll
    emulator.set_paper("out")
    kept = acceptance_receipt(created_at=clock())
    with pytest.raises(PaperOut):
        printer.print_receipt(kept)
    # When the citizen has switched to English and paper is back, the same job built again
    later = clock() + dt.timedelta(seconds=200)  # built now: its own time does not reset staleness
    english = dataclasses.replace(kept, blocks=(Text("Acceptance receipt", bold=True),), created_at=later)
    other = dataclasses.replace(english, job_id="someone-else")
    emulator.refill()
    clock.t += dt.timedelta(seconds=10)
    # a job that is not the kept one is not printed in its place
    assert printer.reprint_pending(other) is True
    assert emulator.wait_for_jobs(1, timeout=3)
    assert "Acceptance receipt" not in emulator.text(0)
    # Then the English one comes out in its place
    emulator.set_paper("out")
    with pytest.raises(PaperOut):
        printer.print_receipt(kept)
    emulator.refill()
    assert printer.reprint_pending(english) is True
    assert emulator.wait_for_jobs(2, timeout=3)
    assert emulator.text(1) == ["Acceptance receipt"]
    # and it is still the first build's time that makes a kept job stale
    emulator.set_paper("out")
    with pytest.raises(PaperOut):
        printer.print_receipt(kept)
    clock.t += dt.timedelta(seconds=121)
    emulator.refill()
    assert printer.reprint_pending(english) is False


async def test_print_again_after_a_fault_before_the_receipt_began_prints_it_once(printer, emulator):
    from kiosk.catalog import default_catalog_dir, load_catalog
    from kiosk.config import KioskConfig, PlatformConfig, TerminalConfig
    from kiosk.outcomes import Outcome, OutcomeKind, Stage
    from kiosk.terminal import Ports, Terminal
    from tests.fakes import an_id_card

    # Given a citizen whose application was accepted, at a printer whose cover is open
    config = KioskConfig(terminal=TerminalConfig(id="AF-ZH-0007", service_point="zhouhu",
                                                 point_name="洲湖镇便民服务中心"),
                         platform=PlatformConfig(url="https://zwfw.example.gov.cn/"))  # fmt: skip
    t = Terminal(Ports(printer=printer), config, catalog=load_catalog(default_catalog_dir()))
    t.begin(an_id_card())
    t.outcome = Outcome(OutcomeKind.ACCEPTED, "key-1", "zhouhu", "AF2026120700001",
                        promised_date=dt.date(2026, 12, 14), stage=Stage.ACCEPTED)  # fmt: skip
    emulator.set_cover_open(True)
    # When the receipt is printed, the fault is said (the printer kept no job: none began)
    with pytest.raises(PrinterError):
        await t.print_outcome()
    assert printer.pending_job_id is None and emulator.jobs() == []
    # and the end of the visit does not tell them to take a receipt that never came out
    assert t.session.to_take() == ["id_card"]
    # When the cover is closed and they tap "print again", the receipt prints, once
    emulator.set_cover_open(False)
    await t.print_outcome(again=True)
    assert emulator.wait_for_jobs(1, timeout=3) and len(emulator.jobs()) == 1
    assert "AF2026120700001" in "".join(emulator.text(0))
    assert t.session.to_take() == ["id_card", "receipt"]
    # and when paper is out at the tap, it says so and keeps the job for the next tap
    emulator.set_paper("out")
    with pytest.raises(PaperOut):
        await t.print_outcome()
    with pytest.raises(PaperOut):
        await t.print_outcome(again=True)
    emulator.refill()
    await t.print_outcome(again=True)
    assert emulator.wait_for_jobs(2, timeout=3) and len(emulator.jobs()) == 2


def test_a_printer_that_restarts_as_the_receipt_arrives_is_not_taken_for_one_that_printed_it(
    printer, emulator
):
    # Given a printer that loses power for a moment as the receipt's bytes arrive
    emulator.power_cut_on_next_job()
    receipt = acceptance_receipt()
    # When the receipt is printed, the lost link after the job is a fault, not "printed"
    # (back at once, the printer answers "ready": nothing says whether it printed)
    with pytest.raises(PrinterError):
        printer.print_receipt(receipt)
    assert emulator.jobs() == [] and printer.pending_job_id == receipt.job_id
    # and "print again" prints it, once
    assert printer.reprint_pending() is True
    assert emulator.wait_for_jobs(1, timeout=3) and len(emulator.jobs()) == 1

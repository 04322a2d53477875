"""The device emulators as supervisor parts: each starts on a real channel
(pty, TCP socket, vpcd socket) and says how a kiosk reaches it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from peripherals.supervisor import SupervisorError

SHARED_FACES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "faces"


class IdCardPart:
    """The GA 467 ID card reader emulator on a pty pair."""

    name = "idcard"

    def start(self, workdir: Path) -> None:
        from peripherals.idcard.emulator import IdCardReaderEmulator, sample_cards

        self.cards = sample_cards()
        self.emulator = IdCardReaderEmulator(cards=[])
        self.port = self.emulator.start()

    def stop(self) -> None:
        self.emulator.stop()


class PcscPart:
    """A private pcscd with the vpcd driver, and the social-security card emulator."""

    name = "pcsc"

    def start(self, workdir: Path) -> None:
        from peripherals.idcard.emulator import sample_cards
        from peripherals.sscard.emulator import VirtualSocialCard, card_of
        from peripherals.sscard.pcscd import SOCKET_ENV, PcscDaemon

        # libpcsclite reads the socket path once per process: reuse this process's path.
        self.daemon = PcscDaemon(socket_path=os.environ.get(SOCKET_ENV) or None)
        try:
            self.daemon.start()
        except Exception as err:
            raise SupervisorError(f"pcscd could not start: {err}") from err
        # the social-security card of the citizen whose ID card the idcard part lays first:
        # a visit refuses a card of anyone else
        self.card = VirtualSocialCard(card_of(sample_cards()[0]), self.daemon.vpcd_port)

    @property
    def pid(self) -> int | None:
        return self.daemon.pid

    def env(self) -> dict[str, str]:
        return self.daemon.env()

    def stop(self) -> None:
        self.card.stop()
        self.daemon.stop()


class PrinterPart:
    """The ESC/POS printer emulator on a loopback TCP port (port 9100 semantics)."""

    name = "printer"

    def __init__(self, paper_mm: int = 80):
        self.paper_mm = paper_mm

    def start(self, workdir: Path) -> None:
        from peripherals.printer.emulator import PrinterEmulator

        self.emulator = PrinterEmulator(paper_mm=self.paper_mm)
        self.port = self.emulator.start()
        self.connection = f"tcp://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.emulator.stop()


class CameraPart:
    """Camera sources backed by image files the project owns or ships in shared/."""

    name = "camera"

    def start(self, workdir: Path) -> None:
        self.dir = workdir / "camera"
        self.dir.mkdir(exist_ok=True)
        face = SHARED_FACES / "obama.jpg"
        if not face.exists():
            raise SupervisorError(f"face test photo {face} is missing: check out shared/ beside the repo")
        shutil.copy(face, self.dir / "face.jpg")
        from peripherals.camera.sample import write_document_photo

        write_document_photo(self.dir / "document.png")
        self.face_url = f"file://{self.dir / 'face.jpg'}"
        self.document_url = f"file://{self.dir / 'document.png'}"

    def stop(self) -> None:
        pass


class ScannerPart:
    """The serial code scanner emulator on a pty pair."""

    name = "scanner"

    def start(self, workdir: Path) -> None:
        from peripherals.scanner.emulator import ScannerEmulator

        self.emulator = ScannerEmulator()
        self.port = self.emulator.start()

    def stop(self) -> None:
        self.emulator.stop()


PARTS = {
    "idcard": IdCardPart,
    "pcsc": PcscPart,
    "printer": PrinterPart,
    "camera": CameraPart,
    "scanner": ScannerPart,
}


def make(name: str):
    try:
        return PARTS[name]()
    except KeyError:
        raise SupervisorError(f"unknown part {name!r}; known: {', '.join(PARTS)}") from None

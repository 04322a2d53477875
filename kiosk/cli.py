"""The composition root: the ``kiosk`` command.

Only here are concrete drivers and the platform client wired into the core,
chosen by configuration (``kiosk run --config FILE``). ``kiosk demo`` starts
the emulators and a local central server with the supervisor and runs the
scripted walkthrough in a real window.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import replace
from functools import partial
from pathlib import Path

from kiosk.config import (
    CameraConfig,
    ConfigError,
    DisplayConfig,
    IdCardConfig,
    KioskConfig,
    PlatformConfig,
    PrinterConfig,
    ScannerConfig,
    TerminalConfig,
    TimeoutsConfig,
    china_time,
    load_config,
)
from kiosk.errors import KioskError
from kiosk.terminal import Ports, Terminal

log = logging.getLogger("kiosk")
ORIENTATIONS = {"portrait": (1080, 1920), "landscape": (1920, 1080)}
DEMO_ANSWERS = ("issued", "no", "yes")  # birth: certificate issued, no maternity insurance, a social card
DEMO_FORM = {
    "applicant_phone": "13907961234",
    "current_address": "安福县洲湖镇",
    "spouse_name": "刘芳",
    "spouse_id_number": "362425198706120020",
    "newborn_name": "张乐",
    "newborn_gender": "1",
    "newborn_birth_date": "20261120",
    "newborn_birth_place": "安福县",
    "newborn_nation": "汉族",
    "newborn_native_place": "江西",
    "householder_name": "张伟",
    "relation_to_householder": "son",
    "card_bank": "ccb",
}
# after-death: death certificate issued, resident pension, no medical insurance, no
# housing fund, a driving licence (its cancellation lets the licence itself be brought later)
AFTER_DEATH_ANSWERS = ("have", "resident", "no", "no", "yes")
AFTER_DEATH_FORM = {
    "applicant_phone": "13907961234",
    "deceased_name": "张国华",
    "deceased_id_number": "362429195003120034",
    "death_date": "20261118",
    "relation_to_deceased": "child",
    "bank_name": "农业银行",
    "bank_account": "6228480123456789012",
}
# employment (就业创业一件事), a short bundle for the fault walkthroughs: flexible
# employment, no business licence, social insurance as a flexible worker
EMPLOYMENT_ANSWERS = ("flexible", "no", "yes")
EMPLOYMENT_FORM = {
    "applicant_phone": "13907961234",
    "current_address": "安福县洲湖镇",
    "education": "senior",
    "employment_start_date": "20261102",
    "job_title": "店员",
    "bank_name": "农业银行",
    "bank_account": "6228480123456789012",
}
# what each scenario applies for: (life event, answers, form values)
SCENARIO_EVENTS = {
    "after-death": ("after_death", AFTER_DEATH_ANSWERS, AFTER_DEATH_FORM),
    "paper-out": ("employment", EMPLOYMENT_ANSWERS, EMPLOYMENT_FORM),
    "offline": ("employment", EMPLOYMENT_ANSWERS, EMPLOYMENT_FORM),
}
DEMO_NOTICES = (  # as a hall manager writes them on the dashboard: the English after "|"
    "夜间办事请走东侧24小时自助区，自助区全天开放 | At night, use the 24-hour self-service area"
    " by the east door: it is open all day and night",
    "出生、入学、退休、身后事等“一件事”可在本机一次办理 | A birth, starting school, retiring,"
    " a death in the family: each “one thing” is done here in one go",
    "不动产登记、社保、医保等业务全县通办，就近可办 | Property registration, social and medical"
    " insurance: handled at any service point in the county",
)


# A wedge scanner types a code in a few ms a key, but the window hands keys over once a
# frame: a slow frame (a screen being built on software GL) must not split a code.
WEDGE_GAP = 0.25


def build_device(cfg: KioskConfig, device: str):
    """The driver of one device (idcard, printer, scanner, document_camera, face_camera) as
    ``cfg`` has it; None when it is switched off. The technician screen makes one afresh when
    it puts the device on another port or swaps the cameras (``Terminal.place_device``)."""
    if device == "idcard" and cfg.idcard.driver == "ga467":
        from peripherals.idcard.driver import SerialIdCardReader

        return SerialIdCardReader(cfg.idcard.port, baudrate=cfg.idcard.baudrate)
    if device == "printer" and cfg.printer.driver == "escpos":
        from peripherals.printer.driver import EscposPrinter

        return EscposPrinter(cfg.printer.connection, paper_mm=cfg.printer.paper_mm)
    if device == "scanner" and cfg.scanner.driver == "serial":
        from peripherals.scanner.driver import SerialCodeScanner

        return SerialCodeScanner(cfg.scanner.port, baudrate=cfg.scanner.baudrate)
    if device == "scanner" and cfg.scanner.driver == "wedge":  # its keys come from the window
        from peripherals.scanner.driver import KeyboardWedgeScanner

        return KeyboardWedgeScanner(max_gap=WEDGE_GAP)
    if device == "document_camera" and cfg.camera.document:
        from peripherals.camera.capture import DocumentCamera

        return DocumentCamera(cfg.camera.document)
    if device == "face_camera" and cfg.camera.face:
        from peripherals.camera.capture import FaceCamera

        return FaceCamera(cfg.camera.face)
    return None


def build_ports(cfg: KioskConfig) -> Ports:
    """Real adapters for the configured devices (an emulator is just another URL)."""
    ports = Ports()
    ports.id_reader = build_device(cfg, "idcard")
    if cfg.sscard.driver == "pcsc":
        from peripherals.sscard.driver import PcscSocialCardReader

        ports.social_reader = PcscSocialCardReader(cfg.sscard.reader or None)
    ports.printer = build_device(cfg, "printer")
    ports.document_camera = build_device(cfg, "document_camera")
    ports.face_camera = build_device(cfg, "face_camera")
    ports.scanner = build_device(cfg, "scanner")
    if cfg.platform.url:
        ports.platform = build_platform(cfg)
    from peripherals.speech import EspeakSpeech

    ports.speech = EspeakSpeech()
    return ports


def build_platform(cfg: KioskConfig):
    """The platform client with this terminal's credentials, behind the durable outbox."""
    from client import credentials
    from client.durable import DurablePlatform
    from client.outbox import Outbox
    from client.platform import PlatformClient

    data = Path(cfg.data_dir)
    data.mkdir(parents=True, exist_ok=True, mode=0o700)
    enrolment = credentials.load(data)
    terminal_id = enrolment.terminal_id if enrolment else cfg.terminal.id
    client = PlatformClient(cfg.platform.url, terminal_id=terminal_id,
                            secret=enrolment.secret if enrolment else None,
                            timeout=cfg.platform.timeout)
    outbox = Outbox(data / "outbox.sqlite3", data / "outbox.key", terminal_id)
    if enrolment:  # enrolled anew while stopped (`kiosk enrol`): what waits goes as this terminal
        try:
            outbox.adopt(terminal_id)
        except KioskError as err:  # (the disk): the kiosk starts all the same, the drain reports it
            log.error("outbox: waiting submissions not adopted: %s", err)
    return DurablePlatform(client, outbox)


def not_as_root(cfg: KioskConfig) -> str:
    """Why root must not write into the kiosk's data dir ('' when it may): a file made
    there by root, 0600, is one the kiosk's own user cannot read (its PIN ignored, its
    enrolment "unreadable")."""
    data = Path(cfg.data_dir)
    if os.geteuid() != 0 or not data.exists() or data.stat().st_uid == 0:
        return ""
    import pwd

    try:
        owner = pwd.getpwuid(data.stat().st_uid).pw_name
    except KeyError:
        owner = str(data.stat().st_uid)
    return (f"kiosk: {data} belongs to {owner}: run this as that user (sudo -u {owner} kiosk "
            "…), or the kiosk will not be able to read what is written there")  # fmt: skip


async def enrol(cfg: KioskConfig, code: str) -> str:
    """Trade a one-time code for this terminal's identity and keep it in the data dir.

    :raises PlatformError: the code is refused or the platform is unreachable.
    """
    from client import credentials
    from client.platform import PlatformClient

    async with PlatformClient(cfg.platform.url, timeout=cfg.platform.timeout) as client:
        enrolment = await credentials.enrol(client, Path(cfg.data_dir), code)
    return enrolment.terminal_id


def enroller(cfg: KioskConfig, platform):
    """How the running kiosk enrols (the technician screen): the same trade as
    ``kiosk enrol``, made by the kiosk's own client, which speaks as the new terminal
    at once (the outbox numbers its pending slips with the new id too)."""
    from client import credentials

    async def enrol_now(code: str) -> tuple[str, str]:
        enrolment = await credentials.enrol(platform.client, Path(cfg.data_dir), code)
        platform.outbox.terminal_id = enrolment.terminal_id
        try:  # what waits goes as the new terminal too
            await asyncio.to_thread(platform.outbox.adopt, enrolment.terminal_id)
        except KioskError as err:  # (the disk): enrolled all the same, the drain reports it
            log.error("outbox: waiting submissions not adopted: %s", err)
        return enrolment.terminal_id, enrolment.service_point

    return enrol_now


async def selftest(cfg: KioskConfig) -> int:
    """Run the self-test, print the table, and report the results to the dashboard."""
    from kiosk import __version__
    from kiosk import selftest as st

    terminal = Terminal(build_ports(cfg), cfg)
    try:  # the same run as the technician screen's: kept for diagnostics, sent to the dashboard
        report = await st.run_and_report(terminal, china_time(), __version__)
    finally:
        await terminal.aclose()
    print(st.table(report.checks))
    if report.not_kept:
        print(f"results not kept for diagnostics: {report.not_kept}", file=sys.stderr)
    if report.not_sent:
        print(f"results not sent to the dashboard: {report.not_sent}", file=sys.stderr)
    return 0 if report.passed else 1


def read_new_pin() -> str:
    """The new technician PIN: typed twice without echo at a terminal, or one line on stdin."""
    import getpass

    if not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    pin = getpass.getpass("new technician PIN (6-12 digits): ").strip()
    if getpass.getpass("again: ").strip() != pin:
        raise ValueError("the two PINs differ; nothing was changed")
    return pin


def set_pin(cfg: KioskConfig, pin: str, print_hash: bool) -> int:
    """Keep the technician PIN's salted hash in the data dir (0600), or print it for the
    config file's ``[technician] pin_hash`` (a provisioned terminal)."""
    from kiosk.errors import ValidationError
    from kiosk.technician import check_new_pin, hash_pin, save_pin

    try:
        if print_hash:
            print(f'[technician]\npin_hash = "{hash_pin(check_new_pin(pin))}"')
            return 0
        path = save_pin(cfg.data_dir, pin)
    except ValidationError as err:
        print(f"kiosk set-pin: {err.detail}", file=sys.stderr)
        return 2
    print(f"technician PIN set ({path}, only its hash is kept)")
    return 0


def bundle_builder(cfg: KioskConfig):
    """A function that builds this terminal's diagnostics zip now (kiosk.diagnostics), with the
    outbox's count of waiting submissions (never their content)."""
    import datetime as dt
    import sqlite3

    from kiosk.diagnostics import build_bundle

    def build() -> bytes:
        extras = {}
        outbox = Path(cfg.data_dir) / "outbox.sqlite3"
        if outbox.exists():
            try:
                from client.outbox import Outbox

                health = Outbox(outbox, Path(cfg.data_dir) / "outbox.key", cfg.terminal.id).health()
                extras["outbox.json"] = json.dumps({
                    "waiting_submissions": int(health.details["queued"]),
                    "set_aside": int(health.details["set_aside"]),
                    "state": health.state.value, "reason": health.reason})  # fmt: skip
            except (sqlite3.Error, OSError, KioskError) as err:
                extras["outbox.json"] = json.dumps({"error": type(err).__name__})
        return build_bundle(cfg, dt.datetime.now(dt.UTC), extras)

    return build


async def diagnostics(cfg: KioskConfig, out: Path | None, upload: bool) -> int:
    """Build the diagnostics zip; write it to ``out`` and/or upload it to the platform."""
    bundle = await asyncio.to_thread(bundle_builder(cfg))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(bundle)
        print(f"{out} ({len(bundle)} bytes, no personal data)")
    if upload:
        platform = build_platform(cfg)
        try:
            bundle_id = await platform.upload_diagnostics(bundle)
        finally:
            await platform.close()
        print(f"uploaded as bundle {bundle_id}; the dashboard offers it for download")
    return 0


def as_installed(cfg: KioskConfig) -> KioskConfig:
    """The config file as this terminal was installed: with the identity the platform gave
    it, and its devices as its technician set them (kiosk.devices): serial ports, cameras,
    the receipt paper's width."""
    from kiosk.devices import load_paper, load_placements, with_paper, with_placements

    placed = with_placements(with_enrolment(cfg), load_placements(cfg.data_dir))
    return with_paper(placed, load_paper(cfg.data_dir))


def with_enrolment(cfg: KioskConfig) -> KioskConfig:
    """The terminal's id, and its service point, are the ones the platform gave it at
    enrolment."""
    from client import credentials
    from kiosk.config import as_enrolled

    enrolment = credentials.load(Path(cfg.data_dir))
    if enrolment is None:
        return cfg
    return as_enrolled(cfg, enrolment.terminal_id, enrolment.service_point)


RUNNING = "kiosk-running.lock"  # in the data dir: held by the running kiosk (``kiosk run``)


def hold_running(data_dir: str | Path):
    """Take the running kiosk's lock in ``data_dir`` for the life of the process (its file
    object: keep it); None when another process holds it (a kiosk running already)."""
    import fcntl

    Path(data_dir).mkdir(parents=True, exist_ok=True)
    f = open(Path(data_dir) / RUNNING, "a")  # noqa: SIM115 - held until the process ends
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        return None
    return f


def kiosk_running(data_dir: str | Path) -> bool:
    """Whether a kiosk is running on ``data_dir`` now (it holds the lock)."""
    held = hold_running(data_dir)
    if held is None:
        return True
    held.close()
    return False


def run_app(cfg: KioskConfig, kivy_home: Path, script=None, kiosk_mode: bool = True) -> int:
    """Open the window and run until it closes; ``script(app)`` runs beside it."""
    cfg = as_installed(cfg)
    held = hold_running(cfg.data_dir)  # one kiosk a data dir; the shell's selftest waits for it
    if held is None:
        print(f"kiosk: a kiosk is running on {cfg.data_dir} already", file=sys.stderr)
        return 2
    from screens.window import configure

    configure(cfg.display, kivy_home, kiosk_mode=kiosk_mode)
    from kivy.clock import Clock

    from kiosk.catalog import default_catalog_dir, load_catalog
    from kiosk.catalog.sync import CatalogCache
    from kiosk.diagnostics import HISTORY_FILE, HealthHistory, log_to_file
    from peripherals.sdnotify import Notifier
    from screens.app import KioskApp

    log_to_file(cfg.data_dir)
    # The platform's catalog as last downloaded; the bundled one until there is one.
    cache = CatalogCache(cfg.data_dir)
    cached = cache.load()
    terminal = Terminal(
        build_ports(cfg),
        cfg,
        catalog=cached.value if cached else load_catalog(default_catalog_dir()),
        history=HealthHistory(Path(cfg.data_dir) / HISTORY_FILE),
    )
    terminal.catalog_cache, terminal.catalog_etag = cache, cached.etag if cached else ""
    # the platform's holiday calendar as last downloaded (kiosk/calendar_sync.py)
    from kiosk.calendar_sync import CalendarCache

    terminal.calendar_cache = CalendarCache(cfg.data_dir)
    if (kept := terminal.calendar_cache.load()) is not None:
        terminal.calendar, terminal.calendar_etag = kept.value, kept.etag
    # the configuration in use when the bundle is made (a device put on another port since)
    terminal.diagnostics = lambda: bundle_builder(terminal.config)()
    from peripherals.discovery import SerialFinder

    terminal.finder, terminal.device_builder = SerialFinder(cfg.technician.serial_ports), build_device
    from client import credentials

    terminal.enrolled = credentials.load(Path(cfg.data_dir)) is not None
    if terminal.ports.platform is not None:
        terminal.enroller = enroller(cfg, terminal.ports.platform)  # the technician screen's
    from kiosk.config import load_remote

    version, settings = load_remote(cfg.data_dir)  # the dashboard's last settings, kept offline
    if version:
        terminal.apply_remote_config(version, settings)
    # the attract screen cycles terminal.notices itself, so pushed notices show without a restart
    app = KioskApp(terminal, terminal.notices, cfg.terminal.point_name)
    notifier = Notifier()

    def started(_app):
        # READY once the window is up; the watchdog is fed from the UI loop itself,
        # so a frozen screen is restarted by systemd.
        notifier.ready()
        if notifier.watchdog_interval():
            Clock.schedule_interval(lambda _dt: notifier.watchdog(), notifier.watchdog_interval())

    app.bind(on_start=started)
    failure: list[BaseException] = []

    async def scripted():
        try:
            await script(app)
        except BaseException as err:  # reported after the window closes
            failure.append(err)
        finally:
            app.stop()

    async def main():
        task = asyncio.ensure_future(scripted()) if script else None
        stop = asyncio.Event()
        platform = terminal.ports.platform
        # Submissions queued while offline are sent in the background, in order, exactly once.
        drain = (asyncio.ensure_future(platform.outbox.run(platform.client, stop))
                 if hasattr(platform, "outbox") else None)
        from kiosk import __version__

        beats = asyncio.ensure_future(terminal.heartbeats(
            stop, lambda: app.screens.current if app.root else "starting", __version__,
            interval=cfg.platform.heartbeat_interval))
        try:
            await app.async_run(async_lib="asyncio")
            if task:
                await task
        finally:
            stop.set()
            await beats
            if drain:
                await drain
            notifier.stopping()
            await terminal.aclose()

    asyncio.run(main())
    if failure:
        raise failure[0]
    return 0


EID_CITIZEN = ("362425196504120015", "刘建国")  # retiring: his pension claim needs the face check
RETIREMENT_ANSWERS = ("normal", "yes")  # at the statutory age; withdraw the provident fund


def eid_props(rig, scan) -> dict:
    """The e-ID scenarios' citizen: a photo of record on the platform (``central photos
    add``) and two e-ID codes from it (``central eid issue``), one already expired."""
    from peripherals.rig_parts import SHARED_FACES

    number, name = EID_CITIZEN
    data = str(rig["central"].data_dir)

    def central(*args: str) -> str:
        return subprocess.run([sys.executable, "-m", "central.cli", *args, "--data-dir", data],
                              capture_output=True, text=True, check=True, timeout=120).stdout.strip()

    central("photos", "add", number, str(SHARED_FACES / "obama2.jpg"))
    face = rig["camera"].dir / "face.jpg"

    def show_face(photo: str) -> None:  # swapped whole: the camera never reads half a file
        tmp = face.with_suffix(".tmp.jpg")
        shutil.copy(SHARED_FACES / photo, tmp)
        os.replace(tmp, face)

    return dict(scan_code=scan, show_face=show_face,
                eid_code=central("eid", "issue", number, name),
                expired_eid_code=central("eid", "issue", number, name, "--expired"),
                eid_name=name, other_face="biden.jpg", life_event="retirement",
                answers=RETIREMENT_ANSWERS, form_values={})


def type_as_wedge(code: str) -> None:
    """``code`` shown to a keyboard-wedge scanner: it types the code and Enter, a few ms a
    key, as key presses on the X display the kiosk's window is on (xdotool, through XTEST)."""
    subprocess.run(["xdotool", "type", "--delay", "4", "--", code], check=True, timeout=60)
    subprocess.run(["xdotool", "key", "Return"], check=True, timeout=10)


def demo_config(rig, orientation: str, language: str = "zh", elderly: bool = False,
                scanner: str = "serial") -> KioskConfig:  # fmt: skip
    width, height = ORIENTATIONS[orientation]
    return KioskConfig(
        terminal=TerminalConfig(
            id="AF-ZH-0007",
            service_point="zhouhu",
            point_name="洲湖镇便民服务中心",
            notices=DEMO_NOTICES,
            language=language,
            elderly_default=elderly,
        ),
        display=DisplayConfig(width=width, height=height),
        idcard=IdCardConfig(port=rig["idcard"].port),
        printer=PrinterConfig(connection=rig["printer"].connection),
        camera=CameraConfig(document=rig["camera"].document_url, face=rig["camera"].face_url),
        scanner=ScannerConfig(driver=scanner, port=rig["scanner"].port),
        platform=PlatformConfig(url=rig["central"].url),
        data_dir=str(rig.workdir / "kiosk"),
    )


def miswired(cfg: KioskConfig, rig) -> KioskConfig:
    """``cfg`` on a machine whose udev rules named neither the ID card reader nor the
    scanner (USB-serial bridges the rules do not know): both are on ports with the kernel's
    names (the rig's ``dev`` folder: links to the emulators' ptys, as udev's are to the
    real ports), and the config file's stable names lead nowhere (the scanner taken for a
    serial one, even where it types its codes as a USB keyboard); and whose two cameras
    are plugged into each other's hub ports (the document camera's name is the face
    camera's). The technician puts all of it right on the technician screen."""
    dev = rig.workdir / "dev"
    dev.mkdir(exist_ok=True)
    (dev / "ttyUSB0").symlink_to(rig["idcard"].port)
    (dev / "ttyACM0").symlink_to(rig["scanner"].port)
    return replace(cfg, idcard=replace(cfg.idcard, port=str(dev / "kiosk-idcard")),
                   # a serial one, as the config file says: a scanner that types (``--scanner
                   # wedge``) is found by its keys, and switched to on the screen too
                   scanner=replace(cfg.scanner, driver="serial", port=str(dev / "kiosk-scanner")),
                   camera=replace(cfg.camera, document=cfg.camera.face, face=cfg.camera.document),
                   technician=replace(cfg.technician, serial_ports=(f"{dev}/*",)))  # fmt: skip


SCENARIOS = ("journey", "paper-out", "timeout", "after-death", "card-removed", "offline", "eid",
             "face-refused", "capture", "query", "technician")
EID_SCENARIOS = ("eid", "face-refused")  # identify by electronic ID; retirement needs the face check
DEMO_PIN = "274951"  # the technician's PIN in the technician scenario (kiosk set-pin)


def prefix_of(orientation: str, scenario: str) -> str:
    return f"{orientation}-" if scenario == "journey" else f"{scenario}-{orientation}-"


def demo(orientation: str, out: Path, scenario: str = "journey", language: str = "zh",
         elderly: bool = False, scanner: str = "serial") -> int:
    if orientation == "both":
        rc = 0
        for o in ORIENTATIONS:
            cmd = [sys.executable, "-m", "kiosk.cli", "demo", "--orientation", o, "--out", str(out),
                   "--scenario", scenario, "--language", language, "--scanner", scanner,
                   *(["--elderly"] if elderly else [])]  # fmt: skip
            child = subprocess.Popen(cmd)
            try:
                rc = child.wait() or rc
            except KeyboardInterrupt:  # stopped: the child stops its own parts before we go
                child.terminate()
                child.wait(timeout=60)
                raise
        return rc
    from peripherals.camera.sample import write_document_photo
    from peripherals.supervisor import Supervisor
    from screens import walkthrough
    from screens.query_walkthrough import query_steps
    from screens.technician_walkthrough import technician_steps
    from screens.walkthrough import Props, Walkthrough

    steps = {"journey": walkthrough.journey_steps, "paper-out": walkthrough.paper_out_steps,
             "timeout": walkthrough.timeout_steps, "after-death": walkthrough.after_death_steps,
             "card-removed": walkthrough.card_removed_steps,
             "offline": walkthrough.offline_steps, "eid": walkthrough.eid_steps,
             "face-refused": walkthrough.face_refused_steps,
             "capture": walkthrough.capture_steps,
             "query": query_steps, "technician": technician_steps}[scenario]

    out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="kiosk-demo-"))
    logs = out / f"{prefix_of(orientation, scenario)}logs"  # the parts' logs, kept at the end
    with Supervisor(workdir) as rig:
        os.environ.update(rig.env())
        cfg = demo_config(rig, orientation, language, elderly, scanner)
        scan = rig["scanner"].emulator.scan if scanner == "serial" else type_as_wedge
        if scenario == "timeout":  # short enough to watch; the countdown keeps WCAG's 20 s
            cfg = replace(cfg, timeouts=TimeoutsConfig(inactivity=4.0, warning=20.0))
        if scenario == "query":  # a card forgotten on the reader: staff called in 5 s, not 60
            cfg = replace(cfg, timeouts=replace(cfg.timeouts, card_left=5.0))
        # A technician's enrolment: a one-time code from the platform, traded for an identity.
        code = subprocess.run(
            [sys.executable, "-m", "central.cli", "terminals", "add-code", "--point",
             cfg.terminal.service_point, "--data-dir", str(rig["central"].data_dir)],
            capture_output=True, text=True, check=True, timeout=60,
        ).stdout.split()[-1]
        if scenario == "technician":  # a new terminal: enrolled on its technician screen
            from kiosk.technician import save_pin

            save_pin(cfg.data_dir, DEMO_PIN)
            steps = partial(steps, pin=DEMO_PIN, code=code)
            cfg = miswired(cfg, rig)
        else:
            asyncio.run(enrol(cfg, code))
        idcard = rig["idcard"]
        citizen = idcard.cards[0]  # the rig's social-security card is theirs (rig_parts)

        def render_receipt(path: Path) -> Path:
            return rig["printer"].emulator.render(path)

        def report(facts: dict) -> None:  # what the walkthrough saw, for the UI tests
            facts = {**facts, "stored_submissions": stored_submissions(rig["central"].data_dir)}
            if scenario == "query":  # every log written, for the tests to look for personal data
                facts["logs"] = sorted(str(logs / p.relative_to(rig.workdir))
                                       for p in rig.workdir.rglob("*.log*") if p.is_file())  # fmt: skip
                facts["help_requests"] = help_requests(rig["central"].data_dir)
            if scenario == "technician":
                facts["selftest_beats"] = selftest_beats(rig["central"].data_dir)
            (out / f"{prefix_of(orientation, scenario)}report.json").write_text(json.dumps(facts))

        after_death = scenario == "after-death"
        event, answers, form_values = SCENARIO_EVENTS.get(scenario, ("birth", DEMO_ANSWERS, DEMO_FORM))

        props = Props(
            insert_id_card=lambda: idcard.emulator.insert(citizen),
            remove_id_card=idcard.emulator.remove,
            insert_social_card=rig["pcsc"].card.insert,
            remove_social_card=rig["pcsc"].card.remove,
            render_receipt=render_receipt,
            printed_text=lambda: rig["printer"].emulator.text(),
            paper_out_mid_job=lambda: rig["printer"].emulator.run_out_after(n_lines=6),
            refill=rig["printer"].emulator.refill,
            expected_name=citizen.name,
            social_name=rig["pcsc"].card.card.name,
            life_event=event,
            answers=answers,
            form_values=form_values,
            defer=("driving_licence",) if after_death else (),
            platform_down=rig["central"].stop,
            platform_up=rig["central"].come_back,
            report=report,
            show_document=partial(write_document_photo, rig["camera"].dir / "document.png"),
            name_place=partial(name_place, rig["central"].data_dir),
        )
        if scenario == "query":  # an application made here earlier; its receipt in hand
            props = replace(props, scan_code=scan,
                            receipt_code=seed_application(rig, cfg, out / f"{prefix_of(orientation, scenario)}"
                                                          "earlier-receipt.png"))
        if scenario in EID_SCENARIOS:
            props = replace(props, **eid_props(rig, scan))
        if scenario == "technician":  # the scanner, tried to find its port
            props = replace(props, scan_code=scan)
        shots: list[Path] = []

        async def script(app):
            walk = Walkthrough(app, out, prefix=prefix_of(orientation, scenario))
            try:
                shots.extend(await asyncio.wait_for(walk.run(props, steps), 300))
            finally:  # what a screen drew over its neighbours (screens/layout_check.py)
                (out / f"{prefix_of(orientation, scenario)}layout.json").write_text(
                    json.dumps(walk.spills, ensure_ascii=False, indent=1))
                for name, spills in walk.spills.items():
                    print(f"kiosk demo: {name}: drawn outside its box: {'; '.join(spills)}",
                          file=sys.stderr)

        run_app(cfg, workdir / "kivy", script)
        pids = rig.pids()
    # What the demo started, for whoever checks that nothing is left running.
    (out / f"{prefix_of(orientation, scenario)}pids.txt").write_text(
        "".join(f"{name} {pid}\n" for name, pid in pids))
    # The logs (scrubbed) go with the screenshots; the working directory goes: its platform
    # database and the kiosk's data hold the demo citizen's application (kept when it failed)
    for path in workdir.rglob("*.log*"):
        if path.is_file():
            (logs / path.relative_to(workdir)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, logs / path.relative_to(workdir))
    shutil.rmtree(workdir, ignore_errors=True)
    for path in shots:
        print(path)
    return 0


def seed_application(rig, cfg: KioskConfig, receipt_png: Path) -> str:
    """An application made at this kiosk earlier (the birth bundle, through the core and
    the real client), moved on two stages by the office; its acceptance receipt printed
    on the emulated printer. Returns what the printed slip's QR code holds, read off
    the slip's picture as a scanner reads paper.
    """
    import datetime as dt

    from client import credentials
    from client.platform import PlatformClient
    from kiosk.catalog import default_catalog_dir, load_catalog
    from kiosk.journey import Journey
    from kiosk.receipts import build_receipt
    from kiosk.session import Session
    from kiosk.validation import normalize_date
    from peripherals.printer.driver import EscposPrinter

    catalog, now = load_catalog(default_catalog_dir()), dt.datetime.now(dt.UTC)
    journey = Journey(catalog, Session(rig["idcard"].cards[0], now))
    question = journey.choose("birth", now)
    for value in DEMO_ANSWERS:
        question = journey.answer(question.id, value, now) if question else None
    prefilled = journey.start_form()
    for f in journey.form().fields:
        if f.id in DEMO_FORM and f.id not in prefilled:
            journey.set_value(f.id, normalize_date(DEMO_FORM[f.id]), now)
    if problems := journey.problems(china_time(now).date()):
        raise RuntimeError(f"the demo application's form is not complete: {sorted(problems)}")
    for item in journey.outstanding():
        journey.attach_scan(item.code, [b"page"] * max(1, len(item.pages)), now)
    enrolment = credentials.load(Path(cfg.data_dir))
    submission = journey.submission(enrolment.terminal_id, cfg.terminal.service_point, now)

    async def send():
        async with PlatformClient(cfg.platform.url, terminal_id=enrolment.terminal_id,
                                  secret=enrolment.secret) as client:  # fmt: skip
            return await client.submit(submission)

    outcome = asyncio.run(send())
    for _ in range(2):  # 受理 → 流转 → 审核
        subprocess.run([sys.executable, "-m", "central.cli", "office", "advance",
                        outcome.acceptance_number, "--data-dir", str(rig["central"].data_dir)],
                       capture_output=True, check=True, timeout=60)  # fmt: skip
    track = f"{cfg.platform.url.rstrip('/')}/track/"
    printer = EscposPrinter(cfg.printer.connection, paper_mm=cfg.printer.paper_mm)
    try:
        printer.print_receipt(build_receipt(outcome, catalog, track_url=track,
                                            track_secret=enrolment.secret))  # fmt: skip
    finally:
        printer.close()
    rig["printer"].emulator.render(receipt_png)
    from peripherals.scanner.emulator import read_paper

    code = read_paper(receipt_png)
    if not code:
        raise RuntimeError(f"the QR code on the printed receipt {receipt_png} does not scan")
    return code


def name_place(central_data: Path, terminal_id: str, place: str) -> None:
    """Name where a terminal stands in its hall, as a technician does on the dashboard
    (its settings page): kept by the platform and pushed to the terminal."""
    import datetime as dt

    from central.config import CentralConfig
    from central.dashboard import remote
    from central.db import make_engine

    engine = make_engine(CentralConfig(data_dir=central_data).url)
    try:
        remote.save_place(engine, terminal_id, place, "demo", dt.datetime.now(dt.UTC))
    finally:
        engine.dispose()


def selftest_beats(central_data: Path) -> list[dict]:
    """The self-test results the demo's platform received (heartbeats from the "selftest"
    screen): which terminal, and each device's state."""
    import sqlalchemy as sa

    from central import tables
    from central.config import CentralConfig
    from central.db import make_engine

    engine = make_engine(CentralConfig(data_dir=central_data).url)
    h = tables.heartbeats
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(h.c.terminal_id, h.c.devices).where(h.c.screen == "selftest"))
            return [{"terminal_id": r.terminal_id,
                     "devices": {d["device"]: d["state"] for d in r.devices}} for r in rows]  # fmt: skip
    finally:
        engine.dispose()


def help_requests(central_data: Path) -> list[list]:
    """The help requests the demo's platform holds open: [screen, whether its alert says it
    is over by itself (a card left, then taken)]."""
    import sqlalchemy as sa

    from central import tables
    from central.config import CentralConfig
    from central.db import make_engine

    engine = make_engine(CentralConfig(data_dir=central_data).url)
    h, a = tables.help_requests, tables.alerts
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(h.c.screen, a.c.cleared_at)
                                .join(a, a.c.help_request_id == h.c.id)
                                .where(h.c.closed_at.is_(None)))  # fmt: skip
            return [[r.screen, r.cleared_at is not None] for r in rows]
    finally:
        engine.dispose()


def stored_submissions(central_data: Path) -> list[dict]:
    """What the demo's (fresh) platform stored: per submission its matters, deferred
    materials, whether the promise was signed and the offline slip's number."""
    import sqlalchemy as sa

    from central import tables
    from central.config import CentralConfig
    from central.db import make_engine
    from central.sealing import SecretBox
    from central.store import open_body

    engine = make_engine(CentralConfig(data_dir=central_data).url)
    box = SecretBox.for_data_dir(central_data)  # the bodies are sealed at rest
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(tables.submissions.c.key, tables.submissions.c.body))
            bodies = [open_body(box, row.key, row.body) for row in rows]
    finally:
        engine.dispose()
    return [{"matters": b["matters"], "deferred": [d["code"] for d in b.get("deferred", [])],
             "signed": bool(b.get("commitment_signature")), "local_number": b.get("local_number", "")}
            for b in bodies]


def _terminate(_signum, _frame):
    raise KeyboardInterrupt  # the same clean stop as Ctrl-C: every part is stopped


def outbox_command(cfg: KioskConfig, resend: bool, discard: bool) -> int:
    """``kiosk outbox``: the queue in counts (nothing personal), and what to do with what
    was set aside. A running kiosk sends what is queued again at its next round."""
    from client.outbox import Outbox

    data = Path(cfg.data_dir)
    if not (data / "outbox.sqlite3").exists():
        print("kiosk outbox: no submission queue here yet (nothing was ever queued)")
        return 0
    outbox = Outbox(data / "outbox.sqlite3", data / "outbox.key", cfg.terminal.id)
    for number, why in outbox.set_aside():  # by the slips' numbers, for the hall to find them
        print(f"set aside: {number} ({why})")
    if resend:
        print(f"queued again: {outbox.resend_set_aside()}")
    elif discard:
        print(f"discarded: {outbox.discard_set_aside()}")
    health = outbox.health()
    print(f"waiting: {health.details['queued']}  set aside: {health.details['set_aside']}  "
          f"state: {health.state.value}" + (f"  ({health.reason})" if health.reason else ""))
    return 0 if health.state.value == "ok" else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kiosk", description="Self-service government kiosk")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="run the terminal full screen")
    p_run.add_argument("--config", type=Path, default=Path("/etc/govkiosk/kiosk.toml"))
    p_run.add_argument("--windowed", action="store_true", help="not kiosk mode: a cursor, Esc quits")
    p_demo = sub.add_parser("demo", help="scripted walkthrough against the emulators")
    p_demo.add_argument("--orientation", choices=[*ORIENTATIONS, "both"], default="both")
    p_demo.add_argument("--out", type=Path, default=Path("out/demo"))
    p_demo.add_argument("--scenario", choices=SCENARIOS, default="journey",
                        help="the whole journey, or a fault: paper out mid-receipt, inactivity")
    p_demo.add_argument("--language", choices=("zh", "en"), default="zh",
                        help="the kiosk's starting language (the screenshots' language)")
    p_demo.add_argument("--elderly", action="store_true", help="start in elderly mode (长辈模式)")
    p_demo.add_argument("--scanner", choices=("serial", "wedge"), default="serial",
                        help="the code scanner: on a serial port, or a USB one that types (xdotool)")
    sub.add_parser("savings", help="the savings table for the catalog")
    p_self = sub.add_parser("selftest", help="exercise every device; a pass/fail table")
    p_self.add_argument("--config", type=Path, default=Path("/etc/govkiosk/kiosk.toml"))
    p_diag = sub.add_parser(
        "diagnostics",
        help="a zip of logs, versions, device history and config, with no personal data",
    )
    p_diag.add_argument("--config", type=Path, default=Path("/etc/govkiosk/kiosk.toml"))
    p_diag.add_argument("--out", type=Path, help="where to write the zip")
    p_diag.add_argument("--upload", action="store_true", help="send it to the platform's dashboard")
    p_pin = sub.add_parser("set-pin", help="set the technician screen's PIN (asked for, not "
                           "given on the command line; a line on stdin when not a terminal)")
    p_pin.add_argument("--config", type=Path, default=Path("/etc/govkiosk/kiosk.toml"))
    p_pin.add_argument("--print-hash", action="store_true",
                       help="print the hash for the config file instead of keeping it in the data dir")
    p_out = sub.add_parser("outbox", help="the submission queue: what waits to reach the "
                           "platform and what was set aside unsent; resend or discard the latter")
    p_out.add_argument("--config", type=Path, default=Path("/etc/govkiosk/kiosk.toml"))
    act = p_out.add_mutually_exclusive_group()
    act.add_argument("--resend-set-aside", action="store_true",
                     help="queue again what was set aside, once its cause is put right")
    act.add_argument("--discard-set-aside", action="store_true",
                     help="forget what was set aside, once the hall has dealt with each by hand")
    p_enrol = sub.add_parser("enrol", help="enrol this terminal with a one-time code")
    p_enrol.add_argument("code")
    p_enrol.add_argument("--config", type=Path, default=Path("/etc/govkiosk/kiosk.toml"))
    args, rest = parser.parse_known_args(argv)
    from kiosk.privacy import scrub_logs
    from screens.window import kivy_logging_env

    kivy_logging_env()  # before any import of Kivy (the demo's walkthrough imports it early)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    scrub_logs()  # the copy on stderr (the journal under systemd) too, not only the file
    signal.signal(signal.SIGTERM, _terminate)
    try:
        if args.command == "run":
            cfg = load_config(args.config)
            if args.windowed:
                cfg = replace(cfg, display=replace(cfg.display, fullscreen=False, show_cursor=True))
            return run_app(cfg, Path(cfg.data_dir) / "kivy", kiosk_mode=not args.windowed)
        if args.command == "demo":
            return demo(args.orientation, args.out.resolve(), args.scenario, args.language,
                        args.elderly, args.scanner)  # fmt: skip
        if args.command == "selftest":
            cfg = load_config(args.config)
            if kiosk_running(cfg.data_dir):  # both would open the same ports and cameras
                print("kiosk selftest: the kiosk is running: use its technician screen (运行自检), "
                      "or stop it first (systemctl stop govkiosk)", file=sys.stderr)  # fmt: skip
                return 2
            return asyncio.run(selftest(as_installed(cfg)))
        if args.command == "diagnostics":
            if args.out is None and not args.upload:
                parser.error("diagnostics: give --out FILE, --upload, or both")
            cfg = as_installed(load_config(args.config))
            return asyncio.run(diagnostics(cfg, args.out, args.upload))
        if args.command == "set-pin":
            cfg = load_config(args.config)
            if (refused := not_as_root(cfg)) and not args.print_hash:
                print(refused, file=sys.stderr)
                return 2
            return set_pin(cfg, read_new_pin(), args.print_hash)
        if args.command == "outbox":
            return outbox_command(with_enrolment(load_config(args.config)),
                                  args.resend_set_aside, args.discard_set_aside)  # fmt: skip
        if args.command == "enrol":
            cfg = load_config(args.config)
            if refused := not_as_root(cfg):
                print(refused, file=sys.stderr)
                return 2
            terminal_id = asyncio.run(enrol(cfg, args.code))
            print(f"enrolled as terminal {terminal_id}; a running kiosk takes it when restarted "
                  "(systemctl restart govkiosk), or enrol on its technician screen instead")  # fmt: skip
            return 0
        if args.command == "savings":
            from kiosk import savings

            return savings.main(rest)
    except ConfigError as err:
        print(f"kiosk: configuration error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kiosk: interrupted; every emulator and daemon was stopped", file=sys.stderr)
        return 130
    except Exception as err:  # one line for a person; the traceback with -v
        if args.verbose:
            raise
        print(f"kiosk {args.command}: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The composition root: the ``kiosk`` command.

Only here are concrete drivers and the platform client wired into the core,
chosen by configuration (``kiosk run --config FILE``). ``kiosk demo`` starts
the emulators and a local central server with the supervisor and runs the
scripted walkthrough in a real window.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import replace
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
    "relation_to_householder": "子",
    "card_bank": "ccb",
}
DEMO_NOTICES = (
    "夜间办事请走东侧24小时自助区，自助区全天开放",
    "出生、入学、退休、身后事等“一件事”可在本机一次办理",
    "不动产登记、社保、医保等业务全县通办，就近可办",
)


def build_ports(cfg: KioskConfig) -> Ports:
    """Real adapters for the configured devices (an emulator is just another URL)."""
    ports = Ports()
    if cfg.idcard.driver == "ga467":
        from peripherals.idcard.driver import SerialIdCardReader

        ports.id_reader = SerialIdCardReader(cfg.idcard.port, baudrate=cfg.idcard.baudrate)
    if cfg.sscard.driver == "pcsc":
        from peripherals.sscard.driver import PcscSocialCardReader

        ports.social_reader = PcscSocialCardReader(cfg.sscard.reader or None)
    if cfg.printer.driver == "escpos":
        from peripherals.printer.driver import EscposPrinter

        ports.printer = EscposPrinter(cfg.printer.connection, paper_mm=cfg.printer.paper_mm)
    if cfg.camera.document:
        from peripherals.camera.capture import DocumentCamera

        ports.document_camera = DocumentCamera(cfg.camera.document)
    if cfg.camera.face:
        from peripherals.camera.capture import FaceCamera

        ports.face_camera = FaceCamera(cfg.camera.face)
    if cfg.scanner.driver == "serial":
        from peripherals.scanner.driver import SerialCodeScanner

        ports.scanner = SerialCodeScanner(cfg.scanner.port, baudrate=cfg.scanner.baudrate)
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
    return DurablePlatform(client, Outbox(data / "outbox.sqlite3", data / "outbox.key", terminal_id))


async def enrol(cfg: KioskConfig, code: str) -> str:
    """Trade a one-time code for this terminal's identity and keep it in the data dir.

    :raises PlatformError: the code is refused or the platform is unreachable.
    """
    from client import credentials
    from client.platform import PlatformClient

    async with PlatformClient(cfg.platform.url, timeout=cfg.platform.timeout) as client:
        enrolment = await client.enrol(code)
    credentials.save(Path(cfg.data_dir), enrolment)
    return enrolment.terminal_id


async def selftest(cfg: KioskConfig) -> int:
    """Run the self-test, print the table, and report the results to the dashboard."""
    from kiosk import __version__
    from kiosk import selftest as st
    from kiosk.config import china_time

    terminal = Terminal(build_ports(cfg), cfg)
    try:
        checks = await st.run(terminal, china_time())
        print(st.table(checks))
        beat = getattr(terminal.ports.platform, "heartbeat", None)
        if beat is not None:
            try:
                await beat(st.as_health(checks), software_version=__version__, screen="selftest",
                           paper=await terminal.paper())
            except KioskError as err:
                print(f"results not sent to the dashboard: {err.detail}", file=sys.stderr)
    finally:
        await terminal.aclose()
    return 0 if all(c.passed for c in checks) else 1


def with_enrolment(cfg: KioskConfig) -> KioskConfig:
    """The terminal's id is the one the platform gave it at enrolment."""
    from client import credentials

    enrolment = credentials.load(Path(cfg.data_dir))
    if enrolment is None:
        return cfg
    return replace(cfg, terminal=replace(cfg.terminal, id=enrolment.terminal_id))


def run_app(cfg: KioskConfig, kivy_home: Path, script=None, kiosk_mode: bool = True) -> int:
    """Open the window and run until it closes; ``script(app)`` runs beside it."""
    cfg = with_enrolment(cfg)
    from screens.window import configure

    configure(cfg.display, kivy_home, kiosk_mode=kiosk_mode)
    from kivy.clock import Clock

    from kiosk.catalog import default_catalog_dir, load_catalog
    from peripherals.sdnotify import Notifier
    from screens.app import KioskApp

    terminal = Terminal(build_ports(cfg), cfg, catalog=load_catalog(default_catalog_dir()))
    app = KioskApp(terminal, list(cfg.terminal.notices), cfg.terminal.point_name)
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


def demo_config(rig, orientation: str) -> KioskConfig:
    width, height = ORIENTATIONS[orientation]
    return KioskConfig(
        terminal=TerminalConfig(
            id="YF-ZH-0007",
            service_point="zhouhu",
            point_name="洲湖镇便民服务中心",
            notices=DEMO_NOTICES,
        ),
        display=DisplayConfig(width=width, height=height),
        idcard=IdCardConfig(port=rig["idcard"].port),
        printer=PrinterConfig(connection=rig["printer"].connection),
        camera=CameraConfig(document=rig["camera"].document_url, face=rig["camera"].face_url),
        scanner=ScannerConfig(port=rig["scanner"].port),
        platform=PlatformConfig(url=rig["central"].url),
        data_dir=str(rig.workdir / "kiosk"),
    )


SCENARIOS = ("journey", "paper-out", "timeout")


def prefix_of(orientation: str, scenario: str) -> str:
    return f"{orientation}-" if scenario == "journey" else f"{scenario}-{orientation}-"


def demo(orientation: str, out: Path, scenario: str = "journey") -> int:
    if orientation == "both":
        rc = 0
        for o in ORIENTATIONS:
            cmd = [sys.executable, "-m", "kiosk.cli", "demo", "--orientation", o, "--out", str(out),
                   "--scenario", scenario]
            rc = rc or subprocess.call(cmd)
        return rc
    from peripherals.supervisor import Supervisor
    from screens import walkthrough
    from screens.walkthrough import Props, Walkthrough

    steps = {"journey": walkthrough.journey_steps, "paper-out": walkthrough.paper_out_steps,
             "timeout": walkthrough.timeout_steps}[scenario]

    out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="kiosk-demo-"))
    with Supervisor(workdir) as rig:
        os.environ.update(rig.env())
        cfg = demo_config(rig, orientation)
        if scenario == "timeout":  # short enough to watch; the countdown keeps WCAG's 20 s
            cfg = replace(cfg, timeouts=TimeoutsConfig(inactivity=4.0, warning=20.0))
        # A technician's enrolment: a one-time code from the platform, traded for an identity.
        code = subprocess.run(
            [sys.executable, "-m", "central.cli", "terminals", "add-code", "--point",
             cfg.terminal.service_point, "--data-dir", str(rig["central"].data_dir)],
            capture_output=True, text=True, check=True, timeout=60,
        ).stdout.split()[-1]
        asyncio.run(enrol(cfg, code))
        idcard = rig["idcard"]
        citizen = idcard.cards[0]

        def render_receipt(path: Path) -> Path:
            return rig["printer"].emulator.render(path)

        props = Props(
            insert_id_card=lambda: idcard.emulator.insert(citizen),
            remove_id_card=idcard.emulator.remove,
            insert_social_card=rig["pcsc"].card.insert,
            remove_social_card=rig["pcsc"].card.remove,
            render_receipt=render_receipt,
            paper_out_mid_job=lambda: rig["printer"].emulator.run_out_after(n_lines=6),
            refill=rig["printer"].emulator.refill,
            expected_name=citizen.name,
            life_event="birth",
            answers=DEMO_ANSWERS,
            form_values=DEMO_FORM,
        )
        shots: list[Path] = []

        async def script(app):
            walk = Walkthrough(app, out, prefix=prefix_of(orientation, scenario))
            shots.extend(await asyncio.wait_for(walk.run(props, steps), 300))

        pids = rig.pids()
        run_app(cfg, workdir / "kivy", script)
    # What the demo started, for whoever checks that nothing is left running.
    (out / f"{prefix_of(orientation, scenario)}pids.txt").write_text(
        "".join(f"{name} {pid}\n" for name, pid in pids))
    for path in shots:
        print(path)
    return 0


def _terminate(_signum, _frame):
    raise KeyboardInterrupt  # the same clean stop as Ctrl-C: every part is stopped


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
    sub.add_parser("savings", help="the savings table for the catalog")
    p_self = sub.add_parser("selftest", help="exercise every device; a pass/fail table")
    p_self.add_argument("--config", type=Path, default=Path("/etc/govkiosk/kiosk.toml"))
    p_enrol = sub.add_parser("enrol", help="enrol this terminal with a one-time code")
    p_enrol.add_argument("code")
    p_enrol.add_argument("--config", type=Path, default=Path("/etc/govkiosk/kiosk.toml"))
    args, rest = parser.parse_known_args(argv)
    os.environ.setdefault("KIVY_NO_ARGS", "1")  # Kivy must not read our command line
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGTERM, _terminate)
    try:
        if args.command == "run":
            cfg = load_config(args.config)
            if args.windowed:
                cfg = replace(cfg, display=replace(cfg.display, fullscreen=False, show_cursor=True))
            return run_app(cfg, Path(cfg.data_dir) / "kivy", kiosk_mode=not args.windowed)
        if args.command == "demo":
            return demo(args.orientation, args.out.resolve(), args.scenario)
        if args.command == "selftest":
            return asyncio.run(selftest(with_enrolment(load_config(args.config))))
        if args.command == "enrol":
            terminal_id = asyncio.run(enrol(load_config(args.config), args.code))
            print(f"enrolled as terminal {terminal_id}")
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

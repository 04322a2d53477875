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
    load_config,
)
from kiosk.terminal import Ports, Terminal

log = logging.getLogger("kiosk")
ORIENTATIONS = {"portrait": (1080, 1920), "landscape": (1920, 1080)}
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
    return ports


def run_app(cfg: KioskConfig, kivy_home: Path, script=None, kiosk_mode: bool = True) -> int:
    """Open the window and run until it closes; ``script(app)`` runs beside it."""
    from screens.window import configure

    configure(cfg.display, kivy_home, kiosk_mode=kiosk_mode)
    from screens.app import KioskApp

    from kivy.clock import Clock

    from peripherals.sdnotify import Notifier

    terminal = Terminal(build_ports(cfg), cfg)
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
        await app.async_run(async_lib="asyncio")
        if task:
            await task

    try:
        asyncio.run(main())
    finally:
        notifier.stopping()
        terminal.close()
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


def demo(orientation: str, out: Path) -> int:
    if orientation == "both":
        rc = 0
        for o in ORIENTATIONS:
            cmd = [sys.executable, "-m", "kiosk.cli", "demo", "--orientation", o, "--out", str(out)]
            rc = rc or subprocess.call(cmd)
        return rc
    from peripherals.supervisor import Supervisor
    from screens.walkthrough import Props, Walkthrough, skeleton_steps

    out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="kiosk-demo-"))
    with Supervisor(workdir) as rig:
        os.environ.update(rig.env())
        cfg = demo_config(rig, orientation)
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
            expected_name=citizen.name,
        )
        shots: list[Path] = []

        async def script(app):
            walk = Walkthrough(app, out, prefix=f"{orientation}-")
            shots.extend(await asyncio.wait_for(walk.run(props, skeleton_steps), 180))

        run_app(cfg, workdir / "kivy", script)
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
    sub.add_parser("savings", help="the savings table for the catalog")
    args, rest = parser.parse_known_args(argv)
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
            return demo(args.orientation, args.out.resolve())
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

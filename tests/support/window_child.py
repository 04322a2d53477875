"""For a test's child process that runs one Kivy window (Kivy makes one per process)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def drive(app, script: Callable[[], Awaitable[dict]], timeout: float = 60.0) -> dict:
    """Run ``app`` with ``script()`` beside it on one loop; the window closes when the
    script ends or fails (a failure is raised here). What the script returned."""
    result: dict = {}

    async def run() -> None:
        async def guarded() -> None:
            try:
                result.update(await asyncio.wait_for(script(), timeout))
            finally:
                app.stop()

        task = asyncio.ensure_future(guarded())
        await app.async_run(async_lib="asyncio")
        await task

    asyncio.run(run())
    return result


def run_child(child: Path, out: Path, size: tuple[int, int], *args: str,
              timeout: float = 120) -> dict:  # fmt: skip
    """Run the test window ``child`` (``python CHILD OUT WIDTH HEIGHT ARGS…``) on an Xvfb
    of its own at ``size``; the JSON of its last line. A child that fails fails the test."""
    from peripherals.supervisor import Xvfb

    display = Xvfb(*size)
    display.start(out)
    try:
        proc = subprocess.run(
            [sys.executable, str(child), str(out), *map(str, size), *args],
            cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT), **display.env()),
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
    finally:
        display.stop()
    assert proc.returncode == 0, f"{child.name} failed:\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def rect(widget) -> list[float]:
    """A widget's [x, y, width, height] in window pixels (y from the bottom)."""
    x, y = widget.to_window(widget.x, widget.y)
    return [x, y, widget.width, widget.height]


def kiosk_window(script, *, ports=None, config=None) -> None:
    """A child's whole main for a kiosk window, run as ``python CHILD OUT WIDTH HEIGHT``:
    the display set to that size, the kiosk app on the county's catalog with a terminal
    of ``ports()`` (default: no devices) and ``config`` (a KioskConfig), ``script(app, out)``
    driven beside it; its JSON printed (the parent's run_child reads the last line)."""
    out = Path(sys.argv[1])
    sys.path.insert(0, str(ROOT))
    from kiosk.config import DisplayConfig, KioskConfig
    from screens.window import configure

    configure(DisplayConfig(width=int(sys.argv[2]), height=int(sys.argv[3])), out / "kivy")
    from kiosk.catalog import default_catalog_dir, load_catalog
    from kiosk.terminal import Ports, Terminal
    from screens.app import KioskApp

    terminal = Terminal(ports() if ports else Ports(), config or KioskConfig(),
                        load_catalog(default_catalog_dir()))  # fmt: skip
    app = KioskApp(terminal, ["通知"], "洲湖镇便民服务中心")
    print(json.dumps(drive(app, lambda: script(app, out)), ensure_ascii=False))


async def attract(app, out: Path, *, elderly: bool = False):
    """A Walkthrough of ``app`` once its attract screen is up (large type, ``elderly``: the
    citizen's own button touched, as an older citizen chooses it)."""
    from screens.walkthrough import Walkthrough, until

    w = Walkthrough(app, out)
    await until(lambda: app.root is not None and app.screens.current == "attract", 30, "attract")
    if elderly:
        await w.tap("elderly")
        await until(lambda: app.scale > 1, 5, "large type")
    return w


async def applying(app, event: str, answers, screen: str, card=None):
    """The citizen of ``card`` (by default the first sample card) applying for ``event``
    with ``answers``, on ``screen`` (the screen object, once it is the one shown)."""
    from peripherals.idcard.emulator import sample_cards
    from screens.walkthrough import until

    terminal = app.terminal
    terminal.begin(card or sample_cards()[0])
    q = terminal.journey.choose(event, terminal.now())
    for value in answers:
        q = terminal.journey.answer(q.id, value, terminal.now())
    app.show(screen)
    await until(lambda: app.screens.current == screen, 10, f"the {screen} screen")
    return app.screens.current_screen

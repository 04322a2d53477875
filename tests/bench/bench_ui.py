"""UI benchmarks under Xvfb, each figure a line `name: value unit (goal …) ok|MISS`.

- cold start to the first attract frame, as a ratio of a Kivy hello-world
  started the same way in the same run (goal ≤ 1.5×);
- touch → next screen drawn, p95 over repeated taps (goal ≤ 100 ms);
- resident memory growth over 1 000 scripted sessions (card → home → a life
  event's questions → the merged form with a value typed → end and wipe), after
  50 warm-up sessions, against the growth of the same loop with the session
  wiped but no screen shown (the baseline: what the core alone keeps) (goal ≤ 5 MB).

Run: `.venv/bin/python tests/bench/bench_ui.py` (or scripts/bench.sh).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

HELLO = r"""
import os, sys, time
t0 = float(sys.argv[1])
from screens.window import configure
from kiosk.config import DisplayConfig
from pathlib import Path
configure(DisplayConfig(), Path(sys.argv[2]))
from kivy.app import App
from kivy.uix.label import Label
from kivy.clock import Clock
class Hello(App):
    def build(self):
        return Label(text="你好")
    def on_start(self):
        Clock.schedule_once(lambda dt: (print(time.time() - t0), self.stop()), 0)
Hello().run()
"""

KIOSK = r"""
import asyncio, sys, time
t0 = float(sys.argv[1])
from pathlib import Path
from screens.window import configure
from kiosk.config import KioskConfig
configure(KioskConfig().display, Path(sys.argv[2]))
from kivy.clock import Clock
from kiosk.terminal import Ports, Terminal
from screens.app import KioskApp
app = KioskApp(Terminal(Ports(), KioskConfig()), ["通知"], "洲湖镇便民服务中心")
def first_frame(dt):
    if app.root is not None and app.screens.current == "attract":
        print(time.time() - t0); app.stop(); return False
app.bind(on_start=lambda *_: Clock.schedule_interval(first_frame, 0))
asyncio.run(app.async_run(async_lib="asyncio"))
"""

TAPS = r"""
import asyncio, sys, time, statistics
from pathlib import Path
from screens.window import configure
from kiosk.config import KioskConfig
configure(KioskConfig().display, Path(sys.argv[1]))
from kivy.clock import Clock
from kivy.core.window import Window
from kiosk.terminal import Ports, Terminal
from screens.app import KioskApp
from screens.touch import centre, find_action, press, release
app = KioskApp(Terminal(Ports(), KioskConfig()), ["通知"], "洲湖镇便民服务中心")
times = []
async def drawn():
    flipped = asyncio.Event()
    def on_flip(*_):
        flipped.set()
    Window.bind(on_flip=on_flip)
    await flipped.wait()
    Window.unbind(on_flip=on_flip)
async def tap_until(action, screen):
    button = find_action(app.root, action)
    t0 = time.perf_counter()
    touch = press(*centre(button)); release(touch)
    while app.screens.current != screen:
        await asyncio.sleep(0)
    await drawn()
    times.append(time.perf_counter() - t0)
async def script():
    while app.root is None or app.screens.current != "attract":
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    for _ in range(40):
        await tap_until("start", "home"); await asyncio.sleep(0.3)
        await tap_until("finish", "attract"); await asyncio.sleep(0.3)
    app.stop()
async def main():
    t = asyncio.ensure_future(script())
    await app.async_run(async_lib="asyncio")
    await t
asyncio.run(main())
times.sort()
print(times[int(len(times) * 0.95) - 1] * 1000)
"""

SESSIONS = r"""
import asyncio, gc, sys
from pathlib import Path
from screens.window import configure
from kiosk.config import KioskConfig
configure(KioskConfig().display, Path(sys.argv[1]))
from kivy.core.window import Window
from kiosk.catalog import default_catalog_dir, load_catalog
from kiosk.terminal import Ports, Terminal
from peripherals.idcard.emulator import sample_cards
from screens.app import KioskApp
COUNT, WARM, SHOW = int(sys.argv[2]), 50, sys.argv[3] == "screens"
card = sample_cards()[0]
terminal = Terminal(Ports(), KioskConfig(), load_catalog(default_catalog_dir()))
app = KioskApp(terminal, ["通知"], "洲湖镇便民服务中心")
def rss():
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096
async def drawn():
    flipped = asyncio.Event()
    def on_flip(*_):
        flipped.set()
    Window.bind(on_flip=on_flip)
    await flipped.wait()
    Window.unbind(on_flip=on_flip)
async def show(name):
    if SHOW:
        app.show(name)
        await drawn()
async def session():
    terminal.begin(card)
    await show("home")
    j = terminal.journey
    q = j.choose("birth", terminal.now())
    await show("question")
    while q is not None:
        q = j.answer(q.id, q.options[0].value, terminal.now())
    await show("form")
    j.set_value("applicant_phone", "13907961234", terminal.now())
    terminal.end()
    await show("attract")
async def script():
    while app.root is None or app.screens.current != "attract":
        await asyncio.sleep(0.05)
    for _ in range(WARM):
        await session()
    gc.collect(); before = rss()
    for _ in range(COUNT):
        await session()
    gc.collect(); after = rss()
    app.stop()
    return (after - before) / 1e6
async def main():
    t = asyncio.ensure_future(script())
    await app.async_run(async_lib="asyncio")
    print(await t)
asyncio.run(main())
"""


def run(code: str, *args: str, timeout: float = 300) -> float:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
        script.write(code)  # Kivy's App wants a source file (it looks for a .kv beside it)
    try:
        out = subprocess.run([sys.executable, script.name, *args], env=env, capture_output=True,
                             text=True, timeout=timeout, cwd=ROOT)
    finally:
        os.unlink(script.name)
    if out.returncode != 0:
        raise SystemExit(f"benchmark child failed: {out.stderr[-2000:]}")
    return float(out.stdout.strip().splitlines()[-1])


def line(name: str, value: float, unit: str, goal: str, ok: bool) -> None:
    print(f"{name}: {value:.2f} {unit} (goal {goal}) {'ok' if ok else 'MISS'}")


def main() -> int:
    from peripherals.supervisor import Supervisor

    with tempfile.TemporaryDirectory() as tmp, Supervisor(Path(tmp), parts=("display",)) as sup:
        os.environ.update(sup.env())
        home = Path(tmp) / "kivy"
        run(HELLO, str(time.time()), str(home))  # warm the disk cache and ~/.kivy once
        hello = statistics.median(run(HELLO, str(time.time()), str(home)) for _ in range(3))
        kiosk = statistics.median(run(KIOSK, str(time.time()), str(home)) for _ in range(3))
        ratio = kiosk / hello
        line("ui.cold_start_ratio", ratio, "x hello-world", "<= 1.5x", ratio <= 1.5)
        print(f"  (kiosk {kiosk:.2f} s, hello-world {hello:.2f} s)")
        p95 = run(TAPS, str(home))
        line("ui.touch_to_next_screen_p95", p95, "ms", "<= 100 ms", p95 <= 100)
        sessions = int(os.environ.get("BENCH_SESSIONS", "1000"))
        core = run(SESSIONS, str(home), str(sessions), "core", timeout=1800)
        growth = run(SESSIONS, str(home), str(sessions), "screens", timeout=1800)
        line("ui.rss_growth_1000_sessions", growth, "MB", "<= 5 MB", growth <= 5)
        print(f"  ({sessions} sessions; the core alone, no screens: {core:+.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

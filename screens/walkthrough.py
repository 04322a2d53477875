"""The scripted walkthrough: drives the real window with injected touches.

It knows the screens, not the devices: the demo hands it small callables to
put a card on the emulated reader or to render the printed receipt.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from kivy.core.window import Window

from screens.touch import centre, find_action, press, release, walk


class WalkthroughError(RuntimeError):
    """A step did not happen in time; the message says which."""


@dataclass
class Props:
    """What the walkthrough can do to the world outside the window."""

    insert_id_card: Callable[[], None]
    remove_id_card: Callable[[], None]
    insert_social_card: Callable[[], None]
    remove_social_card: Callable[[], None]
    render_receipt: Callable[[Path], Path]
    expected_name: str


async def until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise WalkthroughError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.05)


def visible_texts(root) -> list[str]:
    return [w.text for w in walk(root) if isinstance(getattr(w, "text", None), str) and w.text]


class Walkthrough:
    def __init__(self, app, out_dir: Path, prefix: str = ""):
        self.app = app
        self.out = out_dir
        self.prefix = prefix
        self.shots: list[Path] = []

    async def settle(self, seconds: float = 0.5) -> None:
        await asyncio.sleep(seconds)  # let a screen transition finish drawing

    async def screenshot(self, name: str) -> Path:
        await self.settle()
        target = self.out / f"{self.prefix}{name}.png"
        written = Path(Window.screenshot(name=str(self.out / f"{self.prefix}{name}_.png")))
        written.replace(target)
        self.shots.append(target)
        return target

    async def tap(self, action: str, timeout: float = 10.0) -> None:
        await until(lambda: find_action(self.app.root, action) is not None, timeout,
                    f"the {action!r} button")
        button = find_action(self.app.root, action)
        touch = press(*centre(button))
        await asyncio.sleep(0.08)
        release(touch)
        await asyncio.sleep(0.05)

    def on(self, screen: str) -> bool:
        return self.app.screens.current == screen

    def shows(self, fragment: str) -> bool:
        return any(fragment in t for t in visible_texts(self.app.root))

    async def run(self, props: Props, steps: Callable[[Walkthrough, Props], Awaitable[None]]):
        await until(lambda: self.app.root is not None and self.on("attract"), 20, "the attract screen")
        await steps(self, props)
        return self.shots


async def skeleton_steps(w: Walkthrough, props: Props) -> None:
    """attract → ID card → greeted by name → social-security card → test receipt → end."""
    await w.screenshot("01-attract")
    props.insert_id_card()
    await until(lambda: w.on("home") and w.shows(props.expected_name), 15,
                "the home screen greeting the citizen by name")
    await w.screenshot("02-home-greeting")
    props.insert_social_card()
    await w.tap("read_social_card")
    await until(lambda: w.shows("社保卡已读取") or w.shows("Social-security card read"), 20,
                "the social-security card to be read")
    await w.screenshot("03-social-card-read")
    await w.tap("print_test")
    await until(lambda: w.shows("回执已打印") or w.shows("Receipt printed"), 20, "the receipt to print")
    await w.screenshot("04-receipt-printed")
    w.shots.append(props.render_receipt(w.out / f"{w.prefix}receipt.png"))
    await w.tap("finish")
    await until(lambda: w.on("attract"), 10, "the attract screen after finishing")
    props.remove_id_card()
    props.remove_social_card()
    await w.screenshot("05-ended")

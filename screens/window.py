"""Kivy start-up settings that must be made before the window exists.

Call :func:`configure` before importing anything from ``kivy.core.window``
or ``screens.app``. Nothing here runs at import time.
"""

from __future__ import annotations

import os
from pathlib import Path

from kiosk.config import DisplayConfig
from kiosk.fonts import sc_font


def kivy_logging_env() -> None:
    """Kivy's logging left to Python's (the kiosk's scrubbed handlers), no file log of its
    own: set before anything imports Kivy, which reads these once (kiosk.cli does it first)."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")


def configure(display: DisplayConfig, kivy_home: Path, kiosk_mode: bool = True) -> None:
    """Set Kivy's environment and graphics config for a borderless kiosk window.

    The window is placed at (0, 0) with the configured size and no border, so
    on a screen of that size it is full screen in both portrait (1080x1920)
    and landscape (1920x1080); the cursor is hidden in kiosk mode.
    """
    kivy_home.mkdir(parents=True, exist_ok=True)
    os.environ["KIVY_HOME"] = str(kivy_home)
    kivy_logging_env()

    from kivy.config import Config

    Config.set("graphics", "width", str(display.width))
    Config.set("graphics", "height", str(display.height))
    Config.set("graphics", "borderless", "1" if display.fullscreen else "0")
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "position", "custom")
    Config.set("graphics", "left", "0")
    Config.set("graphics", "top", "0")
    Config.set("graphics", "show_cursor", "1" if display.show_cursor else "0")
    Config.set("graphics", "maxfps", "60")
    # No multisample buffer: on a software renderer (llvmpipe) it doubles the cost of every
    # pixel of every frame (the whole window is redrawn when anything changes); the kiosk's
    # shapes draw their own smooth edges instead (Smooth* instructions in the .kv files).
    Config.set("graphics", "multisamples", "0")
    Config.set("kivy", "exit_on_escape", "0" if kiosk_mode else "1")
    Config.set("kivy", "keyboard_mode", "system")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    regular, bold = str(sc_font("Regular")), str(sc_font("Bold"))
    Config.set("kivy", "default_font", repr(["NotoSansCJKsc", regular, regular, bold, bold]))

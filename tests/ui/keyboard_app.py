"""A minimal kiosk window with two form fields and the on-screen keyboard, driven by
injected touches. Run by tests/ui/test_keyboard.py in its own process (Kivy makes
one window per process): ``python tests/ui/keyboard_app.py OUT_DIR``.

Prints one JSON line: what the fields hold, what the keyboard reported, and a
screenshot taken while the candidate bar shows the candidates for "zhang".
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def key_heights(root) -> list[float]:
    from screens.touch import walk

    return [w.height for w in walk(root) if getattr(w, "action", "").startswith(("key:", "mode:"))]


async def script(app, out: Path) -> dict:
    from kivy.core.window import Window

    from screens.touch import centre, find_action, press, release

    tapped: list[str] = []

    async def tap(action: str) -> None:
        button = None
        for _ in range(100):  # up to 5 s for the button to be laid out
            button = find_action(app.root, action)
            if button is not None:
                break
            await asyncio.sleep(0.05)
        if button is None:
            raise AssertionError(f"no visible button {action!r}")
        touch = press(*centre(button))
        await asyncio.sleep(0.05)
        release(touch)
        await asyncio.sleep(0.05)
        tapped.append(action)

    kb = app.keyboard
    await asyncio.sleep(0.5)
    kb.attach(app.name_field)
    for letter in "zhangg":
        await tap(f"key:{letter}")
    await tap("key:backspace")
    await asyncio.sleep(0.5)  # let the bar draw
    buffer_shown = kb.buffer
    shown = list(kb.candidates)
    bar = kb.ids.bar
    bx, by = bar.to_window(bar.x, bar.y)
    shot = Path(Window.screenshot(name=str(out / "keyboard-pinyin.png")))
    slot = shown.index("张") if "张" in shown else -1
    if slot >= 0:
        await tap(f"candidate:{slot}")
    heights = key_heights(app.root)
    name_after_zhang = app.name_field.text

    await tap("mode:digits")
    kb.attach(app.id_field)
    for key in ("3", "6", "0", "9", "backspace", "8"):
        await tap(f"key:{key}")
    await tap("key:x")  # an ID number's check digit
    await asyncio.sleep(0.2)
    digit_heights = key_heights(app.root)
    id_typed = app.id_field.text
    # a phone number's pad: no X to see or to tap (a press of it changes nothing)
    kb.check_digit = False
    await asyncio.sleep(0.1)
    x_hidden = find_action(app.root, "key:x") is None
    kb.press("key:x")  # as a finger would, were it there
    tapped.append("key:x")
    await tap("key:7")
    phone_typed = app.id_field.text
    kb.check_digit = True

    # letters go in as capitals; in pinyin, space takes the first candidate
    await tap("mode:letters")
    kb.attach(app.name_field)
    await tap("key:b")
    await tap("mode:pinyin")
    for letter in "anfu":
        await tap(f"key:{letter}")
    first_for_anfu = kb.candidates[0]
    await tap("key:space")
    for letter in "shi":
        await tap(f"key:{letter}")
    page1 = list(kb.candidates)
    await tap("candidates:next")
    page2 = list(kb.candidates)
    await tap("candidate:0")
    name_typed = app.name_field.text
    await tap("key:clear")
    await tap("key:done")

    app.scale = 1.3  # elderly mode
    await asyncio.sleep(0.3)
    elderly = key_heights(app.root)
    return {
        "name_after_zhang": name_after_zhang,
        "id": id_typed,
        "phone_pad": [x_hidden, phone_typed],
        "name": name_typed,
        "name_after_clear": app.name_field.text,
        "first_for_anfu": first_for_anfu,
        "shi_pages": [page1, page2],
        "done": app.done,
        "buffer_shown": buffer_shown,
        "candidates": shown,
        "screenshot": str(shot),
        "bar": [bx, by, bar.width, bar.height],
        "window": [Window.width, Window.height],
        "tapped": tapped,
        "activity": app.activity,
        "key_heights": heights,
        "digit_key_heights": digit_heights,
        "elderly_digit_key_heights": elderly,
    }


def main(out: Path) -> int:
    sys.path.insert(0, str(ROOT))
    from kiosk.config import DisplayConfig
    from screens.window import configure

    configure(DisplayConfig(), out / "kivy-home")

    from kivy.app import App
    from kivy.lang import Builder
    from kivy.metrics import dp
    from kivy.properties import NumericProperty, StringProperty
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.textinput import TextInput
    from kivy.uix.widget import Widget

    from kiosk.i18n import translate
    from screens.keyboard import KV_FILE, KioskKeyboard

    class KeyboardApp(App):
        language = StringProperty("zh")
        scale = NumericProperty(1.0)

        def t(self, key: str, _language: str | None = None, **values) -> str:
            return translate(key, self.language, **values)

        def build(self):
            Builder.load_file(str(ROOT / "screens" / "widgets.kv"))
            Builder.load_file(str(KV_FILE))
            self.activity: list[str] = []
            root = BoxLayout(orientation="vertical", padding=dp(24), spacing=dp(16))
            self.name_field = TextInput(
                keyboard_mode="managed",
                font_size=dp(44),
                size_hint_y=None,
                height=dp(80),
                multiline=False,
            )
            self.id_field = TextInput(
                keyboard_mode="managed",
                font_size=dp(44),
                size_hint_y=None,
                height=dp(80),
                multiline=False,
            )
            self.done = 0
            self.keyboard = KioskKeyboard(
                on_activity=lambda _kb, action: self.activity.append(action),
                on_done=self.on_keyboard_done,
            )
            for w in (self.name_field, self.id_field, Widget(), self.keyboard):
                root.add_widget(w)
            return root

        def on_keyboard_done(self, _kb):
            self.done += 1

    from tests.support.window_child import drive

    app = KeyboardApp()
    result = drive(app, lambda: script(app, out), timeout=40)
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1])))

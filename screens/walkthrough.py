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

from kiosk.i18n import notice_in
from screens.layout_check import spilled
from screens.touch import centre, find_action, move, press, release, walk

# what turns a list's page: its pager's "下一页", or the review's "下一页，继续核对" (which
# submits on the last page, where it is "submit" and no longer this)
TURNS = ("page:next", "next_page")


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
    paper_out_mid_job: Callable[[], None] = lambda: None
    refill: Callable[[], None] = lambda: None
    life_event: str = "birth"
    answers: tuple[str, ...] = ()
    form_values: dict[str, str] | None = None
    defer: tuple[str, ...] = ()  # materials to defer (容缺), signed for on the screen
    social_name: str = ""  # the name on the social-security card
    platform_down: Callable[[], None] = lambda: None
    platform_up: Callable[[], None] = lambda: None
    report: Callable[[dict], None] = lambda facts: None  # what the demo saw, for the tests
    scan_code: Callable[[str], None] = lambda code: None  # show a code to the code scanner
    show_face: Callable[[str], None] = lambda photo: None  # put a face photo before the camera
    show_document: Callable[[str], None] = lambda what: None  # "page", "second_page", "desk"
    eid_code: str = ""  # a fresh electronic ID code, and one that has expired
    expired_eid_code: str = ""
    eid_name: str = ""  # whom the electronic ID names
    other_face: str = ""  # a photo of somebody else, for the refused face check
    receipt_code: str = ""  # what an earlier receipt's QR holds, read off the printed slip
    printed_text: Callable[[], list[str]] = lambda: []  # the last slip's text, read off the paper
    # the hall's technician names where a terminal stands, on the dashboard (terminal, place)
    name_place: Callable[[str, str], None] = lambda terminal_id, place: None


async def until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise WalkthroughError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.05)


def scroll_into_view(widget) -> bool:
    """Scroll the ScrollView holding ``widget`` so that it is on screen; False: it already was."""
    from kivy.uix.scrollview import ScrollView

    view = widget.parent
    while view is not None and not isinstance(view, ScrollView):
        view = view.parent if view.parent is not view else None  # the Window is its own parent
    if view is None:
        return False
    x, y = centre(widget)
    left, bottom = view.to_window(view.x, view.y)
    if left <= x <= left + view.width and bottom <= y <= bottom + view.height:
        return False
    view.scroll_to(widget, padding=20, animate=False)
    return True


def visible_texts(root) -> list[str]:
    return [w.text for w in walk(root) if isinstance(getattr(w, "text", None), str) and w.text]


class Walkthrough:
    def __init__(self, app, out_dir: Path, prefix: str = ""):
        self.app = app
        self.out = out_dir
        self.prefix = prefix
        self.shots: list[Path] = []
        self.spills: dict[str, list[str]] = {}  # by screenshot: what lay outside its box
        # action -> (button, where it was tapped, on which screen): a key tapped before is
        # tapped again at once if it is still there (typing); Clock frame of the last release
        self._placed: dict[str, tuple[object, tuple[float, float], str]] = {}
        self._released_at = 0

    async def settle(self, seconds: float = 0.5) -> None:
        await asyncio.sleep(seconds)  # let a screen transition finish drawing

    async def drawn(self, frames: int = 3, at_least: float = 0.2) -> None:
        """Until ``frames`` more frames are on the screen (whatever the last step changed is
        laid out and drawn: labels get their textures a frame late), and ``at_least`` s."""
        from kivy.clock import Clock

        target, began = Clock.frames_displayed + frames, time.monotonic()
        await asyncio.sleep(at_least)
        while Clock.frames_displayed < target and time.monotonic() - began < 5:
            await asyncio.sleep(0.02)

    async def screenshot(self, name: str) -> Path:
        await self.drawn()
        from kivy.core.window import Window  # not at import: the window must be configured first

        target = self.out / f"{self.prefix}{name}.png"
        written = Path(Window.screenshot(name=str(self.out / f"{self.prefix}{name}_.png")))
        written.replace(target)
        self.shots.append(target)
        # what the screen drew outside its box (over its neighbours), for the tests to see
        spills = spilled(Window)
        if spills:
            self.spills[name] = spills
        return target

    async def tap(self, action: str, timeout: float = 10.0) -> None:
        """Press and release the button that sends ``action``, once it has settled.

        A widget built this frame is laid out only on the next one (until then it
        sits at 0, 0): wait until the button is found at the same place twice. A button
        tapped before (a key of the keyboard) that is still where it was, once two frames
        have passed since the last tap (its handlers ran and the layout they changed was
        redone), is tapped at once: it is laid out.
        """
        from kivy.clock import Clock

        while Clock.frames < self._released_at + 2:
            await asyncio.sleep(0.01)
        button = find_action(self.app.root_window, action)
        known = self._placed.get(action)
        if (button is not None and known is not None and known[0] is button
                and known[1:] == (centre(button), self.app.screens.current)
                and not self.app.screens.transition.is_active):  # fmt: skip
            await self._press_release(button, known[1])
            return
        seen: list = []

        def settled() -> bool:
            button = find_action(self.app.root_window, action)
            if button is not None and len(seen) >= 2 and scroll_into_view(button):
                seen.clear()  # scrolled, as a citizen scrolls to a button below the fold
                return False
            here = (button, centre(button)) if button is not None else None
            seen.append(here)
            return here is not None and len(seen) > 2 and seen[-3] == seen[-2] == here

        deadline = time.monotonic() + timeout
        missing_since = time.monotonic()
        while not settled():
            if time.monotonic() > deadline:
                raise WalkthroughError(f"timed out after {timeout:.0f} s waiting for the {action!r} button")
            if not seen or seen[-1] is not None:
                missing_since = time.monotonic()
            elif time.monotonic() - missing_since > 1.0 and action not in TURNS \
                    and (turn := next((t for t in TURNS
                                       if find_action(self.app.root_window, t)), None)):  # fmt: skip
                await self.tap(turn)  # not on this page: turn it, as a citizen would
                seen.clear()
                missing_since = time.monotonic()
            await asyncio.sleep(0.04)  # three alike 40 ms apart: laid out for good
        button, where = seen[-1]
        await self._press_release(button, where)

    async def _press_release(self, button, where: tuple[float, float]) -> None:
        from kivy.clock import Clock

        touch = press(*where)
        await asyncio.sleep(0.08)  # a quick tap: the ScrollView hands it on when released
        release(touch)
        self._placed[button.action] = (button, where, self.app.screens.current)
        self._released_at = Clock.frames
        await asyncio.sleep(0.05)

    def screen(self):
        return self.app.screens.current_screen

    async def sign(self) -> None:
        """A signature with a finger: one zigzag stroke across the pad."""
        pad = self.screen().pad
        await until(lambda: pad.get_root_window() is not None and pad.width > 100, 5, "the signature pad")
        await self.settle(0.3)
        x0, y0 = pad.to_window(pad.x, pad.y)
        touch = press(x0 + pad.width * 0.1, y0 + pad.height * 0.5)
        for i in range(1, 17):
            await asyncio.sleep(0.02)
            move(touch, x0 + pad.width * (0.1 + 0.05 * i), y0 + pad.height * (0.3 if i % 2 else 0.7))
        release(touch)
        await asyncio.sleep(0.05)

    async def type_text(self, text: str) -> None:
        """Type on the on-screen keyboard: digits and X as keys, Chinese by pinyin
        and the candidate shown for it, as a citizen would."""
        from pypinyin import lazy_pinyin

        for ch in text:
            if ch.isascii():
                await self.tap(f"key:{ch.lower()}")
                continue
            for letter in lazy_pinyin(ch)[0]:
                await self.tap(f"key:{letter}")
            for _page in range(12):
                key = next((b for b in walk(self.app.root_window)
                            if getattr(b, "action", "").startswith("candidate:") and b.text == ch), None)
                if key is not None:
                    await self.tap(key.action)
                    break
                await self.tap("candidates:next")
            else:
                raise WalkthroughError(f"the keyboard offered no candidate {ch!r}")

    async def fill_form(self, values: dict[str, str], fields: int | None = None) -> None:
        """Fill every field the form asks for (or the first ``fields``), in its order, with
        ``values``."""
        form = self.screen()
        for field_id in list(form.to_fill)[:fields]:
            value = values[field_id]
            if field_id not in form.inputs:
                await self.tap(f"choice:{field_id}:{value}")
                continue
            # The form brings each field to the citizen in turn, keyboard up, in view beside it.
            await until(lambda fid=field_id: form.inputs[fid].focus and form.keyboard is not None, 5,
                        f"the {field_id} field to be focused")
            await until(lambda fid=field_id: in_view_beside_keyboard(form, fid), 2,
                        f"the {field_id} field in view beside the keyboard")
            await self.type_text(value)
            await self.tap("key:done")

    def on(self, screen: str) -> bool:
        return self.app.screens.current == screen

    def shows(self, fragment: str) -> bool:
        return any(fragment in t for t in visible_texts(self.app.root_window))

    async def run(self, props: Props, steps: Callable[[Walkthrough, Props], Awaitable[None]]):
        await until(lambda: self.app.root is not None and self.on("attract"), 20, "the attract screen")
        try:
            await steps(self, props)
        except Exception:
            await self.screenshot("failed")  # what the screen showed when the step did not happen
            raise
        return self.shots


def in_view_beside_keyboard(form, field_id: str) -> bool:
    """Whether the field being typed into shows whole in the form's view and clear of the
    keyboard (below it in portrait, beside it in landscape): a citizen sees what they type."""

    def rect(w) -> tuple[float, float, float, float]:
        x, y = w.to_window(w.x, w.y)
        return x, y, x + w.width, y + w.height

    fx0, fy0, fx1, fy1 = rect(form.inputs[field_id])
    _, sy0, _, sy1 = rect(form.ids.scroll)
    kx0, ky0, kx1, ky1 = rect(form.keyboard)
    covered = fx0 < kx1 - 1 and kx0 < fx1 - 1 and fy0 < ky1 - 1 and ky0 < fy1 - 1
    return fy0 >= sy0 - 1 and fy1 <= sy1 + 1 and not covered


async def identify(w: Walkthrough, props: Props, shots: bool = True) -> None:
    if shots:
        await w.screenshot("01-attract")
    props.insert_id_card()
    await until(lambda: w.on("home") and w.shows(props.expected_name), 15,
                "the home screen greeting the citizen by name")


async def to_materials(w: Walkthrough, props: Props, shot, typed: bool | int = True) -> None:
    """Choose the life event, answer the questions, fill the one form: the materials list.
    ``typed=False``: the values are put in as typed, not typed key by key (a walkthrough
    about something else; the keyboard has walkthroughs of its own); ``typed=n``: the
    first n fields typed key by key, the rest put in."""
    await w.tap(f"event:{props.life_event}")
    await until(lambda: w.on("question"), 5, "the first guided question")
    await shot("04-question")
    for value in props.answers:
        await w.tap(f"answer:{value}")
    await until(lambda: w.on("form"), 5, "the merged form")
    await shot("05-form")
    if typed is True:
        await w.fill_form(props.form_values or {})
    else:
        from kiosk.validation import normalize_date

        await w.fill_form(props.form_values or {}, fields=int(typed))
        terminal = w.app.terminal
        for f in terminal.journey.form().fields:
            value = (props.form_values or {}).get(f.id)
            if value and not terminal.session.values.get(f.id):
                terminal.journey.set_value(f.id, normalize_date(value), terminal.now())
        # the form shows what was put in, as if typed (and, as after the last field typed,
        # no keyboard: left up, it stood for a field made again, off the view)
        w.screen().close_keyboard()
        w.screen().build_rows()
    await shot("06-form-filled")
    await w.tap("form_done")
    await until(lambda: w.on("materials"), 5, "the materials list")
    await shot("07-materials")


async def apply_until_review(w: Walkthrough, props: Props, shots: bool = True,
                             typed: bool | int = True) -> None:  # fmt: skip
    """Choose the life event, answer, fill the one form, hand over the materials."""

    async def shot(name):
        if shots:
            await w.screenshot(name)

    await to_materials(w, props, shot, typed)
    for code in props.defer:  # 容缺: brought later, promised with a signature
        await w.tap(f"defer:{code}")
        await until(lambda c=code: c in w.screen().journey.deferred_codes, 5, f"{code} to be deferred")
    if props.defer:
        await w.sign()
        await shot("07b-materials-deferred-signed")
    outstanding = w.screen().journey.outstanding()
    paged = next((m.code for m in outstanding if m.pages), None)  # its pages named: each shown
    for i, item in enumerate(outstanding):
        names = ("08a-capture-looking", "08b-capture-taken") if i == 0 else \
            ("08c-capture-paged-looking", "08d-capture-paged-taken") if item.code == paged else None  # fmt: skip
        await scan(w, props, item.code, shot if names else None, *(names or ()))
    await shot("08-materials-scanned")
    await w.tap("materials_done")
    await until(lambda: w.on("review"), 5, "the review page")
    await shot("09-review")


async def scan(w: Walkthrough, props: Props, code: str, shot=None,
               looking: str = "08a-capture-looking", taken: str = "08b-capture-taken") -> None:  # fmt: skip
    """Scan one material: its capture screen takes the page lying under the camera by
    itself once it holds still (each of its named pages, turned in turn: a household
    register's head-of-household page, then the citizen's own); then back to the list."""
    item = next(m for m in w.screen().journey.materials() if m.code == code)
    await w.tap(f"scan:{code}")
    await until(lambda: w.on("capture"), 5, "the capture screen")
    # outlined, and lying still (green; amber while it moves, or the hand is still over it)
    await until(lambda: w.screen().ids.preview.outline and w.screen().ids.preview.ok, 15,
                "the page outlined in the live picture, lying still")  # fmt: skip
    if shot is not None:
        await shot(looking)
    for n in range(1, max(1, len(item.pages)) + 1):
        if n > 1:  # the citizen turns the page (the same picture is not taken twice)
            props.show_document("second_page" if n % 2 == 0 else "page")
        await until(lambda n=n: w.screen().pages >= n and w.screen().phase == "taken", 15,
                    f"page {n} of {code} to be taken by itself")  # fmt: skip
        if shot is not None:
            await shot(taken if n == 1 else f"{taken}-{n}")
    props.show_document("page")
    await w.tap("capture_done")
    await until(lambda: w.on("materials") and code in w.screen().journey.scan_pages, 5,
                "back on the materials list")  # fmt: skip


async def submit(w: Walkthrough) -> None:
    # in large type the review is read a page at a time: its button turns the pages until
    # the last one, which offers Submit
    # (greyed for a second after each turn, as a citizen sees it)
    def ready() -> bool:
        return not (w.on("review") and w.screen().guarded)

    await until(ready, 5, "the review's button to be enabled")
    while w.on("review") and find_action(w.app.root_window, "submit") is None:
        page = w.screen().page
        await w.tap("next_page")
        await until(lambda p=page: w.screen().page == p + 1, 5, "the next page of the review")
        await until(ready, 5, "the review's button to be enabled")
    await w.tap("submit")
    await until(lambda: w.on("outcome"), 30, "the outcome")
    await until(lambda: not w.screen().busy, 30, "the receipt to print (or fail)")


def printed(w: Walkthrough) -> bool:
    """The outcome screen says its slip (receipt, notice or pending slip) is printed."""
    screen = w.screen()
    return w.on("outcome") and w.shows(screen.t(f"outcome.printed.{screen.kind}"))


async def journey_steps(w: Walkthrough, props: Props) -> None:
    """A whole life event in one go: identify → choose → questions → one form →
    one set of materials → review → submit → receipt → rate → end."""
    await identify(w, props)
    await w.screenshot("02-home-greeting")
    props.insert_social_card()
    await w.tap("read_social_card")
    await until(lambda: w.shows("社保卡已读取") or w.shows("Social-security card read"), 20,
                "the social-security card to be read")
    await w.screenshot("03-social-card-read")
    await apply_until_review(w, props)
    # "修改" beside the review's second section opens the form at that section, not its top
    second = w.app.terminal.journey.review_groups()[1][0]
    await w.tap(f"change:{second}")
    await until(lambda: w.on("form"), 5, "the form again")
    await w.settle(0.6)
    await w.screenshot("09b-form-at-section")
    await w.tap("form_done")  # "改好了，返回核对": the materials were all done
    await until(lambda: w.on("review"), 5, "the review again")
    await submit(w)
    await until(lambda: printed(w), 5, "the receipt printed")
    await w.screenshot("10-outcome")
    w.shots.append(props.render_receipt(w.out / f"{w.prefix}receipt.png"))
    await w.tap("rate")
    await until(lambda: w.on("rate"), 5, "the rating page")
    await w.tap("stars:5")
    await w.screenshot("11-rate")
    await w.tap("send_rating")
    await until(lambda: w.on("end"), 10, "the end page")
    await w.screenshot("12-end")
    props.remove_id_card()
    props.remove_social_card()
    await w.tap("done")
    await until(lambda: w.on("attract"), 10, "the attract screen after finishing")
    await w.screenshot("13-attract-again")


async def paper_out_steps(w: Walkthrough, props: Props) -> None:
    """Paper runs out in the middle of the receipt: the citizen is told, the QR is
    on screen, and once paper is back the receipt prints in full. Both times the
    citizen reads the outcome in the other language too. First, on the attract screen,
    the hall's notice in the other language (the dashboard's "中文 | English"): in English,
    or in Chinese when the kiosk starts in English (``demo --language en``)."""
    began = w.app.language
    other = "zh" if began == "en" else "en"
    await w.tap("language")
    await until(lambda: w.app.language == other, 5, "the other language")
    # the notices start again from the first in the language chosen, for its full 8 s
    first = notice_in(w.app.notices[0], other)
    await until(lambda: w.shows(first), 5, "the hall's first notice in the other language")
    await w.screenshot(f"attract-{other}")
    await w.tap("language")
    await until(lambda: w.app.language == began, 5, "the first language again")
    await identify(w, props, shots=False)
    await apply_until_review(w, props, shots=False, typed=False)  # the printer is the point
    props.paper_out_mid_job()
    await submit(w)
    await until(lambda: bool(w.screen().error), 10, "the paper-out message")
    await w.screenshot("paper-out")
    seen = {"paper-out": await switch_language_on_outcome(w, "paper-out")}  # to read it, and back
    props.refill()
    await w.tap("reprint")
    await until(lambda: printed(w) and not w.screen().error, 20, "the reprinted receipt")
    await w.screenshot("reprinted")
    w.shots.append(props.render_receipt(w.out / f"{w.prefix}reprinted-receipt.png"))
    seen["reprinted"] = await switch_language_on_outcome(w, "reprinted")
    # the citizen opens the rating, then leaves without rating: the visit ends all the same
    await w.tap("rate")
    await until(lambda: w.on("rate"), 5, "the rating screen")
    await w.tap("skip_rating")
    await until(lambda: w.on("end"), 5, "the end screen without a rating")
    seen["skipped_rating"] = {"rated": w.screen().rated, "wiped": w.app.terminal.session is None}
    props.report(seen)


async def switch_language_on_outcome(w: Walkthrough, shot: str) -> dict:
    """The citizen switches the language on the outcome screen: its texts follow at once
    (screenshot ``<shot>-<language>``); then back. What it said, by language: the
    headline, the detail, the matters, and the printer's news (or the error)."""
    screen = w.screen()

    def texts() -> list[str]:
        return [screen.headline, screen.detail, screen.matters, screen.error or screen.printing]

    first = w.app.language
    said = {first: texts()}
    await w.tap("language")
    await until(lambda: w.app.language != first, 5, "the other language")
    said[w.app.language] = texts()
    await w.screenshot(f"{shot}-{w.app.language}")
    await w.tap("language")
    await until(lambda: w.app.language == first and texts() == said[first], 5,
                "the outcome in its first language again")  # fmt: skip
    return said


async def timeout_steps(w: Walkthrough, props: Props) -> None:
    """Inactivity: a 'still there?' countdown with one big button; then the wipe."""
    await identify(w, props, shots=False)
    await w.tap(f"event:{props.life_event}")
    await until(lambda: w.on("question"), 5, "the first guided question")
    still_there = w.app.t("timeout.title")  # 您还在吗？ in the kiosk's language
    await until(lambda: w.shows(still_there), 30, "the still-there countdown")
    await w.screenshot("still-there")
    await w.tap("continue")
    await until(lambda: not w.shows(still_there) and w.on("question"), 5, "the question again")
    await w.screenshot("continued")
    await until(lambda: w.shows(still_there), 30, "the countdown a second time")
    await until(lambda: w.on("attract"), 60, "the wipe after the countdown")
    props.remove_id_card()
    await w.screenshot("wiped")
    # Another citizen, no card yet, opens 我的办件 and goes to fetch the card; the countdown
    # comes up meanwhile, and the card is laid: the question goes, their list comes
    await w.tap("progress")
    await until(lambda: w.on("progress"), 5, "the progress screen")
    await w.tap("by:id")
    await until(lambda: w.app._still_there is not None, 30, "the countdown while the card is fetched")
    asked = w.app._still_there
    props.insert_id_card()
    mine = ("progress.mine_none", "progress.card_again", "progress.offline")
    await until(lambda: asked.parent is None and w.on("progress") and w.screen().has_card
                and (bool(w.screen().mine) or w.screen().message in [w.app.t(k) for k in mine]
                     or bool(w.screen().error)), 20, "the card's applications, the question gone")  # fmt: skip
    await w.screenshot("card-brought")
    from screens.timeout import StillThere

    props.report({"asked_gone": asked.parent is None, "on": w.app.screens.current,
                  "questions_up": sum(isinstance(c, StillThere) for c in w.app.root_window.children)})
    props.remove_id_card()


async def after_death_steps(w: Walkthrough, props: Props) -> None:
    """The whole after-death bundle in one go, one material deferred (容缺) and
    signed for; the receipt lists it with its due date."""
    await identify(w, props, shots=False)
    await w.screenshot("02-home")
    await apply_until_review(w, props, typed=2)  # the phone and the name typed (landscape keys)
    await submit(w)
    await until(lambda: printed(w), 5, "the receipt printed")
    await w.screenshot("10-outcome")
    w.shots.append(props.render_receipt(w.out / f"{w.prefix}receipt.png"))
    await w.tap("rate")  # a bad rating asks why
    await until(lambda: w.on("rate"), 5, "the rating page")
    await w.tap("stars:2")
    await w.tap("reason:slow")
    await w.screenshot("11-rate-bad")
    await w.tap("send_rating")
    await until(lambda: w.on("end"), 10, "the end page")
    props.remove_id_card()
    await w.tap("done")
    await until(lambda: w.on("attract"), 10, "the attract screen after finishing")
    props.report({})  # what the platform stored


async def card_removed_steps(w: Walkthrough, props: Props) -> None:
    """Identified by an inserted social-security card, the citizen takes it out
    half-way through the form: the visit ends and everything typed is wiped."""
    await w.screenshot("attract")
    props.insert_social_card()
    await until(lambda: w.on("home") and w.shows(props.social_name), 20,
                "the home screen greeting the social-security card's holder")
    await w.tap(f"event:{props.life_event}")
    for value in props.answers:
        await w.tap(f"answer:{value}")
    await until(lambda: w.on("form"), 5, "the merged form")
    form = w.screen()
    first = next(iter(form.to_fill))
    await until(lambda: form.inputs[first].focus and form.keyboard is not None, 5, "the first field")
    await w.type_text((props.form_values or {}).get(first, "安福县"))
    await w.screenshot("form-typing")
    terminal = form.terminal
    props.remove_social_card()
    await until(lambda: w.on("attract"), 10, "the attract screen after the card was taken out")
    await w.screenshot("wiped")
    # Nothing of the citizen is left on any screen, shown or not: no name, no typed text.
    everywhere = [t for screen in w.app.screens.screens for t in visible_texts(screen)]
    props.report({
        "session": terminal.session is not None,
        "journey": terminal.journey is not None,
        "name_left": any(props.social_name in t for t in everywhere),
        "typed_left": [t for t in everywhere if "安福县" in t],
    })


async def offline_steps(w: Walkthrough, props: Props) -> None:
    """The platform is unreachable at the moment of submitting: the citizen gets a
    'received, pending acceptance' slip; when the platform is back the outbox
    delivers the application, and the platform stores it once."""
    await identify(w, props, shots=False)
    await apply_until_review(w, props, shots=False, typed=False)  # the outbox is the point
    props.platform_down()
    await submit(w)
    outcome = w.screen().terminal.outcome
    await w.screenshot("pending")
    w.shots.append(props.render_receipt(w.out / f"{w.prefix}pending-slip.png"))
    outbox = w.screen().terminal.ports.platform.outbox
    queued = outbox.pending()
    # meanwhile, in large type, they call for staff: the call cannot get through either
    await w.tap("elderly")
    await w.tap("call_staff")
    await until(lambda: bool(w.app.notice), 60, "the header's word on the call")
    await w.screenshot("call-failed-elderly")
    called = w.app.notice
    await w.tap("elderly")
    props.platform_up()
    await until(lambda: outbox.pending() == 0, 90, "the outbox to deliver the application")
    # the citizen finishes from the outcome, not rating: on to taking card and slip
    await w.tap("finish")
    await until(lambda: w.on("end"), 5, "the end screen")
    props.report({"local_number": outcome.local_number, "kind": outcome.kind.value,
                  "queued": queued, "linked": outbox.linked(outcome.local_number), "called": called,
                  "notice_after_visit": w.app.notice,
                  "finished_unrated": w.on("end") and not w.screen().rated})


# -- identification by electronic ID, and the face check ---------------------------------


async def identify_by_eid(w: Walkthrough, props: Props, shots: bool = True) -> None:
    """The citizen shows the e-ID QR from a phone: an expired code is explained on the
    attract screen; they touch to start, and a fresh code on the home screen greets
    them by name."""
    if shots:
        await w.screenshot("01-attract")
        props.scan_code(props.expired_eid_code)
        await until(
            lambda: w.on("attract") and w.shows(w.app.t("eid.expired")),
            20,
            "the expired e-ID code explained",
        )
        await w.screenshot("02-eid-expired")
        await w.tap("start")
        await until(
            lambda: w.on("home") and w.shows(w.app.t("home.lay_card_to_apply")),
            5,
            "the home screen asking for a card or the e-ID",
        )
        await w.screenshot("02b-home-no-card")
        await w.settle(1.0)  # the kiosk listens for codes again on this screen
    else:
        await w.settle(1.0)  # the citizen walks up: the kiosk is listening by then
    props.scan_code(props.eid_code)
    await until(lambda: w.on("home") and w.shows(props.eid_name), 20,
                "the home screen greeting the e-ID citizen by name")


async def to_face_check(w: Walkthrough, props: Props) -> None:
    await w.tap(f"event:{props.life_event}")
    await until(lambda: w.on("question"), 5, "the first guided question")
    for value in props.answers:
        await w.tap(f"answer:{value}")
    await until(lambda: w.on("face"), 10, "the face check")
    await until(lambda: w.screen().ids.preview.texture is not None, 15, "the live camera picture")


async def eid_steps(w: Walkthrough, props: Props) -> None:
    """Identify by e-ID QR, choose a life event that needs the face check, pass it."""
    await identify_by_eid(w, props)
    await w.screenshot("03-home-eid")
    await to_face_check(w, props)
    await until(lambda: w.screen().ids.preview.progress > 0.3 or w.screen().phase != "looking", 15,
                "the face to be held still")
    await w.screenshot("04-face-looking")
    await until(lambda: w.screen().phase in ("matched", "retry", "staff", "fault"), 60,
                "the face match's answer")
    if w.screen().phase != "matched":
        raise WalkthroughError(f"the face check ended {w.screen().phase}: {w.screen().guidance}")
    await w.screenshot("05-face-matched")
    await until(lambda: w.on("form"), 10, "the form after the face check")
    await w.screenshot("06-form")
    # A code shown to the scanner while a field has the focus (a phone held near a scanner
    # that types as a keyboard): the scanner takes the keys, the field gets none of them
    form = w.screen()
    await until(lambda: any(i.focus for i in form.inputs.values()), 5, "a field to be focused")
    before = {f: i.text for f, i in form.inputs.items()}
    props.scan_code("WEDGE0001")
    await w.settle(1.0)
    props.report({"face_verified": w.app.terminal.session.face_verified,
                  "field_focused": next(f for f, i in form.inputs.items() if i.focus),
                  "typed_into_fields": sorted(f for f, i in form.inputs.items()
                                              if i.text != before[f])})  # fmt: skip


async def face_refused_steps(w: Walkthrough, props: Props) -> None:
    """Somebody else's face: refused three times, then staff are offered and called."""
    props.show_face(props.other_face)
    await identify_by_eid(w, props, shots=False)
    await to_face_check(w, props)
    await w.tap("elderly")  # larger type and spoken hints, as an older citizen would choose
    for attempt in range(1, 4):
        await until(lambda: w.screen().phase in ("retry", "staff", "matched", "fault"), 60,
                    f"the answer to face photo {attempt}")
        if w.screen().phase == "matched":
            raise WalkthroughError("somebody else's face was taken for the citizen")
        if attempt == 1:
            await w.screenshot("face-not-matched")
        if w.screen().phase == "retry":
            await w.tap("face_retry")
    await until(lambda: w.screen().phase == "staff", 5, "staff help offered after three refusals")
    await w.screenshot("face-staff")
    await w.tap("face_ask_staff")
    await until(lambda: w.shows(w.app.t("staff.called")), 15, "the staff called")
    await w.screenshot("face-staff-called")
    session = w.app.terminal.session
    props.report({"face_verified": session.face_verified, "face_attempts": session.face_attempts})



async def capture_steps(w: Walkthrough, props: Props) -> None:
    """A two-page material under the document camera: each page taken by itself when it
    lies still, the second one retaken, "scan now" over an empty desk refused with what
    to do, and the pages counted on the materials list."""
    await identify(w, props, shots=False)

    async def no_shot(_name):
        pass

    await to_materials(w, props, no_shot, typed=False)
    code = w.screen().journey.outstanding()[0].code
    await w.tap(f"scan:{code}")
    await until(lambda: w.on("capture"), 5, "the capture screen")
    capture = w.screen()
    await until(lambda: capture.pages == 1 and capture.phase == "taken", 15, "the first page taken")
    await asyncio.sleep(1.5)  # the same page left lying is not taken twice
    first_page_once = capture.pages == 1
    await w.screenshot("capture-page-1")
    props.show_document("second_page")  # the citizen turns the page
    await until(lambda: capture.pages == 2 and capture.phase == "taken", 15, "the second page taken")
    await w.screenshot("capture-page-2")
    props.show_document("desk")  # the page lifted off again: it came out crooked, say
    await until(lambda: capture.ids.preview.texture is not None and not capture.ids.preview.outline, 10,
                "the empty desk in the live picture")  # fmt: skip
    await w.tap("capture_retake_last")
    await until(lambda: capture.pages == 1, 5, "the second page dropped")
    await w.screenshot("capture-retake")
    await w.tap("capture_take_now")
    no_page = w.app.t("document.no_page")
    await until(lambda: capture.guidance == no_page, 10, "the refusal: no page in view")
    await w.screenshot("capture-no-page")
    props.show_document("second_page")  # laid down again: taken by itself
    await until(lambda: capture.pages == 2 and capture.phase == "taken", 15, "the second page again")
    props.show_document("gone")  # the camera fails: said calmly, and a way on
    await until(lambda: capture.phase == "fault", 10, "the camera fault")
    await w.screenshot("capture-camera-fault")
    props.show_document("second_page")
    await w.tap("capture_take_now")  # try the camera again
    await until(lambda: capture.phase != "fault" and capture.ids.preview.outline, 10, "the camera back")
    await asyncio.sleep(1.5)  # the page taken before the fault, still lying there, is not taken again
    after_fault = capture.pages
    await w.tap("capture_done")
    await until(lambda: w.on("materials"), 5, "back on the materials list")
    await w.screenshot("capture-list")
    facts = {"first_page_once": first_page_once, "pages_after_fault": after_fault,
             "pages": len(w.screen().journey.scan_pages.get(code, [])),
             "scans": dict(w.app.terminal.session.scans)}
    # a material whose pages are named (a household register's head-of-household page
    # and the citizen's own): its first page only, and back to the list
    paged = next(m for m in w.screen().journey.outstanding() if m.pages)
    props.show_document("page")
    await w.tap(f"scan:{paged.code}")
    await until(lambda: w.on("capture"), 5, "the capture screen")
    capture = w.screen()
    await until(lambda: capture.pages == 1 and capture.phase == "taken", 15, "its first page taken")
    await w.screenshot("capture-paged-1")
    await w.tap("capture_done")
    await until(lambda: w.on("materials"), 5, "back on the materials list")
    await w.screenshot("capture-list-page-wanted")
    facts.update(paged=paged.code,
                 paged_outstanding=paged.code in [m.code for m in w.screen().journey.outstanding()])
    # on with it: the own page laid down, taken; a third sheet laid down is not taken
    await w.tap(f"scan:{paged.code}")
    await until(lambda: w.on("capture"), 5, "the capture screen again")
    props.show_document("second_page")
    await until(lambda: capture.pages == 2 and capture.phase == "taken", 15, "its second page taken")
    await w.screenshot("capture-paged-2")
    props.show_document("page")
    await asyncio.sleep(2.0)  # longer than a page takes to settle and be taken
    facts.update(paged_pages=capture.pages, take_now_offered=not capture.ids.take.disabled)
    await w.tap("capture_done")
    await until(lambda: w.on("materials"), 5, "back on the materials list")
    props.report({**facts, "paged_done": paged.code not in [m.code for m in w.screen().journey.outstanding()]})

"""Submit and outcome: what happened, explained; the receipt printed, and its QR
on screen too, so nothing is lost if the printer fails."""

from __future__ import annotations

import qrcode
from kivy.graphics.texture import Texture
from kivy.properties import ColorProperty, StringProperty

from kiosk.i18n import long_date
from kiosk.outcomes import OutcomeKind
from kiosk.query import missing_name
from screens.base import KioskScreen

COLOURS = {
    OutcomeKind.ACCEPTED: (0.12, 0.54, 0.3, 1),
    OutcomeKind.PENDING: (0.09, 0.25, 0.52, 1),
    OutcomeKind.NEEDS_MORE: (0.85, 0.45, 0.05, 1),
    OutcomeKind.REFUSED: (0.75, 0.1, 0.1, 1),
}


def qr_texture(text: str):
    """The QR code of ``text``, one texel a module, drawn sharp when scaled up. Built from
    the code's matrix, with no PNG between (encoding one and decoding it cost 40+ ms of
    the frame that shows the outcome)."""
    code = qrcode.QRCode(border=2)
    code.add_data(text)
    code.make(fit=True)
    rows = code.get_matrix()
    dark, light = b"\x00\x00\x00\xff", b"\xff\xff\xff\xff"
    # GL takes the bottom row first
    pixels = b"".join(dark if m else light for row in reversed(rows) for m in row)
    texture = Texture.create(size=(len(rows), len(rows)), colorfmt="rgba")
    texture.mag_filter = texture.min_filter = "nearest"
    texture.blit_buffer(pixels, colorfmt="rgba", bufferfmt="ubyte")
    return texture


class OutcomeScreen(KioskScreen):
    headline = StringProperty("")
    headline_color = ColorProperty((0.1, 0.13, 0.2, 1))
    detail = StringProperty("")
    matters = StringProperty("")
    printing = StringProperty("")
    qr_text = StringProperty("")
    kind = StringProperty("accepted")  # which slip is printed, and what its QR is for

    def __init__(self, terminal, nav, **kw):
        super().__init__(terminal, nav, **kw)
        self._printing_key = ""  # what ``printing`` says, kept as a key for a change of language

    def on_pre_enter(self, *_):
        self.kind = self.terminal.outcome.kind.value
        self.fill()
        receipt = self.terminal.receipt()
        self.qr_text = next((b.data for b in receipt.blocks if hasattr(b, "data")), "")
        self.ids.qr.texture = qr_texture(self.qr_text) if self.qr_text else None
        self._say_printing("common.printing")
        self.run(self._print())

    def fill(self) -> None:
        """The outcome's texts in the citizen's language (again, when they switch it)."""
        t, outcome = self.terminal, self.terminal.outcome
        lang = t.language
        self.headline = self.t(f"outcome.{outcome.kind.value}")
        self.headline_color = COLOURS[outcome.kind]
        if outcome.kind is OutcomeKind.ACCEPTED:
            date = long_date(outcome.promised_date, lang) if outcome.promised_date else "—"
            self.detail = self.t(
                "outcome.accepted_detail", number=outcome.acceptance_number, date=date
            )
            if outcome.promised_date_provisional:
                self.detail += "\n" + self.t("outcome.provisional")
            self.detail += self._owed(outcome)
        elif outcome.kind is OutcomeKind.PENDING:
            self.detail = self.t("outcome.pending_detail", number=outcome.local_number)
            self.detail += self._owed(outcome)  # offline: the slip may not print either
        elif outcome.kind is OutcomeKind.REFUSED:
            self.detail = outcome.reason
        else:
            self.detail = ("、" if lang == "zh" else ", ").join(
                missing_name(c, t.catalog, lang) for c in outcome.missing)
        # each matter by its catalog name in the citizen's language (a pending slip's
        # outcome holds only codes; the platform's holds Chinese names)
        names = [
            t.catalog.matters[m.code].name.get(lang) if m.code in t.catalog.matters else m.name
            for m in outcome.matters
        ] or [t.catalog.matters[c].name.get(lang) for c in t.journey.plan().matters]
        self.matters = "\n".join(f"· {n}" for n in names)

    def _owed(self, outcome) -> str:
        """How the result reaches the citizen and what they still owe, by when: the screen
        says it too (the receipt may not have printed)."""
        t, lang = self.terminal, self.terminal.language
        lines = [self.t("outcome.delivery", how=self.t(f"delivery.{outcome.delivery.value}"))]
        for d in outcome.deferred:
            material = t.catalog.materials.get(d.code) if t.catalog else None
            lines.append(self.t("outcome.bring_later", date=long_date(d.due, lang),
                                material=material.name.get(lang) if material else d.name))  # fmt: skip
        return "".join("\n" + line for line in lines)

    def wipe(self) -> None:
        super().wipe()
        self.detail = self.matters = self.qr_text = ""
        self.ids.qr.texture = None

    def _say_printing(self, key: str) -> None:
        self._printing_key = key
        self.printing = self.t(key)

    async def _print(self, again: bool = False):
        await self.terminal.print_outcome(again=again)
        self._say_printing(f"outcome.printed.{self.kind}")

    def reprint(self):
        self._say_printing("common.printing")
        self.run(self._print(again=True))

    def relanguage(self) -> None:
        self.fill()
        self.printing = self.t(self._printing_key) if self._printing_key else ""
        self.retell_error()

    def rate(self):
        self.nav("rate")

    def finish(self):
        """No rating: on to "take your card and receipt" (rating is voluntary)."""
        self.nav("end")

    def spoken(self) -> str:
        return f"{self.headline}。{self.detail}"

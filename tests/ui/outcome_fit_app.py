"""The outcome of a long bundle in large type on a landscape screen, in a real window: the
headline (已受理) stays on the screen, under the header, whatever the rest needs. Run by
tests/ui/test_outcome_fit.py in its own process:
``python tests/ui/outcome_fit_app.py OUT_DIR WIDTH HEIGHT``.

Prints one JSON line: the headline's and the header's rectangles, and a screenshot.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


async def script(app, out: Path) -> dict:
    from kivy.core.window import Window

    from kiosk.outcomes import Delivery, MatterOutcome, Outcome, OutcomeKind
    from screens.walkthrough import until
    from tests.support.window_child import attract, rect

    w = await attract(app, out, elderly=True)
    cat, terminal = app.terminal.catalog, app.terminal
    codes = tuple(cat.matters)[:4]  # four matters, as the birth bundle has
    terminal.outcome = Outcome(
        kind=OutcomeKind.ACCEPTED, submission_key="k1", accepting_point="zhouhu",
        acceptance_number="AF2026120700001", delivery=Delivery.PICKUP,
        matters=tuple(MatterOutcome(c, cat.matters[c].name.zh, cat.matters[c].department) for c in codes),
        promised_date=dt.date(2026, 12, 23))  # fmt: skip
    app.show("outcome")
    await until(lambda: app.screens.current == "outcome", 10, "the outcome")
    await w.drawn(at_least=0.5)
    screen = app.screens.current_screen
    header = app.root.ids.get("header") if hasattr(app.root, "ids") else None
    details = screen.ids.details
    return {"headline": rect(screen.ids.headline), "window": [Window.width, Window.height],
            # the number, date and matters: the room they have, and the room they need
            "details": [details.height, screen.ids.details_grid.height], "qr": rect(screen.ids.qr),
            "screen": rect(screen), "header": rect(header) if header is not None else None,
            "matters": len(codes), "first_matter": cat.matters[codes[0]].name.zh,
            "matters_font": screen.ids.details_grid.children[0].font_size,
            "shot": str(await w.screenshot("outcome-large"))}  # fmt: skip


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from tests.support.window_child import kiosk_window

    kiosk_window(script)

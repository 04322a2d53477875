"""A card whose number no form's ID-number field takes (the 2017 foreigner's permanent
residence card: 15 characters), on the form in a real window: "完成" says where to go, not
"fix what is in red" on a row the citizen cannot edit. Run by tests/ui/test_form_card_value.py
in its own process: ``python tests/ui/card_value_refused_app.py OUT_DIR WIDTH HEIGHT``."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.support.window_child import kiosk_window  # noqa: E402


async def script(app, out: Path) -> dict:
    import datetime as dt

    from kiosk.cli import DEMO_ANSWERS
    from kiosk.identity import CardType, Gender, IdCard
    from tests.support.window_child import applying, attract

    w = await attract(app, out)
    card = IdCard(name="史密斯", gender=Gender.MALE, nation="", birth_date=dt.date(1970, 1, 1),
                  address="", id_number="USA360070010101", authority="", valid_from=dt.date(2017, 6, 1),
                  valid_to=dt.date(2027, 6, 1), card_type=CardType.FOREIGNER_OLD,
                  english_name="SMITH, JOHN", nationality="USA")  # fmt: skip
    form = await applying(app, "birth", DEMO_ANSWERS, "form", card=card)
    form.done()
    await w.drawn()
    said = {"zh": form.error}
    shot = str(await w.screenshot("form-card-value-refused"))
    app.toggle_language()
    form.done()
    said["en"] = form.error
    return {"said": said, "screen": app.screens.current, "screenshot": shot}


if __name__ == "__main__":
    kiosk_window(script)

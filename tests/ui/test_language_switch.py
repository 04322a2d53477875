"""English chosen in the middle of a screen, in a real window under Xvfb: what the screen
built in Python (tiles, questions, form rows, materials, the review, rating reasons)
switches at once, not only its buttons and title."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.catalog import default_catalog_dir, load_catalog
from kiosk.i18n import translate
from tests.support.window_child import run_child

pytestmark = pytest.mark.ui
CHILD = Path(__file__).with_name("language_switch_app.py")


@pytest.fixture(scope="module")
def switched(tmp_path_factory) -> dict:
    return run_child(CHILD, tmp_path_factory.mktemp("language"), (1080, 1920))


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.mark.parametrize("screen", ["home", "question", "form", "materials", "review", "rate"])
def test_english_chosen_on_a_screen_switches_what_it_built_too(switched, screen):
    cat = load_catalog(default_catalog_dir())
    birth = cat.life_events["birth"]
    texts = " | ".join(switched[screen]["texts"])
    expected = {
        "home": [birth.title.en, cat.life_events["after_death"].title.en],
        "question": [birth.title.en, *switched["question"]["asked"]],
        "form": [cat.fields["applicant_name"].label.en, translate("form.prefilled", "en")],
        "materials": [cat.materials["death_proof"].name.en, "Lay the page",
                      cat.materials["driving_licence"].name.en],
        "review": [cat.matters["hukou_cancel_death"].name.en, cat.fields["deceased_name"].label.en],
        "rate": [translate("rate.reason.slow", "en"), translate("rate.1", "en")],
    }[screen]
    for text in expected:
        assert text in texts, (screen, text, texts[:600])
    if screen == "form":  # switched while typing: the keys still reach the field shown
        assert switched["form"]["typed"] == {"shown": "139", "kept": "139"}, switched["form"]["typed"]
    # and no Chinese left but what is not to be translated: the citizen's own name and
    # address from the card, the hall's name in the header (set in Chinese by this test)
    own = ("张伟", "江西省吉安市安福县平都镇城北路28号", "洲湖镇便民服务中心", "中文")
    left = [t for t in switched[screen]["texts"] if has_chinese(t) and not any(o in t for o in own)]
    assert left == [], (screen, left)

import datetime as dt
import re

from kiosk.i18n import LANGUAGES, catalogue, long_date, missing_keys, translate


def test_english_is_complete():
    assert missing_keys("en") == set()


def test_every_message_has_the_same_placeholders_in_every_language():
    for key, zh in catalogue("zh").items():
        for lang in LANGUAGES:
            assert set(re.findall(r"{(\w+)}", catalogue(lang)[key])) == set(
                re.findall(r"{(\w+)}", zh)
            ), key


def test_placeholders_are_filled():
    assert translate("home.greeting", "zh", name="张伟") == "张伟，您好"
    assert translate("home.greeting", "en", name="Zhang Wei") == "Hello, Zhang Wei"


def test_an_unknown_key_shows_the_key_not_a_crash():
    assert translate("no.such.key", "en") == "no.such.key"


def test_a_date_reads_as_people_write_it_in_each_language():
    assert long_date(dt.date(2026, 12, 6), "zh") == "2026年12月6日"
    assert long_date(dt.date(2026, 12, 6), "en") == "6 December 2026"
    assert long_date(dt.date(2027, 1, 22), "en") == "22 January 2027"


def _locale_copy(tmp_path, monkeypatch):
    import shutil

    from kiosk import i18n

    shutil.copytree(i18n.LOCALE_DIR, tmp_path / "locale", ignore=shutil.ignore_patterns("*.mo"))
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path / "locale")
    i18n.translations.cache_clear()
    return i18n


def _compile(po):
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as src, po.with_suffix(".mo").open("wb") as out:
        write_mo(out, read_po(src))


def test_a_compiled_catalogue_is_what_the_screens_read(tmp_path, monkeypatch):
    i18n = _locale_copy(tmp_path, monkeypatch)
    try:
        po = i18n.po_path("en")
        po.write_text(po.read_text().replace('"Hello, {name}"', '"Good evening, {name}"'))
        _compile(po)
        assert translate("home.greeting", "en", name="Li") == "Good evening, Li"
    finally:
        i18n.translations.cache_clear()


def test_a_catalogue_edited_since_it_was_compiled_is_read_as_edited(tmp_path, monkeypatch):
    import os

    i18n = _locale_copy(tmp_path, monkeypatch)
    try:
        po = i18n.po_path("en")
        _compile(po)
        os.utime(po.with_suffix(".mo"), (1, 1))  # compiled long before the edit below
        text = po.read_text().replace('"Hello, {name}"', '"Welcome, {name}"')
        po.write_text(text.replace('msgstr "Government Self-Service"', 'msgstr ""'))
        assert translate("home.greeting", "en", name="Li") == "Welcome, Li"
        # a message the English catalogue lacks is said in Chinese, not as its key
        assert translate("app.title_narrow", "en") == "政务自助服务"
    finally:
        i18n.translations.cache_clear()


def test_a_list_reads_as_a_sentence_in_each_language():
    from kiosk.i18n import listed

    things = ["end.item.id_card", "end.item.social_card", "end.item.receipt"]
    assert listed(things) == "身份证、社保卡和回执"
    assert listed(things, "en") == "ID card, social-security card and receipt"
    assert listed(things[:2], "en") == "ID card and social-security card"
    assert listed(things[:1]) == "身份证" and listed([]) == ""


def test_one_working_day_is_singular_in_english():
    from kiosk.i18n import translate_days

    d = "1 March 2027"
    assert translate_days("review.promised", 1, "en", date=d) == f"Promised within 1 working day, by {d}"
    assert translate_days("review.promised", 3, "en", date=d) == f"Promised within 3 working days, by {d}"
    assert translate_days("review.promised", 1, "zh", date=d) == translate("review.promised", "zh", days=1, date=d)

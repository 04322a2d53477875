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

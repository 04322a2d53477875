import re

from kiosk.i18n import LANGUAGES, catalogue, missing_keys, translate


def test_english_is_complete():
    assert missing_keys("en") == set()


def test_every_message_has_the_same_placeholders_in_every_language():
    for key, zh in catalogue("zh").items():
        for lang in LANGUAGES:
            assert set(re.findall(r"{(\w+)}", catalogue(lang)[key])) == set(re.findall(r"{(\w+)}", zh)), key


def test_placeholders_are_filled():
    assert translate("home.greeting", "zh", name="张伟") == "张伟，您好"
    assert translate("home.greeting", "en", name="Zhang Wei") == "Hello, Zhang Wei"


def test_an_unknown_key_shows_the_key_not_a_crash():
    assert translate("no.such.key", "en") == "no.such.key"

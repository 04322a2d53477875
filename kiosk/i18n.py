"""Messages for people: translation keys looked up in gettext catalogues.

Chinese is the first language and English is complete too. Catalogues are
plain .po files (kiosk/locale/<lang>/LC_MESSAGES/kiosk.po) read with Babel,
so no compile step stands between an edit and the screen. A key missing from
a catalogue falls back to Chinese, then to the key itself (tests catch both).
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

LANGUAGES = ("zh", "en")
LOCALE_DIR = Path(__file__).with_name("locale")


@cache
def catalogue(language: str) -> dict[str, str]:
    """All messages of one language: key → text."""
    from babel.messages.pofile import read_po  # Babel is pure Python

    path = LOCALE_DIR / language / "LC_MESSAGES" / "kiosk.po"
    with path.open("rb") as fh:
        cat = read_po(fh, locale=language)
    return {str(m.id): str(m.string) for m in cat if m.id and m.string}


def translate(key: str, language: str = "zh", **values: object) -> str:
    """The text for ``key`` in ``language``, with ``{name}`` placeholders filled."""
    text = catalogue(language).get(key) or catalogue("zh").get(key) or key
    return text.format(**values) if values else text


NOTICE_SEPARATOR = "|"  # a hall's notice with its English: "夜间请走东侧 | At night, use the east door"


def notice_parts(notice: str) -> tuple[str, str]:
    """A hall notice as (Chinese, English): written "中文 | English" (a full-width ｜ too,
    as a Chinese keyboard types it), or in Chinese alone (English then "")."""
    zh, _, en = notice.replace("｜", NOTICE_SEPARATOR).partition(NOTICE_SEPARATOR)
    return zh.strip(), en.strip()


def notice_in(notice: str, language: str) -> str:
    """The notice in ``language``; in Chinese where the hall wrote no English."""
    zh, en = notice_parts(notice)
    return en if language == "en" and en else zh


def long_date(day: dt.date, language: str = "zh") -> str:
    """``day`` as people write it: 2026年12月6日, 6 December 2026."""
    month = translate("date.months", language).split()[day.month - 1]
    return translate("date.long", language, year=day.year, month=month, day=day.day)


def missing_keys(language: str) -> set[str]:
    """Keys the Chinese catalogue has and ``language`` lacks."""
    return set(catalogue("zh")) - set(catalogue(language))


def message_for(err: Exception, language: str = "zh") -> str:
    """What to tell a person about ``err``: its translation key, or the platform's
    own words when the key is one the kiosk's catalogue does not know."""
    key = getattr(err, "message_key", "error.generic")
    if key in catalogue("zh"):
        return translate(key, language)
    own = getattr(err, "messages", {}) or {}
    return own.get(language) or own.get("zh") or translate("error.generic", language)

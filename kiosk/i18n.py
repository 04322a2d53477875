"""Messages for people: translation keys looked up in gettext catalogues.

Chinese is the first language and English is complete too. Catalogues are
written as .po files (kiosk/locale/<lang>/LC_MESSAGES/kiosk.po). The kiosk reads
the compiled .mo beside each with the standard library's gettext (under a
millisecond, where parsing the .po with Babel took 40 ms of every start);
``scripts/setup.sh`` compiles them (``pybabel compile``), and a .po edited since
is compiled in memory by Babel instead, so no stale .mo stands between an edit and
the screen. A key missing from a catalogue falls back to Chinese, then to the
key itself (tests catch both).
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
from functools import cache
from pathlib import Path

LANGUAGES = ("zh", "en")
LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "kiosk"


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def catalogue(language: str) -> dict[str, str]:
    """All messages of one language as written in its .po: key → text (for checks and
    the self-test; the screens look keys up through ``translate``)."""
    from babel.messages.pofile import read_po  # Babel is pure Python

    with po_path(language).open("rb") as fh:
        cat = read_po(fh, locale=language)
    return {str(m.id): str(m.string) for m in cat if m.id and m.string}


@cache
def translations(language: str) -> gettext.NullTranslations:
    """``language``'s messages, falling back to Chinese's (then to the key)."""
    po = po_path(language)
    mo = po.with_suffix(".mo")
    try:
        fresh = mo.stat().st_mtime >= po.stat().st_mtime
    except FileNotFoundError:
        fresh = False
    if fresh:
        with mo.open("rb") as fh:
            found = gettext.GNUTranslations(fh)
    else:  # not compiled yet, or the .po edited since: compiled here, in memory
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        buf = io.BytesIO()
        with po.open("rb") as fh:
            write_mo(buf, read_po(fh, locale=language))
        buf.seek(0)
        found = gettext.GNUTranslations(buf)
    if language != "zh":
        found.add_fallback(translations("zh"))
    return found


def translate(key: str, language: str = "zh", **values: object) -> str:
    """The text for ``key`` in ``language``, with ``{name}`` placeholders filled."""
    text = translations(language).gettext(key) if key else key
    return text.format(**values) if values else text


def translate_days(key: str, days: int, language: str = "zh", **values: object) -> str:
    """``translate(key, days=days, …)``, in its ``key + ".one"`` form for one day where the
    language has one ("1 working day", not "1 working days"; Chinese needs none)."""
    one = f"{key}.one"
    if days == 1 and translations(language).gettext(one) != one:
        key = one
    return translate(key, language, days=days, **values)


def listed(keys: list[str], language: str = "zh") -> str:
    """The texts of ``keys`` as a sentence lists them: 身份证、社保卡和回执 / ID card,
    social security card and receipt."""
    return listed_texts([translate(k, language) for k in keys], language)


def listed_texts(names: list[str], language: str = "zh") -> str:
    """``names`` (already in ``language``: a catalog's names) as a sentence lists them."""
    if len(names) < 2:
        return "".join(names)
    return translate("common.list", language,
                     items=translate("common.list_sep", language).join(names[:-1]), last=names[-1])  # fmt: skip


def known(key: str) -> bool:
    """Whether the kiosk's catalogue has a message for ``key``."""
    return bool(key) and translations("zh").gettext(key) != key


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
    if known(key):
        return translate(key, language)
    own = getattr(err, "messages", {}) or {}
    return own.get(language) or own.get("zh") or translate("error.generic", language)

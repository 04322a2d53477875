"""Checks of what a citizen types or a card tells: pure functions returning a
translation key for the problem, or None when the value is fine."""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal, InvalidOperation

from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from kiosk.catalog.model import FieldDef, FieldType
from kiosk.errors import CardExpired, ValidationError
from kiosk.identity import CardType, IdCard

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
_AMOUNT = re.compile(r"^\d{1,12}(\.\d{1,2})?$")


# GB 11643's numbers whose first six digits are no county of stdnum's table: the residence
# permits of Hong Kong (810000), Macao (820000) and Taiwan (830000) residents, and the
# foreigner's permanent residence ID card of 2023 (9, the issuing province, a country's
# three-digit code: 936840… for an American in Jiangxi)
_PROVINCE = "(?:1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5])"
_PERMIT = re.compile(rf"(?:8[123]0000|9{_PROVINCE}[0-9]{{3}})[0-9]{{11}}[0-9X]").fullmatch
_NUMBER = re.compile(r"[0-9]{17}[0-9X]").fullmatch


@functools.lru_cache(maxsize=8192)
def _county_known(place: str, year: int) -> bool:
    """stdnum's table of county codes has ``place``, not yet retired in ``year``.

    A number's county is where it was assigned, which may be years after the birth: a
    county whose code dates from 2000 (安福县, 360829) holds numbers of people born in
    1990 (stdnum's own check refuses them: it wants the code in use in the birth year),
    while one retired in 2000 (362429) holds nobody's born after. Remembered per code
    and year, which are not the citizen's number (the table walk is most of the cost)."""
    info = {k: v for _, props in numdb.get("cn/loc").info(place) for k, v in props.items()}
    for county in info.get("county", "").split(",") if info.get("county") else ():
        if not county.startswith("["):
            return True
        end = county[1:].split("]", 1)[0].partition("-")[2]
        if not end or year <= int(end):
            return True
    return False


def check_id_number(value: str, today: dt.date | None = None) -> str | None:
    """GB 11643 ID number: its form, check digit, birth date, and a county that could have
    assigned it (or a residence permit's or a foreign permanent resident's card's first
    digits, which name no county)."""
    number = ric.compact(value)
    if not _NUMBER(number):
        return "error.id_format"
    if number[-1] != ric.calc_check_digit(number):
        return "error.id_check_digit"
    try:
        born = ric.get_birth_date(number)
    except StdnumError:
        return "error.id_format"
    if not (_PERMIT(number) or _county_known(number[:6], born.year)):
        return "error.id_format"
    if today is not None and born > today:
        return "error.id_format"
    return None


def id_number_valid(value: str) -> bool:
    """Whether ``value`` is an ID number that passes ``check_id_number`` (the kiosk's, the
    platform's and the privacy scan's one rule)."""
    return check_id_number(value) is None


def check_phone(value: str) -> str | None:
    v = value.replace(" ", "")
    return None if _MOBILE.match(v) or _LANDLINE.match(v) else "error.phone"


def parse_date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def normalize_date(value: str) -> str:
    """Eight digits typed on the keypad (20261120) become an ISO date (2026-11-20)."""
    v = value.strip()
    return f"{v[:4]}-{v[4:6]}-{v[6:]}" if len(v) == 8 and v.isdigit() else value


def check_date(value: str, rule: str = "", today: dt.date | None = None) -> str | None:
    d = parse_date(value)
    if d is None or not re.match(r"^\d{4}-\d{2}-\d{2}$", value.strip()):
        return "error.date"
    if today is not None and rule == "past" and d > today:
        return "error.date_future"
    if today is not None and rule == "future" and d < today:
        return "error.date_past"
    return None


def check_amount(value: str) -> str | None:
    v = value.replace(",", "").strip()
    if not _AMOUNT.match(v):
        return "error.amount"
    try:
        Decimal(v)
    except InvalidOperation:
        return "error.amount"
    return None


def check_field(f: FieldDef, value: str, today: dt.date | None = None) -> str | None:
    """The problem with ``value`` for field ``f``, or None (an optional blank is fine)."""
    value = value.strip()
    if not value:
        return "error.required" if f.required else None
    problem = None
    if f.type is FieldType.ID_NUMBER:
        problem = check_id_number(value, today)
    elif f.type is FieldType.PHONE:
        problem = check_phone(value)
    elif f.type is FieldType.DATE:
        problem = check_date(value, f.date_rule, today)
    elif f.type is FieldType.AMOUNT:
        problem = check_amount(value)
    elif f.type is FieldType.CHOICE and value not in {c.value for c in f.choices}:
        problem = "error.choice"
    elif f.type is FieldType.ADDRESS and len(value) < 5:
        problem = "error.address"
    if problem is None and f.pattern and not re.search(f.pattern, value):
        problem = "error.pattern"
    return problem


def check_card(card: IdCard, today: dt.date) -> None:
    """Refuse a card the kiosk must not accept as identification.

    :raises CardExpired: the card is past its validity date.
    :raises ValidationError: a card whose number fails GB 11643.
    """
    if card.expired(today):
        raise CardExpired("card validity date has passed")
    if card.card_type is not CardType.FOREIGNER_OLD:  # (its 15 characters are no GB 11643 number)
        problem = check_id_number(card.id_number, today)
        if problem:
            raise ValidationError(
                "ID number fails GB 11643", field="id_number", message_key=problem
            )

"""Progress query (查询办理进度) as pure rules: which number a scanned code or a
typed text names, what a typed ID number may be used for, and the stages of
an application as a timeline to show.

The receipt's QR holds ``<platform>/track/<number>?c=<code>``; a citizen may also type
the number printed under it (acceptance number like AF2026112300001, or a
pending slip's local number like LAF-ZH-0007-000001). The code (``track_code``) is a keyed
hash of the number under the secret of the terminal that printed it: the public page opens
for the paper in the citizen's hand, not for anyone counting through numbers, which run
in sequence (the platform checks it with the same secret).
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from kiosk.catalog.model import Catalog
from kiosk.config import china_time
from kiosk.i18n import translate
from kiosk.outcomes import OutcomeKind, Progress, Stage

TRACK_PATH = "/track/"
TRACK_CODE = "c"  # the query parameter that carries ``track_code``


def track_code(secret: str, number: str) -> str:
    """The code a receipt's QR adds to its number: 12 hex digits of an HMAC under the
    printing terminal's secret (48 bits: not to be guessed through a public page)."""
    return hmac.new(secret.encode(), f"track:{number}".encode(), "sha256").hexdigest()[:12]


def slip_number(terminal_id: str, seq: int) -> str:
    """A pending slip's number (收件编号): the terminal that printed it, and its count there."""
    return f"L{terminal_id}-{seq:06d}"


_SLIP = re.compile(r"L([0-9A-Za-z]{1,32})-\d{6,}")


def slip_printer(number: str) -> str | None:
    """The terminal a pending slip's number names (whose secret made its QR's code); None
    when ``number`` is no slip's."""
    found = _SLIP.fullmatch(number)
    return found.group(1) if found else None
_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9-]{5,39}$")
MIN_NUMBER = 6


class NotANumber(ValueError):
    """The text names no application; ``message_key`` says what to tell the citizen."""

    def __init__(self, message_key: str):
        super().__init__(message_key)
        self.message_key = message_key


def number_from_code(code: str) -> str:
    """The application number a scanned code names: a receipt's tracking URL or a bare number.

    :raises NotANumber: ``query.not_a_receipt`` for any other code (a payment QR,
        a product barcode, an e-ID code shown here by mistake).
    """
    text = code.strip()
    if TRACK_PATH in text:
        path = urlsplit(text).path if "://" in text else text.split("?", 1)[0]
        text = unquote(path.rsplit(TRACK_PATH, 1)[-1]).strip("/")
    try:
        return clean_number(text)
    except NotANumber:
        raise NotANumber("query.not_a_receipt") from None


def tracked_number(code: str) -> str | None:
    """The number a receipt's tracking QR (``…/track/<number>``) names, or None for
    any other code (an electronic ID, a payment QR, a bare number or barcode): what
    the kiosk may route to the progress screen wherever a code is shown."""
    if TRACK_PATH not in code:
        return None
    try:
        return number_from_code(code)
    except NotANumber:
        return None


def clean_number(typed: str) -> str:
    """A typed acceptance or slip number, upper case, spaces removed.

    :raises NotANumber: ``query.number_empty`` / ``query.number_short`` /
        ``query.number_chars`` (only letters, digits and '-').
    """
    text = re.sub(r"\s+", "", typed).upper()
    if not text:
        raise NotANumber("query.number_empty")
    if len(text) < MIN_NUMBER:
        raise NotANumber("query.number_short")
    if not _NUMBER.match(text):
        raise NotANumber("query.number_chars")
    return text


@dataclass(frozen=True)
class StageLine:
    """One stage of the timeline: reached or not, the current one, and when."""

    stage: Stage
    reached: bool
    current: bool
    at: dt.datetime | None  # when it was first reached (None: not yet, or no record)


def timeline(progress: Progress) -> list[StageLine]:
    """Every stage from 收件 to 归档 in order, for one application.

    A refused application stops where it was refused; one waiting for
    materials (补齐补正) stays at its stage until they arrive.
    """
    order = list(Stage)
    current = progress.outcome.stage
    reached_at: dict[Stage, dt.datetime] = {}
    for event in progress.history:
        reached_at.setdefault(event.stage, event.at)
    upto = order.index(current)
    return [
        StageLine(stage=s, reached=i <= upto, current=s is current, at=reached_at.get(s))
        for i, s in enumerate(order)
    ]


def notice_time(progress: Progress) -> dt.datetime | None:
    """When the current notice (correction or refusal) was issued, if there is one."""
    kind = progress.outcome.kind
    if kind not in (OutcomeKind.NEEDS_MORE, OutcomeKind.REFUSED):
        return None
    times = [e.at for e in progress.history if e.kind is kind]
    return times[-1] if times else None


@dataclass(frozen=True)
class ProgressView:
    """What a citizen is told of one application, on the kiosk and on the phone page:
    a status (``accepted``, ``done``, ``needs_more``, ``refused``, ``pending``), the
    number, plain lines (matters, promised date, missing materials, reason) and the
    stages. Nothing personal: an outcome holds no name or ID number."""

    status: str
    number: str
    lines: tuple[str, ...]
    stages: tuple[StageLine, ...]


# In a correction notice's ``missing``, beside material codes and form field ids: the postal
# address a delivery by mail needs (a notice the platform issued on a pending slip's delivery)
DELIVERY_ADDRESS = "delivery_address"


def missing_items(missing: tuple[str, ...] | list[str], catalog: Catalog | None,
                  language: str) -> tuple[list[str], list[str]]:  # fmt: skip
    """A notice's ``missing``, named in ``language``: (materials to bring, things to fill
    in: form fields and the address)."""
    to_bring, to_fill = [], []
    for code in missing:
        filled = code == DELIVERY_ADDRESS or bool(catalog and code in catalog.fields)
        (to_fill if filled else to_bring).append(missing_name(code, catalog, language))
    return to_bring, to_fill


def missing_name(code: str, catalog: Catalog | None, language: str) -> str:
    """What a notice's ``missing`` item is called in ``language``: a material's name or a
    form field's label from the catalog, the address; for one the kiosk's catalog does not
    hold yet (the platform's is newer), words that say so and where to learn it, never the
    code ("applicant_email" read as a jumble on a slip)."""
    if code == DELIVERY_ADDRESS:
        return translate("progress.delivery_address", language)
    if catalog and code in catalog.materials:
        return catalog.materials[code].name.get(language)
    if catalog and code in catalog.fields:
        return catalog.fields[code].label.get(language)
    return translate("progress.unknown_item", language)


def matters_line(view: ProgressView, language: str) -> str:
    """The view's matters on one line, as a list reads in ``language`` (the citizen's own
    applications, one a button: "、" between them in Chinese; in English it was "、" too)."""
    names = [line.removeprefix("·").strip() for line in view.lines if line.startswith("·")]
    return ("、" if language == "zh" else "; ").join(names)


def stage_when(line: StageLine, status: str, language: str) -> str:
    """What a stage's line says beside its name: when it was reached; for the stage an
    application being handled (``status`` "accepted") is at, that it is under way since
    then (its bare time read as "done at": "Review 01:13"); "not started" for one ahead."""
    if line.at is None:
        return "" if line.reached else translate("progress.not_yet", language)
    at = china_time(line.at).strftime("%Y-%m-%d %H:%M")
    if line.current and status == "accepted":
        return translate("progress.under_way", language, time=at)
    return at


def progress_view(progress: Progress, catalog: Catalog | None, language: str) -> ProgressView:
    o = progress.outcome
    status = o.kind.value
    if o.kind is OutcomeKind.ACCEPTED and o.stage in (Stage.DELIVERED, Stage.ARCHIVED):
        status = "done"
    lines = []
    for m in o.matters:
        name = catalog.matters[m.code].name.get(language) if catalog and m.code in catalog.matters else m.name
        lines.append(f"·\u00a0{name}")  # the bullet stays with its name when lines wrap
    if o.kind is OutcomeKind.ACCEPTED and o.promised_date and status != "done":
        lines.append(translate("progress.promised", language, date=o.promised_date.isoformat()))
    if o.kind is OutcomeKind.NEEDS_MORE:
        sep = "、" if language == "zh" else ", "
        materials, fields = missing_items(o.missing, catalog, language)
        if materials:
            lines.append(translate("progress.missing", language, materials=sep.join(materials)))
        if fields:
            lines.append(translate("progress.missing_fields", language, fields=sep.join(fields)))
        lines.append(translate("progress.correct_at_window", language))
    if o.kind is OutcomeKind.REFUSED:
        lines.append(translate("progress.reason", language, reason=o.reason))
    return ProgressView(status, o.acceptance_number or o.local_number, tuple(lines),
                        tuple(timeline(progress)))  # fmt: skip

"""The platform's citizen-facing extras: holiday calendar, queue tickets, self-print
records and face match (人证比对).

``setup(app)`` adds the routes to an app built by ``central.app.make_app``.
Handlers stay thin as there: parse, call the database or the matcher in a
worker thread, answer JSON; every error is an ``ApiError`` with a message key.

- ``GET  /api/v1/calendar`` (public): the published holiday calendar, with an ETag.
- ``POST /api/v1/tickets`` (signed): a queue ticket; numbered by a counter row
  per service point per day, incremented in the storing transaction, so two
  processes never hand out the same number.
- ``POST /api/v1/records/social-insurance`` (signed, card present): a sample
  contribution record, clearly marked as the reference platform's; the ID number
  travels in the JSON body, never in a URL (proxies log URLs).
- ``POST /api/v1/face-match`` (signed, up to 10 MB): the live photo against the
  photo of record in ``data_dir/photos/``, sealed under a name that hides the ID number.
- ``GET  /track/{number}`` (public HTML, central/track_page.py): what a receipt's
  QR opens, the application's progress without anything personal;
- ``GET  /guide/{matter_code}`` (public HTML, central/guide_page.py): a matter's
  guide (办事指南), what the QR on the kiosk's guide screen opens.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import hashlib
import logging
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from central import app as central_app
from central import decide
from central import tables as t
from central.app import CATALOG, CONFIG, SIGNED, STORE, _body, _json, _object, _text, access
from central.auth import SECRETS, TERMINAL, terminal_of
from central.errors import ApiError
from central.facematch import FaceMatcher, FaceMatchError, FaceModelError
from central.photos import read_photo
from central.store import CHINA, Store
from central.validate import id_number_valid
from kiosk.errors import CalendarError
from kiosk.hours import next_opening, open_at, parse_hours
from kiosk.identity import mask

API = central_app.API
log = logging.getLogger("central.citizen_api")
FACE_MAX_BODY = 10 * 1024 * 1024  # a phone-camera JPEG in base64 fits; the app's own limit is 1 MB
CARD_FRESH = dt.timedelta(minutes=10)  # a record is printed only for a card read this recently
CARD_CLOCK_SLACK = dt.timedelta(minutes=1)  # a terminal clock slightly ahead is not an attack
# The level the access middleware does not know: the handler checks the signature
# itself, after raising the body limit (the middleware would read with 1 MB).
SIGNED_LARGE = "signed-large-body"
MATCHER: web.AppKey[FaceMatcher] = web.AppKey("face_matcher", FaceMatcher)

# queue kind → (letter on the ticket, name, reference minutes per person at the window)
KINDS: dict[str, tuple[str, str, int]] = {
    "general": ("A", "综合受理", 6),
    "social_security": ("B", "社保医保", 8),
    "household": ("C", "户籍证件", 10),
    "business": ("D", "企业开办", 15),
    "tax": ("E", "税务", 8),
}


def _id_number(value: Any, field: str = "id_number") -> str:
    if not isinstance(value, str) or not value:
        raise ApiError(400, "request.missing_field", field)
    number = value.strip().upper()
    if not id_number_valid(number):
        raise ApiError(422, "submission.id_number_invalid", field)
    return number


# -- calendar -----------------------------------------------------------------------


@access(central_app.PUBLIC)
async def calendar(request: web.Request) -> web.Response:
    try:
        _, years, tag = await asyncio.to_thread(decide.published_calendar)
    except CalendarError as err:
        raise ApiError(503, "server.error", "calendar") from err
    etag = f'"{tag}"'
    if etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers={"ETag": etag})
    return _json({"years": years}, ETag=etag)


# -- tickets ------------------------------------------------------------------------


class TicketStore(Store):
    """Tickets on the platform's database (inherits the counter-row helper)."""

    def issue(self, point: str, kind: str, terminal_id: str | None) -> dict[str, Any]:
        now = dt.datetime.now(dt.UTC)
        day = now.astimezone(CHINA).strftime("%Y%m%d")
        with self.engine.begin() as conn:
            seq = self._next(conn, f"ticket:{point}:{day}")
            conn.execute(t.tickets.insert().values(
                service_point=point, day=day, seq=seq, queue=kind,
                terminal_id=terminal_id, issued_at=now))  # fmt: skip
            # Counted in the same transaction: every earlier ticket of this queue
            # has committed (the counter row serialises issuers), none later exists.
            ahead = conn.execute(
                sa.select(sa.func.count()).select_from(t.tickets).where(
                    t.tickets.c.service_point == point, t.tickets.c.day == day,
                    t.tickets.c.queue == kind, t.tickets.c.seq < seq,
                    t.tickets.c.called_at.is_(None))
            ).scalar_one()  # fmt: skip
        return {"seq": seq, "people_ahead": int(ahead), "issued_at": now}


async def _open_now(hours: str) -> None:
    """:raises ApiError: 409 ticket.closed, with when they open (``details``: ISO time)."""
    calendar = await asyncio.to_thread(decide.calendar_in_use)
    spans, now = parse_hours(hours), dt.datetime.now(dt.UTC).astimezone(CHINA)
    if not open_at(spans, calendar, now):
        raise ApiError(409, "ticket.closed", "service_point",
                       [next_opening(spans, calendar, now).isoformat()])


@access(SIGNED)
async def ticket(request: web.Request) -> web.Response:
    body = _object(await _body(request), "service_point", "kind")
    point, kind = _text(body, "service_point", 32), _text(body, "kind", 32)
    hall = request.app[CATALOG]["catalog"].service_points.get(point)
    if hall is None:
        raise ApiError(422, "submission.unknown_point", point)
    if kind not in KINDS:
        raise ApiError(422, "ticket.unknown_kind", kind)
    store = TicketStore(request.app[STORE].engine)
    terminal_id = request.get(TERMINAL)
    # a kiosk hands out tickets for its own hall (its enrolment's)
    if terminal_id is not None and await request.app[SECRETS].point(terminal_id) != point:
        raise ApiError(403, "ticket.other_point", "service_point")
    if hall.hours and not request.app[CONFIG].tickets_any_time:
        # the windows shut (night, a rest day): no number they would not call
        await _open_now(hall.hours)
    issued = await asyncio.to_thread(store.issue, point, kind, terminal_id)
    letter, name, minutes = KINDS[kind]
    return _json({
        "number": f"{letter}{issued['seq']:03d}",
        "kind": kind,
        "kind_name": name,
        "service_point": point,
        "people_ahead": issued["people_ahead"],
        "estimated_wait_minutes": issued["people_ahead"] * minutes,
        "issued_at": issued["issued_at"].isoformat(),
    }, 201)  # fmt: skip


# -- records for self-print ------------------------------------------------------------


def _card_read_at(value: str) -> dt.datetime:
    """Unix seconds or ISO 8601 with a time zone."""
    try:
        if value.isdigit():
            return dt.datetime.fromtimestamp(int(value), dt.UTC)
        when = dt.datetime.fromisoformat(value)
    except (ValueError, OverflowError, OSError) as err:
        raise ApiError(400, "request.wrong_type", "card_read_at") from err
    if when.tzinfo is None:
        raise ApiError(400, "request.wrong_type", "card_read_at")
    return when


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), ROUND_HALF_UP))


# Contribution rates of the reference record (employer, personal), as fractions of the base.
RATES = {
    "pension": (Decimal("0.16"), Decimal("0.08")),
    "medical": (Decimal("0.08"), Decimal("0.02")),
    "unemployment": (Decimal("0.005"), Decimal("0.005")),
    "injury": (Decimal("0.004"), Decimal("0")),
}


def sample_record(id_number: str, today: dt.date, months: int = 12) -> dict[str, Any]:
    """A deterministic sample contribution record: the same person and month give the same figures."""
    seed = int.from_bytes(hashlib.sha256(f"sample-record:{id_number}".encode()).digest()[:8])
    base0 = Decimal(3600 + (seed % 40) * 100)
    since = dt.date(2008 + seed % 12, 1 + (seed >> 8) % 12, 1)
    rows, totals = [], dict.fromkeys(("employer", "personal"), Decimal(0))
    first = (today.year * 12 + today.month - 1) - months  # the 12 full months before this one
    for k in range(months):
        y, m = divmod(first + k, 12)
        month = dt.date(y, m + 1, 1)
        # the base is adjusted every July, by 3 % a year since 2020 in this sample
        years = month.year - 2020 - (month.month < 7)
        base = (base0 * Decimal("1.03") ** max(years, 0)).quantize(Decimal("1"), ROUND_HALF_UP)
        row: dict[str, Any] = {"month": f"{month:%Y-%m}", "base": _money(base), "paid": True}
        for insurance, (employer, personal) in RATES.items():
            e, p = base * employer, base * personal
            totals["employer"] += e.quantize(Decimal("0.01"), ROUND_HALF_UP)
            totals["personal"] += p.quantize(Decimal("0.01"), ROUND_HALF_UP)
            row[insurance] = {"employer": _money(e), "personal": _money(p)}
        rows.append(row)
    return {
        "kind": "social_insurance_payments",
        "sample": True,
        "source": "reference-platform",
        "notice": {
            "zh": "参考平台示例数据，不是真实的社会保险缴费记录，不能作为证明使用。",
            "en": "Sample data from the reference platform: not a real contribution record, not a proof.",
        },
        "id_number": mask(id_number, 6, 4),
        "insured_since": f"{since:%Y-%m}",
        "employer": "示例单位（参考平台）",
        "months": rows,
        "totals": {k: _money(v) for k, v in totals.items()},
    }


def _card_present(raw: Any) -> dt.datetime:
    """Now, when the terminal read the citizen's card (``raw``) within ``CARD_FRESH``.

    :raises ApiError: 400 no read time, 403 ``record.card_not_present`` a stale one.
    """
    if not isinstance(raw, str | int) or isinstance(raw, bool) or raw == "":
        raise ApiError(400, "request.missing_field", "card_read_at")
    read_at = _card_read_at(str(raw))
    now = dt.datetime.now(dt.UTC)
    if not now - CARD_FRESH <= read_at <= now + CARD_CLOCK_SLACK:
        raise ApiError(403, "record.card_not_present", "card_read_at")
    return now


LOOKUPS = 20  # a citizen's own data a terminal may ask for…
LOOKUP_WINDOW = dt.timedelta(minutes=10)  # …in this long (a visit asks one to three times)


async def note_lookup(request: web.Request, kind: str, number: str) -> None:
    """Record who looked up whose data, and hold back a terminal that asks for more than
    ``LOOKUPS`` in ``LOOKUP_WINDOW``: its secret taken from a kiosk would otherwise list
    citizens one by one (``card_read_at`` is only the terminal's word).

    :raises ApiError: 429 ``record.too_many``.
    """
    terminal = request.get(TERMINAL) or "unsigned"
    count = await asyncio.to_thread(request.app[STORE].note_lookup, terminal, kind, number,
                                    LOOKUP_WINDOW)  # fmt: skip
    if count > LOOKUPS:
        log.warning("terminal %s asked for %d citizens' %s in %s: refused", terminal, count,
                    kind, LOOKUP_WINDOW)  # fmt: skip
        raise ApiError(429, "record.too_many")


@access(SIGNED)
async def applications_of(request: web.Request) -> web.Response:
    """A citizen's own applications by ID number: only from an enrolled terminal that has
    just read their card (the number comes in the body, never in a URL a proxy logs)."""
    body = _object(await _body(request), "id_number", "card_read_at")
    number = _id_number(body["id_number"])
    _card_present(body["card_read_at"])
    await note_lookup(request, "applications", number)
    found = await asyncio.to_thread(request.app[STORE].applications_of, number)
    return _json({"applications": [p.to_dict() for p in found]})


@access(SIGNED)
async def social_insurance_record(request: web.Request) -> web.Response:
    """A citizen's contribution record for self-print: only from an enrolled terminal that
    has just read their card (the number comes in the body, never in a URL a proxy logs)."""
    body = _object(await _body(request), "id_number", "card_read_at")
    number = _id_number(body["id_number"])
    now = _card_present(body["card_read_at"])
    await note_lookup(request, "record", number)
    record = sample_record(number, now.astimezone(CHINA).date())
    record["generated_at"] = now.isoformat()
    return _json(record)


# -- face match ---------------------------------------------------------------------


@access(SIGNED_LARGE)
async def face_match(request: web.Request) -> web.Response:
    cfg = request.app[CONFIG]
    if (request.content_length or 0) > FACE_MAX_BODY:
        raise ApiError(413, "request.too_large")
    request = request.clone(client_max_size=FACE_MAX_BODY)
    if cfg.require_signatures:
        request[TERMINAL] = await terminal_of(request, cfg.clock_skew)
    body = _object(await _body(request), "id_number", "photo")
    number = _id_number(body["id_number"])
    if not isinstance(body["photo"], str):
        raise ApiError(400, "request.wrong_type", "photo")
    try:
        live = base64.b64decode(body["photo"], validate=True)
    except (binascii.Error, ValueError) as err:
        raise ApiError(400, "request.wrong_type", "photo") from err
    await note_lookup(request, "face", number)
    record = await asyncio.to_thread(read_photo, cfg.data_dir, number, request.app[STORE].box)
    if record is None:
        raise ApiError(404, "face.no_record", "id_number")
    try:
        # the first call loads the model (about 1 s) in this worker thread, once per process
        result = await request.app[MATCHER].compare_async(record, live)
    except FaceMatchError as err:
        raise ApiError(422, err.message_key, err.photo) from err
    except FaceModelError as err:
        raise ApiError(503, "face.model_unavailable") from err
    return _json(result.as_dict())


# -- assembly -----------------------------------------------------------------------


def setup(app: web.Application) -> None:
    """Add the calendar, ticket, record and face-match routes to the platform ``app``."""
    app[MATCHER] = FaceMatcher()  # cheap: the model loads on the first comparison
    app.router.add_get(f"{API}/calendar", calendar)
    app.router.add_post(f"{API}/tickets", ticket)
    app.router.add_post(f"{API}/records/social-insurance", social_insurance_record)
    app.router.add_post(f"{API}/applications/lookup", applications_of)
    app.router.add_post(f"{API}/face-match", face_match)
    from central import guide_page, track_page  # they import this package's app module

    guide_page.setup(app)  # public pages a phone opens from a QR: a matter's guide
    track_page.setup(app)  # and an application's progress
    __import__("central.eid", fromlist=["setup"]).setup(app)  # electronic ID codes

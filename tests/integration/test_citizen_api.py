"""The citizen-facing platform calls over real HTTP on loopback: promised dates,
the published calendar, queue tickets, self-print records and face match.

The terminal side is the real client (client.platform.PlatformClient); raw
signed requests only where the test must send what the client never would.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import io
import json
import logging
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa
from PIL import Image

from central import decide
from central import store as store_module
from central import tables as t
from central.app import STORE, make_app
from central.config import CentralConfig
from client.platform import PlatformClient
from kiosk import signing
from kiosk.errors import PlatformAuthError, PlatformRejected
from kiosk.timelimits import bundle_limit
from kiosk.workdays import estimated_holidays
from tests.support.central import a_submission, id_number, small_catalog

pytestmark = pytest.mark.integration

FACES = Path(__file__).resolve().parents[3] / "shared" / "data" / "faces"
CHINA = dt.timezone(dt.timedelta(hours=8))


def chained_catalog(legal: int = 20, promised: int = 0):
    """small_catalog whose birth bundle must run in order: birth registration, then the card."""
    cat = small_catalog()
    matters = dict(cat.matters)
    if promised:
        for code in matters:
            matters[code] = dataclasses.replace(
                matters[code], legal_days=legal, promised_days=promised
            )
    event = dataclasses.replace(cat.life_events["birth"], order=(("hukou_birth", "social_card"),))
    return dataclasses.replace(cat, matters=matters, life_events={"birth": event})


async def start_platform(aiohttp_server, database_url, data_dir, catalog):
    """The real app on a loopback port: (its base URL, the app)."""
    config = CentralConfig(data_dir=data_dir, database_url=database_url)
    server = await aiohttp_server(make_app(config, catalog_override=catalog))
    return str(server.make_url("")).rstrip("/"), server.app


@pytest.fixture
async def terminals():
    """Enrolled PlatformClients for a platform, closed at the end: ``await make(base, point)``."""
    made: list[PlatformClient] = []
    http = aiohttp.ClientSession()

    async def make(base: str, point: str = "hukeng") -> PlatformClient:
        async with http.post(
            f"{base}/api/v1/office/enrolment-codes", json={"service_point": point}
        ) as r:
            code = (await r.json())["code"]
        client = PlatformClient(base, timeout=20, backoff=0.01)
        made.append(client)
        await client.enrol(code)
        return client

    yield make
    for c in made:
        await c.close()
    await http.close()


@pytest.fixture
async def platform(aiohttp_server, database_url, tmp_path, terminals):
    base, app = await start_platform(
        aiohttp_server, database_url, tmp_path / "central", chained_catalog()
    )
    return base, app, await terminals(base)


def china_today() -> dt.date:
    return dt.datetime.now(CHINA).date()


async def signed_post(client: PlatformClient, path: str, body: dict):
    """A request the client never sends (a field left out), signed as this terminal."""
    data = json.dumps(body).encode()
    headers = signing.signed_headers(client.terminal_id, client.secret, "POST", path, data,
                                     time.time())  # fmt: skip
    headers["Content-Type"] = "application/json"
    async with (
        aiohttp.ClientSession() as http,
        http.post(client.base_url + path, data=data, headers=headers) as r,
    ):
        return r.status, await r.json()


# -- promised dates ---------------------------------------------------------------------


def nth_working_day(calendar: Path, start: dt.date, n: int) -> dt.date:
    """The ``n``th working day after ``start`` as a person counts it on the calendar file:
    Monday to Friday and the make-up days (调休上班), not the announced holidays."""
    years = tomllib.loads(calendar.read_text(encoding="utf-8")).values()
    off = {dt.date.fromisoformat(d) for y in years for d in y["holidays"]}
    on = {dt.date.fromisoformat(d) for y in years for d in y["workdays"]}
    day = start
    while n:
        day += dt.timedelta(days=1)
        n -= (day.weekday() < 5 or day in on) and day not in off
    return day


async def test_promised_date_is_the_bundle_limit_of_the_ordered_chain(platform):
    # Given a birth bundle whose card application must wait for the birth registration
    _, _, client = platform
    cat = chained_catalog()
    # When a terminal submits it
    outcome = await client.submit(a_submission(client.terminal_id))
    # Then the bundle's date is the compressed chain (not the longest single matter),
    # counted in working days on the published calendar from today in China
    limit = bundle_limit(
        cat.matters, ("hukou_birth", "social_card"), cat.life_events["birth"].order
    )
    assert limit.days == 8 and limit.critical_path == ("hukou_birth", "social_card")
    today = china_today()
    due = nth_working_day(decide.CALENDAR_FILE, today, 8)
    assert outcome.promised_date == due
    assert outcome.promised_date_provisional is False  # a year the State Council has published
    # And the first matter of the chain keeps its own 3 days, the second carries the bundle's date
    dates = {m.code: m.promised_date for m in outcome.matters}
    assert dates == {"hukou_birth": nth_working_day(decide.CALENDAR_FILE, today, 3),
                     "social_card": due}  # fmt: skip


async def test_a_date_in_an_unpublished_year_is_provisional_until_the_year_is_published(
    aiohttp_server, tmp_path, terminals, monkeypatch
):
    # Given a bundle long enough to end beyond the published years (2025 and 2026)
    base, _ = await start_platform(
        aiohttp_server, "", tmp_path / "central", chained_catalog(legal=200, promised=60)
    )
    client = await terminals(base)
    # When it is submitted
    first = await client.submit(a_submission(client.terminal_id))
    # Then its date, counted 120 working days ahead, is in a year nobody has published: provisional
    assert first.promised_date.year >= 2027
    assert first.promised_date_provisional is True
    # When the platform publishes that year's calendar (the State Council's notice)
    published = tmp_path / "published.toml"
    text = decide.CALENDAR_FILE.read_text(encoding="utf-8")
    for year in range(2027, first.promised_date.year + 1):
        days = ", ".join(f'"{d}"' for d in sorted(estimated_holidays(year)))
        text += f"\n[{year}]\nholidays = [{days}]\nworkdays = []\n"
    published.write_text(text, encoding="utf-8")
    monkeypatch.setenv("CENTRAL_CALENDAR", str(published))
    # Then the next submission's date is firm
    second = await client.submit(a_submission(client.terminal_id))
    assert second.promised_date_provisional is False
    assert second.promised_date == nth_working_day(published, china_today(), 120)


# -- calendar ---------------------------------------------------------------------------


async def test_calendar_is_served_with_an_etag_and_304_until_a_year_is_published(
    platform, tmp_path, monkeypatch
):
    # Given the platform's published calendar
    _, _, client = platform
    # When a terminal fetches it
    data, etag = await client.calendar()
    # Then it lists 2025 and 2026 with the State Council's holidays and make-up workdays
    assert set(data["years"]) == {"2025", "2026"}
    assert "2026-02-17" in data["years"]["2026"]["holidays"]  # 春节
    assert "2026-02-14" in data["years"]["2026"]["workdays"]  # 调休 on a Saturday
    assert etag.startswith('"')
    # And asking again with the ETag gets "unchanged"
    assert await client.calendar(etag) == (None, etag)
    # When 2027 is published
    published = tmp_path / "published.toml"
    published.write_text(
        decide.CALENDAR_FILE.read_text(encoding="utf-8")
        + '\n[2027]\nholidays = ["2027-01-01"]\nworkdays = []\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("CENTRAL_CALENDAR", str(published))
    # Then the old ETag no longer matches and the new calendar has 2027
    data, new_etag = await client.calendar(etag)
    assert new_etag != etag and data["years"]["2027"]["holidays"] == ["2027-01-01"]


# -- tickets ----------------------------------------------------------------------------


async def test_tickets_from_two_concurrent_terminals_never_share_a_number(platform, terminals):
    # Given two terminals in the same hall
    base, app, first = platform
    second = await terminals(base)
    kinds = ["general", "social_security"]

    async def take(client: PlatformClient, n: int):
        return await asyncio.gather(*(client.ticket("hukeng", kinds[i % 2]) for i in range(n)))

    # When both hand out tickets at the same time
    a, b = await asyncio.gather(take(first, 10), take(second, 10))
    tickets = [*a, *b]
    # Then every number is different, and the day's sequence has no gap
    numbers = [tk.number for tk in tickets]
    assert len(set(numbers)) == 20
    assert sorted(int(n[1:]) for n in numbers) == list(range(1, 21))
    # And each queue has its letter, with people ahead counting only that queue's earlier tickets
    for kind, letter, minutes in (("general", "A", 6), ("social_security", "B", 8)):
        queue = sorted((tk for tk in tickets if tk.kind == kind), key=lambda tk: tk.number)
        assert all(tk.number.startswith(letter) and len(tk.number) == 4 for tk in queue)
        assert [tk.people_ahead for tk in queue] == list(range(10))
        assert [tk.estimated_wait_minutes for tk in queue] == [k * minutes for k in range(10)]
    # When a window calls the general tickets among the day's first five
    with app[STORE].engine.begin() as conn:
        conn.execute(
            t.tickets.update()
            .where(t.tickets.c.queue == "general", t.tickets.c.seq <= 5)
            .values(called_at=dt.datetime.now(dt.UTC))
        )
    # Then the next general ticket has the waiting ones ahead only
    called = sum(1 for tk in tickets if tk.kind == "general" and int(tk.number[1:]) <= 5)
    nxt = await first.ticket("hukeng", "general")
    assert nxt.number == "A021" and nxt.people_ahead == 10 - called


async def test_a_ticket_for_another_hall_or_an_unknown_queue_is_refused(platform):
    _, _, client = platform
    with pytest.raises(PlatformRejected) as other_hall:
        await client.ticket("afx", "general")
    assert (other_hall.value.status, other_hall.value.message_key) == (403, "ticket.other_point")
    with pytest.raises(PlatformRejected) as unknown:
        await client.ticket("hukeng", "lottery")
    assert (unknown.value.status, unknown.value.message_key) == (422, "ticket.unknown_kind")
    assert unknown.value.messages["zh"] and "lottery" in unknown.value.messages["en"]


async def test_no_ticket_while_the_hall_s_windows_are_shut_and_it_says_when_they_open(
        aiohttp_server, database_url, tmp_path, terminals):  # fmt: skip
    # Given a hall whose windows are open one minute a day, twelve hours from now (China time)
    now = dt.datetime.now(CHINA)
    start = (now + dt.timedelta(hours=12)).replace(second=0, microsecond=0)
    if start.strftime("%H:%M") >= "23:58":  # (a span does not cross midnight)
        start -= dt.timedelta(minutes=5)
    hours = f"{start:%H:%M}-{start + dt.timedelta(minutes=1):%H:%M}"
    cat = small_catalog()
    points = {code: dataclasses.replace(p, hours=hours) for code, p in cat.service_points.items()}
    shut = dataclasses.replace(cat, service_points=points)
    base, _ = await start_platform(aiohttp_server, database_url, tmp_path / "shut", shut)
    client = await terminals(base)
    # When a terminal asks for a ticket now
    with pytest.raises(PlatformRejected) as closed:
        await client.ticket("hukeng", "general")
    # Then none is given, with why and when tickets come again (a working day, in those hours)
    assert (closed.value.status, closed.value.message_key) == (409, "ticket.closed")
    opens = dt.datetime.fromisoformat(closed.value.details[0])
    assert opens > now and opens.strftime("%H:%M") == hours[:5]
    assert decide.published_calendar()[0].is_workday(opens.date())
    # (another hall's ticket is refused as that, whatever the hour)
    with pytest.raises(PlatformRejected) as other:
        await client.ticket("afx", "general")
    assert (other.value.status, other.value.message_key) == (403, "ticket.other_point")
    # And a platform told to give tickets at any hour (a demo at night) gives one
    # (the same database and key: the same platform, set otherwise)
    config = CentralConfig(data_dir=tmp_path / "shut", database_url=database_url, tickets_any_time=True)
    server = await aiohttp_server(make_app(config, catalog_override=shut))
    anytime = await terminals(str(server.make_url("")).rstrip("/"))
    assert (await anytime.ticket("hukeng", "general")).number == "A001"


# -- records ----------------------------------------------------------------------------


async def test_record_is_printed_only_with_a_fresh_card_read(platform):
    # Given a citizen whose card was read a minute ago
    _, _, client = platform
    person = id_number()
    read_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    # When the terminal asks for the contribution record
    record = await client.social_insurance_record(person, card_read_at=read_at)
    # Then it gets twelve months, plainly marked as the reference platform's sample
    assert record.sample is True
    assert "示例数据" in record.notice("zh") and "not a proof" in record.notice("en")
    assert len(record.months) == 12 and person not in repr(record)
    month = record.months[-1]
    pension = dict(month.insurances)["pension"]
    assert float(pension.personal) == pytest.approx(float(month.base) * 0.08)
    # And asking again gives the same figures
    again = await client.social_insurance_record(person, card_read_at=read_at)
    assert again.months == record.months
    # When the card was read eleven minutes ago
    with pytest.raises(PlatformRejected) as stale:
        await client.social_insurance_record(
            person, card_read_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=11)
        )
    # Then it is refused, telling the citizen to put the card on the reader
    assert (stale.value.status, stale.value.message_key) == (403, "record.card_not_present")


async def test_a_terminal_listing_citizens_one_by_one_is_held_back_and_each_lookup_recorded(
        platform, terminals):  # fmt: skip
    base, app, client = platform
    read_at = dt.datetime.now(dt.UTC)
    people = [id_number(f"36242919900501{i:03d}") for i in range(21)]
    # Given a terminal (its secret taken from a kiosk, say) asking for one citizen after another
    for person in people[:20]:
        await client.applications_of(person, card_read_at=read_at)
    # Then the 21st in ten minutes is refused, saying so
    with pytest.raises(PlatformRejected) as held:
        await client.social_insurance_record(people[20], card_read_at=read_at)
    assert (held.value.status, held.value.message_key) == (429, "record.too_many")
    # while another terminal serves its citizens as ever
    other = await terminals(base)
    assert (await other.applications_of(people[0], card_read_at=read_at)) == []
    # And every lookup is on record: which terminal, what, when, whose (by a keyed hash only)
    with app[STORE].engine.connect() as conn:
        rows = conn.execute(sa.select(t.personal_lookups)).all()
    mine = [r for r in rows if r.terminal_id == client.terminal_id]
    assert len(mine) == 21 and {r.kind for r in mine} == {"applications", "record"}
    assert all(r.applicant and r.applicant not in people for r in rows)
    assert {r.applicant for r in mine} == {app[STORE].box.blind(p) for p in people}


async def test_record_without_evidence_unsigned_or_with_a_bad_id_number_is_refused(platform):
    base, _, client = platform
    path = "/api/v1/records/social-insurance"
    status, got = await signed_post(client, path, {"id_number": id_number()})
    assert (status, got["error"]["field"]) == (400, "card_read_at")
    body = {"id_number": id_number(), "card_read_at": int(time.time())}
    async with aiohttp.ClientSession() as http, http.post(f"{base}{path}", json=body) as r:
        assert r.status == 401
    with pytest.raises(PlatformRejected) as bad:
        await client.social_insurance_record(
            "360829199005010022", card_read_at=dt.datetime.now(dt.UTC)
        )
    assert (bad.value.status, bad.value.message_key) == (422, "submission.id_number_invalid")


async def test_the_id_number_travels_in_the_body_and_reaches_no_log(platform, caplog):
    # Given every log line of the platform and of the terminal's client, the access log
    # (the request line a proxy would keep) included
    base, _, client = platform
    person = id_number()
    caplog.set_level(logging.DEBUG)
    await client.close()  # new connections from here: each one decides at its start to log
    fresh, stale = dt.datetime.now(dt.UTC), dt.datetime.now(dt.UTC) - dt.timedelta(minutes=11)
    # When records are asked for: a card present, a card read too long ago, a wrong number
    await client.social_insurance_record(person, card_read_at=fresh)
    with pytest.raises(PlatformRejected) as refused:
        await client.social_insurance_record(person, card_read_at=stale)
    assert refused.value.status == 403
    wrong = person[:-1] + ("1" if person[-1] != "1" else "2")
    with pytest.raises(PlatformRejected) as invalid:
        await client.social_insurance_record(wrong, card_read_at=fresh)
    assert invalid.value.status == 422
    # Then the requests were logged, and neither number is in any line
    access = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert sum("POST /api/v1/records/social-insurance " in line for line in access) == 3
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert person not in logged and wrong not in logged
    # And the old way, the number in a query string a proxy logs, is no longer a route
    old = f"{base}/api/v1/records/social-insurance?id_number={person}&card_read_at={int(time.time())}"  # fmt: skip
    async with aiohttp.ClientSession() as http, http.get(old) as r:
        assert r.status == 405


async def test_the_terminal_asks_for_the_record_with_the_card_of_this_visit(platform):
    from kiosk.config import KioskConfig
    from kiosk.errors import SessionError
    from kiosk.terminal import Ports, Terminal
    from peripherals.idcard.cards import sample_cards

    _, _, client = platform
    terminal = Terminal(Ports(platform=client), KioskConfig())
    # Nobody identified by a card: nothing is asked, the citizen is told to lay it down
    terminal.begin(None)
    with pytest.raises(SessionError) as none:
        await terminal.social_insurance_record()
    assert none.value.message_key == "record.lay_card"
    # The card read at the start of this visit: the record, over real HTTP
    terminal.begin(sample_cards()[0])
    record = await terminal.social_insurance_record()
    assert record.sample and len(record.months) == 12
    # A visit that began eleven minutes ago: the platform refuses, the citizen reads the card again
    terminal.session.started_at -= dt.timedelta(minutes=11)
    with pytest.raises(PlatformRejected) as stale:
        await terminal.social_insurance_record()
    assert stale.value.message_key == "record.card_again"


# -- face match -------------------------------------------------------------------------


def face(name: str) -> bytes:
    path = FACES / name
    if not path.is_file():
        pytest.fail(f"face test photo missing: {path} (shared/data/faces beside the repo)")
    return path.read_bytes()


@pytest.fixture
async def face_platform(aiohttp_server, tmp_path, terminals):
    """A SQLite platform with obama.jpg as the photo of record, added by the office command."""
    data_dir = tmp_path / "central"
    person = id_number()
    done = subprocess.run(
        [sys.executable, "-m", "central.cli", "photos", "add", person, str(FACES / "obama.jpg"),
         "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert person not in done.stdout  # masked
    base, _ = await start_platform(aiohttp_server, "", data_dir, small_catalog())
    return await terminals(base), person


async def test_face_match_same_person_matches_and_another_person_does_not(face_platform):
    client, person = face_platform
    # When the live photo is another photo of the same man
    same = await client.face_match(person, face("obama2.jpg"))
    # Then it matches, with the score and the threshold used
    assert same.match is True and same.distance <= same.threshold == 0.6
    assert same.model.startswith("dlib") and 0.5 <= same.similarity <= 1
    # When the live photo is another man
    other = await client.face_match(person, face("biden.jpg"))
    assert other.match is False and other.distance > other.threshold


async def test_face_match_explains_unusable_photos_and_takes_large_ones(face_platform):
    client, person = face_platform
    # A picture that is not an image: 422 with the key the kiosk shows
    with pytest.raises(PlatformRejected) as bad:
        await client.face_match(person, b"\xff\xd8 not really a jpeg")
    assert (bad.value.status, bad.value.message_key, bad.value.field) == (
        422,
        "face.image_unreadable",
        "live",
    )
    # Two people in front of the camera
    with pytest.raises(PlatformRejected) as two:
        await client.face_match(person, face("obama_and_biden.jpg"))
    assert (two.value.status, two.value.message_key) == (422, "face.several")
    # Nobody on record for this ID number
    with pytest.raises(PlatformRejected) as none:
        await client.face_match(id_number("11010519491231002"), face("obama2.jpg"))
    assert (none.value.status, none.value.message_key) == (404, "face.no_record")
    # A phone photo over the 1 MB limit of the other routes is compared
    with Image.open(FACES / "obama2.jpg") as img:
        big = img.convert("RGB").resize((img.width * 3, img.height * 3), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    big.save(buf, "JPEG", quality=97)
    assert len(base64.b64encode(buf.getvalue())) > 1024 * 1024
    assert (await client.face_match(person, buf.getvalue())).match is True
    # And one over 10 MB is refused before it is read
    with pytest.raises(PlatformRejected) as huge:
        await client.face_match(person, b"\xff\xd8" + bytes(8 * 1024 * 1024))
    assert huge.value.status == 413


async def test_a_photo_of_record_is_kept_sealed_under_a_name_that_hides_the_id_number(
        face_platform, tmp_path):  # fmt: skip
    client, person = face_platform
    # Given the photo added by the office command: one file, 0600, named by no ID number,
    # holding no JPEG anyone could open
    [kept] = (tmp_path / "central" / "photos").iterdir()
    assert person not in kept.name and person[6:14] not in kept.name
    assert kept.stat().st_mode & 0o077 == 0
    data = kept.read_bytes()
    assert b"\xff\xd8\xff" not in data and b"JFIF" not in data and b"Exif" not in data
    # When a photo kept in plain JPEG by an earlier version is compared
    other = id_number("11010519491231002")
    legacy = tmp_path / "central" / "photos" / f"{other}.jpg"
    legacy.write_bytes((FACES / "obama.jpg").read_bytes())
    assert (await client.face_match(other, face("obama2.jpg"))).match is True
    # Then it was sealed on that first read, and the plain file is gone
    assert not legacy.exists()
    assert len(list((tmp_path / "central" / "photos").iterdir())) == 2
    assert (await client.face_match(other, face("obama2.jpg"))).match is True


async def test_face_match_needs_a_signed_terminal(face_platform):
    client, person = face_platform
    stranger = PlatformClient(client.base_url, terminal_id=client.terminal_id, secret="forged")
    try:
        with pytest.raises(PlatformAuthError) as err:
            await stranger.face_match(person, face("obama2.jpg"))
        assert err.value.message_key == "auth.bad_signature"
    finally:
        await stranger.close()


def test_photos_add_refuses_a_photo_without_one_face(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "central.cli", "photos", "add", id_number(),
         str(FACES / "obama_and_biden.jpg"), "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1 and "photo not added" in done.stderr
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.glob("photos/*"))


async def test_openapi_document_describes_the_citizen_routes(platform):
    base, app, _ = platform
    async with aiohttp.ClientSession() as http, http.get(f"{base}/api/v1/openapi.json") as r:
        doc = await r.json()
    routes = {
        (res.method.lower(), res.resource.canonical.removeprefix("/api/v1"))
        for res in app.router.routes()
        if res.resource is not None and res.method != "HEAD"
    }
    for method, path in (("get", "/calendar"), ("post", "/tickets"),
                         ("post", "/records/social-insurance"), ("post", "/face-match")):  # fmt: skip
        assert (method, path) in routes
        assert method in doc["paths"][path], path


# -- progress by ID number (card present) -----------------------------------------------


async def test_a_citizen_with_their_card_sees_their_own_applications_newest_first(platform):
    # Given one citizen with two applications (the first already moved on) and a neighbour's
    _, app, client = platform
    me, neighbour = id_number(), id_number("36242919850312123")
    first = await client.submit(a_submission(client.terminal_id))
    app[STORE].advance(first.acceptance_number, "转至县公安局")
    theirs = await client.submit(a_submission(
        client.terminal_id, fields={"applicant_name": "李四", "applicant_id_number": neighbour,
                                    "newborn_name": "李小四", "applicant_phone": "13900139000"}))  # fmt: skip
    second = await client.submit(a_submission(client.terminal_id))
    # When the terminal that has just read my card asks
    read_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)
    mine = await client.applications_of(me, card_read_at=read_at)
    # Then I see my two, the newest first, with where each one is; not my neighbour's
    assert [p.outcome.acceptance_number for p in mine] == [second.acceptance_number,
                                                           first.acceptance_number]  # fmt: skip
    assert mine[1].outcome.stage.value == "routed" and mine[1].history[-1].note == "转至县公安局"
    assert theirs.acceptance_number not in {p.outcome.acceptance_number for p in mine}
    assert [p.outcome.acceptance_number for p in
            await client.applications_of(neighbour, card_read_at=read_at)] == [theirs.acceptance_number]
    # And somebody who never applied gets an empty list, not an error
    assert await client.applications_of(id_number("11010519491231002"), card_read_at=read_at) == []


async def test_applications_by_id_need_a_fresh_card_read_a_signature_and_a_valid_number(platform):
    base, _, client = platform
    await client.submit(a_submission(client.terminal_id))
    # a card read eleven minutes ago is not "the card present"
    with pytest.raises(PlatformRejected) as stale:
        await client.applications_of(id_number(), card_read_at=dt.datetime.now(dt.UTC)
                                     - dt.timedelta(minutes=11))  # fmt: skip
    assert (stale.value.status, stale.value.message_key) == (403, "record.card_not_present")
    # a wrong check digit is named, and nothing without a terminal's signature is answered
    with pytest.raises(PlatformRejected) as bad:
        await client.applications_of("360829199005010022", card_read_at=dt.datetime.now(dt.UTC))
    assert (bad.value.status, bad.value.message_key) == (422, "submission.id_number_invalid")
    body = {"id_number": id_number(), "card_read_at": int(time.time())}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{base}/api/v1/applications/lookup", json=body) as r,
    ):
        assert r.status == 401


async def test_the_lookup_by_id_number_uses_its_index_on_both_databases(platform):
    # A province's submissions table is large: the applicant's number must not mean a scan.
    _, app, _ = platform
    engine = app[STORE].engine
    blind = app[STORE].box.blind(id_number())
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = conn.exec_driver_sql(
                f"EXPLAIN SELECT key FROM submissions WHERE applicant = '{blind}'").all()  # fmt: skip
        else:
            plan = conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN SELECT key FROM submissions WHERE applicant = '{blind}'").all()  # fmt: skip
    assert store_module.APPLICANT_INDEX in " ".join(str(r) for r in plan)


async def test_a_stored_submission_shows_no_one_s_data_and_opens_with_the_platform_key(platform):
    # Given a citizen's submission stored by the platform
    _, app, client = platform
    sub = a_submission(client.terminal_id)
    await client.submit(sub)
    store = app[STORE]
    # Then the database holds its bundle and matters, and none of what the citizen gave
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(t.submissions).where(t.submissions.c.key == sub.key)).one()
    kept = json.dumps(row.body, ensure_ascii=False) + row.applicant
    assert row.body["matters"] == list(sub.matters) and row.body["life_event"] == sub.life_event
    for value in sub.fields.values():
        assert len(value) < 3 or value not in kept, value
    assert id_number() not in kept and id_number()[6:14] not in kept
    # And the platform opens it whole, as the terminal sent it
    assert store.submission_body(sub.key) == sub.to_dict()


async def test_the_terminal_asks_with_the_card_of_this_visit_and_only_then(platform):
    from kiosk.config import KioskConfig
    from kiosk.errors import SessionError
    from kiosk.terminal import Ports, Terminal
    from peripherals.idcard.cards import sample_cards

    _, _, client = platform
    card = sample_cards()[0]
    sub = a_submission(client.terminal_id, fields={
        "applicant_name": card.name, "applicant_id_number": card.id_number,
        "newborn_name": "张小伟", "applicant_phone": "13800138000"})  # fmt: skip
    done = await client.submit(sub)
    terminal = Terminal(Ports(platform=client), KioskConfig())
    # Nobody identified: nothing is asked
    with pytest.raises(SessionError):
        await terminal.my_applications()
    # The citizen's card read at the start of this visit: their application is found
    terminal.begin(card)
    found = await terminal.my_applications()
    assert [p.outcome.acceptance_number for p in found] == [done.acceptance_number]
    # After the visit, the next person cannot see it
    terminal.end()
    with pytest.raises(SessionError):
        await terminal.my_applications()

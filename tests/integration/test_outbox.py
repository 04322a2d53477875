"""The durable outbox against the real platform: offline slips, kills mid-answer, exactly once.

The platform runs as the real ``central serve`` process (as a supervisor
starts it) where a test must stop or kill it, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import stat
import subprocess
import sys
import time
from dataclasses import replace

import aiohttp
import pytest

from central.db import make_engine
from central.store import Store
from client.durable import DurablePlatform
from client.outbox import Outbox
from client.platform import PlatformClient
from kiosk.errors import OutboxError, PlatformRejected
from kiosk.outcomes import OutcomeKind
from tests.support.central import CentralProcess, a_submission, small_catalog

pytestmark = pytest.mark.integration


@pytest.fixture
def catalog_dir(tmp_path):
    d = tmp_path / "catalog"
    d.mkdir()
    (d / "catalog.json").write_text(json.dumps(small_catalog().to_dict(), ensure_ascii=False))
    return d


@pytest.fixture
async def clients():
    """PlatformClient factory; every client is closed at the end."""
    made: list[PlatformClient] = []

    def make(url: str, **kw) -> PlatformClient:
        made.append(PlatformClient(url, **kw))
        return made[-1]

    yield make
    for c in made:
        await c.close()


@pytest.fixture
def servers():
    started: list[CentralProcess] = []

    def start(proc: CentralProcess) -> CentralProcess:
        started.append(proc)
        proc.start()
        return proc

    yield start
    for proc in started:
        proc.stop()


async def an_enrolled_kiosk(tmp_path, catalog_dir, servers, clients, database_url: str = ""):
    """(the platform's data dir, an enrolled client, its outbox): a platform up on
    ``database_url`` (PostgreSQL), or on SQLite in its data dir."""
    data = tmp_path / "central"
    db = sqlite_or(database_url, data)
    proc = servers(CentralProcess(data, catalog_dir, db))
    client = clients(proc.url, timeout=2, attempts=1)
    await client.enrol(add_code(data, db))
    outbox = Outbox(tmp_path / "outbox.sqlite3", tmp_path / "outbox.key", client.terminal_id)
    return data, client, outbox


async def a_kiosk_whose_platform_went_away(tmp_path, catalog_dir, servers, clients,
                                          database_url: str = "", timeout: float = 2):  # fmt: skip
    """(the platform's data dir, its database URL, the port it listened on, an enrolled
    client, its outbox): the platform enrolled the terminal, then stopped."""
    data = tmp_path / "central"
    db = sqlite_or(database_url, data)
    first = servers(CentralProcess(data, catalog_dir, db))
    client = clients(first.url, timeout=timeout, attempts=1)
    await client.enrol(add_code(data, db))
    first.stop()
    outbox = Outbox(tmp_path / "outbox.sqlite3", tmp_path / "outbox.key", client.terminal_id)
    return data, db, first.port, client, outbox


def add_code(data_dir, database_url: str) -> str:
    """An enrolment code from the ``central terminals add-code`` command."""
    cmd = [sys.executable, "-m", "central.cli", "terminals", "add-code", "--point", "hukeng",
           "--data-dir", str(data_dir), "--database-url", database_url]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=True)
    return done.stdout.strip()


def sqlite_or(database_url: str, data_dir) -> str:
    return (
        database_url
        if database_url.startswith("postgresql")
        else f"sqlite:///{data_dir}/central.sqlite3"
    )


async def test_offline_submission_gets_a_pending_slip_and_is_linked_when_sent(tmp_path, catalog_dir, servers, clients,
                                                                              database_url):  # fmt: skip
    # Given an enrolled terminal whose platform then goes away
    data, db, port, client, outbox = await a_kiosk_whose_platform_went_away(
        tmp_path, catalog_dir, servers, clients, database_url)
    kiosk = DurablePlatform(client, outbox)
    # When a citizen submits while it is down
    sub = a_submission(client.terminal_id)
    slip = await kiosk.submit(sub)
    # Then they get a pending slip with a local number, and the body is encrypted on disk
    assert slip.kind is OutcomeKind.PENDING and slip.local_number.startswith(
        f"L{client.terminal_id}-"
    )
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("outbox.sqlite3*"))
    assert sub.fields["applicant_id_number"].encode() not in raw and "王芳".encode() not in raw
    # When the platform is back (same port) and the outbox drains
    servers(CentralProcess(data, catalog_dir, db, port=port))
    report = await outbox.drain(client, now=time.time() + 3600)
    # Then it was accepted once, and the local number leads to the acceptance number
    assert (report.sent, outbox.pending()) == (1, 0)
    number = outbox.linked(slip.local_number)
    assert number and number.startswith("AF")
    progress = await client.progress(slip.local_number)
    assert (
        progress.outcome.acceptance_number == number
        and progress.outcome.local_number == slip.local_number
    )


def a_stricter_catalog(catalog_dir):
    """The platform's catalog changed meanwhile: the social-security card now asks for an
    e-mail address too, and the birth registration for the parents' marriage certificate."""
    from dataclasses import replace

    from kiosk.catalog import FieldDef, FieldType, Material
    from tests.support.central import b

    cat = small_catalog()
    cat = replace(
        cat,
        fields={**cat.fields, "applicant_email": FieldDef(
            "applicant_email", b("电子邮箱", "E-mail"), FieldType.TEXT, "applicant")},
        materials={**cat.materials, "marriage_cert": Material("marriage_cert", b("结婚证", "Marriage certificate"))},
        matters={**cat.matters,
                 "social_card": replace(cat.matters["social_card"],
                                        fields=(*cat.matters["social_card"].fields, "applicant_email")),
                 "hukou_birth": replace(cat.matters["hukou_birth"],
                                        materials=(*cat.matters["hukou_birth"].materials, "marriage_cert"))},
    )  # fmt: skip
    (catalog_dir / "catalog.json").write_text(json.dumps(cat.to_dict(), ensure_ascii=False))
    return cat


async def test_a_slip_the_changed_catalog_no_longer_accepts_is_taken_in_with_a_correction_notice(
    tmp_path, catalog_dir, servers, clients, database_url
):
    from kiosk.outcomes import Stage
    from kiosk.query import progress_view

    # Given a citizen who left with a pending slip while the platform was away
    data, db, port, client, outbox = await a_kiosk_whose_platform_went_away(
        tmp_path, catalog_dir, servers, clients, database_url)
    slip = await DurablePlatform(client, outbox).submit(a_submission(client.terminal_id))
    assert slip.kind is OutcomeKind.PENDING
    # and the platform comes back with a catalog that asks for more than they handed in
    stricter = a_stricter_catalog(catalog_dir)
    servers(CentralProcess(data, catalog_dir, db, port=port))
    # When the queue delivers it
    report = await outbox.drain(client, now=time.time() + 3600)
    # Then it is taken in and numbered, not set aside: the slip is linked
    assert (report.sent, report.given_up, outbox.pending()) == (1, 0, 0)
    number = outbox.linked(slip.local_number)
    assert number and number.startswith("AF")
    # and the slip's number shows a correction notice naming everything to bring, at once
    progress = await client.progress(slip.local_number)
    o = progress.outcome
    assert (o.kind, o.stage, o.acceptance_number) == (OutcomeKind.NEEDS_MORE, Stage.RECEIVED, number)
    assert set(o.missing) == {"applicant_email", "marriage_cert"} and o.promised_date is None
    assert o.reason == ""  # (the list says it all)
    lines = progress_view(progress, stricter, "zh").lines
    assert "请补填以下内容：电子邮箱" in lines and "请一次性补齐以下材料：结婚证" in lines
    assert any("任一服务点窗口补正" in line for line in lines)
    english = progress_view(progress, stricter, "en").lines
    assert "Please complete: E-mail" in english and "Please bring all of these: Marriage certificate" in english
    # and it is stored once, with its 收件 and the notice on record
    assert [(e.stage, e.kind) for e in progress.history] == [
        (Stage.RECEIVED, OutcomeKind.ACCEPTED), (Stage.RECEIVED, OutcomeKind.NEEDS_MORE)]
    # and the hall's dashboard has an alert to contact its citizen, which no sweep of the
    # terminals' states clears (a person closes it)
    from central.dashboard.data import HallStore

    engine = make_engine(db)
    try:
        hall = HallStore(engine)
        hall.sweep(dt.datetime.now(dt.UTC), offline_after=90)
        [alert] = [a for a in hall.alerts(None) if a["kind"] == "correction"]
        assert (alert["detail"], alert["service_point"], alert["cleared_at"]) == (number, "hukeng", None)
        assert alert["reason"] == f"收件凭证 {slip.local_number}；请补填：电子邮箱；请补齐：结婚证"
        # which a person closes only saying how the applicant was told, kept in its history
        from central.dashboard.data import HallError

        with pytest.raises(HallError) as refused:
            hall.act_on_alert(alert["id"], "close", "张经理", None, note="  ")
        assert refused.value.key == "hall.contact_note"
        hall.act_on_alert(alert["id"], "close", "张经理", None, note="已电话告知\n补交材料")
        [closed] = [a for a in hall.alerts(None, True) if a["id"] == alert["id"]]
        assert closed["closed_by"] == "张经理"
        assert [(h["action"], h["note"]) for h in closed["history"]][-1] == ("closed", "已电话告知 补交材料")
    finally:
        engine.dispose()
    # When the office has what was missing and resumes it, it is accepted (受理) now, with
    # the promise the catalog makes counted from today
    async with aiohttp.ClientSession() as http, http.post(
        f"{client.base_url}/api/v1/office/applications/{number}/resume", json={"note": "窗口补正"}
    ) as r:
        assert r.status == 200, await r.text()
    resumed = await client.progress(slip.local_number)
    o = resumed.outcome
    assert (o.kind, o.stage, o.acceptance_number, o.local_number) == (
        OutcomeKind.ACCEPTED, Stage.ACCEPTED, number, slip.local_number)
    assert o.promised_date and o.promised_date > dt.date.today() and not o.missing
    assert [m.promised_date is not None for m in o.matters] == [True, True]
    assert resumed.history[-1].stage is Stage.ACCEPTED and resumed.history[-1].note == "窗口补正"


async def test_a_platform_whose_catalog_did_not_load_keeps_the_slips_waiting_untouched(
    tmp_path, catalog_dir, servers, clients
):
    # Given a pending slip, and the platform back with a catalog it cannot read
    data, db, port, client, outbox = await a_kiosk_whose_platform_went_away(
        tmp_path, catalog_dir, servers, clients)
    slip = await DurablePlatform(client, outbox).submit(a_submission(client.terminal_id))
    good = (catalog_dir / "catalog.json").read_text()
    (catalog_dir / "catalog.json").write_text("{")
    broken = servers(CentralProcess(data, catalog_dir, db, port=port))
    # When the queue sends it, it is neither stored (as a notice naming every code unknown)
    # nor set aside: it waits
    report = await outbox.drain(client, now=time.time() + 3600)
    assert (report.sent, report.failed, report.given_up, outbox.pending()) == (0, 1, 0, 1)
    # and once the catalog is put right, it is accepted as it was handed in
    broken.stop()
    (catalog_dir / "catalog.json").write_text(good)
    servers(CentralProcess(data, catalog_dir, db, port=port))
    assert (await outbox.drain(client, now=time.time() + 7200)).sent == 1
    assert (await client.progress(slip.local_number)).outcome.kind is OutcomeKind.ACCEPTED


class Held:
    """The real client, whose submissions wait for ``go`` (a try in flight), counted."""

    def __init__(self, client: PlatformClient) -> None:
        self.client, self.go, self.started = client, asyncio.Event(), asyncio.Event()
        self.sent: list[bool] = []  # on_slip, a request each

    def __getattr__(self, name):
        return getattr(self.client, name)

    async def submit(self, sub, **how):
        self.sent.append(bool(how.get("on_slip")))
        self.started.set()
        await self.go.wait()
        return await self.client.submit(sub, **how)


async def test_the_queue_and_the_kiosk_never_send_one_submission_at_once(
    tmp_path, catalog_dir, servers, clients
):
    _, client, outbox = await an_enrolled_kiosk(tmp_path, catalog_dir, servers, clients)
    # Given a citizen waiting on the kiosk's own try of their submission
    held = Held(client)
    kiosk = DurablePlatform(held, outbox)
    trying = asyncio.ensure_future(kiosk.submit(a_submission(client.terminal_id)))
    await asyncio.wait_for(held.started.wait(), 5)
    # When the queue's round comes meanwhile, it does not send it (as one whose citizen left
    # with a slip, a refusal would become a notice the citizen at the screen never sees)
    assert (await outbox.drain(client, now=time.time() + 3600)).sent == 0
    held.go.set()
    outcome = await trying
    assert outcome.kind is OutcomeKind.ACCEPTED and held.sent == [False]
    # Given a pending slip the queue is sending this moment
    held = Held(client)
    client.timeout, url = 2, client.base_url
    client.base_url = "http://127.0.0.1:9"  # nothing listens: the kiosk's try fails
    slip = await DurablePlatform(client, outbox).submit(a_submission(client.terminal_id))
    client.base_url = url
    assert slip.kind is OutcomeKind.PENDING
    draining = asyncio.ensure_future(outbox.drain(held, now=time.time() + 3600))
    await asyncio.wait_for(held.started.wait(), 5)
    # When the citizen taps Submit again (the platform answering again by now), they are
    # given the slip again: no second request
    outbox.reached(True)
    again = await asyncio.wait_for(DurablePlatform(held, outbox).submit(
        a_submission(client.terminal_id, key=slip.submission_key)), 5)
    assert again.kind is OutcomeKind.PENDING and again.local_number == slip.local_number
    held.go.set()
    assert (await draining).sent == 1 and held.sent == [True]
    assert outbox.linked(slip.local_number)


async def test_server_killed_between_storing_and_answering_stores_once(tmp_path, catalog_dir, servers, clients,
                                                                       database_url):  # fmt: skip
    # Given a platform that dies right after committing a submission, before answering
    data = tmp_path / "central"
    db = sqlite_or(database_url, data)
    doomed = servers(
        CentralProcess(data, catalog_dir, db, env={"CENTRAL_FAILPOINT": "exit-after-commit"})
    )
    client = clients(doomed.url, timeout=3, attempts=2, backoff=0.05)
    await client.enrol(add_code(data, db))
    outbox = Outbox(tmp_path / "outbox.sqlite3", tmp_path / "outbox.key", client.terminal_id)
    sub = outbox.put(a_submission(client.terminal_id))
    # When the outbox sends it, the answer never comes
    report = await outbox.drain(client)
    assert (report.sent, report.failed) == (0, 1)
    assert doomed.wait_dead() == 70
    assert outbox.pending() == 1
    # When the platform restarts and the outbox retries with the same key
    servers(CentralProcess(data, catalog_dir, db, port=doomed.port))
    report = await outbox.drain(client, now=time.time() + 3600)
    # Then the outbox is empty and the platform holds exactly one record
    assert (report.sent, outbox.pending()) == (1, 0)
    engine = make_engine(db)
    try:
        assert Store(engine).count_submissions(sub.key) == 1
        assert Store(engine).count_submissions() == 1
    finally:
        engine.dispose()
    assert (await client.progress(sub.local_number)).outcome.kind is OutcomeKind.ACCEPTED


async def test_refused_submission_at_the_kiosk_raises_and_is_not_kept(
    tmp_path, catalog_dir, servers, clients
):
    data = tmp_path / "central"
    proc = servers(CentralProcess(data, catalog_dir))
    client = clients(proc.url, timeout=2)
    await client.enrol(add_code(data, f"sqlite:///{data}/central.sqlite3"))
    outbox = Outbox(tmp_path / "outbox.sqlite3", tmp_path / "outbox.key", client.terminal_id)
    kiosk = DurablePlatform(client, outbox)
    with pytest.raises(PlatformRejected) as err:
        await kiosk.submit(a_submission(client.terminal_id, matters=("no_such_matter",)))
    assert err.value.message_key == "submission.unknown_matter"
    assert outbox.entries() == []
    online = await kiosk.submit(a_submission(client.terminal_id))
    assert (
        online.kind is OutcomeKind.ACCEPTED
        and outbox.linked(online.local_number) == online.acceptance_number
    )


async def test_a_terminal_not_trusted_for_now_gives_a_pending_slip_and_delivers_once_later(
    tmp_path, catalog_dir, servers, clients
):
    # Given a terminal whose requests the platform refuses for now (its credentials in
    # question: here, a secret that signs wrongly)
    data, client, outbox = await an_enrolled_kiosk(tmp_path, catalog_dir, servers, clients)
    secret, client.secret = client.secret, "0" * len(client.secret)
    kiosk = DurablePlatform(client, outbox)
    # When a citizen submits, and taps Submit again
    sub = a_submission(client.terminal_id)
    slip = await kiosk.submit(sub)
    again = await kiosk.submit(sub)
    # Then they hold a pending slip (kept, to be delivered), one, not one a tap
    assert slip.kind is OutcomeKind.PENDING and again.local_number == slip.local_number
    assert len(outbox.entries()) == 1
    # and once the technician has put the terminal right, it is delivered, once, and linked
    client.secret = secret
    report = await outbox.drain(client, now=time.time() + 3600)
    assert (report.sent, outbox.pending()) == (1, 0)
    assert outbox.linked(slip.local_number)
    engine = make_engine(f"sqlite:///{data}/central.sqlite3")
    try:
        assert Store(engine).count_submissions() == 1
    finally:
        engine.dispose()


def test_key_file_is_private_and_a_tampered_entry_does_not_decrypt(tmp_path):
    # Given a new outbox
    outbox = Outbox(tmp_path / "o.sqlite3", tmp_path / "o.key", "T1")
    # Then its key file is readable by its owner only
    assert stat.S_IMODE(os.stat(tmp_path / "o.key").st_mode) == 0o600
    # And a stored submission decrypts back to itself, but not once tampered with
    sub = outbox.put(a_submission("T1"))
    entry = outbox.entries()[0]
    assert outbox.submission(entry.id) == sub
    import sqlite3

    with sqlite3.connect(tmp_path / "o.sqlite3") as db:
        db.execute(
            "UPDATE entries SET sealed = substr(sealed, 1, 10) || x'00' || substr(sealed, 12)"
        )
    with pytest.raises(OutboxError):
        outbox.submission(entry.id)


def test_a_key_file_open_to_others_is_refused(tmp_path):
    key = tmp_path / "o.key"
    Outbox(tmp_path / "o.sqlite3", key, "T1")
    os.chmod(key, 0o644)
    with pytest.raises(OutboxError):
        Outbox(tmp_path / "o.sqlite3", key, "T1")


def test_putting_the_same_key_twice_keeps_one_entry(tmp_path):
    outbox = Outbox(tmp_path / "o.sqlite3", tmp_path / "o.key", "T1")
    sub = a_submission("T1")
    assert outbox.put(sub) == outbox.put(sub)
    assert len(outbox.entries()) == 1


async def test_a_backlog_drains_several_at_a_time_and_each_is_stored_once(
    tmp_path, catalog_dir, servers, clients, database_url
):
    # Given 30 submissions queued while the platform was down
    data, db, port, client, outbox = await a_kiosk_whose_platform_went_away(
        tmp_path, catalog_dir, servers, clients, database_url, timeout=5)
    slips = [outbox.put(a_submission(client.terminal_id)) for _ in range(30)]
    # When it is back and the outbox drains, 8 in flight at a time
    servers(CentralProcess(data, catalog_dir, db, port=port))
    report = await outbox.drain(client, now=time.time() + 3600, window=8)
    # Then every one was accepted once, each under its own number, linked to its slip
    assert (report.sent, report.failed, outbox.pending()) == (30, 0, 0)
    numbers = [outbox.linked(s.local_number) for s in slips]
    assert all(numbers) and len(set(numbers)) == 30
    engine = make_engine(db)
    try:
        assert Store(engine).count_submissions() == 30
    finally:
        engine.dispose()


def test_a_slips_link_is_kept_for_months_then_forgotten(tmp_path):
    import sqlite3

    from client.outbox import LINKS_KEPT
    from kiosk.outcomes import Outcome

    outbox = Outbox(tmp_path / "o.sqlite3", tmp_path / "o.key", "T1")

    def acknowledged(number: str):
        slip = outbox.put(a_submission("T1"))
        outbox.acknowledge(outbox.entry_id(slip.key),
                           Outcome(OutcomeKind.ACCEPTED, slip.key, acceptance_number=number))  # fmt: skip
        return slip

    old = acknowledged("AF2026060100001")
    # Given that link made over six months ago
    with sqlite3.connect(tmp_path / "o.sqlite3") as db:
        db.execute("UPDATE links SET linked_at = ?", (time.time() - LINKS_KEPT - 60,))
    recent = acknowledged("AF2026120700001")
    # Then the next acknowledgement forgets it, and keeps the recent one
    assert outbox.linked(old.local_number) is None
    assert outbox.linked(recent.local_number) == "AF2026120700001"


class Surprising:
    """The real client, but its first submit fails as no PlatformError does (a library's own
    error in a new version, say): what the outbox must outlive."""

    def __init__(self, client: PlatformClient) -> None:
        self.client, self.calls = client, 0

    async def submit(self, sub, **how):
        self.calls += 1
        if self.calls == 1:
            raise ValueError("a surprise")
        return await self.client.submit(sub, **how)


async def test_a_surprise_while_sending_or_an_unreadable_entry_stops_no_queue(
    tmp_path, catalog_dir, servers, clients, database_url
):
    # Given three slips queued: one kept in a shape this version does not read
    _, client, outbox = await an_enrolled_kiosk(tmp_path, catalog_dir, servers, clients, database_url)
    first, odd, last = (outbox.put(a_submission(client.terminal_id)) for _ in range(3))
    odd_entry = outbox.entry_id(odd.key)
    import sqlite3

    nonce = os.urandom(12)
    sealed = outbox._aead.encrypt(nonce, b'{"format": "of an older version"}', odd.key.encode())
    with sqlite3.connect(tmp_path / "outbox.sqlite3") as conn:
        conn.execute("UPDATE entries SET nonce = ?, sealed = ? WHERE id = ?",
                     (nonce, sealed, odd_entry))  # fmt: skip
    # When the sending loop runs and the first send fails unexpectedly
    surprising = Surprising(client)
    stop = asyncio.Event()
    loop = asyncio.ensure_future(outbox.run(surprising, stop, interval=0.1))
    try:
        deadline = time.monotonic() + 30
        while outbox.pending() and time.monotonic() < deadline and not loop.done():
            await asyncio.sleep(0.1)
        # Then the loop is still running, the readable slips are sent and linked (the
        # first one once its retry came round)
        assert not loop.done()
        assert outbox.linked(first.local_number) and outbox.linked(last.local_number)
        # and the unreadable one is set aside, kept for a technician, not sent
        kept = {e.id: e for e in outbox.entries()}
        assert kept[odd_entry].state == "dead" and kept[odd_entry].last_error == "unreadable"
    finally:
        stop.set()
        await loop


def test_the_queue_reports_what_waits_and_what_was_set_aside_and_a_technician_resends_it(
    tmp_path, capsys
):
    from dataclasses import replace

    from kiosk.cli import outbox_command
    from kiosk.config import KioskConfig

    outbox = Outbox(tmp_path / "outbox.sqlite3", tmp_path / "outbox.key", "T1")
    now = time.time()
    # Given an empty queue, then one submission just queued: all is well
    assert outbox.health(now).state.value == "ok"
    first = outbox.put(a_submission("T1"))
    assert outbox.health(now).state.value == "ok"
    # When it has waited two hours (the platform away), the dashboard hears of it
    late = outbox.health(now + 7200)
    assert late.state.value == "degraded" and "1 submission(s) not yet delivered" in late.reason
    # and while the platform refuses this terminal, it is a fault
    entry = outbox.entry_id(first.key)
    outbox.failed(entry, "auth", now)
    assert "refuses this terminal" in outbox.health(now).reason
    # and once one is set aside unsent (refused for good), a fault naming why, in counts
    outbox.give_up(entry, "rejected")
    aside = outbox.health(now)
    assert aside.state.value == "fault" and aside.details == {"queued": "0", "set_aside": "1"}
    assert "1 submission(s) set aside unsent (rejected: 1)" in aside.reason
    # Then the technician sees it with `kiosk outbox`, and queues it again once put right
    cfg = replace(KioskConfig(), data_dir=str(tmp_path))
    assert outbox_command(cfg, resend=False, discard=False) == 1
    said = capsys.readouterr().out
    assert "set aside: 1" in said and f"set aside: {first.local_number} (rejected)" in said
    assert outbox_command(cfg, resend=True, discard=False) == 0
    assert "queued again: 1" in capsys.readouterr().out
    [again] = outbox.entries()
    assert again.state == "queued" and again.attempts == 0 and outbox.submission(again.id) == first
    # (a month-old one too: its month counts afresh, it is not set aside again at once)
    import sqlite3

    from client.outbox_actions import Send, determine_actions

    with sqlite3.connect(tmp_path / "outbox.sqlite3") as conn:
        conn.execute("UPDATE entries SET created_at = ?", (now - 40 * 24 * 3600,))
    outbox.give_up(again.id, "too_old")
    outbox.resend_set_aside()
    assert determine_actions(outbox.entries(), time.time()) == [Send(again.id)]
    # or, once the hall has dealt with it by hand, discards it
    outbox.give_up(again.id, "rejected")
    assert outbox_command(cfg, resend=False, discard=True) == 0
    assert "discarded: 1" in capsys.readouterr().out and outbox.entries() == []


async def test_every_heartbeat_carries_the_queue_beside_the_devices(tmp_path):
    from kiosk.catalog import default_catalog_dir, load_catalog
    from kiosk.config import KioskConfig
    from kiosk.terminal import Ports, Terminal

    outbox = Outbox(tmp_path / "outbox.sqlite3", tmp_path / "outbox.key", "T1")
    client = PlatformClient("http://127.0.0.1:9", terminal_id="T1", secret="s" * 64)
    try:
        terminal = Terminal(Ports(platform=DurablePlatform(client, outbox)), KioskConfig(),
                            load_catalog(default_catalog_dir()))  # fmt: skip
        outbox.give_up(outbox.entry_id(outbox.put(a_submission("T1")).key), "rejected")
        [queue] = [h for h in await terminal.device_health() if h.device == "outbox"]
        assert queue.state.value == "fault" and "set aside" in queue.reason
    finally:
        await client.close()


async def test_in_an_outage_the_citizen_gets_the_slip_after_one_try_and_the_next_at_once(tmp_path):
    # Given a platform that takes connections and answers nothing (packets lost on the way)
    tries = 0

    async def silent(reader, writer):
        nonlocal tries
        tries += 1
        await reader.read()  # until the kiosk gives up and closes

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = PlatformClient(f"http://127.0.0.1:{port}", terminal_id="T1", secret="s" * 64,
                            timeout=0.5, attempts=3, backoff=0.01)  # fmt: skip
    outbox = Outbox(tmp_path / "outbox.sqlite3", tmp_path / "outbox.key", "T1")
    kiosk = DurablePlatform(client, outbox)
    try:
        # When a citizen submits: one try, then the pending slip (three tries had kept them
        # waiting three timeouts: 30 s on a real terminal)
        first = await kiosk.submit(a_submission("T1"))
        assert first.kind is OutcomeKind.PENDING and tries == 1
        # and the next citizen's goes behind it at once, without waiting on the platform
        second = await kiosk.submit(a_submission("T1"))
        assert second.kind is OutcomeKind.PENDING and tries == 1
        assert [e.local_number for e in outbox.entries()] == [first.local_number, second.local_number]
    finally:
        await client.close()
        server.close()
        await server.wait_closed()


async def test_slips_waiting_when_the_terminal_is_enrolled_anew_go_as_the_new_terminal(
    tmp_path, catalog_dir, servers, clients
):
    # Given a slip queued under the terminal's first identity
    data, client, outbox = await an_enrolled_kiosk(tmp_path, catalog_dir, servers, clients)
    slip = outbox.put(a_submission(client.terminal_id))
    old_secret = client.secret
    # When the technician enrols the terminal again (a new id), as the technician screen says
    await client.enrol(add_code(data, f"sqlite:///{data}/central.sqlite3"))
    assert client.terminal_id != slip.terminal_id
    # Then under the old id it would never go (refused as another terminal's)
    refused = await outbox.drain(client, now=time.time() + 3600)
    assert (refused.sent, refused.failed) == (0, 1)
    # but adopted by the new identity it goes at once, its slip number as printed, and linked
    assert outbox.adopt(client.terminal_id) == 1
    report = await outbox.drain(client)
    assert (report.sent, outbox.pending()) == (1, 0)
    assert outbox.linked(slip.local_number)
    # and the QR printed on the slip, made with the old identity's secret, opens its progress
    from kiosk.query import TRACK_CODE, track_code

    url = f"{client.base_url}/track/{slip.local_number}?{TRACK_CODE}={track_code(old_secret, slip.local_number)}"
    async with aiohttp.ClientSession() as http, http.get(url) as r:
        assert r.status == 200, await r.text()


async def test_a_slip_stored_but_unanswered_is_linked_after_the_terminal_is_enrolled_anew(
    tmp_path, catalog_dir, servers, clients, database_url
):
    # Given a platform that stored a citizen's submission and died before answering (their
    # slip waits in the outbox, under the terminal's first identity)
    data = tmp_path / "central"
    db = sqlite_or(database_url, data)
    doomed = servers(
        CentralProcess(data, catalog_dir, db, env={"CENTRAL_FAILPOINT": "exit-after-commit"})
    )
    client = clients(doomed.url, timeout=3, attempts=1)
    await client.enrol(add_code(data, db))
    outbox = Outbox(tmp_path / "outbox.sqlite3", tmp_path / "outbox.key", client.terminal_id)
    slip = outbox.put(a_submission(client.terminal_id))
    assert (await outbox.drain(client)).failed == 1 and doomed.wait_dead() == 70
    servers(CentralProcess(data, catalog_dir, db, port=doomed.port))
    # When the technician enrols the terminal anew before the queue sent it again, and the
    # slip goes as the new terminal's
    await client.enrol(add_code(data, db))
    assert outbox.adopt(client.terminal_id) == 1
    report = await outbox.drain(client, now=time.time() + 3600)
    # Then the platform answers with what it stored (it refused it as another body under
    # the same key, and the slip was set aside, never linked): stored once, slip linked
    assert (report.sent, report.failed, outbox.pending()) == (1, 0, 0), report
    assert outbox.linked(slip.local_number)
    engine = make_engine(db)
    try:
        assert Store(engine).count_submissions(slip.key) == 1
    finally:
        engine.dispose()
    assert (await client.progress(slip.local_number)).outcome.kind is OutcomeKind.ACCEPTED
    # and a body that differs in anything else is still refused under that key
    other = replace(slip, terminal_id=client.terminal_id,
                    fields={**slip.fields, "applicant_phone": "13900139000"})  # fmt: skip
    with pytest.raises(PlatformRejected) as err:
        await client.submit(other)
    assert err.value.status == 409


async def test_a_kiosk_enrolled_anew_while_stopped_adopts_what_waits_when_it_starts(tmp_path):
    from client import credentials
    from kiosk.cli import build_platform
    from kiosk.config import KioskConfig

    # Given a slip kept under the old id, and `kiosk enrol` run while the kiosk was stopped
    outbox = Outbox(tmp_path / "outbox.sqlite3", tmp_path / "outbox.key", "T-OLD")
    slip = outbox.put(a_submission("T-OLD"))
    # (beside one kept by an older version in a shape this one does not read, and one that
    # no longer decrypts)
    odd, broken = (outbox.put(a_submission("T-OLD")) for _ in range(2))
    nonce = os.urandom(12)
    sealed = outbox._aead.encrypt(nonce, b'{"format": "of an older version"}', odd.key.encode())
    import sqlite3

    with sqlite3.connect(tmp_path / "outbox.sqlite3") as conn:
        conn.execute("UPDATE entries SET nonce = ?, sealed = ? WHERE key = ?", (nonce, sealed, odd.key))
        conn.execute("UPDATE entries SET sealed = x'00' WHERE key = ?", (broken.key,))
    credentials.save(tmp_path, credentials.Enrolment("T-NEW", "s" * 64, "zhouhu"))
    # When the kiosk starts, its platform built from the data dir
    platform = build_platform(replace(KioskConfig(), data_dir=str(tmp_path)))
    try:
        # Then what waits goes as the new terminal, under the slip number printed
        kept = platform.outbox.submission(platform.outbox.entry_id(slip.key))
        assert kept.terminal_id == "T-NEW" and kept.local_number == slip.local_number
        # and the kiosk started all the same: the unreadable one set aside for a technician,
        # the broken one left for the drain to report
        states = {e.key: (e.state, e.last_error) for e in platform.outbox.entries()}
        assert states[odd.key] == ("dead", "unreadable") and states[broken.key][0] == "queued"
    finally:
        await platform.client.close()


async def test_with_slips_waiting_and_the_platform_back_a_citizen_still_hears_its_verdict(
    tmp_path, catalog_dir, servers, clients
):
    # Given a slip still waiting in the queue (a moment's fault), the platform answering again
    _, client, outbox = await an_enrolled_kiosk(tmp_path, catalog_dir, servers, clients)
    waiting = outbox.put(a_submission(client.terminal_id))
    kiosk = DurablePlatform(client, outbox)
    # When the next citizen submits what the platform refuses, they hear why, at once (a
    # pending slip would have been set aside unlinked when the queue sent it)
    with pytest.raises(PlatformRejected) as err:
        await kiosk.submit(a_submission(client.terminal_id, matters=("no_such_matter",)))
    assert err.value.message_key == "submission.unknown_matter"
    # and what they may submit is accepted at once; the slip waiting goes in its turn
    assert (await kiosk.submit(a_submission(client.terminal_id))).kind is OutcomeKind.ACCEPTED
    assert (await outbox.drain(client)).sent == 1 and outbox.linked(waiting.local_number)


async def test_the_sending_loop_outlives_a_queue_it_cannot_read_for_a_moment(tmp_path):
    # Given the queue's file unreadable for a moment between two rounds (a disk's hiccup)
    class Hiccup(Outbox):
        reads = 0

        def entries(self):
            self.reads += 1
            if self.reads == 2:  # the first look for the next round's time
                raise OutboxError("disk I/O error")
            return super().entries()

    outbox = Hiccup(tmp_path / "outbox.sqlite3", tmp_path / "outbox.key", "T1")
    stop = asyncio.Event()
    loop = asyncio.ensure_future(outbox.run(object(), stop, interval=0.05))
    try:
        await asyncio.sleep(0.5)
        # Then the loop goes on, round after round
        assert not loop.done() and outbox.reads > 3
    finally:
        stop.set()
        await loop

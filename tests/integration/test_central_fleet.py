"""The platform as a fleet runs it: several worker processes on one port, the terminal
secrets sealed at rest, revocation that holds at once in every process."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import secrets
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig

from central import tables as t
from central.db import MIGRATIONS, make_engine
from central.sealing import KEY_FILE, PREFIX, SecretBox
from central.store import Store
from client.platform import PlatformClient
from kiosk.errors import PlatformAuthError
from kiosk.health import Health
from kiosk.outcomes import OutcomeKind
from tests.support.central import CentralProcess, a_submission, small_catalog

pytestmark = pytest.mark.integration


def central(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "central.cli", *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **(env or {})})  # fmt: skip


@pytest.fixture
def catalog(tmp_path) -> Path:
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "catalog.json").write_text(
        json.dumps(small_catalog().to_dict(), ensure_ascii=False), encoding="utf-8"
    )
    return folder


def established(pid: int, port: int) -> int:
    """How many TCP connections to ``port`` the process ``pid`` holds (from /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            cols = row.split()
            if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == "01":
                inodes.add(cols[9])
    held = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            held += 1
    return held


async def enrolled(server: CentralProcess, tmp_path: Path, env=None) -> PlatformClient:
    code = central("terminals", "add-code", "--point", "afx", "--data-dir", str(server.data_dir),
                   *(["--database-url", server.database_url] if server.database_url else []),
                   env=env)  # fmt: skip
    assert code.returncode == 0, code.stderr
    client = PlatformClient(server.url, timeout=10)
    await client.enrol(code.stdout.strip())
    return client


def clients_like(first: PlatformClient, n: int) -> list[PlatformClient]:
    """``n`` clients of the same terminal, each with its own connection."""
    return [PlatformClient(first.base_url, first.terminal_id, first.secret, timeout=10)
            for _ in range(n)]  # fmt: skip


async def test_workers_serve_from_n_processes_and_a_replay_to_all_of_them_is_stored_once(
    tmp_path, catalog, database_url
):
    # Given `central serve --workers 2` on one port
    server = CentralProcess(tmp_path / "data", catalog, database_url, workers=2)
    server.start()
    try:
        first = await enrolled(server, tmp_path)
        many = clients_like(first, 16)
        sub = a_submission(first.terminal_id)
        # When the same submission arrives at once over 16 connections
        outcomes = await asyncio.gather(*(c.submit(sub) for c in many))
        # Then the kernel spread the connections over both workers (2 in 65 536 that it
        # would not)...
        pids = server.worker_pids()
        assert len(pids) == 2 and all(established(pid, server.port) > 0 for pid in pids)
        # ...and every answer is the one stored outcome, stored once
        assert all(o == outcomes[0] for o in outcomes)
        assert outcomes[0].kind is OutcomeKind.ACCEPTED
        again = await first.submit(sub)
        assert again == outcomes[0]
        for c in [first, *many]:
            await c.close()
    finally:
        assert server.stop() == 0
    engine = make_engine(database_url)
    try:
        assert Store(engine).count_submissions() == 1
    finally:
        engine.dispose()


async def test_a_revocation_holds_at_once_in_every_worker_despite_their_secret_caches(
    tmp_path, catalog, postgres_cluster
):
    # Given two workers on one PostgreSQL, both of which have served (and cached) a terminal
    db = postgres_cluster.create_database()
    server = CentralProcess(tmp_path / "data", catalog, db, workers=2)
    server.start()
    try:
        first = await enrolled(server, tmp_path)
        many = clients_like(first, 16)

        async def beat(c: PlatformClient) -> None:
            await c.heartbeat([Health.good("printer")], software_version="1.0", screen="home",
                              paper="ok")  # fmt: skip

        await asyncio.gather(*(beat(c) for c in many))
        assert all(established(pid, server.port) > 0 for pid in server.worker_pids())
        # When the office revokes it from another process (the command line, not a worker)
        done = central("terminals", "revoke", first.terminal_id, "--data-dir",
                       str(server.data_dir), "--database-url", db)  # fmt: skip
        assert done.returncode == 0, done.stderr
        # Then the very next call on every connection is refused, with no wait for a cache
        results = await asyncio.gather(*(beat(c) for c in many), return_exceptions=True)
        assert all(isinstance(r, PlatformAuthError) for r in results), results
        assert {(r.status, r.message_key) for r in results} == {(403, "auth.revoked")}
        for c in [first, *many]:
            await c.close()
    finally:
        server.stop()


async def test_terminal_secrets_are_sealed_in_the_database_and_the_key_file_is_private(
    tmp_path, catalog
):
    # Given a platform on SQLite with an enrolled terminal that has signed calls
    server = CentralProcess(tmp_path / "data", catalog)
    server.start()
    try:
        client = await enrolled(server, tmp_path)
        await client.heartbeat([], software_version="1.0", screen="home", paper="ok")
        await client.close()
    finally:
        assert server.stop() == 0
    # Then the secret appears nowhere in the database's files, only sealed in its row
    data = tmp_path / "data"
    for f in data.glob("central.sqlite3*"):
        assert client.secret.encode() not in f.read_bytes(), f.name
    with sqlite3.connect(data / "central.sqlite3") as db:
        (stored,) = db.execute("SELECT secret FROM terminals").fetchone()
    assert stored.startswith(PREFIX) and client.secret not in stored
    # and the key that opens it is readable by the platform's user only
    assert stat.S_IMODE((data / KEY_FILE).stat().st_mode) == 0o600


def test_a_server_with_another_key_refuses_to_start_rather_than_fail_every_terminal(
    tmp_path, catalog
):
    # Given a database whose terminal secret was sealed with the data dir's key file
    data = tmp_path / "data"
    server = CentralProcess(data, catalog)
    server.start()
    try:
        assert asyncio.run(_enrol_and_close(server)).startswith("T")
    finally:
        server.stop()
    # When a server starts with another CENTRAL_SECRET_KEY
    other = CentralProcess(data, catalog, env={"CENTRAL_SECRET_KEY": secrets.token_hex(32)})
    # Then it does not start, and says why
    with pytest.raises(AssertionError, match="did not start|printed nothing"):
        other.start()
    other.stop()
    for workers in ("1", "2"):  # with several workers too: all stop, the command fails
        done = central("serve", "--port", "0", "--data-dir", str(data), "--catalog-dir",
                       str(catalog), "--workers", workers,
                       env={"CENTRAL_SECRET_KEY": secrets.token_hex(32)})  # fmt: skip
        assert done.returncode != 0 and "CENTRAL_SECRET_KEY" in done.stderr
        assert "listening on" not in done.stdout


async def _enrol_and_close(server: CentralProcess) -> str:
    code = central("terminals", "add-code", "--point", "afx", "--data-dir", str(server.data_dir))
    async with PlatformClient(server.url, timeout=10) as client:
        enrolment = await client.enrol(code.stdout.strip())
    return enrolment.terminal_id


def sqlite_url(data: Path) -> str:
    """The URL of a platform's SQLite file in ``data`` (made)."""
    data.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data / 'central.sqlite3'}"


def upgrade_to(conn: sa.Connection, revision: str) -> None:
    """The schema on ``conn`` as an older platform left it: migrated to ``revision`` only."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, revision)


async def test_migrating_an_older_database_seals_plain_secrets_and_keeps_the_latest_beat(
    tmp_path, catalog
):
    # Given a database at revision 0003 with a terminal whose secret is in plain text,
    # two heartbeats and a last-seen time
    data, url = tmp_path / "data", sqlite_url(tmp_path / "data")
    engine = make_engine(url)
    with engine.begin() as conn:
        upgrade_to(conn, "0003")
        conn.execute(sa.text(
            "INSERT INTO terminals (id, service_point, secret, enrolled_at, last_seen_at)"
            " VALUES ('TOLD1', 'afx', 'plain-old-secret-plain-old-secret-plain-old', :at, :at)"),
            {"at": "2026-11-01 08:00:00.000000"})  # fmt: skip
        for i, paper in enumerate(("ok", "paper_near_end")):
            conn.execute(sa.text(
                "INSERT INTO heartbeats (terminal_id, at, software_version, screen, paper, devices)"
                " VALUES ('TOLD1', :at, '0.9', 'home', :paper, '[]')"),
                {"at": f"2026-11-01 0{7 + i}:00:00.000000", "paper": paper})  # fmt: skip
    engine.dispose()
    # When `central migrate` runs
    done = central("migrate", "--data-dir", str(data))
    assert done.returncode == 0, done.stderr
    # Then the secret is sealed, the latest beat is the terminal's state...
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(sa.select(t.terminals.c.secret)).scalar_one()
        assert stored.startswith(PREFIX) and "plain-old-secret" not in stored
        beat = Store(engine).last_heartbeat("TOLD1")
        assert beat["paper"] == "paper_near_end" and beat["software_version"] == "0.9"
    finally:
        engine.dispose()
    # ...and the terminal still signs with the secret it always had
    server = CentralProcess(data, catalog)
    server.start()
    try:
        async with PlatformClient(
            server.url, "TOLD1", "plain-old-secret-plain-old-secret-plain-old", timeout=10
        ) as c:
            await c.heartbeat([], software_version="1.0", screen="home", paper="ok")
            await c.heartbeat([], software_version="1.0", screen="home", paper="ok")
    finally:
        assert server.stop() == 0
    engine = make_engine(url)
    try:
        assert Store(engine).last_heartbeat("TOLD1")["software_version"] == "1.0"
    finally:
        engine.dispose()


def test_migrating_seals_the_plain_submissions_and_their_applicant_is_still_found(tmp_path):
    # Given a database at revision 0006 holding a citizen's submission in plain JSON
    data, url = tmp_path / "data", sqlite_url(tmp_path / "data")
    sub = a_submission("T1")
    body = sub.to_dict()
    engine = make_engine(url)
    with engine.begin() as conn:
        upgrade_to(conn, "0006")
        at = "2026-11-01 08:00:00.000000"
        conn.execute(sa.text(
            "INSERT INTO submissions (key, body_hash, terminal_id, accepting_point, local_number,"
            " received_at, body) VALUES (:key, :hash, 'T1', 'afx', '', :at, :body)"),
            {"key": sub.key, "hash": "0" * 64, "at": at,
             "body": json.dumps(body, ensure_ascii=False)})  # fmt: skip
        outcome = {"kind": "accepted", "submission_key": sub.key, "accepting_point": "afx",
                   "acceptance_number": "AF2026110100001", "matters": [], "stage": "accepted"}
        conn.execute(sa.text(
            "INSERT INTO applications (number, submission_key, kind, stage, outcome, updated_at)"
            " VALUES ('AF2026110100001', :key, 'accepted', 'accepted', :outcome, :at)"),
            {"key": sub.key, "outcome": json.dumps(outcome), "at": at})  # fmt: skip
    engine.dispose()
    # When `central migrate` runs
    done = central("migrate", "--data-dir", str(data))
    assert done.returncode == 0, done.stderr
    # Then the database no longer shows the citizen's data...
    raw = (data / "central.sqlite3").read_bytes()
    assert sub.fields["applicant_id_number"].encode() not in raw
    assert sub.fields["applicant_name"].encode() not in raw
    # ...the platform opens the body whole and finds the application by the ID number
    engine = make_engine(url)
    try:
        store = Store(engine, SecretBox.for_data_dir(data))
        assert store.submission_body(sub.key) == json.loads(json.dumps(body))
        found = store.applications_of(sub.fields["applicant_id_number"])
        assert [p.outcome.acceptance_number for p in found] == ["AF2026110100001"]
    finally:
        engine.dispose()


@pytest.fixture
async def platform(aiohttp_server, database_url, tmp_path):
    """The platform in this process on loopback (either database), with one enrolled terminal."""
    from central.app import STORE, make_app
    from central.config import CentralConfig

    app = make_app(CentralConfig(data_dir=tmp_path / "central", database_url=database_url),
                   catalog_override=small_catalog())  # fmt: skip
    server = await aiohttp_server(app)
    base = str(server.make_url("")).rstrip("/")
    store: Store = app[STORE]
    client = PlatformClient(base, timeout=10)
    await client.enrol(await asyncio.to_thread(store.add_code, "afx"))
    try:
        yield base, client, store
    finally:
        await client.close()


def history(store: Store, terminal_id: str) -> list[str]:
    with store.engine.connect() as conn:
        return list(conn.execute(
            sa.select(t.heartbeats.c.paper).where(t.heartbeats.c.terminal_id == terminal_id)
            .order_by(t.heartbeats.c.id)).scalars())  # fmt: skip


async def test_every_beat_updates_the_state_and_the_history_keeps_the_changes(platform):
    # Given a terminal beating with the same health, then paper running low, then refilled
    _, client, store = platform

    async def beat(paper: str, screen: str = "home") -> None:
        await client.heartbeat([Health.good("printer")], software_version="1.0", screen=screen,
                               paper=paper)  # fmt: skip

    for screen in ("home", "apply.form", "home"):
        await beat("ok", screen)
    await beat("paper_near_end")
    await beat("paper_near_end")
    await beat("ok")
    # Then its state is the latest beat, and the history holds what changed, not every beat
    state = store.last_heartbeat(client.terminal_id)
    assert (state["paper"], state["screen"]) == ("ok", "home")
    assert history(store, client.terminal_id) == ["ok", "paper_near_end", "ok"]
    # And a quiet terminal still gets a history row once HISTORY_EVERY has passed
    with store.engine.begin() as conn:
        conn.execute(t.terminal_state.update().values(
            history_at=state["at"] - dt.timedelta(minutes=20)))  # fmt: skip
    await beat("ok")
    assert history(store, client.terminal_id) == ["ok", "paper_near_end", "ok", "ok"]


async def test_a_heartbeat_replayed_at_the_same_moment_is_stored_once(platform):
    # Given one signed heartbeat, sent twice at once (as a replaying attacker would)
    import aiohttp

    from kiosk import signing

    base, client, store = platform
    body = json.dumps({"software_version": "1.0", "screen": "home", "paper": "paper_out",
                       "devices": []}).encode()  # fmt: skip
    path = "/api/v1/terminals/heartbeat"
    headers = signing.signed_headers(client.terminal_id, client.secret, "POST", path, body,
                                     time.time())  # fmt: skip
    async with aiohttp.ClientSession() as http:

        async def send() -> int:
            async with http.post(base + path, data=body, headers=headers) as r:
                return r.status

        statuses = await asyncio.gather(send(), send())
    # Then one is stored and the other refused as a replay
    assert sorted(statuses) == [200, 401]
    assert history(store, client.terminal_id) == ["paper_out"]


def test_one_group_transaction_numbers_new_submissions_in_order_and_answers_each_its_own(
    database_url,
):
    # Given three new submissions, one of them sent twice, and one reusing a key with
    # another body, all in one group transaction
    import hashlib
    from functools import partial

    from central import decide
    from central.db import migrate
    from central.store import Write

    engine = make_engine(database_url)
    try:
        migrate(engine)
        store, cat = Store(engine, SecretBox(os.urandom(32))), small_catalog()

        def write(sub, **changes) -> Write:
            body = sub.to_dict() | changes
            digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
            return Write(sub.terminal_id,
                         submission=(sub, digest, "AF", partial(decide.accept, sub, cat), body))  # fmt: skip

        a, b, c = (a_submission("T1") for _ in range(3))
        writes = [write(a), write(b), write(b), write(c), write(c, delivery_address="elsewhere")]
        store.write_batch(writes)
        # Then the three are numbered one after another in batch order...
        numbers = [w.result[0].acceptance_number for w in writes[:4]]
        assert numbers[1] == numbers[2]
        assert [int(n[-5:]) for n in (numbers[0], numbers[1], numbers[3])] == [1, 2, 3]
        assert [w.result[1] for w in writes[:4]] == [True, True, False, True]
        # ...the reused key is refused alone, and each is stored once
        assert writes[4].error is not None and writes[4].error.status == 409
        assert Store(engine).count_submissions() == 3
        # And a later batch replaying one gets the stored outcome
        again = write(a)
        store.write_batch([again])
        assert again.result[:2] == (writes[0].result[0], False)
    finally:
        engine.dispose()


def test_pruning_forgets_only_nonces_too_old_to_be_replayed(database_url):
    # Given a nonce seen 11 minutes ago (its request is stale by now) and one seen just now
    from central.db import migrate

    engine = make_engine(database_url)
    try:
        migrate(engine)
        now = dt.datetime.now(dt.UTC)
        with engine.begin() as conn:
            conn.execute(t.nonces.insert(), [
                {"terminal_id": "T1", "nonce": "old" * 6, "seen_at": now - dt.timedelta(minutes=11)},
                {"terminal_id": "T1", "nonce": "new" * 6, "seen_at": now}])  # fmt: skip
        # When they are pruned with the default 10 minutes kept
        assert Store(engine).prune_nonces() == 1
        # Then the recent one is still there to refuse a replay
        with engine.connect() as conn:
            assert list(conn.execute(sa.select(t.nonces.c.nonce)).scalars()) == ["new" * 6]
    finally:
        engine.dispose()


@pytest.fixture
def migrated(database_url):
    """A migrated engine on a fresh database (either kind), disposed after the test."""
    from central.db import migrate

    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@contextlib.asynccontextmanager
async def running(writer):
    """``writer`` (a GroupWriter) started, and closed however the block ends."""
    await writer.start()
    try:
        yield writer
    finally:
        await writer.close()


async def test_the_writer_prunes_a_backlog_of_nonces_a_second_at_a_time(migrated):
    # Given a minute of stale nonces (as after a restart) and one seen just now
    from central.writes import GroupWriter

    engine = migrated
    now = dt.datetime.now(dt.UTC)
    stale = [{"terminal_id": "T1", "nonce": f"old{i:015d}", "seen_at": now - dt.timedelta(
        minutes=11, seconds=i / 10)} for i in range(600)]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(t.nonces.insert(), [*stale, {"terminal_id": "T1", "nonce": "new" * 6,
                                                  "seen_at": now}])  # fmt: skip
    store = Store(engine)
    # When one window is pruned, only its second goes (a transaction of a few ms)
    window = store.prune_nonces(window=dt.timedelta(seconds=1))
    assert 9 <= window <= 11
    # And when the group writer sweeps, in windows between its batches, the rest go too
    async with running(GroupWriter(store)) as writer:
        assert await writer.prune() == 600 - window
    with engine.connect() as conn:
        assert list(conn.execute(sa.select(t.nonces.c.nonce)).scalars()) == ["new" * 6]


async def test_a_sweep_of_nonces_ends_while_new_ones_keep_going_stale(migrated):
    # Given a writer keeping nonces 0.2 s, and a terminal sending requests all the while
    from central.writes import GroupWriter

    engine = migrated
    async with running(GroupWriter(Store(engine), nonce_keep=dt.timedelta(seconds=0.2))) as writer:
        sending = True

        def send(i: int) -> None:
            with engine.begin() as conn:
                conn.execute(t.nonces.insert().values(terminal_id="T1", nonce=f"n{i:020d}",
                                                       seen_at=dt.datetime.now(dt.UTC)))  # fmt: skip

        async def terminal() -> None:
            i = 0
            while sending:
                await asyncio.to_thread(send, i)
                i += 1
                await asyncio.sleep(0.005)

        going = asyncio.ensure_future(terminal())
        try:
            await asyncio.sleep(0.5)  # some are stale already, more go stale every moment
            # When a sweep runs, Then it ends (what goes stale meanwhile waits for the next)
            assert await asyncio.wait_for(writer.prune(), 10) > 0
        finally:
            sending = False
            await going

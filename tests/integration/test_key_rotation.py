"""Rotating the platform key (central/keys.py) on a running platform, as a technician does
it: ``central key new``, restart, ``central key reseal``, ``central key retire``, restart;
the terminals, the citizens' applications and the photos of record come through whole, on
SQLite and on PostgreSQL, and nothing is left that the old key opens."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from central import photos
from central import tables as t
from central.db import make_engine
from central.sealing import KEY_FILE, SealError, SecretBox, fingerprint, parse_keys
from central.store import open_body
from client.platform import PlatformClient
from kiosk.health import Health
from tests.integration.test_central_fleet import catalog, central  # noqa: F401
from tests.support.central import CentralProcess, a_submission, id_number

pytestmark = pytest.mark.integration

FACES = Path(__file__).resolve().parents[3] / "shared" / "data" / "faces"


def keys_in(data: Path) -> list[bytes]:
    return parse_keys((data / KEY_FILE).read_text(), KEY_FILE)


def nothing_opens_with(key: bytes, data: Path, url: str) -> bool:
    """Whether no terminal secret, submission body or photo of record opens with ``key``."""
    box, engine = SecretBox(key), make_engine(url)
    try:
        with engine.connect() as conn:
            secrets_ = conn.execute(sa.select(t.terminals.c.id, t.terminals.c.secret)).all()
            bodies = conn.execute(sa.select(t.submissions.c.key, t.submissions.c.body)).all()
    finally:
        engine.dispose()
    opened = 0
    for row in secrets_:
        try:
            box.open(row.secret, row.id)
            opened += 1
        except SealError:
            pass
    for row in bodies:
        try:
            open_body(box, row.key, row.body if isinstance(row.body, dict) else json.loads(row.body))
            opened += 1
        except SealError:
            pass
    for path in (data / "photos").iterdir():
        try:
            photos.open_record(box, path.read_bytes())
            opened += 1
        except SealError:
            pass
    return opened == 0


async def again_after_restart(client: PlatformClient) -> PlatformClient:
    """The same terminal on new connections (a kiosk's next beat after a restart)."""
    await client.close()
    return PlatformClient(client.base_url, client.terminal_id, client.secret, timeout=10)


async def test_a_key_is_rotated_while_terminals_citizens_and_photos_of_record_carry_on(
    tmp_path, catalog, database_url  # noqa: F811 - the fixture imported above
):
    data = tmp_path / "data"
    db = ["--data-dir", str(data), "--database-url", database_url]
    person = id_number("36242919800101001")
    # Given a platform with an enrolled terminal, a citizen's application and her photo of record
    added = central("photos", "add", person, str(FACES / "obama.jpg"), *db)
    assert added.returncode == 0, added.stderr
    [old] = keys_in(data)
    server = CentralProcess(data, catalog, database_url)
    server.start()
    code = central("terminals", "add-code", "--point", "afx", *db)
    assert code.returncode == 0, code.stderr
    client = PlatformClient(server.url, timeout=10)
    try:
        await client.enrol(code.stdout.strip())
        fields = {**a_submission("x").fields, "applicant_id_number": person}
        before = await client.submit(a_submission(client.terminal_id, fields=fields))

        # When the technician makes a new key and restarts the platform on it
        made = central("key", "new", "--data-dir", str(data))
        assert made.returncode == 0, made.stderr
        new, kept = keys_in(data)
        assert kept == old and fingerprint(new) in made.stderr and new.hex() not in made.stderr
        server.stop()
        server.start()
        client = await again_after_restart(client)
        # Then the terminal still signs in with the secret sealed under the old key, and what
        # the citizen sends now is sealed under the new one
        await client.heartbeat([Health.good("printer")], software_version="1", screen="home",
                               paper="ok")  # fmt: skip
        after = await client.submit(a_submission(client.terminal_id, fields=fields))

        # When everything is sealed again under the new key, the platform serving meanwhile
        told = central("key", "reseal", *db)
        assert told.returncode == 0, told.stderr
        assert "terminal secrets sealed again: 1" in told.stdout
        assert "submissions sealed again: 1" in told.stdout  # the one from before the new key
        assert "photos of record sealed again: 1" in told.stdout
        # Then nothing opens with the old key any more, and the citizen is still found by
        # the running servers (her rows now named by the new key's hash)
        assert nothing_opens_with(old, data, database_url)
        read_at = dt.datetime.now(dt.UTC)
        found = await client.applications_of(person, card_read_at=read_at)
        assert {p.outcome.acceptance_number for p in found} == {
            before.acceptance_number, after.acceptance_number}  # fmt: skip
        # And a second reseal finds nothing left to do
        again = central("key", "reseal", *db)
        assert "submissions sealed again: 0" in again.stdout, again.stderr

        # When the old key is retired and the platform restarted on the new key alone
        retired = central("key", "retire", *db)
        assert retired.returncode == 0, retired.stderr
        assert keys_in(data) == [new] and fingerprint(old) in retired.stdout
        # (the lookups audit kept under the old key is told, not silently lost to a search)
        assert "no longer found by ID number" in retired.stdout
        server.stop()
        server.start()
        client = await again_after_restart(client)
        # Then the terminal, the citizen's applications and her photo of record all carry on
        await client.heartbeat([Health.good("printer")], software_version="1", screen="home",
                               paper="ok")  # fmt: skip
        found = await client.applications_of(person, card_read_at=read_at)
        assert len(found) == 2
        same = await client.face_match(person, (FACES / "obama2.jpg").read_bytes())
        assert same.match is True
        other = await client.face_match(person, (FACES / "biden.jpg").read_bytes())
        assert other.match is False
    finally:
        await client.close()
        server.stop()
    # And a server given only the old key (a machine someone forgot) refuses to start
    stale = CentralProcess(tmp_path / "stale", catalog, database_url,
                           env={"CENTRAL_SECRET_KEY": old.hex()})  # fmt: skip
    with pytest.raises(AssertionError, match="does not open"):
        stale.start()


def test_retire_refuses_while_anything_still_needs_the_old_key(tmp_path, catalog):  # noqa: F811
    data = tmp_path / "data"
    db = ["--data-dir", str(data)]
    assert central("migrate", *db).returncode == 0
    # Given a new key made, and a terminal whose secret is still sealed under the old one
    made = central("key", "new", *db)
    assert made.returncode == 0, made.stderr
    [new, old] = keys_in(data)
    engine = make_engine(f"sqlite:///{data / 'central.sqlite3'}")
    try:
        with engine.begin() as conn:
            conn.execute(t.terminals.insert().values(
                id="TOLD", service_point="afx", enrolled_at=dt.datetime.now(dt.UTC),
                secret=SecretBox(old).seal("an old secret", "TOLD")))  # fmt: skip
    finally:
        engine.dispose()
    # When the technician retires the old key before sealing again
    refused = central("key", "retire", *db)
    # Then it refuses and says what is left, and both keys stay
    assert refused.returncode == 1
    assert "central key reseal" in refused.stderr and "terminal secrets" in refused.stderr
    assert keys_in(data) == [new, old]
    # And a dry run counts it without changing it
    dry = central("key", "reseal", "--dry-run", *db)
    assert "terminal secrets to seal again: 1" in dry.stdout, dry.stderr
    assert keys_in(data) == [new, old]
    # And after the reseal the retire goes through
    assert central("key", "reseal", *db).returncode == 0
    assert central("key", "retire", *db).returncode == 0
    assert keys_in(data) == [new]
    assert oct((data / KEY_FILE).stat().st_mode & 0o777) == "0o600"


def test_keys_from_the_environment_are_never_written_and_the_value_to_set_is_told(tmp_path):
    first = os.urandom(32).hex()
    env = {"CENTRAL_SECRET_KEY": first}
    made = central("key", "new", "--data-dir", str(tmp_path / "data"), env=env)
    assert made.returncode == 0, made.stderr
    value = made.stdout.strip()
    new, old = parse_keys(value, "value")
    assert old.hex() == first and "restart" in made.stderr
    assert not (tmp_path / "data" / KEY_FILE).exists()
    # A malformed variable is refused, and the message does not quote it
    bad = central("key", "new", "--data-dir", str(tmp_path / "data"),
                  env={"CENTRAL_SECRET_KEY": f"{first},{first[:-2]}zz"})  # fmt: skip
    assert bad.returncode == 1 and "key 2 must be 64 hex digits" in bad.stderr
    assert first[:20] not in bad.stderr

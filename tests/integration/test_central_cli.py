"""The ``central`` command as people and supervisors run it: serve, migrate, office, terminals."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import subprocess
import sys
from functools import partial

import pytest

from central import decide
from central.db import make_engine, migrate
from central.store import Store
from client.platform import PlatformClient
from kiosk.outcomes import OutcomeKind
from tests.support.central import CentralProcess, a_submission, small_catalog

pytestmark = pytest.mark.integration


def central(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "central.cli", *args], capture_output=True, text=True, timeout=30
    )


def accepted_number(database_url: str) -> str:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        sub = a_submission("T1")
        outcome, _ = Store(engine).submit(sub, hashlib.sha256(sub.key.encode()).hexdigest(), "YF",
                                          partial(decide.accept, sub, small_catalog()))  # fmt: skip
        return outcome.acceptance_number
    finally:
        engine.dispose()


def test_office_commands_move_an_application_and_explain_a_wrong_move(tmp_path):
    # Given an accepted application in a platform's database
    number = accepted_number(f"sqlite:///{tmp_path}/central.sqlite3")
    # When the office advances it, then asks for more materials
    done = central("office", "advance", number, "--data-dir", str(tmp_path), "--note", "转县公安局")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["outcome"]["stage"] == "routed"
    done = central("office", "needs-more", number, "--missing", "出生医学证明", "--missing", "户口簿",
                   "--data-dir", str(tmp_path))  # fmt: skip
    assert json.loads(done.stdout)["outcome"]["missing"] == ["出生医学证明", "户口簿"]
    # Then advancing while materials are missing fails with a sentence, not a traceback
    done = central("office", "advance", number, "--data-dir", str(tmp_path))
    assert (
        done.returncode == 1 and "does not allow" in done.stderr and "Traceback" not in done.stderr
    )


def test_migrate_then_serve_prints_its_url_and_stops_cleanly_on_sigterm(tmp_path):
    done = central("migrate", "--data-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    proc = CentralProcess(tmp_path, tmp_path / "no-catalog-here")
    try:
        url = proc.start()
        assert url.startswith("http://127.0.0.1:") and proc.port > 0

        async def health():
            async with PlatformClient(url, timeout=5) as c:
                return await c.health()

        got = asyncio.run(health())
        # a missing catalog does not stop the platform; /health says why
        assert got["status"] == "ok" and got["catalog"]["error"]
    finally:
        assert proc.stop() == 0


async def test_two_server_processes_on_one_postgresql_store_a_replayed_submission_once(
    tmp_path, postgres_cluster
):
    # Given two `central serve` processes (as on two machines: each its own data dir, one
    # fleet key) sharing one PostgreSQL database
    db = postgres_cluster.create_database()
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "catalog.json").write_text(json.dumps(small_catalog().to_dict(), ensure_ascii=False))
    fleet = {"CENTRAL_SECRET_KEY": secrets.token_hex(32)}
    procs = [CentralProcess(tmp_path / f"p{i}", catalog, db, env=fleet) for i in (1, 2)]
    try:
        for p in procs:
            p.start()
        code = central(
            "terminals",
            "add-code",
            "--point",
            "afx",
            "--data-dir",
            str(tmp_path),
            "--database-url",
            db,
        )
        a, b = (PlatformClient(p.url, timeout=5) for p in procs)
        enrolment = await a.enrol(code.stdout.strip())
        b.terminal_id, b.secret = enrolment.terminal_id, enrolment.secret
        sub = a_submission(enrolment.terminal_id)
        # When the same submission reaches both at once, and again
        first = await asyncio.gather(a.submit(sub), b.submit(sub))
        again = await b.submit(sub)
        # Then both answer the one stored outcome
        assert first[0] == first[1] == again and again.kind is OutcomeKind.ACCEPTED
        engine = make_engine(db)
        assert Store(engine).count_submissions() == 1
        engine.dispose()
        await a.close()
        await b.close()
    finally:
        for p in procs:
            p.stop()

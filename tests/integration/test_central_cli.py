"""The ``central`` command as people and supervisors run it: serve, migrate, office, terminals."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
import secrets
import sqlite3
import subprocess
import sys
from functools import partial

import aiohttp
import pytest

from central import decide, validate
from central.dashboard.data import HallStore
from central.dashboard.security import check_password
from central.db import make_engine, migrate
from central.sealing import SecretBox
from central.store import Store
from client.platform import PlatformClient
from kiosk.errors import PlatformError
from kiosk.outcomes import OutcomeKind
from tests.support.central import (
    CentralProcess,
    a_submission,
    enrolled_client,
    id_number,
    small_catalog,
)

pytestmark = pytest.mark.integration


def central(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "central.cli", *args], input=stdin,
                          capture_output=True, text=True, timeout=30)  # fmt: skip


def accepted_number(database_url: str, data_dir) -> str:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        sub = a_submission("T1")
        outcome, _ = Store(engine, SecretBox.for_data_dir(data_dir)).submit(sub, hashlib.sha256(sub.key.encode()).hexdigest(), "AF",
                                          partial(decide.accept, sub, small_catalog()))  # fmt: skip
        return outcome.acceptance_number
    finally:
        engine.dispose()


def test_office_commands_move_an_application_and_explain_a_wrong_move(tmp_path):
    # Given an accepted application in a platform's database
    number = accepted_number(f"sqlite:///{tmp_path}/central.sqlite3", tmp_path)
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


def test_the_office_resumes_a_slip_taken_in_with_a_notice_as_accepted_by_the_catalog_it_serves(tmp_path):
    # Given two pending slips' submissions taken in with a correction notice (never accepted)
    engine = make_engine(f"sqlite:///{tmp_path}/central.sqlite3")
    cat = small_catalog()
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "catalog.json").write_text(json.dumps(cat.to_dict(), ensure_ascii=False))
    try:
        migrate(engine)
        store = Store(engine, SecretBox.for_data_dir(tmp_path))
        for n in (7, 8):
            sub = a_submission("T1", local_number=f"LT1-00000{n}", fields={})
            problems = list(validate.catalog_problems(sub, cat))
            notice, _ = store.submit(sub, "h", "AF", partial(decide.received_needing_more, sub, cat, problems))
            assert (notice.kind, notice.stage.value) == (OutcomeKind.NEEDS_MORE, "received")
    finally:
        engine.dispose()
    # When the office resumes one from the shell
    args = ("--data-dir", str(tmp_path), "--catalog-dir", str(tmp_path / "catalog"))
    done = central("office", "resume", "LT1-000007", *args, "--note", "窗口补正")
    # Then it is accepted now, with the catalog's promise
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)["outcome"]
    assert (outcome["kind"], outcome["stage"]) == ("accepted", "accepted") and outcome["promised_date"]
    # and with a catalog it cannot read, it says so in a sentence, and the other waits as it was
    (tmp_path / "catalog" / "catalog.json").write_text("{")
    done = central("office", "resume", "LT1-000008", *args)
    assert done.returncode == 1 and "catalog" in done.stderr and "Traceback" not in done.stderr
    done = central("office", "show", "LT1-000008", *args)
    assert json.loads(done.stdout)["outcome"]["kind"] == "needs_more", done.stderr


def test_users_disable_enable_and_reset_from_the_shell_as_the_accounts_page_does(tmp_path):
    def users(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return central("users", *args, "--data-dir", str(tmp_path), stdin=stdin)

    def signs_in(name: str, password: str) -> bool:
        found = HallStore(engine).user(name)
        return found is not None and check_password(password, found[1])

    # Given an administrator and a hall manager made with ``central users add``
    for name, role, extra in (("admin", "admin", []),
                              ("hu-manager", "manager", ["--point", "hukeng"])):  # fmt: skip
        done = users("add", name, "--role", role, *extra, "--password-stdin", stdin="first-pass\n")
        assert done.returncode == 0, done.stderr
    engine = make_engine(f"sqlite:///{tmp_path}/central.sqlite3")
    epoch = HallStore(engine).user("hu-manager")[0].epoch
    # When the manager is disabled from the shell
    done = users("disable", "hu-manager")
    # Then they cannot sign in, until enabled again
    assert done.returncode == 0 and "disabled hu-manager" in done.stdout, done.stderr
    assert HallStore(engine).user("hu-manager") is None
    assert users("enable", "hu-manager").returncode == 0 and signs_in("hu-manager", "first-pass")
    # When their password is reset
    done = users("reset", "hu-manager", "--password-stdin", stdin="second-pass\n")
    # Then only the new one works and the sessions they had are void (a new epoch)
    assert done.returncode == 0, done.stderr
    assert signs_in("hu-manager", "second-pass") and not signs_in("hu-manager", "first-pass")
    assert HallStore(engine).user("hu-manager")[0].epoch > epoch
    # And the accounts page's rules hold here too, with a sentence, not a traceback
    refused = [users("reset", "hu-manager", "--password-stdin", stdin="short\n"),
               users("reset", "hu-manager", "--password-stdin", stdin="HU-MANAGER\n"),
               users("disable", "admin"), users("disable", "nobody")]  # fmt: skip
    assert [r.returncode for r in refused] == [1, 1, 1, 1]
    assert "at least 8 characters" in refused[0].stderr
    assert "cannot be the user name" in refused[1].stderr
    assert "last active administrator" in refused[2].stderr
    assert "No such record" in refused[3].stderr
    assert not any("Traceback" in r.stderr for r in refused)
    assert signs_in("hu-manager", "second-pass") and signs_in("admin", "first-pass")
    engine.dispose()


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


async def test_a_database_error_on_a_citizen_s_lookup_is_logged_without_their_id_number(tmp_path):
    # Given a served platform whose applications table has gone missing (any database fault
    # on that statement: a timeout, a dropped connection), and an enrolled terminal
    server = CentralProcess(tmp_path / "central", tmp_path / "no-catalog-here")
    base = server.start()
    try:
        async with aiohttp.ClientSession() as http:
            client = await enrolled_client(http, base, "hukeng")
        with sqlite3.connect(tmp_path / "central" / "central.sqlite3") as db:
            db.execute("ALTER TABLE applications RENAME TO applications_gone")
        # When the citizen's ID card is read and their applications are asked for
        try:
            with pytest.raises(PlatformError):
                await client.applications_of(id_number(), card_read_at=dt.datetime.now(dt.UTC))
        finally:
            await client.close()
    finally:
        server.stop()
    # Then the platform's log says what failed, with the statement but not the number
    log = server.stderr.read_text(encoding="utf-8")
    assert "unhandled error in POST /api/v1/applications/lookup" in log
    assert "no such table: applications" in log and "Traceback" in log
    assert id_number() not in log and id_number()[:17] not in log


def test_serving_beyond_loopback_needs_the_office_token(tmp_path):
    # Without CENTRAL_OFFICE_TOKEN, the platform refuses to listen on the network
    env = {k: v for k, v in os.environ.items() if k != "CENTRAL_OFFICE_TOKEN"}
    refused = subprocess.run(
        [sys.executable, "-m", "central.cli", "serve", "--host", "0.0.0.0", "--port", "0",
         "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=60, env=env)  # fmt: skip
    assert refused.returncode == 2 and "CENTRAL_OFFICE_TOKEN" in refused.stderr
    assert not (tmp_path / "central.sqlite3").exists()  # it stopped before anything
    # Nor will it take unsigned terminal calls there, token or not
    unsigned = subprocess.run(
        [sys.executable, "-m", "central.cli", "serve", "--host", "0.0.0.0", "--port", "0",
         "--insecure-unsigned", "--data-dir", str(tmp_path)], capture_output=True, text=True,
        timeout=60, env={**env, "CENTRAL_OFFICE_TOKEN": secrets.token_hex(16)})  # fmt: skip
    assert unsigned.returncode == 2 and "--insecure-unsigned" in unsigned.stderr
    # With the token it serves on every address
    proc = subprocess.Popen(
        [sys.executable, "-m", "central.cli", "serve", "--host", "0.0.0.0", "--port", "0",
         "--data-dir", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        env={**env, "CENTRAL_OFFICE_TOKEN": secrets.token_hex(16)})  # fmt: skip
    try:
        assert proc.stdout.readline().decode().startswith("listening on http://0.0.0.0:")
    finally:
        proc.terminate()
        assert proc.wait(20) == 0
        proc.stdout.close()


def test_an_enrolment_code_for_a_point_the_catalog_does_not_list_is_refused(tmp_path):
    # When a technician asks for a code at a mistyped point
    typo = central("terminals", "add-code", "--point", "zhouhuu", "--data-dir", str(tmp_path))
    # Then no code is made, and the known points are named
    assert typo.returncode == 2 and typo.stdout == ""
    assert "'zhouhuu'" in typo.stderr and "zhouhu" in typo.stderr.split("one of:")[1]
    # and a code for a point the catalog lists is made as before
    made = central("terminals", "add-code", "--point", "zhouhu", "--data-dir", str(tmp_path))
    assert made.returncode == 0 and len(made.stdout.strip()) >= 8


def test_a_command_run_away_from_the_service_s_database_says_so_and_the_env_names_it(tmp_path):
    served = tmp_path / "served"
    assert central("migrate", "--data-dir", str(served)).returncode == 0
    # When a technician runs a command without the service's data dir (from another folder)
    elsewhere = central("terminals", "add-code", "--point", "zhouhu", "--data-dir",
                        str(tmp_path / "elsewhere"))  # fmt: skip
    # Then they are told a new, unserved database was made, and where
    assert "no platform database at" in elsewhere.stderr
    assert str((tmp_path / "elsewhere").resolve()) in elsewhere.stderr
    # And with CENTRAL_DATA_DIR set (as the service's environment file does) it is the served one
    env = {**os.environ, "CENTRAL_DATA_DIR": str(served)}
    made = subprocess.run([sys.executable, "-m", "central.cli", "terminals", "add-code",
                           "--point", "zhouhu"], capture_output=True, text=True, timeout=30,
                          env=env)  # fmt: skip
    assert made.returncode == 0 and "no platform database" not in made.stderr
    assert len(made.stdout.strip()) >= 8

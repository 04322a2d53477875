"""Electronic ID codes over real HTTP: ``central eid issue`` makes them, ``central serve``
verifies them for an enrolled terminal, the real client asks (POST /api/v1/eid/verify)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import aiohttp
import pytest

from central.config import default_catalog_dir
from client.platform import PlatformClient
from kiosk.errors import PlatformAuthError, PlatformRejected
from tests.support.central import CentralProcess

pytestmark = pytest.mark.integration

NUMBER, NAME = "362425196504120015", "刘建国"


def central(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "central.cli", *args], capture_output=True,
                          text=True, timeout=60)  # fmt: skip


def issue(data_dir, *extra: str) -> str:
    done = central("eid", "issue", NUMBER, NAME, "--data-dir", str(data_dir), *extra)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
async def platform(tmp_path):
    """A running ``central serve`` and an enrolled terminal's client: (client, data dir, url)."""
    data = tmp_path / "central"
    server = CentralProcess(data, default_catalog_dir())
    url = server.start()
    client = PlatformClient(url, timeout=20)
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{url}/api/v1/office/enrolment-codes", json={"service_point": "zhouhu"}
            ) as r,
        ):
            code = (await r.json())["code"]
        await client.enrol(code)
        yield client, data, url
    finally:
        await client.close()
        server.stop()


async def test_a_fresh_code_names_the_citizen_once(platform):
    client, data, _ = platform
    # Given a code issued a moment ago (the server and the CLI share the data dir's key)
    code = issue(data)
    # When the terminal asks who it names
    person = await client.verify_eid(code)
    # Then the platform answers name and number, and how long the code was good for
    assert (person.name, person.id_number) == (NAME, NUMBER)
    left = person.expires - dt.datetime.now(dt.UTC)
    assert dt.timedelta(seconds=200) < left <= dt.timedelta(seconds=300)
    # And the same code shown again (a photo of the phone?) is refused
    with pytest.raises(PlatformRejected) as again:
        await client.verify_eid(code)
    assert (again.value.status, again.value.message_key) == (409, "eid.used")


async def test_an_expired_code_is_refused_with_a_reason_the_kiosk_can_explain(platform):
    client, data, _ = platform
    with pytest.raises(PlatformRejected) as expired:
        await client.verify_eid(issue(data, "--expired"))
    assert (expired.value.status, expired.value.message_key) == (410, "eid.expired")
    assert "过期" in expired.value.messages["zh"] and "expired" in expired.value.messages["en"]


async def test_forged_changed_and_foreign_codes_are_refused_as_invalid(platform, tmp_path):
    client, data, _ = platform
    good = issue(data)
    changed = good[:20] + ("A" if good[20] != "A" else "B") + good[21:]
    foreign = issue(tmp_path / "another-platform")  # the same person, another issuer's key
    for code in (changed, foreign, "EID1.bm90IGEgcmVhbCBjb2RlIGF0IGFsbCwganVzdCB0ZXh0IQ", "hello"):
        with pytest.raises(PlatformRejected) as refused:
            await client.verify_eid(code)
        assert (refused.value.status, refused.value.message_key) == (422, "eid.invalid"), code
    # The untouched code still works: a failed forgery does not use it up
    assert (await client.verify_eid(good)).name == NAME


async def test_only_an_enrolled_terminal_may_ask(platform):
    _, data, url = platform
    async with PlatformClient(url, timeout=20) as stranger:
        with pytest.raises(PlatformAuthError):
            await stranger.verify_eid(issue(data))


def test_the_issue_command_refuses_a_wrong_id_number_and_writes_a_qr_on_request(tmp_path):
    bad = central("eid", "issue", "362425196504120016", NAME, "--data-dir", str(tmp_path))
    assert bad.returncode == 1 and "check digit" in bad.stderr and not bad.stdout
    png = tmp_path / "code.png"
    code = issue(tmp_path, "--png", str(png))
    from tests.support.vision import decode_qr

    assert decode_qr(png) == code


async def test_the_api_document_describes_the_e_id_check(platform):
    _, _, url = platform
    async with aiohttp.ClientSession() as http, http.get(f"{url}/api/v1/openapi.json") as r:
        doc = await r.json()
    post = doc["paths"]["/eid/verify"]["post"]
    assert {"409", "410", "422"} <= set(post["responses"])
    assert "national e-ID service" in post["description"]


async def test_a_used_code_stays_used_for_its_whole_life_whatever_the_clock_skew(
        aiohttp_server, tmp_path):  # fmt: skip

    from central import eid
    from central import tables as t
    from central.app import STORE, make_app
    from central.config import CentralConfig
    from central.writes import WRITES
    from tests.support.central import small_catalog

    # Given a platform whose signed requests may be only 30 s off (their nonces kept 60 s)
    config = CentralConfig(data_dir=tmp_path / "central", clock_skew=30)
    app = make_app(config, catalog_override=small_catalog())
    server = await aiohttp_server(app)
    base = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http, http.post(
            f"{base}/api/v1/office/enrolment-codes", json={"service_point": "afx"}) as r:  # fmt: skip
        code = (await r.json())["code"]
    client = PlatformClient(base, timeout=10)
    try:
        await client.enrol(code)
        # And a code valid for 5 minutes, used once
        token = eid.issue(eid.load_key(config.data_dir), NUMBER, NAME, dt.datetime.now(dt.UTC), 300)
        await client.verify_eid(token)
        # When two minutes pass (its use recorded 120 s ago) and the nonces are pruned
        engine = app[STORE].engine
        with engine.begin() as conn:
            conn.execute(t.nonces.update().where(t.nonces.c.terminal_id == eid.NAMESPACE)
                         .values(seen_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=120)))  # fmt: skip
        await app[WRITES].prune()
        # Then the same code, still within its life, is refused as used
        with pytest.raises(PlatformRejected) as again:
            await client.verify_eid(token)
        assert (again.value.status, again.value.message_key) == (409, "eid.used")
    finally:
        await client.close()

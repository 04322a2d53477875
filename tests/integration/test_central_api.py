"""The reference central platform over real HTTP on loopback, on SQLite and PostgreSQL.

The terminal side is the real client (client.platform.PlatformClient); raw
aiohttp requests are used only where the test must send what a client never would.
"""

from __future__ import annotations

import datetime as dt
import json
import time

import aiohttp
import pytest

from central.app import make_app
from central.config import CentralConfig
from client.platform import PlatformClient
from kiosk import signing
from kiosk.errors import PlatformRejected
from kiosk.outcomes import OutcomeKind, Stage
from tests.support.central import a_submission, id_number, small_catalog

pytestmark = pytest.mark.integration


@pytest.fixture
async def platform(aiohttp_server, database_url, tmp_path):
    """The real app on a loopback port, with its catalog, and one enrolled terminal."""
    config = CentralConfig(
        data_dir=tmp_path / "central", database_url=database_url, version="9.8.7"
    )
    server = await aiohttp_server(make_app(config, catalog_override=small_catalog()))
    base = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{base}/api/v1/office/enrolment-codes", json={"service_point": "hukeng"}
        ) as r:
            code = (await r.json())["code"]
        client = PlatformClient(base, timeout=5, backoff=0.01)
        await client.enrol(code)
        try:
            yield base, client, http
        finally:
            await client.close()


async def test_health_reports_ok_version_and_time(platform):
    # Given a running platform
    base, client, _ = platform
    # When the terminal asks for its health
    health = await client.health()
    # Then it is ok, with the configured version and the server time
    assert health["status"] == "ok"
    assert health["version"] == "9.8.7"
    assert abs(time.time() - dt.datetime.fromisoformat(health["time"]).timestamp()) < 60


async def test_openapi_document_describes_every_route(platform):
    base, _, http = platform
    async with http.get(f"{base}/api/v1/openapi.json") as r:
        doc = await r.json()
    assert doc["openapi"].startswith("3.1")
    for path in ("/health", "/submissions", "/applications/{number}", "/terminals/enrol",
                 "/terminals/heartbeat", "/office/applications/{number}/refuse", "/catalog"):  # fmt: skip
        assert path in doc["paths"], path


async def small_catalog_is_served_with_an_etag_and_304_when_unchanged(platform):
    base, client, _ = platform
    data, etag = await client.catalog()
    assert "hukou_birth" in json.dumps(data) and etag
    again, same = await client.catalog(etag)
    assert again is None and same == etag


async def test_accepted_submission_has_number_authorities_and_promised_date(platform):
    # Given an enrolled terminal at a township point and a bundle handled by two county departments
    _, client, _ = platform
    sub = a_submission(client.terminal_id)
    # When it submits
    outcome = await client.submit(sub)
    # Then it is accepted with a dated number, the accepting point and each matter's authority
    assert outcome.kind is OutcomeKind.ACCEPTED
    assert outcome.acceptance_number.startswith("AF2") and len(outcome.acceptance_number) == 15
    assert outcome.accepting_point == "hukeng"
    assert {m.handling_authority for m in outcome.matters} == {
        "安福县公安局",
        "安福县人力资源和社会保障局",
    }
    assert outcome.promised_date is not None and outcome.promised_date > sub.created_at.date()
    assert [d.code for d in outcome.deferred] == ["photo"]


async def test_replayed_submission_returns_the_same_outcome_and_is_stored_once(platform):
    _, client, _ = platform
    sub = a_submission(client.terminal_id)
    first = await client.submit(sub)
    second = await client.submit(sub)
    other = await client.submit(a_submission(client.terminal_id))
    assert second == first
    assert other.acceptance_number != first.acceptance_number
    assert int(other.acceptance_number[-5:]) == int(first.acceptance_number[-5:]) + 1


async def test_a_replay_after_the_catalog_changed_gets_its_outcome_not_a_refusal(
    aiohttp_server, database_url, tmp_path
):
    # Given a submission the platform stored, whose answer the kiosk never heard (it printed
    # a pending slip and keeps the submission to send again)
    from dataclasses import replace

    from central.app import CATALOG

    config = CentralConfig(data_dir=tmp_path / "central", database_url=database_url)
    server = await aiohttp_server(make_app(config, catalog_override=small_catalog()))
    base = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http, http.post(
        f"{base}/api/v1/office/enrolment-codes", json={"service_point": "hukeng"}
    ) as r:
        code = (await r.json())["code"]
    client = PlatformClient(base, timeout=5, backoff=0.01)
    try:
        await client.enrol(code)
        sub = a_submission(client.terminal_id)
        first = await client.submit(sub)
        # and the catalog then changed: one of its matters is no longer offered
        cat = server.app[CATALOG]["catalog"]
        server.app[CATALOG]["catalog"] = replace(
            cat, matters={k: m for k, m in cat.matters.items() if k != "social_card"})
        # When the kiosk sends it again, the same outcome: the slip is linked to its number
        assert await client.submit(sub) == first
        # while a new submission of the same body is checked against the new catalog
        with pytest.raises(PlatformRejected) as err:
            await client.submit(a_submission(client.terminal_id))
        assert err.value.status == 422 and err.value.message_key == "submission.unknown_matter"
    finally:
        await client.close()


async def test_same_key_with_other_content_is_a_conflict(platform):
    _, client, _ = platform
    sub = a_submission(client.terminal_id)
    await client.submit(sub)
    with pytest.raises(PlatformRejected) as err:
        await client.submit(a_submission(client.terminal_id, key=sub.key, accepting_point="afx"))
    assert err.value.status == 409 and err.value.message_key == "submission.key_reused"


@pytest.mark.parametrize(
    ("changes", "status", "key"),
    [
        ({"matters": ("no_such_matter",)}, 422, "submission.unknown_matter"),
        ({"fields": {"applicant_name": "王芳", "applicant_id_number": "360829199005010022",
                     "newborn_name": "王小明", "applicant_phone": "13800138000"}}, 422,
         "submission.id_number_invalid"),
        ({"fields": {"applicant_name": "王芳", "applicant_id_number": id_number()}}, 422,
         "submission.fields_missing"),
        ({"materials": {"id_card": "scan:1"}}, 422, "submission.materials_missing"),
        ({"deferred": ()}, 422, "submission.materials_missing"),
    ],
)  # fmt: skip
async def test_bad_submission_gets_a_precise_4xx_and_stores_nothing(platform, changes, status, key):
    # Given a submission that breaks one rule of the catalog
    base, client, _ = platform
    sub = a_submission(client.terminal_id, **changes)
    # When it is submitted
    with pytest.raises(PlatformRejected) as err:
        await client.submit(sub)
    # Then the answer names the rule, in both languages, and nothing was stored under that key
    assert (err.value.status, err.value.message_key) == (status, key)
    assert err.value.messages["zh"] and err.value.messages["en"]
    with pytest.raises(PlatformRejected) as missing:
        await client.progress(sub.key)
    assert missing.value.status == 404


async def _signed_post(http, base, client, body: bytes, path="/api/v1/submissions", **hdr):
    headers = signing.signed_headers(
        client.terminal_id, client.secret, "POST", path, body, time.time()
    )
    headers.update(hdr)
    async with http.post(base + path, data=body, headers=headers) as r:
        return r.status, await r.json()


@pytest.mark.parametrize(
    ("body", "status", "key"),
    [
        (b"{not json", 400, "request.not_json"),
        (b"[1, 2]", 400, "request.wrong_type"),
        (json.dumps({"surprise": 1}).encode(), 400, "request.unknown_field"),
        (b'{"key": 12345678}', 400, "request.missing_field"),
    ],
)
async def test_malformed_bodies_are_400_with_a_message(platform, body, status, key):
    base, client, http = platform
    got_status, got = await _signed_post(http, base, client, body)
    assert (got_status, got["error"]["key"]) == (status, key)
    assert got["error"]["message"]["zh"] and got["error"]["message"]["en"]


async def test_wrong_types_are_400(platform):
    base, client, http = platform
    d = a_submission(client.terminal_id).to_dict()
    d["matters"] = "hukou_birth"
    status, got = await _signed_post(http, base, client, json.dumps(d).encode())
    assert (status, got["error"]["key"], got["error"]["field"]) == (
        400,
        "request.wrong_type",
        "matters",
    )


async def test_malformed_credentials_and_bodies_get_a_4xx_never_a_500(platform):
    base, client, http = platform
    path = "/api/v1/terminals/heartbeat"
    # A timestamp of digits that int() refuses ("²" is a digit to str.isdigit)
    status, got = await _signed_post(http, base, client, b"{}", path, **{signing.HEADER_TIMESTAMP: "²"})
    assert (status, got["error"]["key"]) == (401, "auth.bad_signature")
    # A signature with a character that is not ASCII
    status, got = await _signed_post(http, base, client, b"{}", path,
                                     **{signing.HEADER_SIGNATURE: "é" * 64})  # fmt: skip
    assert (status, got["error"]["key"]) == (401, "auth.bad_signature")
    # A body nested deeper than the JSON parser goes
    async with http.post(f"{base}/api/v1/terminals/enrol", data=b"[" * 100_000) as r:
        assert (r.status, (await r.json())["error"]["key"]) == (400, "request.not_json")
    # A dashboard cookie with a character that is not ASCII: not signed in, sent to sign in
    async with http.get(f"{base}/dashboard/terminals", allow_redirects=False,
                        headers={"Cookie": "kiosk_dashboard=a.%C3%A9é"}) as r:  # fmt: skip
        assert r.status in (302, 303) and "/dashboard/login" in r.headers["Location"]


async def _raw(base: str, request: bytes) -> int:
    """The status of ``request`` sent as raw bytes (a fuzzer's header bytes, not UTF-8)."""
    import asyncio
    from urllib.parse import urlsplit

    host = urlsplit(base)
    reader, writer = await asyncio.open_connection(host.hostname, host.port)
    try:
        writer.write(request)
        await writer.drain()
        return int((await reader.readline()).split()[1])
    finally:
        writer.close()


async def test_raw_bytes_in_credentials_get_a_4xx_never_a_500(platform):
    base, client, _http = platform
    headers = signing.signed_headers(client.terminal_id, client.secret, "POST",
                                     "/api/v1/terminals/heartbeat", b"{}", time.time())  # fmt: skip
    for name in (signing.HEADER_SIGNATURE, signing.HEADER_TERMINAL, signing.HEADER_NONCE):
        sent = {**headers, name: "ab"}
        lines = b"".join(f"{k}: {v}".encode() + (b"\xff" if k == name else b"") + b"\r\n"
                         for k, v in sent.items())  # fmt: skip
        status = await _raw(base, b"POST /api/v1/terminals/heartbeat HTTP/1.1\r\nHost: x\r\n"
                            + lines + b"Content-Length: 2\r\nConnection: close\r\n\r\n{}")  # fmt: skip
        assert status == 401, name
    for request in (
        b"GET /dashboard/terminals HTTP/1.1\r\nHost: x\r\nCookie: kiosk_dashboard=a.b\xff\r\n"
        b"Connection: close\r\n\r\n",
        b"POST /dashboard/login HTTP/1.1\r\nHost: x\r\nCookie: kiosk_dashboard_login=p\xff\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 6\r\n"
        b"Connection: close\r\n\r\ncsrf=x",
    ):
        assert await _raw(base, request) in (302, 303, 403), request


async def test_oversized_body_is_413(platform):
    base, client, http = platform
    status, got = await _signed_post(http, base, client, b"x" * (2 * 1024 * 1024))
    assert (status, got["error"]["key"]) == (413, "request.too_large")


async def test_progress_shows_office_movement_then_needs_more_and_refusal(platform):
    # Given an accepted application
    base, client, http = platform
    outcome = await client.submit(a_submission(client.terminal_id))
    number = outcome.acceptance_number
    office = f"{base}/api/v1/office/applications/{number}"
    # When the office routes and reviews it
    for _ in range(2):
        async with http.post(f"{office}/advance", json={"note": "ok"}) as r:
            assert r.status == 200
    # Then progress shows every stage so far, in order
    progress = await client.progress(number)
    assert progress.outcome.stage is Stage.REVIEWED
    assert [e.stage for e in progress.history] == [
        Stage.RECEIVED,
        Stage.ACCEPTED,
        Stage.ROUTED,
        Stage.REVIEWED,
    ]
    # When it asks for more materials, then refuses
    async with http.post(f"{office}/needs-more", json={"missing": ["出生医学证明原件"]}) as r:
        assert r.status == 200
    assert (await client.progress(number)).outcome.missing == ("出生医学证明原件",)
    async with http.post(f"{office}/advance", json={}) as r:
        assert r.status == 409  # waiting for materials: cannot move on
    async with http.post(f"{office}/refuse", json={"reason": "不属于本县管辖"}) as r:
        assert r.status == 200
    final = await client.progress(number)
    assert final.outcome.kind is OutcomeKind.REFUSED and final.outcome.reason == "不属于本县管辖"


async def test_unknown_application_is_404(platform):
    _, client, _ = platform
    with pytest.raises(PlatformRejected) as err:
        await client.progress("AF2099010100001")
    assert (err.value.status, err.value.message_key) == (404, "application.not_found")


async def test_a_slip_delivered_after_an_outage_was_received_when_it_was_handed_in(platform):
    # Given an application handed in two hours ago, delivered now the network is back
    _, client, _ = platform
    handed = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    outcome = await client.submit(a_submission(client.terminal_id, created_at=handed,
                                               local_number="LT1-000007"))  # fmt: skip
    history = (await client.progress(outcome.acceptance_number)).history
    received = next(e for e in history if e.stage is Stage.RECEIVED)
    accepted = next(e for e in history if e.stage is Stage.ACCEPTED)
    # Then 收件 is when the citizen handed it in, 受理 when the platform took it
    assert abs((received.at - handed).total_seconds()) < 1
    assert (accepted.at - received.at) > dt.timedelta(hours=1)
    # and a kiosk clock ahead of the platform's is not believed
    ahead = await client.submit(a_submission(client.terminal_id,
                                             created_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=3)))  # fmt: skip
    [when] = [e.at for e in (await client.progress(ahead.acceptance_number)).history
              if e.stage is Stage.RECEIVED]  # fmt: skip
    assert when <= dt.datetime.now(dt.UTC)

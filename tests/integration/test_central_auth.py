"""Terminal identity over real HTTP: enrolment codes, signatures, replays, revocation."""

from __future__ import annotations

import json
import time

import aiohttp
import pytest
import sqlalchemy as sa

from central import tables as t
from central.app import STORE, make_app
from central.config import CentralConfig
from client.platform import PlatformClient
from kiosk import signing
from kiosk.errors import PlatformAuthError, PlatformRejected
from kiosk.health import Health
from tests.support.central import a_submission, small_catalog

pytestmark = pytest.mark.integration
PATH = "/api/v1/submissions"


@pytest.fixture
async def platform(aiohttp_server, database_url, tmp_path):
    config = CentralConfig(data_dir=tmp_path / "central", database_url=database_url)
    server = await aiohttp_server(make_app(config, catalog_override=small_catalog()))
    base = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http:

        async def new_code(point: str = "afx") -> str:
            async with http.post(
                f"{base}/api/v1/office/enrolment-codes", json={"service_point": point}
            ) as r:
                assert r.status == 201
                return (await r.json())["code"]

        client = PlatformClient(base, timeout=5, backoff=0.01)
        await client.enrol(await new_code())
        try:
            yield base, http, client, new_code, server.app[STORE], server.app
        finally:
            await client.close()


async def _post(http, base, body: bytes, headers: dict[str, str]):
    async with http.post(base + PATH, data=body, headers=headers) as r:
        return r.status, (await r.json())["error"]["key"] if r.status >= 400 else None


async def test_an_enrolment_code_works_once(platform):
    # Given a code already used by the fixture's terminal, and a fresh one
    base, _, client, new_code, _, _ = platform
    code = await new_code("hukeng")
    second = PlatformClient(base, timeout=5)
    try:
        # When a second terminal enrols with the fresh code, then again with the same code
        enrolment = await second.enrol(code)
        assert enrolment.service_point == "hukeng" and enrolment.terminal_id != client.terminal_id
        with pytest.raises(PlatformAuthError) as err:
            await PlatformClient(base, timeout=5).enrol(code)
        # Then the reuse is refused
        assert (err.value.status, err.value.message_key) == (403, "enrol.bad_code")
    finally:
        await second.close()


async def test_unsigned_request_is_401(platform):
    base, http, client, _, _, _ = platform
    body = json.dumps(a_submission(client.terminal_id).to_dict()).encode()
    assert await _post(http, base, body, {}) == (401, "auth.unsigned")


async def test_forged_signature_is_401(platform):
    # Given a correctly signed request whose body is then altered
    base, http, client, _, _, _ = platform
    body = json.dumps(a_submission(client.terminal_id).to_dict()).encode()
    headers = signing.signed_headers(
        client.terminal_id, client.secret, "POST", PATH, body, time.time()
    )
    forged = body.replace(b"hukeng", b"afx")
    # Then the platform refuses it, as it does a request signed with another secret
    assert await _post(http, base, forged, headers) == (401, "auth.bad_signature")
    wrong = signing.signed_headers(
        client.terminal_id, "not-the-secret", "POST", PATH, body, time.time()
    )
    assert await _post(http, base, body, wrong) == (401, "auth.bad_signature")


async def test_stale_timestamp_is_401(platform):
    base, http, client, _, _, _ = platform
    body = json.dumps(a_submission(client.terminal_id).to_dict()).encode()
    old = signing.signed_headers(
        client.terminal_id, client.secret, "POST", PATH, body, time.time() - 301
    )
    assert await _post(http, base, body, old) == (401, "auth.stale")


async def test_replayed_request_is_401(platform):
    # Given a signed request that went through once
    base, http, client, _, _, _ = platform
    body = json.dumps(a_submission(client.terminal_id).to_dict()).encode()
    headers = signing.signed_headers(
        client.terminal_id, client.secret, "POST", PATH, body, time.time()
    )
    assert (await _post(http, base, body, headers))[0] == 201
    # When the same bytes and headers are sent again, then they are refused
    assert await _post(http, base, body, headers) == (401, "auth.replayed")


async def test_unknown_terminal_is_401(platform):
    base, http, client, _, _, _ = platform
    body = json.dumps(a_submission("T-NOBODY").to_dict()).encode()
    headers = signing.signed_headers("T-NOBODY", client.secret, "POST", PATH, body, time.time())
    assert await _post(http, base, body, headers) == (401, "auth.unknown_terminal")


async def test_submission_naming_another_terminal_is_403(platform):
    _, _, client, _, _, _ = platform
    with pytest.raises(PlatformAuthError) as err:
        await client.submit(a_submission("T-SOMEONE-ELSE"))
    assert (err.value.status, err.value.message_key) == (403, "auth.terminal_mismatch")


async def test_a_submission_is_accepted_at_the_hall_its_terminal_was_enrolled_at(platform, caplog):
    # Given a terminal enrolled at afx whose config names another hall (hukeng)
    _, _, client, _, store, app = platform
    sub = a_submission(client.terminal_id, accepting_point="hukeng")
    # When it submits
    with caplog.at_level("WARNING", logger="central"):
        first = await client.submit(sub)
    # Then the platform records it at afx, where the citizen was, and tells the technician
    assert first.accepting_point == "afx"
    assert store.submission_body(sub.key)["accepting_point"] == "afx"
    with store.engine.connect() as conn:  # the column the hall's volumes count by
        assert conn.execute(sa.select(t.submissions.c.accepting_point)
                            .where(t.submissions.c.key == sub.key)).scalar() == "afx"  # fmt: skip
    said = [r.getMessage() for r in caplog.records if "enrolled at" in r.getMessage()]
    assert said and client.terminal_id in said[0] and "王芳" not in said[0]
    # on afx's dashboard too, an alert a person closes (it was in the log alone)
    import datetime as dt

    from central.dashboard.data import HallStore

    hall = HallStore(store.engine)
    hall.sweep(dt.datetime.now(dt.UTC), offline_after=90)  # no heartbeat's sweep clears it
    [alert] = [a for a in hall.alerts(["afx"]) if a["kind"] == "point_mismatch"]
    assert alert["detail"] == f"{client.terminal_id} hukeng" and "terminal.service_point" in alert["reason"]
    # naming both halls as their staff know them, with the code the config file takes
    assert "终端设置的服务点为 洋溪镇便民服务中心（hukeng），登记的是 安福县政务服务中心（afx）" in alert["reason"]
    assert alert["cleared_at"] is None and alert["history"][0]["action"] == "opened"
    # and the same submission sent again is the same record, not a conflict, nor a second alert
    again = await client.submit(sub)
    assert again.acceptance_number == first.acceptance_number
    assert again.accepting_point == "afx"
    assert [a["kind"] for a in HallStore(store.engine).alerts(None)].count("point_mismatch") == 1
    # and closed by a person while the kiosk's settings are still wrong, it is not gone for
    # good: the next submission after an hour opens it again (before, only a restart did)
    hall.act_on_alert(alert["id"], "close", "tech", None)
    await client.submit(a_submission(client.terminal_id, accepting_point="hukeng"))
    assert [a for a in hall.alerts(None) if a["kind"] == "point_mismatch"] == []
    from central.app import POINT_WARN_AGAIN, POINT_WARNED

    warned = app[POINT_WARNED]
    warned[client.terminal_id] -= POINT_WARN_AGAIN  # (an hour on)
    await client.submit(a_submission(client.terminal_id, accepting_point="hukeng"))
    [again] = [a for a in hall.alerts(None) if a["kind"] == "point_mismatch"]
    assert again["id"] != alert["id"] and again["detail"] == f"{client.terminal_id} hukeng"


async def test_a_terminal_at_a_hall_the_catalog_no_longer_lists_keeps_the_submission_s_point(
        platform):  # fmt: skip
    # Given a terminal enrolled at a hall the catalog has since dropped
    _, _, client, _, store, _ = platform
    with store.engine.begin() as conn:
        conn.execute(t.terminals.update().where(t.terminals.c.id == client.terminal_id)
                     .values(service_point="mars"))  # fmt: skip
    # When it submits naming a hall the catalog lists
    sub = a_submission(client.terminal_id, accepting_point="hukeng")
    outcome = await client.submit(sub)
    # Then it is accepted there (not refused for good: a queued submission is not lost)
    assert outcome.accepting_point == "hukeng"
    assert store.submission_body(sub.key)["accepting_point"] == "hukeng"
    # And naming no hall the catalog knows either is a 422 that stores nothing
    lost = a_submission(client.terminal_id, accepting_point="venus")
    with pytest.raises(PlatformRejected) as err:
        await client.submit(lost)
    assert (err.value.status, err.value.message_key) == (422, "submission.unknown_point")
    assert err.value.messages["zh"] and err.value.messages["en"]
    assert store.submission_body(lost.key) is None


async def test_revoked_terminal_is_403(platform):
    # Given a terminal that worked
    base, http, client, _, _, _ = platform
    await client.heartbeat(
        [Health.good("printer")], software_version="1.0", screen="home", paper="ok"
    )
    # When the office revokes it
    async with http.post(f"{base}/api/v1/office/terminals/{client.terminal_id}/revoke") as r:
        assert r.status == 200
    # Then its next signed call is refused
    with pytest.raises(PlatformAuthError) as err:
        await client.heartbeat([], software_version="1.0", screen="home", paper="ok")
    assert (err.value.status, err.value.message_key) == (403, "auth.revoked")


async def test_heartbeat_is_stored_with_devices_paper_and_screen(platform):
    _, _, client, _, store, _ = platform
    await client.heartbeat(
        [Health.good("idcard"), Health.degraded("printer", "paper near end")],
        software_version="0.3.1", screen="apply.form", paper="paper_near_end",
    )  # fmt: skip
    beat = store.last_heartbeat(client.terminal_id)
    assert beat["screen"] == "apply.form" and beat["paper"] == "paper_near_end"
    assert beat["software_version"] == "0.3.1"
    assert {"device": "printer", "state": "degraded", "reason": "paper near end"} in beat["devices"]
    assert store.terminal(client.terminal_id).last_seen_at is not None


async def test_a_device_s_long_reason_is_cut_and_a_device_with_too_many_fields_refused(platform):
    _, _, client, _, store, _ = platform
    # A driver's reason of 100 kB (a traceback, say) is kept to its first 300 characters
    await client.heartbeat([Health.fault("printer", "x" * 100_000)], software_version="1",
                           screen="home", paper="unknown")  # fmt: skip
    [printer] = store.last_heartbeat(client.terminal_id)["devices"]
    assert printer["reason"] == "x" * 300
    # A device of 50 made-up fields is refused: every beat of every terminal is stored
    beat = {"devices": [{f"k{i}": "v" for i in range(50)}], "software_version": "1",
            "screen": "home", "paper": "ok"}  # fmt: skip
    with pytest.raises(PlatformRejected) as err:
        await client._call("POST", "/terminals/heartbeat", beat)
    assert (err.value.status, err.value.field) == (400, "devices")


async def test_office_calls_need_the_office_token_when_one_is_set(aiohttp_server, database_url,
                                                                   tmp_path):  # fmt: skip
    # Given a platform deployed with an office token (CENTRAL_OFFICE_TOKEN)
    config = CentralConfig(data_dir=tmp_path / "central", database_url=database_url,
                           office_token="county-office-7f3a")  # fmt: skip
    server = await aiohttp_server(make_app(config, catalog_override=small_catalog()))
    url = str(server.make_url("/api/v1/office/enrolment-codes"))
    body = {"service_point": "afx"}
    async with aiohttp.ClientSession() as http:
        # When an enrolment code is asked for without the token, or with a wrong one
        for headers in ({}, {"Authorization": "Bearer county-office-7f3b"},
                        {"Authorization": "county-office-7f3a-and-more"}):  # fmt: skip
            async with http.post(url, json=body, headers=headers) as r:
                # Then it is refused, saying why, and no code is made
                assert r.status == 401 and (await r.json())["error"]["key"] == "auth.office"
        # When the office presents its token, the code is made and enrols a terminal
        async with http.post(url, json=body,
                             headers={"Authorization": "Bearer county-office-7f3a"}) as r:  # fmt: skip
            assert r.status == 201
            code = (await r.json())["code"]
    client = PlatformClient(str(server.make_url("")).rstrip("/"), timeout=5)
    try:
        assert (await client.enrol(code)).service_point == "afx"
    finally:
        await client.close()

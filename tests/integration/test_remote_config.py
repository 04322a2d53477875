"""What a heartbeat reply carries, over real HTTP on loopback, on SQLite and PostgreSQL:
remote settings until the terminal acknowledges them, and diagnostics requests until the
terminal uploads a bundle; and the checks on an upload."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import zipfile

import aiohttp
import pytest

from central.app import STORE, make_app
from central.config import CentralConfig
from central.dashboard import diagnostics, remote
from central.errors import ApiError
from client.platform import PlatformClient
from kiosk.config import KioskConfig, TerminalConfig
from kiosk.diagnostics import build_bundle
from kiosk.errors import PlatformRejected
from kiosk.health import Health
from tests.support.central import enrolled_client, small_catalog

pytestmark = pytest.mark.integration
NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
async def platform(aiohttp_server, database_url, tmp_path):
    app = make_app(CentralConfig(data_dir=tmp_path / "central", database_url=database_url),
                   catalog_override=small_catalog())  # fmt: skip
    server = await aiohttp_server(app)
    base = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http:
        one, other = (
            await enrolled_client(http, base, "hukeng"),
            await enrolled_client(http, base, "afx"),
        )
        try:
            yield app, one, other
        finally:
            await one.close()
            await other.close()


async def beat(client: PlatformClient, acked: int = 0) -> dict:
    return await client.heartbeat([Health.good("printer")], software_version="1.4.2",
                                  screen="attract", paper="ok", uptime=3725,
                                  catalog_version="abc123", config_version=acked)  # fmt: skip


def saved(app, scope: str, ident: str, settings: dict) -> int:
    version = remote.save(app[STORE].engine, scope, ident, settings, "admin", NOW)
    app[remote.PUSHES].invalidate()  # as the dashboard does after a save
    return version


async def test_settings_ride_on_replies_until_acknowledged(platform):
    app, one, other = platform
    # Given nothing pushed: the reply is the plain one
    assert set(await beat(one)) == {"ok", "time"}
    # When the point's settings are saved, and then the terminal's own
    v1 = saved(app, "point", "hukeng", {"inactivity": 120, "notices": ["甲"]})
    reply = await beat(one)
    assert reply["config_version"] == v1 and reply["config"] == {
        "inactivity": 120,
        "notices": ["甲"],
    }
    v2 = saved(app, "terminal", one.terminal_id, {"inactivity": 60})
    assert v2 > v1
    reply = await beat(one, acked=v1)
    # Then the terminal's own lies over its point's, and comes until acknowledged
    assert reply["config_version"] == v2 and reply["config"] == {
        "inactivity": 60,
        "notices": ["甲"],
    }
    acked = await beat(one, acked=v2)
    assert acked["config_version"] == v2 and "config" not in acked
    # And another point's terminal is not concerned
    assert "config_version" not in await beat(other)
    # And the platform keeps what the terminal reported
    status = {s["terminal_id"]: s for s in remote.push_status(app[STORE].engine, None)}
    assert (status[one.terminal_id]["pushed"], status[one.terminal_id]["acknowledged"]) == (v2, v2)
    assert status[other.terminal_id]["pushed"] == 0
    state = app[STORE].last_heartbeat(one.terminal_id)
    assert (state["uptime"], state["catalog_version"], state["config_version"]) == (
        3725,
        "abc123",
        v2,
    )


async def test_a_heartbeat_with_a_garbled_field_is_refused(platform):
    _, one, _ = platform
    with pytest.raises(PlatformRejected) as err:
        await one.heartbeat([], software_version="1", screen="a", paper="ok", uptime=-5)
    assert err.value.status == 400


def a_bundle(tmp_path, terminal_id: str, extras=None) -> bytes:
    cfg = KioskConfig(terminal=TerminalConfig(id=terminal_id), data_dir=str(tmp_path / terminal_id))
    return build_bundle(cfg, NOW, extras)


async def test_a_requested_bundle_is_asked_for_until_uploaded(platform, tmp_path):
    app, one, other = platform
    engine = app[STORE].engine
    request_id = diagnostics.request_bundle(engine, one.terminal_id, "tech", None, NOW)
    assert diagnostics.request_bundle(engine, one.terminal_id, "tech", None, NOW) == request_id
    app[remote.PUSHES].invalidate()
    assert (await beat(one))["diagnostics"] == [request_id]
    assert "diagnostics" not in await beat(other)
    # When the terminal uploads it
    bundle = a_bundle(tmp_path, one.terminal_id)
    assert await one.upload_diagnostics(bundle, request_id) == request_id
    app[remote.PUSHES].invalidate()
    # Then it is asked for no more, and a second upload for the same request is refused
    assert "diagnostics" not in await beat(one)
    with pytest.raises(PlatformRejected) as err:
        await one.upload_diagnostics(bundle, request_id)
    assert err.value.status == 409
    meta, data = diagnostics.content(engine, request_id, ("hukeng",))
    assert data == bundle and meta["requested_by"] == "tech"
    # And another point's manager scope does not reach it
    with pytest.raises(ApiError) as missing:
        diagnostics.content(engine, request_id, ("afx",))
    assert missing.value.status == 404


async def test_another_terminals_request_cannot_be_answered(platform, tmp_path):
    app, one, other = platform
    request_id = diagnostics.request_bundle(app[STORE].engine, one.terminal_id, "tech", None, NOW)
    with pytest.raises(PlatformRejected) as err:
        await other.upload_diagnostics(a_bundle(tmp_path, other.terminal_id), request_id)
    assert err.value.status == 404


async def test_an_upload_with_personal_data_or_not_a_zip_is_refused(platform, tmp_path):
    _, one, _ = platform
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("manifest.json", "{}")
        zf.writestr("logs/kiosk.log", "read card 362429199003070020\n")
    with pytest.raises(PlatformRejected) as err:
        await one.upload_diagnostics(buf.getvalue())
    assert err.value.status == 422 and err.value.message_key == "diagnostics.personal_data"
    with pytest.raises(PlatformRejected) as err:
        await one.upload_diagnostics(b"not a zip at all")
    assert err.value.status == 400
    assert await one.upload_diagnostics(a_bundle(tmp_path, one.terminal_id)) > 0


async def test_a_requested_bundle_refused_for_personal_data_says_so_on_the_dashboard(platform):
    app, one, _ = platform
    engine = app[STORE].engine
    request_id = diagnostics.request_bundle(engine, one.terminal_id, "tech", None, NOW)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("manifest.json", "{}")
        zf.writestr("logs/kiosk.log", "read card 362429199003070020\n")
    # When the terminal answers the technician's request with a bundle holding an ID number
    with pytest.raises(PlatformRejected) as err:
        await one.upload_diagnostics(buf.getvalue(), request_id)
    assert err.value.status == 422
    # Then the request says it was refused and why (not "waiting", then "expired")
    [row] = [b for b in diagnostics.bundles(engine, None) if b["id"] == request_id]
    assert row["state"] == "refused:personal" and not row["expired"]
    app[remote.PUSHES].invalidate()
    assert "diagnostics" not in await beat(one)  # and it is no longer asked for


async def test_a_bundle_the_terminal_itself_will_not_send_says_why_on_the_dashboard(platform, tmp_path):
    from kiosk.terminal import Ports, Terminal

    app, one, other = platform
    engine = app[STORE].engine
    request_id = diagnostics.request_bundle(engine, one.terminal_id, "tech", None, NOW)
    app[remote.PUSHES].invalidate()
    # Given a terminal whose bundle would carry a camera frame (its own scan refuses it)
    kiosk = Terminal(Ports(platform=one), KioskConfig(data_dir=str(tmp_path / "k")), catalog=None)
    kiosk.diagnostics = lambda: a_bundle(tmp_path, one.terminal_id, {"camera.bin": b"\xff\xd8\xff\xe0 a frame"})
    # When a heartbeat reply asks it for the bundle
    reply = await beat(one)
    assert reply["diagnostics"] == [request_id]
    assert await kiosk.answer_diagnostics(reply) == []
    # Then nothing was uploaded, and the request says it was refused for personal data
    # (not "waiting", then "expired"), and it is no longer asked for
    [row] = [b for b in diagnostics.bundles(engine, None) if b["id"] == request_id]
    assert row["state"] == "refused:personal" and not row["expired"] and row["size"] in (None, 0)
    app[remote.PUSHES].invalidate()
    assert "diagnostics" not in await beat(one)
    # And a terminal cannot refuse another's request, nor give a reason the platform does not know
    other_request = diagnostics.request_bundle(engine, one.terminal_id, "tech", None, NOW)
    assert await other.refuse_diagnostics(other_request, "personal") == 0
    for reason in ("bored", ["personal"], {"personal": 1}, 3):  # never a 500
        with pytest.raises(PlatformRejected) as err:
            await one.refuse_diagnostics(other_request, reason)
        assert (err.value.status, err.value.message_key) == (400, "request.wrong_type")
    [row] = [b for b in diagnostics.bundles(engine, None) if b["id"] == other_request]
    assert row["state"] == "requested"


def bomb(size: int, nested: bool = False) -> bytes:
    """A zip of a few hundred kB that unpacks to ``size`` bytes of zeros (or holds one that does)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("manifest.json", "{}")
        if nested:
            zf.writestr("logs.zip", bomb(size))
        else:
            with zf.open("logs/kiosk.log", "w", force_zip64=True) as f:
                for _ in range(size // 2**20):
                    f.write(bytes(2**20))
    return buf.getvalue()


async def test_a_zip_bomb_is_refused_before_it_is_unpacked_and_the_platform_keeps_beating(
        platform, tmp_path):  # fmt: skip
    _, one, _ = platform
    # A bundle of well under the 8 MB limit that would unpack to 200 MB, as it is or in a zip
    for body in (bomb(200 * 2**20), bomb(200 * 2**20, nested=True)):
        assert len(body) < 1024 * 1024
        with pytest.raises(PlatformRejected) as err:
            await asyncio.wait_for(one.upload_diagnostics(body), 10)
        assert (err.value.status, err.value.message_key) == (413, "request.too_large")
    # And the terminal's next call is answered as ever
    assert (await beat(one))["ok"] is True


def test_a_hall_s_notices_are_saved_over_its_other_settings_and_leave_them_be(database_url):
    from concurrent.futures import ThreadPoolExecutor

    from central.db import make_engine, migrate

    engine = make_engine(database_url)
    try:
        migrate(engine)
        now = dt.datetime.now(dt.UTC)
        # Given a technician's timeouts for the hall
        remote.save(engine, "point", "zhouhu", {"inactivity": 120, "warning": 40}, "tech", now)
        # When its manager posts notices, then clears them
        remote.save_notices(engine, "zhouhu", ["今晚维护 | Maintenance tonight"], "mgr", now)
        [row] = [r for r in remote.rows(engine) if r["scope_id"] == "zhouhu"]
        assert row["settings"] == {"inactivity": 120, "warning": 40,
                                   "notices": ["今晚维护 | Maintenance tonight"]}  # fmt: skip
        # and the notices' last change is the manager's, though the technician saves the
        # timeouts after it (the notices page said the timeouts' change was the notices')
        later = now + dt.timedelta(minutes=5)
        remote.save(engine, "point", "zhouhu", {"inactivity": 150, "warning": 40,
                                                "notices": ["今晚维护 | Maintenance tonight"]},
                    "tech", later)  # fmt: skip
        [row] = [r for r in remote.rows(engine) if r["scope_id"] == "zhouhu"]
        assert (row["updated_by"], row["notices_by"], row["notices_at"]) == ("tech", "mgr", now)
        remote.save_notices(engine, "zhouhu", [], "mgr", now)
        [row] = [r for r in remote.rows(engine) if r["scope_id"] == "zhouhu"]
        assert row["settings"] == {"inactivity": 150, "warning": 40}
        # And saves of notices and of settings at once, many times, lose neither: each
        # waits for the other (the counter's lock comes first in both)
        def technician(i: int) -> None:
            remote.save(engine, "point", "zhouhu", {"inactivity": 100 + i, "warning": 40}, "tech",
                        now)  # fmt: skip

        def manager(i: int) -> None:
            remote.save_notices(engine, "zhouhu", [f"公告 {i}"], "mgr", now)

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda i: (technician if i % 2 else manager)(i), range(40)))
        remote.save_notices(engine, "zhouhu", ["最后一条"], "mgr", now)
        [row] = [r for r in remote.rows(engine) if r["scope_id"] == "zhouhu"]
        assert row["settings"]["notices"] == ["最后一条"] and "inactivity" in row["settings"]
    finally:
        engine.dispose()

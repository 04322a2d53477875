"""PostgreSQL going away under a running platform (a restart, a crash, a network fault) and
coming back: the platform answers a plain 503 that terminals retry (never a 500 with a
traceback), says so on /health for a load balancer, loses no citizen's submission (the
kiosk's outbox keeps it and gives a pending slip), and serves again by itself when the
database is back, without being restarted. A cluster of its own: the shared one is not
stopped under other tests."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest

from client.durable import DurablePlatform
from client.outbox import Outbox
from kiosk.errors import PlatformServerError
from kiosk.health import Health
from kiosk.outcomes import OutcomeKind
from tests.support.central import (
    CentralProcess,
    a_submission,
    enrolled_client,
    small_catalog,
    stored_times,
)
from tests.support.postgres import PostgresCluster

pytestmark = pytest.mark.integration


async def test_the_database_restarting_under_the_platform_loses_nothing_and_heals(tmp_path):
    cluster = PostgresCluster(crash_safe=True)  # halted at once: what was committed stays
    cluster.start()
    server = None
    try:
        url = cluster.create_database()
        catalog = tmp_path / "catalog"
        catalog.mkdir()
        (catalog / "catalog.json").write_text(json.dumps(small_catalog().to_dict(), ensure_ascii=False))
        # sweeping often, so that its background work meets the outage too
        server = CentralProcess(tmp_path / "central", catalog, url,
                                env={"CENTRAL_SWEEP_EVERY": "0.3"})  # fmt: skip
        base = server.start()
        async with aiohttp.ClientSession() as http:
            client = await enrolled_client(http, base, "hukeng")
            try:
                beat = dict(software_version="1.4.2", screen="home", paper="ok")
                await client.heartbeat([Health.good("printer")], **beat)
                outbox = Outbox(tmp_path / "outbox.sqlite3", tmp_path / "outbox.key", client.terminal_id)
                kiosk = DurablePlatform(client, outbox)
                # Given the database stops under the running platform
                cluster.halt()
                # When a terminal beats and checks the platform's health
                with pytest.raises(PlatformServerError) as down:
                    await client.heartbeat([Health.good("printer")], **beat)
                async with http.get(f"{base}/api/v1/health") as r:
                    health = (r.status, await r.json())
                # Then it is told to come back later (503, not a 500), and /health says why
                assert down.value.detail == "HTTP 503"
                assert health[0] == 503 and health[1]["database_reachable"] is False
                # When a citizen submits meanwhile
                sub = a_submission(client.terminal_id)
                slip = await kiosk.submit(sub)
                # Then they get a pending slip, and the submission waits in the outbox
                assert slip.kind is OutcomeKind.PENDING and outbox.pending() == 1
                await asyncio.sleep(1.5)  # the background sweeps and prunes meet the outage
                # When the database is back (the platform is not restarted)
                cluster.resume()
                deadline = time.monotonic() + 20
                while True:
                    try:
                        await client.heartbeat([Health.good("printer")], **beat)
                        break
                    except PlatformServerError:
                        assert time.monotonic() < deadline, "the platform did not serve again"
                        await asyncio.sleep(0.5)
                # Then the outbox delivers, once, and the slip leads to an acceptance number
                report = await outbox.drain(client, now=time.time() + 3600)
                assert (report.sent, outbox.pending()) == (1, 0)
                assert outbox.linked(slip.local_number).startswith("AF")
                # and /health says so again within its few seconds of memory
                deadline = time.monotonic() + 10
                while True:
                    async with http.get(f"{base}/api/v1/health") as r:
                        if r.status == 200:
                            break
                    assert time.monotonic() < deadline, "/health still says unavailable"
                    await asyncio.sleep(0.5)
            finally:
                await client.close()
        assert stored_times(url, sub.key) == 1
        # and the platform's log says what happened, in a line each, without a traceback
        said = server.stderr.read_text(encoding="utf-8", errors="replace")
        assert "database unavailable" in said and "Traceback" not in said
        assert "alert sweep failed: database unavailable" in said
    finally:
        if server is not None:
            server.stop()
        cluster.stop()

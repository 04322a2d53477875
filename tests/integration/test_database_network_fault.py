"""The network between the platform and PostgreSQL dropping packets (a switch failing, a
firewall rule, a cable pulled between two rooms) and coming back. Unlike a stopped server
(test_database_outage.py) nothing is refused and nothing is closed: whatever waits for the
database waits for an answer that never comes. A hall still expects what it gets from a
clean outage: /health says "unavailable" in seconds, to every load balancer asking at once;
a terminal is told to come back later (503, never a 500) rather than left hanging; a
citizen's submission is kept by the kiosk's outbox (a pending slip); and once the network
is back the platform serves again by itself and the submission is stored exactly once.

``central serve`` reaches PostgreSQL through a proxy (tests/support/netfault.py) that goes
silent; a cluster of its own, as the shared one's connections are not cut under other tests.
"""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest

from client.durable import DurablePlatform
from client.outbox import Outbox
from client.platform import PlatformClient
from kiosk.errors import PlatformServerError, PlatformUnreachable
from kiosk.health import Health
from kiosk.outcomes import OutcomeKind
from tests.support.central import (
    CentralProcess,
    a_submission,
    enrolled_client,
    small_catalog,
    stored_times,
)
from tests.support.netfault import NetFault
from tests.support.postgres import PostgresCluster

pytestmark = pytest.mark.integration

KIOSK_TIMEOUT = 10  # seconds a kiosk waits for an answer (its config: platform.timeout)
# seconds the platform waits for its database before taking it as unreachable (5 in
# production, under the kiosk's 10 s; shorter here, for the test's time)
DB_TIMEOUT = 2
ANSWER_WITHIN = 8.0  # seconds a load balancer or a kiosk may wait for any answer


async def within(seconds: float, what: str, coro):
    """``coro``'s result, or the test fails saying what hung."""
    try:
        return await asyncio.wait_for(coro, seconds)
    except TimeoutError:
        raise AssertionError(f"{what}: no answer within {seconds:g} s") from None


async def health(http: aiohttp.ClientSession, base: str) -> tuple[int, dict]:
    async def ask():
        async with http.get(f"{base}/api/v1/health") as r:
            return r.status, await r.json()

    return await within(ANSWER_WITHIN, "/health", ask())


async def until(what: str, seconds: float, check) -> None:
    """Wait until ``await check()`` is true, asking every half second."""
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, f"{what} within {seconds:g} s"
        await asyncio.sleep(0.5)


async def test_a_network_dropping_the_database_packets_is_survived(tmp_path):
    cluster = PostgresCluster()
    cluster.start()
    fault = NetFault(cluster.port)
    server = None
    try:
        url = cluster.create_database()
        fault.start()
        through_the_network = url.replace(f":{cluster.port}/", f":{fault.port}/")
        catalog = tmp_path / "catalog"
        catalog.mkdir()
        (catalog / "catalog.json").write_text(
            json.dumps(small_catalog().to_dict(), ensure_ascii=False)
        )
        # sweeping often, so that its background work meets the fault too
        server = CentralProcess(tmp_path / "central", catalog, through_the_network,
                                env={"CENTRAL_SWEEP_EVERY": "0.3",
                                     "CENTRAL_DB_TIMEOUT": str(DB_TIMEOUT)})  # fmt: skip
        base = server.start()
        async with aiohttp.ClientSession() as http:
            enrolled = await enrolled_client(http, base, "hukeng")
            await enrolled.close()
            # the terminal's client as a kiosk configures it (three tries of a submission)
            client = PlatformClient(
                base, enrolled.terminal_id, enrolled.secret, timeout=KIOSK_TIMEOUT
            )
            try:
                beat = dict(software_version="1.4.2", screen="home", paper="ok")
                await client.heartbeat([Health.good("printer")], **beat)
                outbox = Outbox(
                    tmp_path / "outbox.sqlite3", tmp_path / "outbox.key", client.terminal_id
                )
                kiosk = DurablePlatform(client, outbox)
                assert (await health(http, base))[0] == 200
                await asyncio.sleep(1.5)  # serving a while: its connections are open, in use
                # Given the network to the database starts dropping every packet
                fault.blackhole()

                # When a terminal beats
                with pytest.raises(PlatformServerError) as down:
                    await within(ANSWER_WITHIN, "a heartbeat",
                                 client.heartbeat([Health.good("printer")], **beat))  # fmt: skip
                # Then it is told to come back later (503), not left to time out (the writer
                # does not wait for ever on a connection nobody answers)
                assert down.value.detail == "HTTP 503"

                # When the hall's load balancers check health, one and then several at once
                async def says_unavailable() -> bool:
                    status, body = await health(http, base)
                    assert status in (200, 503), body  # (an answer is reused for 2 s)
                    return status == 503 and body["database_reachable"] is False

                await until("/health says unavailable", ANSWER_WITHIN, says_unavailable)
                answers = await within(ANSWER_WITHIN, "health checks at once",
                                       asyncio.gather(*(health(http, base) for _ in range(8))))  # fmt: skip
                # Then every one is answered, unavailable
                assert [(s, b["database_reachable"]) for s, b in answers] == [(503, False)] * 8

                # When a citizen submits meanwhile (the kiosk tries three times)
                sub = a_submission(client.terminal_id)
                submitted = time.monotonic()
                slip = await within(3 * KIOSK_TIMEOUT + 10, "a submission", kiosk.submit(sub))
                waited = time.monotonic() - submitted
                # Then they get a pending slip, and the submission waits in the outbox
                assert slip.kind is OutcomeKind.PENDING and outbox.pending() == 1
                # in seconds: each try is answered, not waited out to the kiosk's timeout
                assert waited < 2 * KIOSK_TIMEOUT, f"the citizen waited {waited:.0f} s for the slip"

                # When the network is back (the platform is not restarted)
                fault.heal()

                # Then it says it serves again, and does, by itself
                async def says_ok() -> bool:
                    status, body = await health(http, base)
                    return status == 200 and body["database_reachable"] is True

                await until("/health says ok again", 20, says_ok)

                async def beats() -> bool:
                    try:
                        await within(ANSWER_WITHIN, "a heartbeat",
                                     client.heartbeat([Health.good("printer")], **beat))  # fmt: skip
                    except PlatformServerError as err:
                        assert err.detail == "HTTP 503"
                        return False
                    except PlatformUnreachable:
                        return False
                    return True

                await until("a heartbeat is stored again", 10, beats)
                # and the outbox delivers, once, and the slip leads to an acceptance number
                report = await within(
                    30, "the outbox", outbox.drain(client, now=time.time() + 3600)
                )
                assert (report.sent, outbox.pending()) == (1, 0)
                assert outbox.linked(slip.local_number).startswith("AF")
            finally:
                await client.close()
        assert stored_times(url, sub.key) == 1
        # and the platform's log says what happened, in a line each, without a traceback
        said = server.stderr.read_text(encoding="utf-8", errors="replace")
        assert "Traceback" not in said and "unhandled error" not in said
        assert f"PostgreSQL did not answer within {DB_TIMEOUT} s" in said
        assert "database unavailable" in said
    finally:
        if server is not None:
            server.stop()
        fault.stop()
        cluster.stop()

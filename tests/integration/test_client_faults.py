"""The thin client against servers that misbehave, over real sockets on loopback.

Each test starts a tiny real server (raw asyncio TCP for bytes that are not
HTTP, or an aiohttp app) and checks the kiosk gets the precise PlatformError.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from aiohttp import web

from client.platform import PlatformClient
from kiosk.errors import (
    PlatformGarbled,
    PlatformSchemaError,
    PlatformServerError,
    PlatformTruncated,
    PlatformUnreachable,
)
from kiosk.outcomes import OutcomeKind
from tests.support.central import a_submission

pytestmark = pytest.mark.integration


@contextlib.asynccontextmanager
async def raw_server(reply: bytes):
    """A TCP server that reads a request, writes ``reply`` and closes; counts connections."""
    hits = []

    async def handle(reader, writer):
        hits.append(1)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        writer.write(reply)
        with contextlib.suppress(Exception):
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", hits
    finally:
        server.close()
        await server.wait_closed()


async def test_bytes_that_are_not_http_are_garbled_and_retried(unused_tcp_port):
    async with (
        raw_server(b"\x00\x17garbage, not HTTP at all\r\n\r\n") as (url, hits),
        PlatformClient(url, timeout=2, attempts=3, backoff=0.01) as client,
    ):
        with pytest.raises(PlatformGarbled):
            await client.health()
    assert len(hits) == 3  # garbage may be a passing proxy fault: retried, then given up


async def test_truncated_body_is_reported_as_truncated_after_retries():
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
    async with (
        raw_server(head + b'{"status": "ok", "vers') as (url, hits),
        PlatformClient(url, timeout=2, attempts=3, backoff=0.01) as client,
    ):
        with pytest.raises(PlatformTruncated):
            await client.health()
    assert len(hits) == 3  # idempotent: retried, then given up


async def test_non_json_200_is_garbled():
    body = b"<html>proxy login</html>"
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    async with raw_server(reply) as (url, _), PlatformClient(url, timeout=2, attempts=1) as client:
        with pytest.raises(PlatformGarbled):
            await client.health()


@contextlib.asynccontextmanager
async def app_server(routes):
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_5xx_is_retried_and_a_later_success_is_returned():
    # Given a server that fails twice with 503, then accepts
    calls = []
    sub = a_submission("T1")

    async def submissions(request):
        calls.append(await request.json())
        if len(calls) < 3:
            return web.Response(status=503, text="busy")
        return web.json_response({"kind": "accepted", "submission_key": calls[-1]["key"],
                                  "acceptance_number": "AF2026112300009"})  # fmt: skip

    async with (
        app_server([web.post("/api/v1/submissions", submissions)]) as url,
        PlatformClient(url, timeout=2, attempts=3, backoff=0.01) as client,
    ):
        # When the kiosk submits
        outcome = await client.submit(sub)
    # Then it got the outcome on the third try, each try with the same key
    assert outcome.kind is OutcomeKind.ACCEPTED and outcome.acceptance_number == "AF2026112300009"
    assert [c["key"] for c in calls] == [sub.key] * 3


async def test_persistent_5xx_is_a_server_error():
    async def fail(request):
        return web.Response(status=500, text="boom")

    async with (
        app_server([web.get("/api/v1/health", fail)]) as url,
        PlatformClient(url, timeout=2, attempts=2, backoff=0.01) as client,
    ):
        with pytest.raises(PlatformServerError):
            await client.health()


async def test_slow_server_is_unreachable_within_the_timeout():
    async def slow(request):
        await asyncio.sleep(1.5)
        return web.json_response({"status": "ok", "version": "x"})

    async with (
        app_server([web.get("/api/v1/health", slow)]) as url,
        PlatformClient(url, timeout=0.3, attempts=2, backoff=0.01) as client,
    ):
        started = asyncio.get_running_loop().time()
        with pytest.raises(PlatformUnreachable):
            await client.health()
        assert asyncio.get_running_loop().time() - started < 2


async def test_json_of_the_wrong_shape_is_a_schema_error():
    async def odd(request):
        return web.json_response({"kind": "approved-ish", "submission_key": 5})

    async with (
        app_server([web.post("/api/v1/submissions", odd)]) as url,
        PlatformClient(url, timeout=2, attempts=1) as client,
    ):
        with pytest.raises(PlatformSchemaError):
            await client.submit(a_submission("T1"))


async def test_nobody_listening_is_unreachable(unused_tcp_port):
    async with PlatformClient(
        f"http://127.0.0.1:{unused_tcp_port}", timeout=1, attempts=2, backoff=0.01
    ) as c:
        with pytest.raises(PlatformUnreachable):
            await c.health()

"""A terminal keeps its catalog in step with the platform's, over real HTTP:
downloaded only when it changed (ETag), checked before use, kept on disk for a
restart, and never swapped under a citizen in the middle of a visit."""

from __future__ import annotations

import pytest
from aiohttp import web

from central.app import make_app
from central.config import CentralConfig
from client.platform import PlatformClient
from kiosk.catalog.sync import CatalogCache
from kiosk.config import KioskConfig
from kiosk.terminal import Ports, Terminal
from tests.support.central import small_catalog

pytestmark = pytest.mark.integration


@pytest.fixture
async def platform(aiohttp_server, tmp_path):
    config = CentralConfig(data_dir=tmp_path / "central", require_signatures=False)
    server = await aiohttp_server(make_app(config, catalog_override=small_catalog()))
    client = PlatformClient(str(server.make_url("")).rstrip("/"), timeout=5, backoff=0.01)
    yield client
    await client.close()


def terminal_with(client, data_dir) -> Terminal:
    t = Terminal(Ports(platform=client), KioskConfig(data_dir=str(data_dir)), catalog=None)
    t.catalog_cache = CatalogCache(data_dir)
    return t


async def test_a_new_terminal_takes_the_platforms_catalog_and_keeps_it(platform, tmp_path):
    t = terminal_with(platform, tmp_path / "kiosk")
    assert await t.refresh_catalog() is True
    assert set(t.catalog.matters) == set(small_catalog().matters)
    assert t.catalog_etag
    # Unchanged since: the platform answers 304 and nothing is downloaded again
    assert await t.refresh_catalog() is False
    # After a restart the kept catalog is used at once, with its ETag
    cached = CatalogCache(tmp_path / "kiosk").load()
    assert cached is not None and cached.etag == t.catalog_etag
    assert set(cached.value.life_events) == {"birth"}
    # and the heartbeat's catalog version names the same catalog as the platform's ETag
    assert await t.catalog_version() == t.catalog_etag.strip('"')


async def test_a_visit_under_way_finishes_on_the_catalog_it_began_with(platform, tmp_path):
    bundled = small_catalog()
    t = terminal_with(platform, tmp_path / "kiosk")
    t.catalog = bundled
    t.begin(None)
    assert await t.refresh_catalog() is True
    assert t.catalog is bundled  # not swapped under the citizen
    t.end()
    assert t.catalog is not bundled and set(t.catalog.matters) == set(bundled.matters)


async def serve(aiohttp_server, body: bytes):
    async def catalog(_request):
        return web.Response(body=body, content_type="application/json", headers={"ETag": '"x"'})

    app = web.Application()
    app.router.add_get("/api/v1/catalog", catalog)
    server = await aiohttp_server(app)
    return PlatformClient(str(server.make_url("")).rstrip("/"), timeout=5, attempts=1)


@pytest.mark.parametrize("body", [b'{"matters": "not a catalog"}', b"[1, 2]", b'{"trunc'])
async def test_a_broken_catalog_is_refused_and_the_one_in_use_stays(aiohttp_server, tmp_path, body):
    client = await serve(aiohttp_server, body)
    try:
        t = terminal_with(client, tmp_path / "kiosk")
        in_use = t.catalog = small_catalog()
        assert await t.refresh_catalog() is False
        assert t.catalog is in_use and t.catalog_etag == ""
        assert CatalogCache(tmp_path / "kiosk").load() is None  # nothing kept
    finally:
        await client.close()


async def test_an_unreachable_platform_leaves_the_catalog_as_it_was(tmp_path):
    client = PlatformClient("http://127.0.0.1:9", timeout=1, attempts=1)  # nothing listens there
    try:
        t = terminal_with(client, tmp_path / "kiosk")
        t.catalog = in_use = small_catalog()
        assert await t.refresh_catalog() is False and t.catalog is in_use
    finally:
        await client.close()

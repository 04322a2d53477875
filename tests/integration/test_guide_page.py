"""The public guide page over real HTTP: what the guide screen's QR opens on a phone."""

from __future__ import annotations

import aiohttp
import pytest

from central.app import make_app
from central.config import CentralConfig
from kiosk.catalog import default_catalog_dir, load_catalog
from kiosk.guide import guide_url

pytestmark = pytest.mark.integration


@pytest.fixture
async def base(aiohttp_server, tmp_path):
    config = CentralConfig(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'c.sqlite3'}")
    server = await aiohttp_server(
        make_app(config, catalog_override=load_catalog(default_catalog_dir()))
    )
    return str(server.make_url("")).rstrip("/")


async def test_the_guide_page_says_what_the_screen_says(base):
    # Given the URL the kiosk puts in the guide's QR code
    url = guide_url(base, "hukou_birth")
    async with aiohttp.ClientSession() as http, http.get(url) as r:
        page = await r.text()
        # Then a phone gets a public HTML page, no signature needed
        assert r.status == 200
        assert r.content_type == "text/html"
    # with the matter, its bureau, limits, fee, materials and the bundle it belongs to
    for expected in ("出生登记（新生儿户口登记）", "安福县公安局", "承诺3个工作日办结（法定20个工作日）",
                     "不收费", "居民户口簿", "新生儿出生一件事", 'name="viewport"'):  # fmt: skip
        assert expected in page, expected


async def test_the_guide_page_reads_in_english_and_escapes_nothing_raw(base):
    async with aiohttp.ClientSession() as http, http.get(f"{base}/guide/hukou_birth?lang=en") as r:
        page = await r.text()
    assert "Household registration of a newborn" in page
    assert "Handled by" in page and "Anfu County Public Security Bureau" in page
    assert "<script" not in page


async def test_an_unknown_matter_is_a_plain_404_page(base):
    async with aiohttp.ClientSession() as http, http.get(f"{base}/guide/%3Cscript%3E") as r:
        page = await r.text()
        assert r.status == 404
    assert "没有这个事项的办事指南" in page
    assert "<script>" not in page

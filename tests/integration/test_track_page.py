"""The public tracking page over real HTTP: what a phone opens from a receipt's QR."""

from __future__ import annotations

import aiohttp
import pytest

from central.app import STORE
from kiosk.query import TRACK_PATH, number_from_code
from tests.integration.test_citizen_api import platform, start_platform, terminals  # noqa: F401
from tests.support.central import a_submission

pytestmark = pytest.mark.integration


async def page(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as r:
        return r.status, await r.text()


async def test_a_receipts_qr_opens_the_applications_progress_on_a_phone(platform):  # noqa: F811
    base, app, client = platform
    outcome = await client.submit(a_submission(client.terminal_id))
    # The office moves it on: routed, then reviewed
    app[STORE].advance(outcome.acceptance_number)
    app[STORE].advance(outcome.acceptance_number)
    # Given the URL a receipt's QR holds (the kiosk builds it the same way)
    url = f"{base}{TRACK_PATH}{outcome.acceptance_number}"
    assert number_from_code(url) == outcome.acceptance_number
    status, html = await page(url)
    assert status == 200
    # Then the phone shows the number, the status, the matters and where it has got to
    for expected in (outcome.acceptance_number, "已受理", "受理", "流转", "审核", "未到",
                     'name="viewport"'):  # fmt: skip
        assert expected in html, expected
    # and nothing personal: the number alone opens it
    sub = a_submission(client.terminal_id)
    for personal in (sub.fields["applicant_name"], "王小明", sub.fields["applicant_phone"]):
        assert personal not in html


async def test_the_tracking_page_reads_in_english(platform):  # noqa: F811
    base, _app, client = platform
    outcome = await client.submit(a_submission(client.terminal_id))
    status, html = await page(f"{base}{TRACK_PATH}{outcome.acceptance_number}?lang=en")
    assert status == 200 and "Accepted and being handled" in html


async def test_an_unknown_or_hostile_number_is_a_plain_404_page(platform):  # noqa: F811
    base, _app, _client = platform
    status, html = await page(f"{base}{TRACK_PATH}AF2099010100001")
    assert status == 404 and "AF2099010100001" in html
    status, html = await page(f"{base}{TRACK_PATH}%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert status == 404 and "<script>" not in html

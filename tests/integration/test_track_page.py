"""The public tracking page over real HTTP: what a phone opens from a receipt's QR."""

from __future__ import annotations

import aiohttp
import pytest

from central.app import STORE
from kiosk.query import TRACK_PATH, number_from_code, track_code
from kiosk.receipt import Qr
from kiosk.receipts import build_receipt
from tests.integration.test_citizen_api import platform, start_platform, terminals  # noqa: F401
from tests.support.central import a_submission

pytestmark = pytest.mark.integration


async def page(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as r:
        return r.status, await r.text()


def receipt_qr(outcome, base: str, secret: str) -> str:
    """What the QR on the kiosk's printed slip for ``outcome`` holds."""
    receipt = build_receipt(outcome, track_url=f"{base}{TRACK_PATH}", track_secret=secret)
    [qr] = [b for b in receipt.blocks if isinstance(b, Qr)]
    return qr.data


async def test_a_receipts_qr_opens_the_applications_progress_on_a_phone(platform):  # noqa: F811
    base, app, client = platform
    outcome = await client.submit(a_submission(client.terminal_id))
    # The office moves it on: routed, then reviewed
    app[STORE].advance(outcome.acceptance_number)
    app[STORE].advance(outcome.acceptance_number)
    # Given the URL the receipt's QR holds
    url = receipt_qr(outcome, base, client.secret)
    assert number_from_code(url) == outcome.acceptance_number
    status, html = await page(url)
    assert status == 200
    # Then the phone shows the number, the status, the matters and where it has got to
    for expected in (outcome.acceptance_number, "已受理", "受理", "流转", "审核", "未开始",
                     'name="viewport"'):  # fmt: skip
        assert expected in html, expected
    # the stage it is at is under way, not done ("受理 01:13" read as accepted and finished)
    assert "办理中" in html and "起<" in html
    # and nothing personal: the number alone opens it
    sub = a_submission(client.terminal_id)
    for personal in (sub.fields["applicant_name"], "王小明", sub.fields["applicant_phone"]):
        assert personal not in html


async def test_the_tracking_page_reads_in_english(platform):  # noqa: F811
    base, _app, client = platform
    outcome = await client.submit(a_submission(client.terminal_id))
    url = receipt_qr(outcome, base, client.secret)
    status, html = await page(f"{url}&lang=en")
    assert status == 200 and "Accepted and being handled" in html
    # and its link back to Chinese keeps the code, so it opens too
    code = track_code(client.secret, outcome.acceptance_number)
    assert f'href="?lang=zh&amp;c={code}"' in html
    assert (await page(f"{url.split('?')[0]}?lang=zh&c={code}"))[0] == 200


async def test_numbers_run_in_sequence_so_without_the_receipts_code_the_page_does_not_open(
        platform):  # noqa: F811  # fmt: skip
    base, _app, client = platform
    first = await client.submit(a_submission(client.terminal_id))
    second = await client.submit(a_submission(client.terminal_id))
    assert (await page(receipt_qr(second, base, client.secret)))[0] == 200
    # Someone with the first receipt counts on to the next number: it does not open
    guessed = f"{base}{TRACK_PATH}{second.acceptance_number}"
    for url in (guessed, f"{guessed}?c={track_code(client.secret, first.acceptance_number)}",
                f"{guessed}?c={track_code('another terminal', second.acceptance_number)}"):
        status, html = await page(url)
        assert status == 404 and "已受理" not in html, url


async def test_a_pending_slips_qr_opens_once_the_platform_has_its_submission(platform):  # noqa: F811
    base, _app, client = platform
    # Given a slip printed offline with the terminal's local number, its submission sent later
    outcome = await client.submit(a_submission(client.terminal_id, local_number="LT1-000042"))
    slip = outcome.__class__.from_dict({**outcome.to_dict(), "acceptance_number": ""})
    url = receipt_qr(slip, base, client.secret)
    assert url.split("?")[0].endswith("/track/LT1-000042")
    # Then the slip's QR shows the application
    status, html = await page(url)
    assert status == 200 and outcome.acceptance_number in html


async def test_an_unknown_or_hostile_number_is_a_plain_404_page(platform):  # noqa: F811
    base, _app, _client = platform
    status, html = await page(f"{base}{TRACK_PATH}AF2099010100001")
    assert status == 404 and "AF2099010100001" in html
    assert "请扫描回执上的二维码" in html  # what to do instead, whether it exists or not
    status, html = await page(f"{base}{TRACK_PATH}%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert status == 404 and "<script>" not in html


async def test_a_pending_slips_qr_before_its_kiosk_delivered_it_says_it_is_on_its_way(platform):  # noqa: F811
    base, _app, client = platform
    # Given a slip printed offline whose submission the kiosk has not delivered yet
    from kiosk.outcomes import Outcome, OutcomeKind

    slip = Outcome(kind=OutcomeKind.PENDING, submission_key="k", local_number="LT1-000043")
    url = receipt_qr(slip, base, client.secret)
    # When the citizen scans it, they read that it is on its way and when to look again,
    # not "this link opens nothing: scan the QR on your receipt" (which they just did)
    status, html = await page(url)
    assert status == 404 and "LT1-000043" in html
    assert "网络恢复后会自动提交" in html and "请扫描回执上的二维码" not in html
    status, html = await page(f"{url}&lang=en")
    assert "still on the self-service kiosk" in html

"""The pages a citizen's phone opens from the kiosk's QR codes (the receipt's progress page,
the guide screen's guide), in a real browser at a phone's size: ``central serve`` with the
county's catalog, an application submitted by an enrolled terminal and moved on by the
office's command. Screenshots land in var/test-output/phone/ for a person.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from client.platform import PlatformClient
from kiosk.catalog import default_catalog_dir, load_catalog
from kiosk.query import TRACK_PATH
from kiosk.receipt import Qr
from kiosk.receipts import build_receipt
from tests.integration.test_dashboard import Terminal, off_loop
from tests.support.browser import SHOTS
from tests.support.central import CentralProcess
from tests.support.county import county_submission

pytestmark = pytest.mark.integration
PHONES = {"phone-390": {"width": 390, "height": 844}, "phone-320": {"width": 320, "height": 640}}


@pytest.fixture(scope="module")
def progress_url(tmp_path_factory):
    """(the platform's URL, what the QR on the receipt of a birth bundle's application holds,
    its number), the application under review."""
    data = tmp_path_factory.mktemp("central")
    server = CentralProcess(data, Path("config/catalog"))
    url = server.start(timeout=30)
    try:
        kiosk = Terminal(url, "zhouhu")

        async def submit():
            async with PlatformClient(url, kiosk.terminal_id, kiosk.secret, timeout=10) as c:
                catalog = load_catalog(default_catalog_dir())
                return await c.submit(county_submission(catalog, kiosk.terminal_id, "zhouhu", "birth"))

        outcome = off_loop(submit)
        for _ in range(2):  # routed, then under review
            subprocess.run([sys.executable, "-m", "central.cli", "office", "advance",
                            outcome.acceptance_number, "--data-dir", str(data)],
                           check=True, capture_output=True, timeout=60)  # fmt: skip
        receipt = build_receipt(outcome, track_url=f"{url}{TRACK_PATH}", track_secret=kiosk.secret)
        [qr] = [b for b in receipt.blocks if isinstance(b, Qr)]
        yield url, qr.data, outcome.acceptance_number
    finally:
        server.stop()


@pytest.fixture(params=sorted(PHONES))
def phone(request, browser):
    context = browser.new_context(viewport=PHONES[request.param], device_scale_factor=2,
                                  is_mobile=True, has_touch=True, locale="zh-CN")  # fmt: skip
    page = context.new_page()
    page.size_name = request.param
    try:
        yield page
    finally:
        context.close()


def fits(page) -> None:
    """Nothing wider than the phone (no sideways scrolling), and type a person reads
    without zooming (16 px and over for the text)."""
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    sizes = page.evaluate("""[...document.querySelectorAll('p, li, dd, dt, td, span')]
        .filter(el => el.innerText.trim()).map(el => parseFloat(getComputedStyle(el).fontSize))""")
    assert sizes and min(sizes) >= 14, sizes  # (a note under a line at 14 px; the text 16 and up)


def shot(page, name: str) -> None:
    out = SHOTS.parent / "phone"
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / f"{name}-{page.size_name}.png"), full_page=True)


def test_the_receipt_s_code_opens_where_the_application_has_got_to(progress_url, phone):
    _, code, number = progress_url
    phone.goto(code)
    expect(phone.locator("h1")).to_have_text(number)
    expect(phone.locator("body")).to_contain_text("已受理，正在办理")
    expect(phone.locator("body")).to_contain_text("出生登记（新生儿户口登记）")
    expect(phone.locator("body")).to_contain_text("办理中")  # 审核, under way
    fits(phone)
    shot(phone, "progress")
    # and in English, from its link, the code kept
    phone.get_by_role("link", name="English").click()
    expect(phone.locator("body")).to_contain_text("Accepted and being handled")
    fits(phone)
    # each stage's name apart from its state, and a date never broken at its hyphen (at
    # 320 px it read "Reviewunder way since 2026-" / "12-08 05:56")
    review = phone.locator("ol.stages li.current")
    name, state = review.locator("span").nth(0), review.locator("span").nth(1)
    assert name.bounding_box()["x"] + name.bounding_box()["width"] < state.bounding_box()["x"] \
        or name.bounding_box()["y"] + name.bounding_box()["height"] <= state.bounding_box()["y"]
    when = review.locator(".when")
    assert when.bounding_box()["height"] < 1.5 * float(when.evaluate("e => getComputedStyle(e).lineHeight")
                                                       .removesuffix("px"))
    shot(phone, "progress-en")


def test_the_guide_s_code_opens_the_matter_s_guide(progress_url, phone):
    url, _, _ = progress_url
    phone.goto(f"{url}/guide/hukou_birth")
    expect(phone.locator("h1")).to_have_text("出生登记（新生儿户口登记）")
    expect(phone.locator("ol li")).to_have_count(5)
    # the bundle's call in its two lines, as on the screen (it ran together, "申请 只填")
    heading = phone.locator("section h2").last
    assert heading.inner_text().splitlines() == ["本事项在“一件事”里和相关事项一起申请", "只填一张表，只交一套材料"]
    fits(phone)
    shot(phone, "guide")
    phone.get_by_role("link", name="English").click()
    expect(phone.locator("h1")).not_to_have_text("出生登记（新生儿户口登记）")
    fits(phone)
    shot(phone, "guide-en")

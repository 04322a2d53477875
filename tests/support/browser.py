"""Debian's chromium, as the dashboard tests drive it (headless, through Playwright),
and what every dashboard test does with it: sign in, keep a screenshot."""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip
PASSWORD = "安福-hall-2026"  # of the dashboard users the tests add
SHOTS = Path(
    os.environ.get("DASHBOARD_SHOTS", "var/test-output/dashboard")
)  # for a person to look at


def sign_in(page, url: str, name: str, password: str = PASSWORD, *,
            target: str = "/dashboard/terminals", check: bool = True) -> None:  # fmt: skip
    """Sign in through the form ``target`` redirects to; ``check``: and see the name shown."""
    from playwright.sync_api import expect

    page.goto(f"{url}{target}")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    if check:
        expect(page.locator(".who")).to_contain_text(name)


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

"""Fixtures for the integration tests of central/ and client/: the database, on both engines."""

from __future__ import annotations

import pytest

from tests.support.browser import ARGS, CHROMIUM
from tests.support.postgres import PostgresCluster


@pytest.fixture(scope="session")
def postgres_cluster():
    """A private PostgreSQL cluster for the session; a start failure fails the tests that need it."""
    cluster = PostgresCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """The same test on SQLite (a file in tmp_path) and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'central.sqlite3'}"
    return request.getfixturevalue("postgres_cluster").create_database()


# -- a real browser for the dashboard's pages (Debian's chromium, headless) ------------


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=8000)  # as the pages' own: a busy 2-core CI machine is slow
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    context.set_default_timeout(8000)
    try:
        yield context.new_page()
    finally:
        context.close()

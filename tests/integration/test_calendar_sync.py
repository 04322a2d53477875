"""The platform's published holiday calendar reaches the terminal (kiosk/calendar_sync.py):
a year past chinese-calendar's data is counted by the announced days off and make-up
working days, not an estimate; kept on disk for a restart; asked for again only when it
changed. A real platform over HTTP."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from client.platform import PlatformClient
from kiosk.calendar_sync import CalendarCache, accept
from kiosk.catalog import default_catalog_dir, load_catalog
from kiosk.config import KioskConfig
from kiosk.errors import CalendarError
from kiosk.terminal import Ports, Terminal
from peripherals.idcard.emulator import sample_cards
from tests.support.central import CentralProcess, small_catalog

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
# test data, not an announcement: a year with a make-up working day on a Saturday
MADE_UP_2027 = """
[2027]
holidays = ["2027-01-01", "2027-01-04"]
workdays = ["2027-01-02"]
"""


@pytest.fixture
def platform(tmp_path):
    published = tmp_path / "calendar.toml"
    published.write_text((ROOT / "config/calendar/published.toml").read_text() + MADE_UP_2027)
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "catalog.json").write_text(json.dumps(small_catalog().to_dict(), ensure_ascii=False))
    server = CentralProcess(tmp_path / "central", catalog, env={"CENTRAL_CALENDAR": str(published)})
    server.start()
    yield server
    server.stop()


async def test_a_published_year_is_taken_kept_and_counted_by_the_next_visit(platform, tmp_path):
    terminal = Terminal(Ports(platform=PlatformClient(platform.url, timeout=10)), KioskConfig(),
                        load_catalog(default_catalog_dir()))  # fmt: skip
    terminal.calendar_cache = CalendarCache(tmp_path / "kiosk")
    try:
        # Before: a visit counts 2027 by an estimate, which cannot know the make-up day
        terminal.begin(sample_cards()[0])
        assert terminal.journey.calendar.source(2027) == "estimate"
        assert not terminal.journey.calendar.is_workday(dt.date(2027, 1, 2))
        terminal.end()
        # When the terminal asks (as every tenth heartbeat does)
        assert await terminal.refresh_calendar() is True
        # Then the next visit counts by the published year: Saturday the 2nd is worked,
        # Monday the 4th is not
        terminal.begin(sample_cards()[0])
        calendar = terminal.journey.calendar
        assert calendar.source(2027) == "published"
        assert calendar.is_workday(dt.date(2027, 1, 2)) and not calendar.is_workday(dt.date(2027, 1, 4))
        # five working days from Thursday 2026-12-31: 1-02, 1-05, 1-06, 1-07, 1-08
        assert terminal.journey.defer_due(dt.date(2026, 12, 31)) == dt.date(2027, 1, 8)
        terminal.end()
        # And it is asked for again only when it changed (its ETag)
        assert await terminal.refresh_calendar() is False
    finally:
        await terminal.ports.platform.close()
    # And a restart, offline, starts from the calendar kept on disk
    kept = CalendarCache(tmp_path / "kiosk").load()
    assert kept is not None and kept.value.source(2027) == "published" and kept.etag


def test_a_calendar_that_is_not_one_is_refused():
    for bad in ({}, {"years": []}, {"years": {"2027": {"holidays": ["2028-01-01"]}}},
                {"years": {"2027": {"holidays": 5}}}, {"years": {"2027": {"holidays": ["soon"]}}}):
        with pytest.raises(CalendarError):
            accept(bad)

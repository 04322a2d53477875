"""The volumes page (业务量) in a real browser, fed by real kiosk cores.

``central serve`` runs in its own process with the county catalog. Each terminal is
the kiosk's own core (kiosk.terminal.Terminal) over the real platform client: visits
begin and end (the terminal reports them), citizens submit through it, look an
application up and take tickets. The six days before today are written straight into
the server's database (as the dashboard bench does), so the daily chart has a history
to show; every assertion about today counts only the real traffic.
Screenshots go to $DASHBOARD_SHOTS (default var/test-output/dashboard).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from central import tables as t
from client.platform import PlatformClient
from kiosk.config import KioskConfig
from kiosk.terminal import Ports, Terminal
from tests.integration.test_dashboard import PASSWORD, central_cmd, off_loop
from tests.integration.test_dashboard import Terminal as Enrolled
from tests.support.browser import shot, sign_in
from tests.support.central import CentralProcess
from tests.support.county import county_catalog, county_submission, matters_of

pytestmark = pytest.mark.integration

CHINA = dt.timezone(dt.timedelta(hours=8))
USERS = {"admin": ("admin", []), "zhouhu-mgr": ("manager", ["zhouhu"]), "tech": ("technician", [])}

# (life event or "", submits?, how it ends) for each visit at a terminal
VISITS = {
    "zhouhu-1": [("birth", True, "finished"), ("birth", True, "finished"),
                 ("retirement", True, "finished"), ("retirement", False, "timeout"),
                 ("", False, "finished")],
    "zhouhu-2": [("after_death", True, "finished"), ("", False, "card_removed")],
    "afx-1": [("business", True, "finished"), ("housing", False, "timeout"), ("", False, "finished")],
}  # fmt: skip
QUERIES = {"zhouhu-1": 2, "zhouhu-2": 1, "afx-1": 1}
TICKETS = {"zhouhu-1": 3, "zhouhu-2": 0, "afx-1": 2}


async def kiosk_traffic(url: str, enrolled: Enrolled, name: str) -> None:
    """One terminal's visits, queries and tickets, through the kiosk core and the client."""
    catalog = county_catalog()
    async with PlatformClient(url, enrolled.terminal_id, enrolled.secret, timeout=10) as client:
        kiosk = Terminal(Ports(platform=client), KioskConfig())
        numbers = []
        for i, (event, submits, ends) in enumerate(VISITS[name]):
            kiosk.begin(None)
            kiosk.session.life_event = event
            if submits:
                sub = county_submission(catalog, enrolled.terminal_id, enrolled.point, event, i)
                kiosk.outcome = await client.submit(sub)
                numbers.append(kiosk.outcome.acceptance_number)
            kiosk.end(ends)
        for i in range(QUERIES[name]):
            await kiosk.progress(numbers[i % len(numbers)])
        for _ in range(TICKETS[name]):
            await client.ticket(enrolled.point, "general")
        await kiosk.send_events()
        assert kiosk.pending_events() == []
        await kiosk.aclose()


def seed_history(data_dir: Path, terminals: dict[str, Enrolled]) -> None:
    """The six days before today (China time): sessions, queries, submissions and tickets in
    office-hour shapes, written into the server's database."""
    engine = sa.create_engine(f"sqlite:///{data_dir / 'central.sqlite3'}")
    rnd = random.Random(8)
    today = dt.datetime.now(CHINA).date()
    events, subs, tickets = [], [], []
    weights = [0, 0, 0, 0, 0, 0, 1, 2, 6, 9, 10, 8, 3, 4, 8, 9, 7, 4, 2, 1, 1, 0, 0, 0]
    for back in range(1, 7):
        day = today - dt.timedelta(days=back)
        busy = 0.5 if day.weekday() >= 5 else 1.0
        for name, term in terminals.items():
            for hour, w in enumerate(weights):
                for _ in range(rnd.randint(0, int(w * busy * (1.6 if "1" in name else 0.8)))):
                    at = dt.datetime.combine(day, dt.time(hour, rnd.randint(0, 59)), CHINA)
                    at = at.astimezone(dt.UTC)
                    event = rnd.choice(["birth", "retirement", "after_death", "business", "housing",
                                        "employment", "", ""])  # fmt: skip
                    events.append({"key": uuid.uuid4().hex, "terminal_id": term.terminal_id,
                                   "service_point": term.point, "kind": "session", "at": at,
                                   "received_at": at, "detail": {"end": "finished", "life_event": event,
                                   "seconds": 200.0, "submitted": bool(event), "elderly": False,
                                   "language": "zh"}})  # fmt: skip
                    if event and rnd.random() < 0.6:
                        subs.append({"key": f"hist-{uuid.uuid4().hex}", "body_hash": "0" * 64,
                                     "terminal_id": term.terminal_id, "accepting_point": term.point,
                                     "received_at": at, "body": {"life_event": event,
                                     "matters": list(county_catalog_matters(event))}})  # fmt: skip
                    if rnd.random() < 0.35:
                        events.append({"key": uuid.uuid4().hex, "terminal_id": term.terminal_id,
                                       "service_point": term.point, "kind": "query", "at": at,
                                       "received_at": at, "detail": {"what": "progress", "found": True}})  # fmt: skip
                    if rnd.random() < 0.5:
                        tickets.append({"service_point": term.point, "day": f"{day:%Y%m%d}",
                                        "seq": len(tickets) + 1, "queue": "general",
                                        "terminal_id": term.terminal_id, "issued_at": at})  # fmt: skip
    with engine.begin() as conn:
        conn.execute(t.terminal_events.insert(), events)
        conn.execute(t.submissions.insert(), subs)
        conn.execute(t.tickets.insert(), tickets)
    engine.dispose()


def county_catalog_matters(event: str, _cache: dict = {}) -> tuple[str, ...]:  # noqa: B006
    if not _cache:
        cat = county_catalog()
        _cache.update({code: matters_of(cat, code) for code in cat.life_events})
    return _cache[event]


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    """The platform with three users, three kiosks' real traffic today and six days of history."""
    data = tmp_path_factory.mktemp("central")
    for name, (role, points) in USERS.items():
        extra = [a for p in points for a in ("--point", p)]
        done = central_cmd(data, "users", "add", name, "--role", role, *extra, "--password-stdin",
                           stdin=PASSWORD + "\n")  # fmt: skip
        assert done.returncode == 0, done.stderr
    # (tickets at any hour: the county's halls give them only in office hours)
    server = CentralProcess(data, Path("config/catalog"), env={"CENTRAL_TICKETS_ANY_TIME": "1"})
    url = server.start(timeout=30)
    try:
        terminals = {name: Enrolled(url, name.split("-")[0]) for name in VISITS}
        for name, enrolled in terminals.items():
            off_loop(lambda e=enrolled, n=name: kiosk_traffic(url, e, n), timeout=60)
        seed_history(data, terminals)
        yield url, terminals
    finally:
        server.stop()


def total(measure: str) -> int:
    if measure == "sessions":
        return sum(len(v) for v in VISITS.values())
    if measure == "applications":
        return sum(s for v in VISITS.values() for _, s, _ in v)
    return sum((QUERIES if measure == "queries" else TICKETS).values())


def test_todays_kiosk_traffic_is_counted_by_hour_in_cards_and_charts(hall, page):
    url, terminals = hall
    # Given the kiosks' real traffic this hour
    hour = dt.datetime.now(CHINA).strftime("%Y-%m-%d %H")
    # When the administrator opens today's volumes by hour
    sign_in(page, url, "admin", target="/dashboard/volumes?unit=hour")
    # Then every card and every chart's bar for this hour counts exactly that traffic
    for measure in ("sessions", "applications", "queries", "tickets"):
        expect(page.locator(f'.card[data-measure="{measure}"] b')).to_have_text(str(total(measure)))
        bar = page.locator(f'.chartbox[data-measure="{measure}"] rect[data-bucket="{hour}"]')
        expect(bar).to_have_attribute("data-value", str(total(measure)))
        expect(
            page.locator(f'.chartbox[data-measure="{measure}"] rect[data-bucket]')
        ).to_have_count(24)
    # and how many visits ended on the countdown (two of ten)
    expect(page.locator('.card[data-measure="sessions"]')).to_contain_text("超时离开 2 次（20%）")
    # And the applications are split by life event and by matter, with the catalog's names
    birth = page.locator('svg[aria-label="按一件事"] g[data-key="birth"]')
    expect(birth).to_have_attribute("data-value", "2")
    expect(birth).to_contain_text("新生儿出生一件事")
    expect(page.locator('svg[aria-label="按事项"] g[data-key="hukou_birth"]')).to_have_attribute(
        "data-value", "2")  # fmt: skip
    # And each terminal and each service point has its own counts
    row = page.locator(f'tr[data-terminal="{terminals["zhouhu-1"].terminal_id}"]')
    expect(row.locator('td[data-measure="sessions"] b')).to_have_text("5")
    expect(row.locator('td[data-measure="tickets"] b')).to_have_text("3")
    expect(page.locator('svg[aria-label="按服务点"] g[data-key="afx"] rect[data-series="服务人次"]')
           ).to_have_attribute("data-value", "3")  # fmt: skip
    shot(page, "volumes-hourly")


def test_the_week_by_day_shows_history_and_today(hall, page):
    url, _ = hall
    sign_in(page, url, "admin", target="/dashboard/volumes")
    today = dt.datetime.now(CHINA).date()
    bars = page.locator('.chartbox[data-measure="sessions"] rect[data-bucket]')
    expect(bars).to_have_count(7)
    expect(bars.nth(6)).to_have_attribute("data-bucket", today.isoformat())
    # today's bar is the real traffic; the days before hold the history
    expect(bars.nth(6)).to_have_attribute("data-value", str(total("sessions")))
    assert all(int(bars.nth(i).get_attribute("data-value")) > 0 for i in range(6))
    shot(page, "volumes")
    # And a range in the past leaves today out
    yesterday = today - dt.timedelta(days=1)
    page.goto(f"{url}/dashboard/volumes?from={yesterday}&to={yesterday}&unit=hour")
    expect(page.locator('.chartbox[data-measure="sessions"] rect[data-bucket]')).to_have_count(24)
    expect(page.locator(f'.chartbox rect[data-bucket="{today} 00"]')).to_have_count(0)
    # And three days by hour are 72 bars, each day's midnight labelled
    first = today - dt.timedelta(days=2)
    page.goto(f"{url}/dashboard/volumes?from={first}&to={today}&unit=hour")
    expect(page.locator('.chartbox[data-measure="sessions"] rect[data-bucket]')).to_have_count(72)
    shot(page, "volumes-3days-hourly")


def test_a_hall_manager_sees_only_their_points_volumes(hall, page):
    url, terminals = hall
    # When the 洲湖 manager opens today's volumes
    sign_in(page, url, "zhouhu-mgr", target="/dashboard/volumes?unit=hour")
    # Then only 洲湖's two terminals are counted
    zhouhu_sessions = len(VISITS["zhouhu-1"]) + len(VISITS["zhouhu-2"])
    expect(page.locator('.card[data-measure="sessions"] b')).to_have_text(str(zhouhu_sessions))
    expect(page.locator(f'tr[data-terminal="{terminals["afx-1"].terminal_id}"]')).to_have_count(0)
    expect(page.locator('svg[aria-label="按服务点"] g[data-key]')).to_have_count(1)
    # And asking for another point or its terminal is refused
    assert page.request.get(f"{url}/dashboard/volumes?point=afx").status == 403
    afx_terminal = terminals["afx-1"].terminal_id
    assert page.request.get(f"{url}/dashboard/volumes?terminal={afx_terminal}").status == 403
    # And one of their own terminals can be looked at alone
    mine = terminals["zhouhu-2"].terminal_id
    page.goto(f"{url}/dashboard/volumes?point=zhouhu&terminal={mine}&unit=hour")
    expect(page.locator('.card[data-measure="sessions"] b')).to_have_text("2")
    shot(page, "volumes-manager")


def test_a_technician_has_no_volumes_tab_and_is_refused_the_page(hall, page):
    url, _ = hall
    sign_in(page, url, "tech", target="/dashboard/volumes")
    expect(page.locator("h1")).to_contain_text("无权访问")
    expect(page.locator('nav a[href="/dashboard/volumes"]')).to_have_count(0)
    assert page.request.get(f"{url}/dashboard/volumes").status == 403

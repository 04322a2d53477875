"""What the terminal counts for the hall's volumes page: visits and queries, nothing personal."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json

from kiosk.config import KioskConfig
from kiosk.errors import PlatformRejected, PlatformUnreachable
from kiosk.terminal import Ports, Terminal
from tests.fakes import an_id_card

START = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self):
        self.at = START

    def __call__(self):
        return self.at


class EventSink:
    """The platform port's ``send_events``, failing as told."""

    def __init__(self, failures=()):
        self.failures = list(failures)
        self.batches: list[list[dict]] = []

    async def send_events(self, events):
        if self.failures:
            raise self.failures.pop(0)
        self.batches.append([dict(e) for e in events])
        return len(events)

    async def progress(self, number):
        raise PlatformRejected("HTTP 404 application.not_found", status=404)


def a_terminal(platform) -> tuple[Terminal, Clock]:
    clock = Clock()
    return Terminal(Ports(platform=platform), KioskConfig(), now=clock), clock


async def test_an_ended_visit_is_reported_with_codes_and_duration_only():
    # Given a citizen who chose the birth life event and walked away
    sink = EventSink()
    t, clock = a_terminal(sink)
    t.begin(an_id_card())
    t.session.life_event = "birth"
    t.session.values["applicant_phone"] = "13907961234"
    clock.at = START + dt.timedelta(seconds=95)
    # When the visit ends by timeout
    t.end("timeout")
    await asyncio.wait_for(_until(lambda: sink.batches), 2)
    # Then one session event went out: how long, how it ended, which life event
    (event,) = sink.batches[0]
    assert event["kind"] == "session" and event["end"] == "timeout"
    assert event["life_event"] == "birth" and event["seconds"] == 95.0
    assert event["submitted"] is False and event["at"] == START.isoformat()
    # And nothing personal rode along
    text = json.dumps(event, ensure_ascii=False)
    for personal in ("王芳", "362429199005010048", "13907961234", "平都镇"):
        assert personal not in text


async def test_a_timed_out_visit_keeps_its_life_event_though_the_session_wiped_itself():
    sink = EventSink()
    t, clock = a_terminal(sink)
    t.begin(an_id_card())
    t.session.life_event = "retirement"
    clock.at = START + dt.timedelta(hours=1)  # long past idle + warning
    t.tick()
    await asyncio.wait_for(_until(lambda: sink.batches), 2)
    assert sink.batches[0][0]["life_event"] == "retirement"
    assert sink.batches[0][0]["end"] == "timeout"


async def test_events_wait_while_the_platform_is_away_and_go_with_the_next_try():
    # Given the platform is unreachable
    sink = EventSink([PlatformUnreachable("down")])
    t, _ = a_terminal(sink)
    t.begin(None)
    t.end("finished")
    await asyncio.sleep(0.05)
    # Then the visit waits on the terminal
    assert len(t.pending_events()) == 1 and not sink.batches
    # When the platform is back (the heartbeat loop tries again)
    assert await t.send_events() == 1
    # Then it is delivered once and nothing waits
    assert len(sink.batches) == 1 and t.pending_events() == []


async def test_a_batch_the_platform_refuses_as_malformed_is_dropped_not_retried_forever():
    sink = EventSink([PlatformRejected("HTTP 400", status=400)])
    t, _ = a_terminal(sink)
    t.record_query("progress")
    await asyncio.sleep(0.05)
    assert t.pending_events() == [] and sink.batches == []


async def test_a_refusal_for_trust_keeps_the_events_for_later():
    sink = EventSink([PlatformRejected("HTTP 401 auth.stale", status=401)])
    t, _ = a_terminal(sink)
    t.record_query("progress")
    await asyncio.sleep(0.05)
    assert len(t.pending_events()) == 1


async def test_a_progress_lookup_counts_as_a_query_without_the_number():
    sink = EventSink()
    t, _ = a_terminal(sink)
    with contextlib.suppress(PlatformRejected):
        await t.progress("AF2026112300001")
    await asyncio.wait_for(_until(lambda: sink.batches), 2)
    (event,) = sink.batches[0]
    assert event["kind"] == "query" and event["what"] == "progress" and event["found"] is False
    assert "AF2026112300001" not in json.dumps(event)


def test_without_a_running_loop_events_wait_for_the_heartbeat():
    t, _ = a_terminal(EventSink())
    t.begin(None)
    t.end()
    assert [e["kind"] for e in t.pending_events()] == ["session"]


async def _until(check):
    while not check():
        await asyncio.sleep(0.01)

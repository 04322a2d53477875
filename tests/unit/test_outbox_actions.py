"""The outbox's pure decisions: what to send, what waits, what is set aside."""

from __future__ import annotations

from client.outbox_actions import (
    BACKOFF_CAP,
    DEAD,
    REJECTED,
    Entry,
    GiveUp,
    Send,
    determine_actions,
    next_wake,
    retry_at,
)
from client.platform import backoff_delay

NOW = 1_800_000_000.0


def entry(i: int, **kw) -> Entry:
    return Entry(
        id=i, key=f"k{i}", local_number=f"L-{i}", created_at=kw.pop("created_at", NOW - 60), **kw
    )


def test_due_entries_are_sent_in_id_order():
    actions = determine_actions([entry(3), entry(1), entry(2)], NOW)
    assert actions == [Send(1), Send(2), Send(3)]


def test_an_entry_waiting_for_its_retry_stops_the_round_so_nothing_overtakes_it():
    # Given the oldest entry is backing off and a newer one is due
    entries = [entry(1, attempts=2, next_attempt_at=NOW + 30), entry(2)]
    # Then nothing is sent this round
    assert determine_actions(entries, NOW) == []
    # And once its time comes, both go, oldest first
    assert determine_actions(entries, NOW + 31) == [Send(1), Send(2)]


def test_after_the_clock_is_set_back_hours_a_waiting_retry_is_due_now_not_in_hours():
    # Given a retry set for five minutes ahead, on a clock that was 8 hours fast
    fast = NOW + 8 * 3600
    entries = [entry(1, attempts=9, next_attempt_at=retry_at(9, fast, 0.99)), entry(2)]
    # When NTP sets the clock right, the line moves at once (it waited 8 hours before)
    assert determine_actions(entries, NOW) == [Send(1), Send(2)]
    assert next_wake(entries, NOW) == NOW
    # And an ordinary backoff, up to its cap, is still waited for
    ordinary = [entry(1, attempts=9, next_attempt_at=retry_at(9, NOW, 0.99))]
    assert determine_actions(ordinary, NOW) == [] and next_wake(ordinary, NOW) > NOW + BACKOFF_CAP


def test_a_refused_entry_is_given_up_and_the_line_moves_on():
    entries = [entry(1, last_error=REJECTED, attempts=1), entry(2)]
    assert determine_actions(entries, NOW) == [GiveUp(1, REJECTED), Send(2)]


def test_entries_already_set_aside_are_ignored():
    assert determine_actions([entry(1, state=DEAD), entry(2)], NOW) == [Send(2)]


def test_a_month_old_entry_is_set_aside_for_a_technician():
    old = entry(1, created_at=NOW - 31 * 24 * 3600, attempts=500, next_attempt_at=NOW + 100)
    assert determine_actions([old, entry(2)], NOW) == [GiveUp(1, "too_old"), Send(2)]


def test_an_entry_kept_while_the_clock_had_lost_its_time_is_sent_when_it_is_right():
    # a kiosk that booted in 2000 (a flat clock battery) during an outage kept a slip; the
    # network and the right time come back: the slip goes, it is not decades old
    kept_in_2000 = entry(1, created_at=946_684_800.0)
    assert determine_actions([kept_in_2000], NOW) == [Send(1)]


def test_network_failures_are_never_given_up_within_the_month():
    e = entry(1, attempts=10_000, last_error="PlatformUnreachable", next_attempt_at=NOW)
    assert determine_actions([e], NOW) == [Send(1)]


def test_retry_time_grows_exponentially_with_jitter_and_a_cap():
    first, second, third = (retry_at(n, NOW, 0.5) - NOW for n in (1, 2, 3))
    assert (first, second, third) == (2.0, 4.0, 8.0)
    assert retry_at(1, NOW, 0.0) - NOW == 1.0 and retry_at(1, NOW, 0.999) - NOW < 3.0
    assert retry_at(50, NOW, 0.999) - NOW < 1.5 * BACKOFF_CAP


def test_next_wake_is_the_earliest_queued_retry():
    entries = [
        entry(1, next_attempt_at=NOW + 50),
        entry(2, next_attempt_at=NOW + 20),
        entry(3, state=DEAD),
    ]
    assert next_wake(entries, NOW) == NOW + 20
    assert next_wake([], NOW) is None


def test_client_backoff_doubles_and_is_capped():
    assert [backoff_delay(a, 0.2, 1.0, 0.5) for a in (1, 2, 3, 4)] == [0.2, 0.4, 0.8, 1.0]

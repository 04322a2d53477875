"""Counting cards a reader failed to read: once per card, within a window."""

from __future__ import annotations

from kiosk.health import FailedReads, Health, HealthState


def test_one_card_failing_on_every_poll_counts_once_until_the_reader_is_cleared():
    reads = FailedReads(window=60)
    for t in range(10):  # the same damaged card, polled ten times
        reads.failed("idcard", float(t))
    assert reads.count("idcard", 10.0) == 1
    reads.cleared("idcard")  # taken away
    reads.failed("idcard", 11.0)  # the next card fails too
    assert reads.count("idcard", 11.0) == 2
    assert reads.count("sscard", 11.0) == 0  # each reader on its own


def test_failures_older_than_the_window_are_forgotten():
    reads = FailedReads(window=60)
    for t in (0.0, 10.0, 20.0):
        reads.failed("idcard", t)
        reads.cleared("idcard")
    assert reads.count("idcard", 30.0) == 3
    assert reads.count("idcard", 65.0) == 2
    assert reads.count("idcard", 200.0) == 0


def test_judge_adds_the_count_and_turns_a_good_reader_amber_at_three_but_keeps_a_fault():
    reads = FailedReads(window=3600)
    good = Health.good("idcard", port="/dev/idcard")
    assert reads.judge(good, 0.0) is good  # nothing failed: as the driver said
    for t in (1.0, 2.0):
        reads.failed("idcard", t)
        reads.cleared("idcard")
    two = reads.judge(good, 3.0)
    assert two.state is HealthState.OK and two.details == {"port": "/dev/idcard", "failed_reads": "2"}
    reads.failed("idcard", 4.0)
    three = reads.judge(good, 5.0)
    assert three.state is HealthState.DEGRADED and three.details["failed_reads"] == "3"
    assert three.reason == "3 cards not read in the last 60 min: clean the reader, check its cable"
    fault = reads.judge(Health.fault("idcard", "reader unplugged"), 5.0)
    assert fault.state is HealthState.FAULT and fault.reason == "reader unplugged"

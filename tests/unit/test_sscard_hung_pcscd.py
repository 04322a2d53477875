"""The social-security card reader's driver while pcscd does not answer: one call waits with
it, none piles up behind (a heartbeat every 30 s would leave a thread each, all night)."""

from __future__ import annotations

import threading

import pytest

from kiosk.errors import DeviceError
from peripherals.sscard.driver import PcscSocialCardReader


def test_while_pcscd_hangs_one_call_waits_and_the_others_are_refused_at_once():
    reader = PcscSocialCardReader()
    answer = threading.Event()
    # Given a call pcscd does not answer in time
    with pytest.raises(DeviceError, match="did not answer"):
        reader._call(lambda: answer.wait(10), 0.05, "health")
    waiting = threading.active_count()
    # When more calls come meanwhile (the next heartbeats), none is begun: no thread piles up
    for _ in range(5):
        with pytest.raises(DeviceError, match="earlier call"):
            reader._call(lambda: True, 0.05, "health")
    assert threading.active_count() == waiting
    # and once pcscd answers, calls go through again
    answer.set()
    reader._hung.join(2)
    assert reader._call(lambda: "ok", 1.0, "health") == "ok"

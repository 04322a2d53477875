"""The supervisor starts real daemons, reports failures in one line, and stops everything."""

from __future__ import annotations

import subprocess

import pytest

from peripherals.supervisor import Supervisor, SupervisorError, Xvfb

pytestmark = pytest.mark.integration


def test_xvfb_gives_a_display_an_x_client_can_use(tmp_path):
    xvfb = Xvfb(1080, 1920)
    xvfb.start(tmp_path)
    try:
        info = subprocess.run(["xdpyinfo", "-display", xvfb.display], capture_output=True,
                              text=True, timeout=20)
        assert info.returncode == 0, info.stderr
        assert "1080x1920 pixels" in info.stdout
    finally:
        xvfb.stop()
    assert xvfb.proc.poll() is not None, "Xvfb still running after stop()"


def test_a_missing_xvfb_is_one_line_saying_how_to_fix_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine where Xvfb was never installed
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(SupervisorError) as err:
        Supervisor(tmp_path / "w", parts=("display",)).start()
    message = str(err.value)
    assert "\n" not in message
    assert "Xvfb is not installed" in message and "scripts/setup.sh" in message


def test_an_unknown_part_is_named(tmp_path):
    with pytest.raises(SupervisorError, match="unknown part 'fax'"):
        Supervisor(tmp_path, parts=("fax",)).start()


def test_a_failing_part_stops_the_parts_already_started(tmp_path, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    sup = Supervisor(tmp_path, parts=("display", "fax"))
    with pytest.raises(SupervisorError, match="unknown part 'fax'"):
        sup.start()
    assert "display" in sup.by_name  # Xvfb had started before the part that failed
    assert sup.by_name["display"].proc.poll() is not None, "Xvfb left running"


def test_with_a_display_already_set_no_xvfb_is_started(tmp_path, monkeypatch):
    monkeypatch.setenv("DISPLAY", ":99")
    with Supervisor(tmp_path, parts=("display",)) as sup:
        # no Xvfb process, and nothing for the kiosk's environment: it keeps the screen it has
        assert "display" not in sup.by_name and sup.pids() == []
        assert "DISPLAY" not in sup.env()

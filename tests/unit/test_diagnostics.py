"""The diagnostics bundle and the personal-data scanner, on files in a temporary directory."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import io
import json
import logging
import zipfile

import pytest

from kiosk import privacy
from kiosk.config import KioskConfig, PlatformConfig, TerminalConfig
from kiosk.diagnostics import (
    HISTORY_FILE,
    DiagnosticsError,
    HealthHistory,
    build_bundle,
    log_to_file,
    record_selftest,
    redacted_config,
)
from kiosk.health import Health
from kiosk.selftest import Check

NOW = dt.datetime(2026, 11, 23, 6, 30, tzinfo=dt.UTC)
ID = "362429199003070020"  # valid check digit (李秀英 of the sample cards)
NOT_ID = "362429199003070021"  # the same with a wrong check digit


def a_zip(members: dict[str, bytes | str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def kinds(found) -> set[tuple[str, str]]:
    return {(f.member, f.kind) for f in found}


def test_the_scanner_finds_id_numbers_phones_names_and_photos():
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 64
    png_b64 = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64).decode()
    bundle = a_zip({
        "logs/kiosk.log": f"read card {ID} for 李秀英, phone 13907961234\n",
        "a.json": json.dumps({"photo": png_b64}),
        "face.jpg": b"not even a jpeg",
        "blob.bin": b"xx" + jpeg,
        "ok.txt": f"order AF2026112300001, invalid {NOT_ID}, time 1732345678\n",
    })  # fmt: skip
    found = privacy.scan_bundle(bundle, names=["李秀英", "张伟"])
    assert kinds(found) == {("logs/kiosk.log", "id_number"), ("logs/kiosk.log", "phone"),
                            ("logs/kiosk.log", "name"), ("a.json", "photo"),
                            ("face.jpg", "photo"), ("blob.bin", "photo")}  # fmt: skip
    assert all(ID not in str(f) and "13907961234" not in str(f) for f in found)


def test_scrub_removes_id_and_phone_numbers_and_keeps_the_rest():
    text = f"card {ID} (x {ID[:-1]}X?) call +86 13907961234 ticket A023 at 2026-11-23"
    clean = privacy.scrub(text)
    assert ID not in clean and "13907961234" not in clean
    assert "ticket A023 at 2026-11-23" in clean and privacy.REMOVED in clean


def test_the_log_file_never_receives_an_id_number(tmp_path):
    path = log_to_file(tmp_path, logging.DEBUG)
    try:
        logging.getLogger("kiosk.test").warning("reader gave %s and %s", ID, "13907961234")
    finally:
        for h in list(logging.getLogger().handlers):
            if getattr(h, "baseFilename", "") == str(path):
                logging.getLogger().removeHandler(h)
                h.close()
    text = path.read_text(encoding="utf-8")
    assert "reader gave" in text and ID not in text and "13907961234" not in text
    assert path.stat().st_mode & 0o077 == 0


def test_device_history_keeps_a_line_per_change_and_every_selftest(tmp_path):
    history = HealthHistory(tmp_path / HISTORY_FILE)
    ok = [Health.good("printer"), Health.good("idcard")]
    assert history.record("heartbeat", ok, NOW, "ok")
    assert not history.record("heartbeat", ok, NOW, "ok")  # nothing changed
    assert history.record("heartbeat", ok, NOW, "near_end")
    record_selftest(tmp_path, [Check("printer", False, "PaperOut: no paper")], NOW)
    lines = [json.loads(x) for x in HealthHistory(tmp_path / HISTORY_FILE).lines()]
    assert [x["source"] for x in lines] == ["heartbeat", "heartbeat", "selftest"]
    assert lines[-1]["devices"] == [{"device": "printer", "state": "fault",
                                     "reason": "PaperOut: no paper"}]  # fmt: skip


def test_device_history_is_bounded(tmp_path):
    history = HealthHistory(tmp_path / HISTORY_FILE, keep=10)
    for i in range(60):
        history.record("heartbeat", [Health.degraded("printer", f"retry {i}")], NOW)
    assert 10 <= len(history.lines()) < 60


def test_a_long_history_is_not_rewritten_at_every_change(tmp_path):
    # Given a kiosk whose lines are long (five devices, a reason each: over 400 bytes)
    class Counting(HealthHistory):
        trims = 0

        def _trim(self) -> None:
            Counting.trims += 1
            super()._trim()

    history = Counting(tmp_path / HISTORY_FILE, keep=10)
    devices = [Health.fault(d, "unreachable: cannot open serial:///dev/kiosk-" + d * 8)
               for d in ("idcard", "printer", "scanner", "camera", "sscard")]  # fmt: skip
    for i in range(100):
        history.record("heartbeat", [*devices, Health.degraded("extra", f"retry {i}")], NOW)
    # Then it is trimmed now and then (every few changes), not at each of them, and still
    # holds at least the last ten
    assert Counting.trims <= 25
    assert len(history.lines()) >= 10 and "retry 99" in history.lines()[-1]


def config(tmp_path) -> KioskConfig:
    return KioskConfig(
        terminal=TerminalConfig(id="T0A1B2C3D4", service_point="zhouhu"),
        platform=PlatformConfig(url="https://kiosk:s3cr3t-pass@zwfw.example.gov.cn/api?token=abc"),
        data_dir=str(tmp_path),
    )


def test_the_config_loses_its_credentials(tmp_path):
    text = redacted_config(config(tmp_path))
    assert "s3cr3t-pass" not in text and "token=abc" not in text
    assert 'url = "https://zwfw.example.gov.cn/api"' in text


def test_a_bundle_has_logs_versions_history_and_config_and_nothing_secret(tmp_path):
    # Given a terminal's data dir with a log that once held an ID number, its credentials
    # and an outbox (which must never travel)
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "kiosk.log").write_text(f"old line with {ID}\nprinter ok\n", "utf-8")
    (tmp_path / "logs" / "kiosk.log.1").write_text("an older file\n", "utf-8")
    (tmp_path / "terminal.json").write_text('{"secret": "terminal-secret"}', "utf-8")
    (tmp_path / "outbox.key").write_bytes(b"k" * 32)
    HealthHistory(tmp_path / HISTORY_FILE).record("heartbeat", [Health.good("printer")], NOW, "ok")
    record_selftest(tmp_path, [Check("printer", True, "printed a test page")], NOW)
    # When the bundle is built
    bundle = build_bundle(config(tmp_path), NOW, {"outbox.json": '{"waiting_submissions": 2}'})
    # Then it holds what a technician needs
    zf = zipfile.ZipFile(io.BytesIO(bundle))
    assert set(zf.namelist()) == {"manifest.json", "versions.json", "config.toml",
                                  "logs/kiosk.log", "logs/kiosk.log.1", "health-history.jsonl",
                                  "selftest.json", "outbox.json"}  # fmt: skip
    versions = json.loads(zf.read("versions.json"))
    assert versions["python"].startswith("3.") and "kivy" in versions["packages"]
    assert json.loads(zf.read("manifest.json"))["terminal_id"] == "T0A1B2C3D4"
    assert "printer ok" in zf.read("logs/kiosk.log").decode()
    # And nothing personal or secret
    everything = b"".join(zf.read(n) for n in zf.namelist())
    for secret in (ID.encode(), b"terminal-secret", b"s3cr3t-pass", b"k" * 32):
        assert secret not in everything
    assert privacy.scan_bundle(bundle) == []


def test_a_bundle_that_would_carry_a_photo_is_refused(tmp_path):
    with pytest.raises(DiagnosticsError, match="photo"):
        build_bundle(config(tmp_path), NOW, {"camera.bin": b"\xff\xd8\xff\xe0 a frame"})


def test_scrub_removes_a_mistyped_id_number_and_bank_or_card_numbers_too():
    wrong = ID[:-1] + ("0" if ID[-1] != "0" else "1")  # a check digit that fails
    text = f"typed {wrong}, account 6222021234567890123, card 6217001234567890, old {ID[:6]}{ID[8:17]}"
    clean = privacy.scrub(text + " acceptance AF2026120600001 at 1733500000123 ms")
    assert wrong not in clean and "6222021234567890123" not in clean
    assert "6217001234567890" not in clean and ID[8:17] not in clean
    assert clean.endswith("acceptance AF2026120600001 at 1733500000123 ms")


@contextlib.contextmanager
def scrubbed_log(tmp_path, *handlers: logging.Handler):
    """The kiosk's log file (its path) beside ``handlers``, every root handler scrubbing as
    kiosk.cli sets them (pytest's too, for the test); all as before afterwards."""
    root = logging.getLogger()
    for h in handlers:
        root.addHandler(h)
    path = log_to_file(tmp_path, logging.DEBUG)
    privacy.scrub_logs()
    try:
        yield path
    finally:
        for h in list(root.handlers):
            h.filters = [f for f in h.filters if not isinstance(f, privacy.ScrubFilter)]
            if h in handlers or getattr(h, "baseFilename", "") == str(path):
                root.removeHandler(h)
                h.close()


def test_a_logged_traceback_and_the_stderr_copy_never_carry_an_id_number(tmp_path):
    # Given the kiosk's file log and a console handler, both scrubbed (as kiosk.cli sets them)
    console = io.StringIO()
    handler = logging.StreamHandler(console)
    with scrubbed_log(tmp_path, handler) as path:
        # When an error quoting the citizen's number is logged with its traceback
        try:
            raise ValueError(f"bad value {ID} for the phone 13907961234")
        except ValueError:
            logging.getLogger("kiosk.test").exception("reading the card failed")
    # Then both say what failed, with the traceback, and neither holds the numbers
    for text in (path.read_text(encoding="utf-8"), console.getvalue()):
        assert "reading the card failed" in text and "ValueError: bad value" in text
        assert "Traceback" in text and ID not in text and "13907961234" not in text


def test_a_malformed_log_call_is_still_written_and_does_not_raise(tmp_path):
    with scrubbed_log(tmp_path) as path:
        logging.getLogger("kiosk.test").warning("two values %s %s for %s", ID)  # one missing
    assert "two values %s %s for %s" in path.read_text(encoding="utf-8")


def test_a_refusal_an_older_platform_does_not_take_is_not_built_again_at_every_beat(tmp_path):
    import asyncio

    from kiosk.errors import PlatformRejected, PlatformUnreachable
    from kiosk.terminal import Ports, Terminal

    class Platform:  # answers as a platform without POST /diagnostics/refused (404), or away
        def __init__(self, refusal: Exception) -> None:
            self.refusal, self.refused = refusal, 0

        async def upload_diagnostics(self, bundle, request_id=None):
            raise AssertionError("a refused bundle is never sent")

        async def refuse_diagnostics(self, request_id, reason):
            self.refused += 1
            raise self.refusal

    def built_for(platform) -> int:
        terminal = Terminal(Ports(platform=platform), config(tmp_path), catalog=None)
        builds = []

        def bundle() -> bytes:
            builds.append(1)
            raise DiagnosticsError("personal data in the bundle", reason="personal")

        terminal.diagnostics = bundle
        for _ in range(3):  # three heartbeats, each naming the request
            asyncio.run(terminal.answer_diagnostics({"diagnostics": [7]}))
        return len(builds)

    old = Platform(PlatformRejected("HTTP 404", status=404, message_key="request.not_found"))
    assert built_for(old) == 1 and old.refused == 1  # once: the request is left to expire
    away = Platform(PlatformUnreachable("no answer"))
    assert built_for(away) == 3 and away.refused == 3  # away: said again at the next beat

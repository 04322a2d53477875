"""The diagnostics bundle after a real, demo-like visit, and its way to the dashboard.

Real parts: the central server, the GA 467 ID card emulator on a pty, the ESC/POS
printer emulator on TCP, the camera sources and the scanner emulator (started by the
supervisor, as ``kiosk demo`` does). The kiosk's own core reads a citizen's card,
fills the birth bundle's one form, scans the materials, submits, prints the receipt,
is rated and ends the visit, with every logger at DEBUG into the kiosk's log file.
Then ``kiosk selftest`` and ``kiosk diagnostics --out X.zip --upload`` run as a
technician would run them, and the zip is scanned for the sample cards' names and
ID numbers, the form's names, phone numbers and photos. A technician downloads it from
the dashboard in a real browser.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import logging
import os
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from kiosk import privacy
from kiosk.catalog import default_catalog_dir, load_catalog
from kiosk.cli import DEMO_ANSWERS, DEMO_FORM, build_ports, demo_config, enrol, with_enrolment
from kiosk.config import SocialCardConfig, dump_config
from kiosk.diagnostics import HISTORY_FILE, HealthHistory, log_to_file
from kiosk.terminal import Terminal
from kiosk.validation import normalize_date
from peripherals.idcard.cards import sample_cards
from peripherals.sscard.emulator import sample_card
from peripherals.supervisor import Supervisor
from tests.integration.test_dashboard import PASSWORD
from tests.support.browser import ARGS, CHROMIUM

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("DASHBOARD_SHOTS", "var/test-output/dashboard"))
FORM_NAMES = [DEMO_FORM[k] for k in ("spouse_name", "newborn_name", "householder_name")]


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    sup = Supervisor(tmp_path_factory.mktemp("rig"),
                     parts=("central", "idcard", "printer", "camera", "scanner"))  # fmt: skip
    sup.start()
    try:
        yield sup
    finally:
        sup.stop()


def run(*args: str, timeout: float = 120, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, input=stdin)  # fmt: skip


@pytest.fixture(scope="module")
def kiosk(rig, tmp_path_factory):
    """An enrolled terminal's config (on disk too, for the ``kiosk`` command) and its data dir."""
    data = tmp_path_factory.mktemp("kiosk")
    cfg = demo_config(rig, "portrait")
    cfg = replace(cfg, sscard=SocialCardConfig(driver="none"), data_dir=str(data))
    code = run("-m", "central.cli", "terminals", "add-code", "--point", "zhouhu",
               "--data-dir", str(rig["central"].data_dir)).stdout.split()[-1]  # fmt: skip
    asyncio.run(enrol(cfg, code))
    cfg = with_enrolment(cfg)
    path = data / "kiosk.toml"
    path.write_text(dump_config(cfg), encoding="utf-8")
    return cfg, path


async def a_visit(rig, cfg) -> str:
    """One citizen, the whole birth bundle, through the kiosk's core and the real devices."""
    terminal = Terminal(build_ports(cfg), cfg, catalog=load_catalog(default_catalog_dir()),
                        history=HealthHistory(Path(cfg.data_dir) / HISTORY_FILE))  # fmt: skip
    stop = asyncio.Event()
    beats = asyncio.ensure_future(
        terminal.heartbeats(stop, lambda: "attract", "0.1.0", interval=0.5)
    )
    try:
        citizen = rig["idcard"].cards[0]
        rig["idcard"].emulator.insert(citizen)
        card = await asyncio.wait_for(terminal.wait_for_card(asyncio.Event(), 0.1), 20)
        assert card.id_number == citizen.id_number
        now = dt.datetime.now(dt.UTC)
        j = terminal.journey
        question, answers = j.choose("birth", now), iter(DEMO_ANSWERS)
        while question is not None:
            question = j.answer(question.id, next(answers), now)
        j.start_form()
        fields = {f.id for f in j.form().fields}
        for key, value in DEMO_FORM.items():
            if key in fields:
                j.set_value(key, normalize_date(value), now)  # as the date keypad does
        assert j.form_done(now) == {}
        for item in j.outstanding():
            for _page in range(max(1, len(item.pages))):  # each named page (户主页, 本人页)
                await terminal.scan_material(item.code)
        assert j.materials_done(now) == []
        outcome = await terminal.submit()
        await terminal.print_receipt(terminal.receipt())
        await terminal.rate(2, ["slow"])
        # a careless log call with the citizen's number: the log file must not keep it
        logging.getLogger("kiosk.careless").info("read card %s", citizen.id_number)
        rig["idcard"].emulator.remove()
        terminal.end("finished")
        await terminal.progress(outcome.acceptance_number)
        await asyncio.sleep(1.2)  # a couple of heartbeats after the visit
        return outcome.acceptance_number
    finally:
        stop.set()
        await beats
        await terminal.aclose()


@pytest.fixture(scope="module")
def bundle(rig, kiosk, tmp_path_factory):
    cfg, path = kiosk
    root = logging.getLogger()
    level = root.level
    log_file = log_to_file(cfg.data_dir, logging.DEBUG)
    root.setLevel(logging.DEBUG)
    try:
        number = asyncio.run(a_visit(rig, cfg))
    finally:
        root.setLevel(level)
        for h in list(root.handlers):
            if getattr(h, "baseFilename", "") == str(log_file):
                root.removeHandler(h)
                h.close()
    selftest = run("-m", "kiosk.cli", "selftest", "--config", str(path))
    assert "passed" in selftest.stdout, selftest.stderr
    out = tmp_path_factory.mktemp("out") / "diag.zip"
    done = run("-m", "kiosk.cli", "diagnostics", "--config", str(path), "--out", str(out),
               "--upload")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "uploaded as bundle" in done.stdout
    return out.read_bytes(), number, log_file


def personal_names() -> list[str]:
    return [c.name for c in sample_cards()] + [sample_card().name] + FORM_NAMES


def test_the_bundle_after_a_visit_has_what_a_technician_needs_and_nothing_personal(bundle, kiosk):
    data, number, log_file = bundle
    zf = zipfile.ZipFile(io.BytesIO(data))
    # Then it holds logs, versions, device history, the self-test and the config
    names = set(zf.namelist())
    assert {"manifest.json", "versions.json", "config.toml", "logs/kiosk.log",
            "health-history.jsonl", "selftest.json", "outbox.json"} <= names  # fmt: skip
    log_text = zf.read("logs/kiosk.log").decode()
    assert "peripherals.idcard" in log_text and "kiosk.careless" in log_text
    history = [json.loads(x) for x in zf.read("health-history.jsonl").decode().splitlines()]
    assert {"heartbeat", "selftest"} <= {h["source"] for h in history}
    assert json.loads(zf.read("selftest.json"))["checks"]
    assert json.loads(zf.read("outbox.json")) == {"waiting_submissions": 0, "set_aside": 0,
                                                  "state": "ok", "reason": ""}
    assert json.loads(zf.read("manifest.json"))["terminal_id"] == kiosk[0].terminal.id
    # And no name, ID number, phone number or photo of anyone the kiosk met
    citizen = sample_cards()[0]
    assert "read card " + privacy.REMOVED in log_file.read_text("utf-8")
    assert privacy.scan_bundle(data, personal_names()) == []
    assert (
        citizen.id_number.encode() not in data and DEMO_FORM["applicant_phone"].encode() not in data
    )
    # And the terminal's secrets stayed home
    secret = json.loads((Path(kiosk[0].data_dir) / "terminal.json").read_text())["secret"]
    everything = b"".join(zf.read(n) for n in zf.namelist())
    assert secret.encode() not in everything


def test_the_scanner_is_not_blind_it_finds_the_visit_in_the_outbox(bundle, kiosk):
    # The same scan over what must never travel finds the citizen: the test can fail.
    outbox = Path(kiosk[0].data_dir) / "outbox.sqlite3"
    raw = outbox.read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("receipt.txt", f"{sample_cards()[0].name} {sample_cards()[0].id_number}")
        zf.writestr("outbox.sqlite3", raw)
    found = privacy.scan_bundle(buf.getvalue(), personal_names())
    assert {f.kind for f in found if f.member == "receipt.txt"} == {"name", "id_number"}


def test_a_technician_downloads_the_uploaded_bundle_from_the_dashboard(rig, bundle):
    data, _, _ = bundle
    central = rig["central"]
    for name, role in (("tech", "technician"), ("zhouhu-mgr", "manager")):
        extra = ["--point", "zhouhu"] if role == "manager" else []
        added = run("-m", "central.cli", "users", "add", name, "--role", role, *extra,
                    "--password-stdin", "--data-dir", str(central.data_dir),
                    stdin=PASSWORD + "\n")  # fmt: skip
        assert added.returncode == 0 or "exists" in added.stderr, added.stderr
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
            page.set_default_timeout(8000)
            page.goto(f"{central.url}/dashboard/diagnostics")
            page.fill("input[name=name]", "tech")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            row = page.locator('tr[data-state="uploaded"]').first
            expect(row).to_contain_text("终端现场上传")
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "diagnostics.png"), full_page=True)
            with page.expect_download() as info:
                row.get_by_role("link", name="下载 Download").click()
            downloaded = Path(info.value.path()).read_bytes()
            assert downloaded == data
            assert info.value.suggested_filename.startswith("diagnostics-T")
            # a hall manager is not offered bundles
            page.context.clear_cookies()
            page.goto(f"{central.url}/dashboard/diagnostics")
            page.fill("input[name=name]", "zhouhu-mgr")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            expect(page.locator("h1")).to_contain_text("无权访问")
        finally:
            browser.close()

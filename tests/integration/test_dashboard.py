"""The hall dashboard in a real browser (Playwright driving Debian's chromium, headless).

The platform is ``central serve`` in its own process with the county's catalog;
its users are made with ``central users add``; terminals are real clients
(client.platform.PlatformClient) that enrol with one-time codes and send signed
heartbeats, ratings and help requests. The offline threshold is 2 s and the
terminal page reloads itself every second, so "turns red by itself" is seen,
not simulated. Screenshots land in var/test-output/dashboard/ for a person.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiohttp
import pytest
from playwright.sync_api import expect

from client.platform import PlatformClient
from kiosk.health import FailedReads, Health
from tests.support.browser import PASSWORD, shot, sign_in
from tests.support.central import CentralProcess

pytestmark = pytest.mark.integration

OFFLINE_AFTER = 2  # seconds, the server's threshold in these tests
USERS = {"admin": ("admin", []), "zhouhu-mgr": ("manager", ["zhouhu"]),
         "tech": ("technician", [])}  # fmt: skip
DEVICES_OK = [Health.good("idcard"), Health.good("printer"), Health.good("sscard"),
              Health.good("scanner"), Health.good("camera")]  # fmt: skip


# -- the real parts ---------------------------------------------------------------------


def central_cmd(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "central.cli", *args, "--data-dir", str(data_dir)],
                          input=stdin, capture_output=True, text=True, timeout=60)  # fmt: skip


def off_loop(make_coro, timeout: float = 30):
    """Run a coroutine on a loop of its own in another thread: Playwright's sync API keeps
    a loop running in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, make_coro()).result(timeout)


class Terminal:
    """One kiosk as the platform sees it: enrolled with a code, then signed calls."""

    def __init__(self, url: str, point: str):
        self.url, self.point = url, point
        self.terminal_id, self.secret = "", ""
        off_loop(self._enrol)

    async def _enrol(self) -> None:
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{self.url}/api/v1/office/enrolment-codes",
                      json={"service_point": self.point}) as r,
        ):  # fmt: skip
            assert r.status == 201, await r.text()
            code = (await r.json())["code"]
        async with PlatformClient(self.url, timeout=5) as client:
            enrolment = await client.enrol(code)
        self.terminal_id, self.secret = enrolment.terminal_id, enrolment.secret

    def _run(self, call):
        async def go():
            async with PlatformClient(self.url, self.terminal_id, self.secret, timeout=5) as c:
                return await call(c)

        return off_loop(go)

    def beat(self, paper: str = "ok", devices=DEVICES_OK, screen: str = "attract") -> dict:
        """The platform's reply (remote settings it pushes, diagnostics it asks for)."""
        return self._run(lambda c: c.heartbeat(devices, software_version="1.4.2", screen=screen,
                                               paper=paper))  # fmt: skip

    def rate(self, stars: int, reasons: list[str], reference: str = "") -> int:
        return self._run(lambda c: c.rate(stars, reasons, reference))

    def call_staff(self, screen: str) -> int:
        return self._run(lambda c: c.call_staff(screen))


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """``central serve`` with the county catalog, three users, and a small fleet beating."""
    data = tmp_path_factory.mktemp("central")
    for name, (role, points) in USERS.items():
        extra = [a for p in points for a in ("--point", p)]
        done = central_cmd(data, "users", "add", name, "--role", role, *extra, "--password-stdin",
                           stdin=PASSWORD + "\n")  # fmt: skip
        assert done.returncode == 0, done.stderr
    server = CentralProcess(data, Path("config/catalog"),
                            env={"CENTRAL_OFFLINE_AFTER": str(OFFLINE_AFTER),
                                 "CENTRAL_DASHBOARD_REFRESH": "1"})  # fmt: skip
    url = server.start(timeout=30)
    try:
        yield url, data
    finally:
        server.stop()


def managers_alert(page, url: str, kiosk: Terminal, kind: str):
    """The 洲湖 manager signs in and opens the alerts: the row of ``kiosk``'s ``kind``."""
    sign_in(page, url, "zhouhu-mgr")
    page.goto(f"{url}/dashboard/alerts")
    return page.locator(f'tr[data-terminal="{kiosk.terminal_id}"][data-kind="{kind}"]')


# -- the behaviours -------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_login_and_the_api_answers_401(platform, page):
    url, _ = platform
    # Given nobody signed in
    # When a page and the JSON API are asked for
    page.goto(f"{url}/dashboard/alerts")
    api = page.request.get(f"{url}/dashboard/api/terminals", max_redirects=0)
    # Then the page is the login form and the API refuses
    assert "/dashboard/login" in page.url
    expect(page.locator("h1")).to_contain_text("工作人员登录")
    assert api.status == 401
    # And a wrong password does not sign anyone in
    page.fill("input[name=name]", "admin")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("用户名或密码不正确")
    shot(page, "login")


def test_behind_a_tls_proxy_the_sign_in_cookies_are_secure_only(platform):
    import urllib.request

    url, _ = platform
    for proto, secure in (("https", True), ("", False)):
        headers = {"X-Forwarded-Proto": proto} if proto else {}
        with urllib.request.urlopen(urllib.request.Request(f"{url}/dashboard/login",
                                                           headers=headers), timeout=10) as r:  # fmt: skip
            cookie = r.headers["Set-Cookie"]
        # HttpOnly and SameSite always; Secure when the browser came over HTTPS (through a
        # proxy that ended TLS), so the cookie is never sent back over plain HTTP
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert ("Secure" in cookie) is secure, cookie


def test_offline_terminal_turns_red_within_threshold_and_green_when_it_beats_again(platform, page):
    url, _ = platform
    # Given a terminal at 洲湖 beating as a healthy one does (every half second here: the
    # threshold is 2 s, and signing in on a busy machine can take longer than that)
    kiosk = Terminal(url, "zhouhu")
    stop = threading.Event()

    def beating() -> None:
        while not stop.is_set():
            kiosk.beat()
            stop.wait(0.5)

    beater = threading.Thread(target=beating, name="kiosk-beats")
    beater.start()
    try:
        sign_in(page, url, "tech")
        row = page.locator(f'tr[data-terminal="{kiosk.terminal_id}"]')
        expect(row).to_have_attribute("data-severity", "green")
    finally:
        stop.set()  # When it stops beating
        beater.join()
    last_beat = time.monotonic()
    # Then the page (reloading itself) shows it red soon after the threshold
    expect(row).to_have_attribute("data-severity", "red", timeout=(OFFLINE_AFTER + 4) * 1000)
    assert time.monotonic() - last_beat <= OFFLINE_AFTER + 4
    expect(row).to_contain_text("终端离线")
    # and its devices as last known, not as if they were fine now
    expect(row).to_contain_text("最后已知")
    expect(row.locator("td").nth(5).locator(".chip.green")).to_have_count(0)  # the devices
    expect(row.locator("td").nth(6).locator(".chip.grey")).to_have_count(1)  # and its paper
    # And when it beats again it turns green by itself, nobody clears anything
    kiosk.beat()
    expect(row).to_have_attribute("data-severity", "green", timeout=4000)


def test_a_device_fault_says_what_is_wrong_and_what_to_do_and_an_empty_roll_is_one_alarm(
        platform, page):  # fmt: skip
    url, _ = platform
    # Given a terminal whose printer cover is open, and another whose roll is empty
    cover = Terminal(url, "zhouhu")
    cover.beat(devices=[Health.fault("printer", "cover open: close the printer cover"),
                        *[d for d in DEVICES_OK if d.device != "printer"]])  # fmt: skip
    empty = Terminal(url, "zhouhu")
    empty.beat(paper="paper_out",
               devices=[Health.fault("printer", "paper out: load a new paper roll"),
                        *[d for d in DEVICES_OK if d.device != "printer"]])  # fmt: skip
    sign_in(page, url, "tech")
    page.goto(f"{url}/dashboard/terminals")
    # Then the technician reads what the printer itself says is wrong, on the page
    row = page.locator(f'tr[data-terminal="{cover.terminal_id}"]')
    expect(row.locator(".problem")).to_contain_text("设备故障（打印机）")
    # (in Chinese for the hall, the driver's words under it for the technician)
    expect(row.locator(".problem .why")).to_contain_text("打印机盖未合上：请合上机盖")
    expect(row.locator(".problem .why .en")).to_have_text("cover open: close the printer cover")
    shot(page, "terminals-reason")
    # and the screen it shows by name, and the way to its diagnostics from its id
    expect(row.locator("td").nth(10)).to_contain_text("待机画面")
    row.get_by_role("link", name="诊断包").click()
    expect(page.locator("select[name=terminal]")).to_have_value(cover.terminal_id)
    page.go_back()
    # And the empty roll is one problem (paper out), not a printer fault besides, with the
    # printer's words under it
    problems = page.locator(f'tr[data-terminal="{empty.terminal_id}"] .problem')
    expect(problems).to_have_count(1)
    expect(problems).to_contain_text("打印机缺纸")
    expect(problems.locator(".why")).to_contain_text("缺纸：请装入新纸卷")
    expect(problems.locator(".why .en")).to_have_text("paper out: load a new paper roll")
    # And the alerts page says it too, for the manager who is called
    page.goto(f"{url}/dashboard/alerts")
    alert = page.locator(f'tr[data-terminal="{cover.terminal_id}"][data-kind="device_fault"]')
    expect(alert.locator(".why")).to_contain_text("打印机盖未合上：请合上机盖")
    expect(alert.locator(".why .en")).to_have_text("cover open: close the printer cover")


def test_paper_out_raises_an_alert_the_manager_acknowledges_and_closes(platform, page):
    url, _ = platform
    # Given a terminal at the manager's point whose printer runs out of paper
    kiosk = Terminal(url, "zhouhu")
    kiosk.beat(paper="paper_out")
    sign_in(page, url, "zhouhu-mgr")
    # When the manager opens the alerts
    page.goto(f"{url}/dashboard/alerts")
    row = page.locator(f'tr[data-terminal="{kiosk.terminal_id}"][data-kind="paper_out"]')
    expect(row).to_contain_text("打印机缺纸")
    expect(row).to_contain_text("待确认")
    # And acknowledges it
    row.get_by_role("button", name=re.compile("确认")).click()
    # Then it is marked acknowledged by the manager
    expect(row).to_contain_text("已确认")
    expect(row).to_contain_text("zhouhu-mgr")
    # While the paper is still out it cannot be closed (it would open again at once, as a
    # new alert, its start and acknowledgement lost): it says when it can be
    expect(row.get_by_role("button", name=re.compile("关闭"))).to_have_count(0)
    expect(row).to_contain_text("恢复后可关闭")
    # When the paper is refilled, the alert shows it recovered; the manager closes it
    kiosk.beat(paper="ok")
    page.goto(f"{url}/dashboard/alerts")
    expect(row).to_contain_text("已恢复")
    expect(row).to_have_class(re.compile(r"\bsev-green\b"))  # recovered: no longer red
    shot(page, "alerts")
    row.get_by_role("button", name=re.compile("关闭")).click()
    expect(row).to_have_count(0)
    # Then the closed list keeps who did what, and when
    page.goto(f"{url}/dashboard/alerts?view=closed")
    closed = page.locator(f'tr[data-terminal="{kiosk.terminal_id}"][data-kind="paper_out"]')
    closed.locator("summary").click()
    history = closed.locator("details li")
    expect(history).to_have_count(4)  # opened, acknowledged, cleared, closed
    expect(history.nth(1)).to_contain_text("确认 · zhouhu-mgr")
    expect(history.nth(3)).to_contain_text("关闭 · zhouhu-mgr")


def test_a_reader_failing_card_after_card_is_an_alert_naming_the_reader(platform, page):
    url, _ = platform
    # Given a terminal whose ID card reader failed three citizens' cards within the hour
    reads = FailedReads()
    for t in (1.0, 2.0, 3.0):
        reads.failed("idcard", t)
        reads.cleared("idcard")
    kiosk = Terminal(url, "zhouhu")
    kiosk.beat(devices=[reads.judge(Health.good("idcard"), 4.0), *DEVICES_OK[1:]])
    # When the manager opens the alerts
    row = managers_alert(page, url, kiosk, "failed_reads")
    # Then there is one, naming the reader, before the first citizen is turned away again
    expect(row).to_have_count(1)
    expect(row).to_contain_text("多次读卡失败")
    expect(row).to_contain_text("身份证阅读器")


def test_citizens_call_for_staff_is_an_alert_closed_by_a_person(platform, page):
    url, _ = platform
    # Given a citizen stuck on the form screen presses "call staff" (twice)
    kiosk = Terminal(url, "zhouhu")
    kiosk.beat(screen="form")
    first, second = kiosk.call_staff("form"), kiosk.call_staff("form")
    assert first == second  # one person is called, not two
    # When the manager looks at the alerts
    row = managers_alert(page, url, kiosk, "help")
    # Then the call is there with the screen named as staff know it, and closing it ends it
    expect(row).to_have_count(1)
    expect(row).to_contain_text("群众呼叫工作人员")
    expect(row).to_contain_text("填写表单")
    expect(row).to_contain_text("Form")
    # (a manager is not offered the technician's pages)
    expect(row.locator(".tech")).to_be_hidden()
    # And a hall's screen left on the terminal page shows which terminal the citizen waits
    # at: its row red, the call and the screen named, a link to answer it on the alerts page
    page.goto(f"{url}/dashboard/terminals")
    terminal = page.locator(f'tr[data-terminal="{kiosk.terminal_id}"]')
    call = terminal.locator('a.problem[data-call="form"]')
    expect(call).to_contain_text("群众呼叫工作人员", timeout=8000)  # (a page's build lasts 5 s)
    expect(terminal).to_have_attribute("data-severity", "red")
    expect(call).to_contain_text("填写表单")
    shot(page, "terminals-citizen-calls")
    call.click()
    expect(page).to_have_url(re.compile("/dashboard/alerts"))
    # When the manager presses 关闭 on it before anyone acknowledged it, it is asked again
    # (the list reloads itself: a press meant for one row can land on another's)
    row.get_by_role("button", name=re.compile("关闭")).click()
    confirm = page.locator("section.confirm")
    expect(confirm).to_contain_text("关闭这条呼叫")
    expect(confirm).to_contain_text("群众可能仍在等待")
    expect(confirm).to_contain_text(kiosk.terminal_id)
    expect(confirm).to_contain_text("填写表单")
    shot(page, "alerts-close-unanswered-call")
    page.get_by_role("link", name=re.compile("返回告警")).click()
    expect(row).to_have_count(1)  # going back closed nothing
    row.get_by_role("button", name=re.compile("关闭")).click()
    page.get_by_role("button", name=re.compile("仍然关闭")).click()
    expect(page).to_have_url(re.compile(r"/dashboard/alerts\?done=closed$"))
    expect(page.locator("p.done")).to_contain_text("已关闭")
    expect(row).to_have_count(0)
    # Then, once a person has closed it, the terminal's row no longer calls anyone (it is red
    # still: it has stopped beating here, and is offline past the tests' 2 s)
    page.goto(f"{url}/dashboard/terminals")
    expect(terminal.locator("a.problem")).to_have_count(0, timeout=8000)


def test_a_citizen_waiting_for_staff_heads_the_alerts_above_a_newer_fault(platform, page):
    url, _ = platform
    # Given a citizen calls staff at one terminal, and then another terminal's paper runs out
    calling, empty = Terminal(url, "zhouhu"), Terminal(url, "zhouhu")
    calling.beat(screen="materials")
    calling.call_staff("materials")
    empty.beat(paper="paper_out")
    # When the manager opens the alerts
    row = managers_alert(page, url, calling, "help")
    expect(row).to_have_count(1)
    # Then the call comes first (a person is waiting), though the paper went out after it,
    # and each says how long it has held
    order = [(r.get_attribute("data-terminal"), r.get_attribute("data-kind"))
             for r in page.locator("tr[data-alert]").all()]  # fmt: skip
    assert order.index((calling.terminal_id, "help")) < order.index((empty.terminal_id, "paper_out"))
    expect(row.locator("small.since")).to_contain_text(re.compile(r"已持续 \d+ (秒|分钟)"))
    # and on the terminals page, the calling terminal's problems say since when they hold
    page.goto(f"{url}/dashboard/terminals")
    terminal = page.locator(f'tr[data-terminal="{calling.terminal_id}"]')
    expect(terminal.locator("small.since")).to_contain_text("已持续", timeout=8000)  # (built in 5 s)


def test_a_correction_notice_s_alert_closes_only_saying_how_the_applicant_was_told(platform, page):
    from central.dashboard import status
    from central.dashboard.data import HallStore
    from central.db import make_engine

    url, data = platform
    # Given a pending slip's application taken in with a correction notice at 洲湖: its
    # citizen left the kiosk, and the hall is to tell them what to bring
    kiosk = Terminal(url, "zhouhu")
    kiosk.beat()
    engine = make_engine(f"sqlite:///{data / 'central.sqlite3'}")
    try:
        HallStore(engine).open_by_people(status.CORRECTION, kiosk.terminal_id, "zhouhu",
                                         "AF2026120700042", "收件凭证 L-0042；请补齐：结婚证")  # fmt: skip
    finally:
        engine.dispose()
    row = managers_alert(page, url, kiosk, "correction")
    expect(row).to_contain_text("请联系申请人")
    expect(row).to_contain_text("AF2026120700042")
    expect(row).to_contain_text("请补齐：结婚证")
    # and where the applicant's contact is
    expect(row).to_contain_text("按办件编号查阅")
    expect(row).not_to_contain_text("central office")  # (a manager is given no command to run)
    expect(row).to_contain_text("勿填电话、姓名等个人信息")
    # When the manager presses close with nothing said, the browser holds it (required) and
    # so does the platform: the alert stays
    row.get_by_role("button", name=re.compile("已告知")).click()
    expect(row).to_have_count(1)
    # When they say how the applicant was told, it closes, and its history keeps the word
    row.get_by_role("textbox", name=re.compile("如何告知")).fill("已电话告知补交结婚证")
    shot(page, "alerts-correction-close")
    row.get_by_role("button", name=re.compile("已告知")).click()
    expect(page.locator("p.done")).to_contain_text("已关闭，处理记录在“已关闭”中")
    expect(row).to_have_count(0)
    page.goto(f"{url}/dashboard/alerts?view=closed")
    expect(row).to_have_count(1)
    row.locator("summary").click()
    expect(row.locator("details li").last).to_contain_text("已电话告知补交结婚证")
    expect(row.locator("details li").last).to_contain_text("zhouhu-mgr")


def test_a_technician_names_where_a_terminal_stands_and_the_manager_finds_it_by_that(platform, page):
    url, _ = platform
    # Given a terminal whose printer is out of paper, known to the hall only by its id
    kiosk = Terminal(url, "zhouhu")
    kiosk.beat(paper="paper_out")
    # When the technician names where it stands, from its settings page
    sign_in(page, url, "tech")
    page.goto(f"{url}/dashboard/config?target=terminal:{kiosk.terminal_id}")
    panel = page.locator("form.place")
    panel.locator("input[name=place]").fill("东侧入口  1 号机")
    panel.get_by_role("button", name=re.compile("保存")).click()
    expect(page.locator("p.done")).to_contain_text("位置已保存")
    expect(page.locator("form.place input[name=place]")).to_have_value("东侧入口 1 号机")
    # (and the settings page's picker names the machine so too)
    option = page.locator(f'select[name=target] option[value="terminal:{kiosk.terminal_id}"]')
    expect(option).to_have_text(re.compile(r"终端 \w+（东侧入口 1 号机）"))
    # (a name too long is refused, saying why, and the one saved stays)
    page.locator("form.place input[name=place]").evaluate("(el, v) => el.value = v", "长" * 40)
    page.locator("form.place").get_by_role("button", name=re.compile("保存")).click()
    expect(page.locator("p.error")).to_contain_text("位置最多 32 个字")
    # and the terminal is told at its next heartbeat (its technician screen names it), and
    # still after the technician saves its timeouts on the settings form, which lacks it
    assert kiosk.beat(paper="paper_out")["config"] == {"place": "东侧入口 1 号机"}
    page.goto(f"{url}/dashboard/config?target=terminal:{kiosk.terminal_id}")
    page.locator("form.config input[name=inactivity]").fill("120")
    page.locator("form.config").get_by_role("button", name=re.compile("保存并下发")).click()
    expect(page.locator("p.done")).to_contain_text("已保存为版本")
    assert kiosk.beat(paper="paper_out")["config"] == {"place": "东侧入口 1 号机", "inactivity": 120}
    # Then the hall manager sees it beside the id, on the alerts and on the terminals page
    page.context.clear_cookies()  # (the technician's session ends)
    row = managers_alert(page, url, kiosk, "paper_out")
    expect(row.locator(".place")).to_have_text("东侧入口 1 号机")
    page.goto(f"{url}/dashboard/terminals")
    terminal = page.locator(f'tr[data-terminal="{kiosk.terminal_id}"]')
    expect(terminal.locator(".place")).to_have_text("东侧入口 1 号机", timeout=8000)
    shot(page, "terminals-place")


def test_a_terminal_nobody_has_used_for_a_day_is_said_to_be_unused(platform, page):
    from central import tables as t
    from central.db import make_engine

    url, data = platform
    # Given two terminals enrolled three weeks ago, both beating well: a citizen used one an
    # hour ago, nobody has ever touched the other (its screen went dark?)
    used, idle = Terminal(url, "zhouhu"), Terminal(url, "zhouhu")
    engine = make_engine(f"sqlite:///{data / 'central.sqlite3'}")
    try:
        with engine.begin() as conn:
            conn.execute(t.terminals.update()
                         .where(t.terminals.c.id.in_([used.terminal_id, idle.terminal_id]))
                         .values(enrolled_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=21)))  # fmt: skip
    finally:
        engine.dispose()
    hour_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    used._run(lambda c: c.send_events([{"key": f"v-{used.terminal_id}", "kind": "session",
                                         "at": hour_ago, "seconds": 300.0, "end": "finished",
                                         "life_event": "birth", "submitted": True,
                                         "elderly": False, "language": "zh"}]))  # fmt: skip
    # (both keep beating, as kiosks do: these tests' terminals are offline 2 s after a beat)
    stop = threading.Event()

    def beating() -> None:
        while not stop.is_set():
            used.beat()
            idle.beat()
            stop.wait(0.5)

    beats = threading.Thread(target=beating, daemon=True)
    beats.start()
    try:
        _sees_the_unused_one(page, url, used, idle)
    finally:
        stop.set()
        beats.join(10)


def _sees_the_unused_one(page, url: str, used: Terminal, idle: Terminal) -> None:
    # When the manager looks at the terminal page
    sign_in(page, url, "zhouhu-mgr")
    row = page.locator(f'tr[data-terminal="{idle.terminal_id}"]')
    # Then the idle one is amber, saying so and what to look at; the used one is well
    expect(row).to_contain_text("长时间无人使用", timeout=8000)  # (a page's build lasts 5 s)
    expect(row).to_contain_text(re.compile(r"已超过 5\d\d 小时没有群众使用：屏幕是否亮着"))  # (3 weeks)
    expect(row).to_have_attribute("data-severity", "amber")
    other = page.locator(f'tr[data-terminal="{used.terminal_id}"]')
    expect(other).to_have_attribute("data-severity", "green")
    expect(other).not_to_contain_text("长时间无人使用")
    shot(page, "terminals-unused")
    # and the JSON the page's data comes from says so too
    listed = {r["terminal_id"]: r for r in page.request.get(f"{url}/dashboard/api/terminals").json()}
    assert {"kind": "unused", "detail": ""} in listed[idle.terminal_id]["problems"]
    assert listed[used.terminal_id]["problems"] == []
    # and no alert is opened for it: nobody is called out
    page.goto(f"{url}/dashboard/alerts")
    expect(page.locator("h1")).to_contain_text("告警")
    expect(page.locator(f'tr[data-terminal="{idle.terminal_id}"]')).to_have_count(0)


def test_technician_pin_failures_are_not_shown_as_a_citizen_asking_for_help(platform, page):
    from kiosk.technician import HELP_SCREEN

    url, _ = platform
    # Given someone tried five wrong PINs at a terminal's technician screen (it raises a
    # help request from that "screen")
    kiosk = Terminal(url, "zhouhu")
    kiosk.beat()
    kiosk.call_staff(HELP_SCREEN)
    # Then the manager reads what happened, not "a citizen calls staff"
    row = managers_alert(page, url, kiosk, "help")
    expect(row).to_contain_text("技术员密码连续输错")
    expect(row).not_to_contain_text("群众呼叫工作人员")
    # and closing it unacknowledged asks again in those terms, not of a citizen waiting
    row.get_by_role("button", name=re.compile("关闭")).click()
    confirm = page.locator("section.confirm")
    expect(confirm).to_contain_text("关闭这条告警")
    expect(confirm).to_contain_text("技术员密码")
    expect(confirm).not_to_contain_text("群众可能仍在等待")


def test_a_card_left_in_a_reader_is_shown_as_a_card_to_collect(platform, page):
    from kiosk.session import CARD_LEFT_HELP

    url, _ = platform
    # Given a citizen's card stayed in a terminal's reader long after their visit (the kiosk
    # raises a help request from that "screen")
    kiosk = Terminal(url, "zhouhu")
    kiosk.beat()
    kiosk.call_staff(CARD_LEFT_HELP)
    # Then the manager reads that a card waits to be collected, not that someone called
    row = managers_alert(page, url, kiosk, "help")
    # (on a page that keeps itself current: a hall's screen left open on it sees the next one)
    expect(page.locator('meta[http-equiv="refresh"]')).to_have_attribute("content", "30")
    expect(row).to_contain_text("读卡器遗留卡片")
    expect(row).to_contain_text("请到终端取出卡片")
    expect(row).not_to_contain_text("群众呼叫工作人员")
    # When the citizen comes back for it (the kiosk tells the hall it was taken)
    assert kiosk._run(lambda c: c.help_over(CARD_LEFT_HELP)) == 1
    # Then the alert says so, green, and no longer counts on the badge; a person closes it
    page.reload()
    row = page.locator(f'tr[data-terminal="{kiosk.terminal_id}"][data-kind="help"]')
    expect(row).to_contain_text("卡片已取走")
    expect(row).to_have_class(re.compile("sev-green"))
    expect(row.get_by_role("button", name=re.compile("关闭"))).to_be_visible()
    shot(page, "alerts-card-taken")


def test_a_diagnostics_request_the_terminal_never_answered_says_it_expired(platform, page):

    from central import tables as t
    from central.db import make_engine

    url, data = platform
    kiosk = Terminal(url, "zhouhu")
    kiosk.beat()
    sign_in(page, url, "tech")
    page.goto(f"{url}/dashboard/diagnostics")
    page.locator("select[name=terminal]").select_option(kiosk.terminal_id)
    page.get_by_role("button", name=re.compile("请求")).click()
    row = page.locator(f'tr[data-terminal="{kiosk.terminal_id}"]')
    expect(row).to_contain_text("等待终端上传")
    # When eight days pass without the terminal sending it (no longer asked after seven)
    engine = make_engine(f"sqlite:///{data / 'central.sqlite3'}")
    try:
        with engine.begin() as conn:
            conn.execute(t.diagnostics_bundles.update()
                         .where(t.diagnostics_bundles.c.terminal_id == kiosk.terminal_id)
                         .values(requested_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=8)))  # fmt: skip
    finally:
        engine.dispose()
    # Then the page says it expired, instead of waiting for ever
    page.reload()
    expect(row).to_contain_text("已过期")


def test_bad_rating_is_followed_up_from_new_to_resolved(platform, page):
    url, _ = platform
    # Given citizens rated a 洲湖 terminal: one bad rating with reasons, a few good ones
    kiosk = Terminal(url, "zhouhu")
    for stars in (5, 5, 4, 3):
        kiosk.rate(stars, [])
    rating_id = kiosk.rate(1, ["slow", "materials"], reference="AF2026112300001")
    sign_in(page, url, "zhouhu-mgr")
    page.goto(f"{url}/dashboard/ratings")
    row = page.locator(f'tr[data-rating="{rating_id}"]')
    expect(row).to_have_attribute("data-follow", "new")
    expect(row).to_contain_text("等待时间长")
    expect(row).to_contain_text("材料要求太多")
    expect(page.locator('.bar[data-level="1"] .n')).not_to_have_text("0")
    five = page.locator('.bar[data-level="5"] .fill').bounding_box()
    one = page.locator('.bar[data-level="1"] .fill').bounding_box()
    two = page.locator('.bar[data-level="2"] .fill').bounding_box()
    assert five and one and two and five["width"] > one["width"] > two["width"]
    # three of five satisfied: 60 %, in red (it was the green of a good month whatever it said)
    expect(page.locator("section.kpi b")).to_have_text("60.0%")
    expect(page.locator("section.kpi")).to_have_class(re.compile(r"\bred\b"))
    shot(page, "ratings")
    # When the manager assigns it, records the call back and resolves it
    row.locator("input[name=assignee]").fill("李主任")
    row.get_by_role("button", name=re.compile("分派")).click()
    expect(row).to_have_attribute("data-follow", "assigned")
    expect(row).to_contain_text("李主任")
    row.locator("input[name=note]").fill("已电话回访，解释容缺受理")
    row.get_by_role("button", name=re.compile("已联系")).click()
    expect(row).to_have_attribute("data-follow", "contacted")
    row.get_by_role("button", name=re.compile("办结")).click()
    # Then it is resolved, with each step's person in its history
    expect(row).to_have_attribute("data-follow", "resolved")
    row.locator("summary").click()
    expect(row.locator("details li")).to_have_count(4)  # new, assigned, contacted, resolved
    expect(row.locator("details li").nth(2)).to_contain_text("已电话回访")
    expect(row.get_by_role("button")).to_have_count(0)


def test_an_anonymous_bad_rating_is_checked_not_called_back(platform, page):
    url, _ = platform
    # Given a bad rating left with no application or slip to it: no one to call back
    kiosk = Terminal(url, "zhouhu")
    rating_id = kiosk.rate(2, ["unclear"])
    sign_in(page, url, "zhouhu-mgr")
    page.goto(f"{url}/dashboard/ratings")
    row = page.locator(f'tr[data-rating="{rating_id}"]')
    expect(row).to_contain_text("无（匿名，无法回访）")
    # When it is assigned, its next step is checking and putting right, not a call
    row.get_by_role("button", name=re.compile("分派")).click()
    expect(row).to_have_attribute("data-follow", "assigned")
    expect(row.get_by_role("button", name=re.compile("已联系"))).to_have_count(0)
    row.locator("input[name=note]").fill("查看了指引屏文字，已请技术员改正")
    row.get_by_role("button", name=re.compile("已核实整改")).click()
    expect(row).to_contain_text("已核实")
    row.locator("summary").click()
    expect(row.locator("details li").nth(2)).to_contain_text("已核实")


def test_hall_manager_sees_only_their_own_points_terminals(platform, page):
    url, _ = platform
    # Given terminals at 洲湖 and at two other points, in several states
    mine = Terminal(url, "zhouhu")
    mine.beat(paper="paper_near_end")
    others = [Terminal(url, "afx"), Terminal(url, "yangxi")]
    for other in others:
        other.beat(devices=[Health.fault("idcard", "no answer on /dev/ttyS1"), *DEVICES_OK[1:]])
    # When the 洲湖 manager opens the terminal page and the JSON API
    sign_in(page, url, "zhouhu-mgr")
    expect(page.locator(f'tr[data-terminal="{mine.terminal_id}"]')).to_have_count(1)
    shown = page.locator("tr[data-terminal]").evaluate_all(
        "rows => rows.map(r => r.dataset.terminal)"
    )
    api = page.request.get(f"{url}/dashboard/api/terminals").json()
    # Then only 洲湖's terminals are there, and asking for another point is refused
    for other in others:
        assert other.terminal_id not in shown
    assert {t["service_point"] for t in api} == {"zhouhu"}
    assert page.request.get(f"{url}/dashboard/terminals?point=afx").status == 403
    assert page.request.get(f"{url}/dashboard/api/terminals?point=afx").status == 403
    # And the administrator sees every point, the fault named by device
    for _ in range(2):
        Terminal(url, "hukeng").beat()
    page.context.clear_cookies()
    sign_in(page, url, "admin")
    row = page.locator(f'tr[data-terminal="{others[0].terminal_id}"]')
    expect(row).to_contain_text("身份证阅读器")
    expect(row).to_have_attribute("data-severity", "red")
    page.goto(f"{url}/dashboard/terminals")
    page.wait_for_load_state("load")
    shot(page, "terminals")


@pytest.mark.parametrize("width", [1280, 1366, 1920])
def test_the_administrator_s_ten_tabs_and_the_account_fit_the_header(platform, page, width):
    url, _ = platform
    # Given the administrator, who has every tab, on a laptop's or an office screen's width
    page.set_viewport_size({"width": width, "height": 700})
    sign_in(page, url, "admin")

    def box(selector: str) -> dict:
        return page.locator(selector).first.bounding_box()

    # Then the county's name stays clear of the tabs, and the account and sign-out are on
    # the screen, with nothing to scroll sideways
    brand, nav, who = box(".brand"), box("nav"), box(".who")
    assert page.evaluate("(b => b.scrollWidth <= b.clientWidth)(document.querySelector('.brand b'))")
    assert brand["x"] + brand["width"] <= nav["x"] and nav["x"] + nav["width"] <= who["x"]
    assert who["x"] + who["width"] <= width
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.locator("nav a").count() == 10
    shot(page, f"header-{width}")


def test_savings_board_shows_each_life_event_and_technician_cannot_open_ratings(platform, page):
    url, _ = platform
    # Given the administrator
    sign_in(page, url, "admin")
    # When the savings board is opened
    page.goto(f"{url}/dashboard/savings")
    # Then every life event has a row with fewer fields typed than separately
    rows = page.locator("tbody tr")
    assert rows.count() >= 10
    expect(page.locator("tfoot")).to_contain_text("%")
    shot(page, "savings")
    # And a technician is refused the ratings page
    page.context.clear_cookies()
    sign_in(page, url, "tech")
    response = page.goto(f"{url}/dashboard/ratings")
    assert response is not None and response.status == 403
    shot(page, "forbidden")


def test_the_administrator_sees_who_read_a_citizen_s_data_and_finds_one_citizen_s_lookups(
        platform, page):  # fmt: skip
    from kiosk.records import masked_id
    from tests.support.central import id_number

    url, data = platform
    # Given a kiosk that read one citizen's applications twice and another's once
    kiosk = Terminal(url, "zhouhu")
    kiosk.beat()
    someone, other = id_number("11010519491231002"), id_number()
    for number in (someone, someone, other):
        kiosk._run(lambda c, n=number: c.applications_of(n, card_read_at=dt.datetime.now(dt.UTC)))
    # When the administrator opens the lookups page
    sign_in(page, url, "admin")
    page.get_by_role("link", name=re.compile("查询记录")).click()
    # Then the kiosk's row counts three lookups of applications, of two citizens
    row = page.locator(f'tr[data-terminal="{kiosk.terminal_id}"]')
    cells = row.locator("td")
    expect(cells.nth(1)).to_have_text("洲湖镇便民服务中心")
    expect(cells.nth(2)).to_have_text("3")  # applications
    expect(cells.nth(5)).to_have_text("3")  # in all
    expect(cells.nth(6)).to_have_text("2")  # citizens
    # When the administrator types the first citizen's ID number
    page.fill("input[name=id_number]", someone)
    page.get_by_role("button", name=re.compile("查询")).click()
    # Then that citizen's two lookups by the kiosk are listed, the number shown masked
    heading = page.locator("h2.citizen")
    expect(heading).to_contain_text(masked_id(someone))
    found = page.locator("h2.citizen + table tbody tr")
    expect(found).to_have_count(2)
    expect(found.first).to_contain_text(kiosk.terminal_id)
    expect(found.first).to_contain_text("办件查询")
    # and the search itself joins the trail: searched again, it shows who searched before
    page.fill("input[name=id_number]", someone)
    page.get_by_role("button", name=re.compile("查询")).click()
    expect(found).to_have_count(3)
    expect(page.locator('h2.citizen + table tr[data-kind="audit"]')).to_contain_text("admin")
    shot(page, "lookups")
    # and the number is in no address, nor in the platform's log
    assert someone not in page.url
    log = Path(str(data) + "-stderr.log").read_text(encoding="utf-8", errors="replace")
    assert someone not in log and "lookups audit: admin" in log
    # A mistyped number is refused with what is wrong
    page.fill("input[name=id_number]", someone[:-1] + ("0" if someone[-1] != "0" else "1"))
    page.get_by_role("button", name=re.compile("查询")).click()
    expect(page.locator(".error")).to_contain_text("校验位")
    # And the table downloads for an audit report, readable by a spreadsheet: counts and
    # codes, no citizen's number
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("导出")).click()
    raw = Path(download.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads it as UTF-8
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    [mine] = [r for r in table if r and r[0] == kiosk.terminal_id]
    assert mine[1:4] == ["洲湖镇便民服务中心", "3", "0"] and mine[5:7] == ["3", "2"]
    assert someone not in raw.decode("utf-8-sig") and other not in raw.decode("utf-8-sig")
    # And a hall manager has no such page
    other_page = page.context.browser.new_page()
    sign_in(other_page, url, "zhouhu-mgr")
    expect(other_page.locator("nav")).not_to_contain_text("查询记录")
    assert other_page.goto(f"{url}/dashboard/lookups").status == 403
    assert other_page.request.get(f"{url}/dashboard/lookups.csv").status == 403
    other_page.close()

"""Remote configuration and diagnostics on request, end to end: a real browser on the
dashboard, ``central serve`` in its own process, and running kiosk cores.

Each kiosk is the terminal's own core (kiosk.terminal.Terminal) over the real platform
client, beating every 0.3 s on a loop of its own (as ``kiosk run`` does every 30 s):
it applies the settings a heartbeat reply carries, keeps them on disk, acknowledges
their version in the next beat, and answers a diagnostics request with a bundle built
by the same code as ``kiosk diagnostics``.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from client.platform import PlatformClient
from kiosk import privacy
from kiosk.cli import bundle_builder
from kiosk.config import KioskConfig, PlatformConfig, TerminalConfig, load_remote
from kiosk.terminal import Ports, Terminal
from tests.integration.test_dashboard import PASSWORD, central_cmd
from tests.integration.test_dashboard import Terminal as Enrolled
from tests.support.browser import shot, sign_in
from tests.support.central import CentralProcess
from tests.support.county import county_catalog

pytestmark = pytest.mark.integration

USERS = {"admin": ("admin", []), "tech": ("technician", []), "zhouhu-mgr": ("manager", ["zhouhu"])}


class RunningKiosk:
    """A kiosk core beating on its own event loop in a thread, until ``stop()``."""

    def __init__(self, url: str, enrolled: Enrolled, data_dir: Path):
        self.cfg = KioskConfig(
            terminal=TerminalConfig(id=enrolled.terminal_id, service_point=enrolled.point,
                                    notices=("本地公告",)),
            platform=PlatformConfig(url=url), data_dir=str(data_dir))  # fmt: skip
        self.url, self.enrolled = url, enrolled
        self.terminal: Terminal | None = None
        self.ready = threading.Event()
        self.thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)
        self.thread.start()
        assert self.ready.wait(15), "the kiosk did not start"

    async def _main(self) -> None:
        self.loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        e = self.enrolled
        async with PlatformClient(self.url, e.terminal_id, e.secret, timeout=5) as client:
            self.terminal = Terminal(Ports(platform=client), self.cfg, catalog=county_catalog())
            self.terminal.diagnostics = bundle_builder(self.cfg)
            self.ready.set()
            await self.terminal.heartbeats(self._stop, lambda: "attract", "1.4.2", interval=0.3)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(10)


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    data = tmp_path_factory.mktemp("central")
    for name, (role, points) in USERS.items():
        extra = [a for p in points for a in ("--point", p)]
        done = central_cmd(data, "users", "add", name, "--role", role, *extra, "--password-stdin",
                           stdin=PASSWORD + "\n")  # fmt: skip
        assert done.returncode == 0, done.stderr
    server = CentralProcess(data, Path("config/catalog"))
    url = server.start(timeout=30)
    kiosks = []
    try:
        for i, point in enumerate(("zhouhu", "zhouhu", "afx")):
            kiosks.append(RunningKiosk(url, Enrolled(url, point), tmp_path_factory.mktemp(f"k{i}")))
        yield url, kiosks
    finally:
        for k in kiosks:
            k.stop()
        server.stop()


def until(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.1)


def acknowledged(page: Page, terminal_id: str, version: str, timeout: float = 10.0) -> None:
    """Reload the status table until the terminal's row shows ``version`` acknowledged."""
    row = page.locator(f'tr[data-terminal="{terminal_id}"]')
    deadline = time.monotonic() + timeout
    while row.get_attribute("data-acknowledged") != version:
        assert time.monotonic() < deadline, f"{terminal_id} never acknowledged v{version}"
        time.sleep(0.3)
        page.reload()


def test_settings_for_a_point_reach_its_terminals_and_are_acknowledged(hall, page):
    url, (one, two, county) = hall
    # Given the administrator on the remote configuration page
    sign_in(page, url, "admin", target="/dashboard/config")
    # When they set 洲湖's timeouts, notices and elderly default and save
    page.select_option("select[name=target]", "point:zhouhu")
    page.fill("input[name=inactivity]", "120")
    page.fill("input[name=warning]", "40")
    page.select_option("select[name=elderly_default]", "on")
    page.fill(
        "textarea[name=notices]", "本周六正常上班，自助区 24 小时开放\n新生儿出生一件事可在本机办理"
    )
    page.get_by_role("button", name=re.compile("保存并下发")).click()
    expect(page.locator(".done")).to_contain_text("已保存为版本")
    version = re.search(r"版本 (\d+)", page.locator(".done").inner_text()).group(1)
    # Then both 洲湖 terminals acknowledge that version; the county centre's gets nothing
    for k in (one, two):
        acknowledged(page, k.enrolled.terminal_id, version)
        expect(page.locator(f'tr[data-terminal="{k.enrolled.terminal_id}"]')).to_contain_text(
            "已生效"
        )
    assert page.locator(f'tr[data-terminal="{county.enrolled.terminal_id}"]').get_attribute(
        "data-pushed") == "0"  # fmt: skip
    # And each kiosk applied it: the next visit's timeout, the attract notices, elderly mode
    t = one.terminal
    assert t.config.timeouts.inactivity == 120.0 and t.config.timeouts.warning == 40.0
    assert t.notices == ["本周六正常上班，自助区 24 小时开放", "新生儿出生一件事可在本机办理"]
    assert t.elderly is True and t.begin(None).limits.idle == 120.0
    t.end()
    assert load_remote(one.cfg.data_dir)[0] == int(version)
    assert county.terminal.notices == ["本地公告"]
    shot(page, "config")


def test_a_terminals_own_setting_overrides_its_points_for_it_alone(hall, page):
    url, (one, two, _) = hall
    sign_in(page, url, "tech", target="/dashboard/config?target=point:zhouhu")
    page.fill("input[name=inactivity]", "150")
    page.get_by_role("button", name=re.compile("保存并下发")).click()
    point_version = re.search(r"版本 (\d+)", page.locator(".done").inner_text()).group(1)
    # When the technician gives terminal one a shorter timeout of its own
    page.goto(f"{url}/dashboard/config?target=terminal:{one.enrolled.terminal_id}")
    expect(page.locator("input[name=inactivity]")).to_have_attribute("placeholder", "继承 150")
    page.fill("input[name=inactivity]", "60")
    page.get_by_role("button", name=re.compile("保存并下发")).click()
    own_version = re.search(r"版本 (\d+)", page.locator(".done").inner_text()).group(1)
    # Then terminal one runs 60 s and terminal two keeps the point's 150 s
    acknowledged(page, one.enrolled.terminal_id, own_version)
    acknowledged(page, two.enrolled.terminal_id, point_version)
    until(lambda: one.terminal.config.timeouts.inactivity == 60.0)
    assert two.terminal.config.timeouts.inactivity == 150.0
    # And the terminals page shows what each applied, its uptime and catalog
    page.goto(f"{url}/dashboard/terminals")
    row = page.locator(f'tr[data-terminal="{one.enrolled.terminal_id}"]')
    expect(row.locator("[data-config]")).to_have_attribute("data-config", "applied")
    expect(row).to_contain_text(f"v{own_version} 已生效")
    expect(row).to_contain_text("最新")
    expect(row).to_contain_text(re.compile(r"\d+ (秒|分钟)"))  # its uptime
    shot(page, "terminals-config")


def test_out_of_range_values_are_refused_and_nothing_is_pushed(hall, page):
    url, (one, _, _) = hall
    sign_in(page, url, "admin", target="/dashboard/config?target=point:zhouhu")
    before = one.terminal.config_version
    page.fill("input[name=warning]", "5")  # under the 20 s a person needs to react
    page.get_by_role("button", name=re.compile("保存并下发")).click()
    expect(page.locator(".error")).to_contain_text("未保存")
    expect(page.locator("small.bad")).to_contain_text("20–180")
    time.sleep(1)
    assert one.terminal.config_version == before


def test_a_hall_manager_cannot_push_settings(hall, page):
    url, _ = hall
    sign_in(page, url, "zhouhu-mgr", target="/dashboard/alerts")
    expect(page.locator('nav a[href="/dashboard/config"]')).to_have_count(0)
    assert page.request.get(f"{url}/dashboard/config").status == 403


def test_a_bundle_asked_for_on_the_dashboard_arrives_at_the_next_heartbeat(hall, page):
    url, (one, _, _) = hall
    sign_in(page, url, "tech", target="/dashboard/diagnostics")
    page.select_option("select[name=terminal]", one.enrolled.terminal_id)
    page.get_by_role("button", name=re.compile("请求诊断包")).click()
    expect(page.locator(".done")).to_contain_text(one.enrolled.terminal_id)
    row = page.locator(f'tr[data-terminal="{one.enrolled.terminal_id}"]').first
    deadline = time.monotonic() + 15
    while row.get_attribute("data-state") != "uploaded":
        assert time.monotonic() < deadline, "the terminal never uploaded the bundle"
        time.sleep(0.5)
        page.reload()
    expect(row).to_contain_text("tech")
    with page.expect_download() as info:
        row.get_by_role("link", name="下载 Download").click()
    data = Path(info.value.path()).read_bytes()
    assert privacy.scan_bundle(data) == []
    import io
    import zipfile

    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "versions.json" in names and "config.toml" in names
    shot(page, "diagnostics-requested")


def test_a_hall_manager_posts_the_hall_s_notices_and_only_its_kiosks_show_them(hall, page):
    url, (one, two, county) = hall
    timeouts = one.terminal.config.timeouts  # what technicians set for the hall stays
    # Given the 洲湖 manager on the notices page: their own hall only
    sign_in(page, url, "zhouhu-mgr", target="/dashboard/alerts")
    page.get_by_role("link", name=re.compile("大厅公告")).click()
    expect(page.locator("form.notices")).to_have_count(1)
    panel = page.locator('form.notices[data-point="zhouhu"]')
    expect(panel.locator("h2")).to_have_text("洲湖镇便民服务中心")
    # When they post tonight's maintenance
    panel.locator("textarea").fill("今晚 22:00—24:00 系统维护，暂停自助服务 | Self-service pauses "
                                   "tonight 22:00–24:00 for maintenance")  # fmt: skip
    panel.get_by_role("button", name=re.compile("保存并下发")).click()
    expect(page.locator(".done")).to_contain_text("已保存")
    # Then both kiosks of the hall show it on their attract screen, the county centre's not
    until(lambda: any("系统维护" in n for n in one.terminal.notices))
    until(lambda: any("系统维护" in n for n in two.terminal.notices))
    time.sleep(1)
    assert not any("系统维护" in n for n in county.terminal.notices)
    # and the hall's other settings are as the technician left them
    assert one.terminal.config.timeouts == timeouts
    # And the page says how many of the hall's kiosks show it
    page.reload()
    expect(panel.locator(".hint")).to_contain_text("2 台终端")
    expect(panel.locator(".hint")).to_contain_text("公告最后修改 Notices last changed：zhouhu-mgr")
    shot(page, "notices")
    # A form changed to post for another hall is refused, and nothing reaches its kiosk
    page.evaluate("document.querySelector('form.notices input[name=point]').value = 'afx'")
    panel.locator("textarea").fill("不属于本服务点的公告")
    with page.expect_response(lambda r: r.url.endswith("/dashboard/notices")) as answer:
        panel.get_by_role("button", name=re.compile("保存并下发")).click()
    assert answer.value.status == 403
    time.sleep(1)
    assert not any("不属于" in n for n in county.terminal.notices)
    # And the page picks one hall (a county's administrator has every hall's panel), and
    # the manager is refused another's
    assert page.goto(f"{url}/dashboard/notices?point=afx").status == 403
    page.goto(f"{url}/dashboard/notices?point=zhouhu")
    expect(page.locator("form.notices")).to_have_count(1)
    admin = page.context.browser.new_page()
    sign_in(admin, url, "admin", target="/dashboard/notices")
    assert admin.locator("form.notices").count() > 2
    admin.locator("form.filter select[name=point]").select_option("zhouhu")
    expect(admin.locator("form.notices")).to_have_count(1)
    expect(admin.locator("form.notices h2")).to_have_text("洲湖镇便民服务中心")
    admin.close()
    # And a technician keeps using the configuration page (no notices page of their own)
    other = page.context.browser.new_page()
    sign_in(other, url, "tech", target="/dashboard/alerts")
    expect(other.locator('nav a[href="/dashboard/notices"]')).to_have_count(0)
    other.close()


def test_a_settings_form_opened_before_a_managers_notices_cannot_put_the_old_ones_back(hall, page):
    url, (_one, two, _county) = hall  # (one has a timeout of its own)
    # Given a technician with 洲湖's settings form open (its notices as they were then)
    sign_in(page, url, "tech", target="/dashboard/config?target=point%3Azhouhu")
    form = page.locator("form.config")
    before = form.locator("textarea[name=notices]").input_value()
    # And meanwhile the hall's manager posts a new notice
    manager = page.context.browser.new_page()
    sign_in(manager, url, "zhouhu-mgr", target="/dashboard/notices")
    panel = manager.locator('form.notices[data-point="zhouhu"]')
    panel.locator("textarea").fill("明日上午停电检修，自助区暂停开放")
    panel.get_by_role("button", name=re.compile("保存并下发")).click()
    expect(manager.locator(".done")).to_contain_text("已保存")
    until(lambda: any("停电检修" in n for n in two.terminal.notices))
    # When the technician saves a timeout from the form they had open
    form.locator("input[name=inactivity]").fill("200")
    with page.expect_response(lambda r: r.url.endswith("/dashboard/config")) as answer:
        form.get_by_role("button", name=re.compile("保存并下发")).click()
    # Then nothing is saved: they are told who changed the settings, and shown them as now
    assert answer.value.status == 409
    expect(page.locator('p.error[role="alert"]')).to_contain_text("zhouhu-mgr")
    expect(form.locator("textarea[name=notices]")).to_have_value(re.compile("停电检修"))
    assert "停电检修" not in before
    time.sleep(1)
    assert any("停电检修" in n for n in two.terminal.notices)  # the manager's notice stays
    shot(page, "config-changed-meanwhile")
    # And saving again from the form now shown keeps the notice and sets the timeout
    form.locator("input[name=inactivity]").fill("200")
    form.get_by_role("button", name=re.compile("保存并下发")).click()
    expect(page.locator(".done")).to_contain_text("已保存")
    until(lambda: two.terminal.config.timeouts.inactivity == 200)
    assert any("停电检修" in n for n in two.terminal.notices)
    # A manager's notices page opened before that save is refused the same way
    panel.locator("textarea").fill("过期页面上的公告")
    with manager.expect_response(lambda r: r.url.endswith("/dashboard/notices")) as answer:
        panel.get_by_role("button", name=re.compile("保存并下发")).click()
    assert answer.value.status == 409
    expect(manager.locator('p.error[role="alert"]')).to_contain_text("tech")
    manager.close()


def test_a_technician_revokes_a_terminal_id_no_longer_in_use_having_typed_it_again(hall, page):
    from kiosk.health import Health
    from tests.integration.test_dashboard import DEVICES_OK

    url, _ = hall
    # Given a kiosk enrolled once more (its first id is no longer in use)
    old = Enrolled(url, "zhouhu")
    old.beat(devices=DEVICES_OK)
    sign_in(page, url, "tech", target=f"/dashboard/config?target=terminal%3A{old.terminal_id}")
    panel = page.locator("form.revoke")
    expect(panel).to_contain_text("停用终端")
    # When the id typed to confirm is not the same, nothing is revoked
    panel.locator("input[name=confirm]").fill("T000")
    with page.expect_response(lambda r: r.url.endswith("/terminals/revoke")) as answer:
        panel.get_by_role("button", name=re.compile("停用")).click()
    assert answer.value.status == 422
    expect(page.locator('p.error[role="alert"]')).to_contain_text("未停用")
    old.beat(devices=[Health.good("printer")])  # still accepted
    # When it is typed right
    panel = page.locator("form.revoke")
    panel.locator("input[name=confirm]").fill(old.terminal_id.lower())
    panel.get_by_role("button", name=re.compile("停用")).click()
    # Then it is revoked: said so, and the platform refuses the id from now on
    expect(page.locator(".done")).to_contain_text("已停用")
    shot(page, "terminal-revoked")
    from kiosk.errors import PlatformRejected

    with pytest.raises(PlatformRejected) as refused:
        old.beat(devices=DEVICES_OK)
    assert refused.value.status == 403

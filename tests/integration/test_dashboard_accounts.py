"""Accounts on the dashboard in a real browser: disable, enable, reset, change one's password.

``central serve`` in its own process; users made with ``central users add``. Two
browser contexts stand for two computers, so "their session stops working" is seen
in a second browser that signed in before.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.integration.test_dashboard import PASSWORD, central_cmd
from tests.support import browser
from tests.support.browser import shot
from tests.support.central import CentralProcess

pytestmark = pytest.mark.integration

USERS = {"admin": ("admin", []), "chief": ("admin", []), "zhouhu-mgr": ("manager", ["zhouhu"]),
         "afx-mgr": ("manager", ["afx"]), "tech": ("technician", []),
         "wang": ("manager", ["hukeng"]), "li": ("manager", ["yangxi"]),
         "zhao": ("manager", ["hukeng"]), "sun": ("technician", []),
         "qian": ("manager", ["afx"])}  # fmt: skip


@pytest.fixture(scope="module")
def hall_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("central")


@pytest.fixture(scope="module")
def hall(hall_dir):
    data = hall_dir
    for name, (role, points) in USERS.items():
        extra = [a for p in points for a in ("--point", p)]
        done = central_cmd(data, "users", "add", name, "--role", role, *extra, "--password-stdin",
                           stdin=PASSWORD + "\n")  # fmt: skip
        assert done.returncode == 0, done.stderr
    server = CentralProcess(data, Path("config/catalog"))
    url = server.start(timeout=30)
    try:
        yield url
    finally:
        server.stop()


def new_page(browser: Browser) -> Page:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    context.set_default_timeout(8000)
    return context.new_page()


@pytest.fixture
def pages(browser):
    made: list[Page] = []

    def make() -> Page:
        made.append(new_page(browser))
        return made[-1]

    try:
        yield make
    finally:
        for p in made:
            p.context.close()


# the form only: some of these sign-ins are meant to be refused
sign_in = partial(browser.sign_in, target="/dashboard/alerts", check=False)


def reset(admin: Page, url: str, name: str, password: str) -> None:
    """The administrator gives ``name`` a new password on the accounts page."""
    admin.goto(f"{url}/dashboard/accounts")
    row = admin.locator(f'tr[data-user="{name}"]')
    row.locator("details.reset summary").click()
    row.locator("input[name=new]").fill(password)
    row.locator("input[name=repeat]").fill(password)
    row.get_by_role("button", name=re.compile("重置")).click()
    expect(admin.locator(".done")).to_contain_text("密码已重置")


def signed_in(page: Page, name: str) -> None:
    expect(page.locator(".who")).to_contain_text(name)


def test_a_disabled_user_is_signed_out_at_once_and_cannot_sign_in_until_enabled(hall, pages):
    url = hall
    # Given the 洲湖 manager is working on the dashboard on their own computer
    manager = pages()
    sign_in(manager, url, "zhouhu-mgr")
    signed_in(manager, "zhouhu-mgr")
    # When the administrator disables the account
    admin = pages()
    sign_in(admin, url, "admin")
    admin.goto(f"{url}/dashboard/accounts")
    row = admin.locator('tr[data-user="zhouhu-mgr"]')
    row.locator("details.disable summary").click()
    # (asked once more: a press on the wrong row would sign a colleague out mid-shift)
    row.get_by_role("button", name=re.compile("确认停用")).click()
    expect(row).to_have_attribute("data-active", "yes")
    row.get_by_role("checkbox").check()
    row.get_by_role("button", name=re.compile("确认停用")).click()
    expect(admin.locator(".done")).to_contain_text("账号已停用")
    expect(row).to_have_attribute("data-active", "no")
    shot(admin, "accounts")
    # Then the manager's next click lands on the login page, and signing in fails
    manager.goto(f"{url}/dashboard/alerts")
    expect(manager.locator("h1")).to_contain_text("工作人员登录")
    sign_in(manager, url, "zhouhu-mgr")
    expect(manager.locator(".error")).to_contain_text("用户名或密码不正确")
    # When the administrator enables it again, the manager signs in with the same password
    row.get_by_role("button", name=re.compile("启用")).click()
    expect(row).to_have_attribute("data-active", "yes")
    sign_in(manager, url, "zhouhu-mgr")
    signed_in(manager, "zhouhu-mgr")


def test_a_reset_password_ends_the_users_sessions_and_only_the_new_one_works(hall, pages):
    url = hall
    manager = pages()
    sign_in(manager, url, "afx-mgr")
    signed_in(manager, "afx-mgr")
    admin = pages()
    sign_in(admin, url, "chief")
    admin.goto(f"{url}/dashboard/accounts")
    row = admin.locator('tr[data-user="afx-mgr"]')
    # When the administrator resets it, first mistyping the repeat
    row.locator("details.reset summary").click()
    row.locator("input[name=new]").fill("新密码-afx-2026")
    row.locator("input[name=repeat]").fill("新密码-afx-2025")
    row.get_by_role("button", name=re.compile("重置")).click()
    expect(admin.locator(".error")).to_contain_text("两次输入的新密码不一致")
    reset(admin, url, "afx-mgr", "新密码-afx-2026")
    # Then the manager's open session has ended, the old password fails, the new one works
    manager.goto(f"{url}/dashboard/terminals")
    expect(manager.locator("h1")).to_contain_text("工作人员登录")
    sign_in(manager, url, "afx-mgr")
    expect(manager.locator(".error")).to_be_visible()
    sign_in(manager, url, "afx-mgr", "新密码-afx-2026")
    signed_in(manager, "afx-mgr")


def test_five_wrong_passwords_lock_the_account_until_a_wait_or_a_reset(hall, pages):
    url = hall
    guesser = pages()
    # Given someone trying passwords for the 洪坑 manager's account
    for attempt in range(5):
        sign_in(guesser, url, "zhao", f"guess-{attempt}")
        expect(guesser.locator(".error")).to_contain_text("用户名或密码不正确")
    # Then the account is locked: even the right password is refused, with the rule
    sign_in(guesser, url, "zhao")
    said = guesser.locator(".error")
    expect(said).to_contain_text("连续输错 5 次，账号将锁定 5 分钟")
    shot(guesser, "sign-in-locked")
    # in the very words a wrong password or a name nobody has gets: a guesser cannot
    # tell a locked account, so cannot tell which names exist
    words = said.inner_text()
    for who, password in (("zhao", "guess-6"), ("nobody-here", "guess-7")):
        other = pages()
        sign_in(other, url, who, password)
        expect(other.locator(".error")).to_have_text(words)
    # And when the administrator gives the manager a new password, the lock is lifted
    admin = pages()
    sign_in(admin, url, "admin")
    reset(admin, url, "zhao", "新密码-zhao-2026")
    manager = pages()
    sign_in(manager, url, "zhao", "新密码-zhao-2026")
    signed_in(manager, "zhao")


def test_a_burst_of_guesses_sent_at_once_gets_no_more_tries_than_the_lock_allows(hall, hall_dir):
    import asyncio
    import concurrent.futures

    import aiohttp
    import sqlalchemy as sa

    from central import tables as t
    from central.db import make_engine

    async def burst() -> tuple[list[int], int]:
        # unsafe: the jar keeps cookies of an IP address (the platform is on 127.0.0.1)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(f"{hall}/dashboard/login") as r:
                csrf = re.search(r'name="csrf" value="([^"]+)"', await r.text()).group(1)

            async def guess(password: str) -> int:
                form = {"csrf": csrf, "name": "qian", "password": password}
                async with http.post(f"{hall}/dashboard/login", data=form,
                                     allow_redirects=False) as r:  # fmt: skip
                    return r.status

            statuses = await asyncio.gather(*(guess(f"guess-{i}") for i in range(12)))
            return statuses, await guess(PASSWORD)

    # When twelve wrong passwords arrive at the same moment (a loop of its own, in a thread:
    # the browser's sync API may hold this thread's)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        statuses, right = pool.submit(asyncio.run, burst()).result(60)
    # Then every guess gets the same refusal (a locked account is not told apart), and the
    # right password after them meets the lock
    assert statuses == [401] * 12 and right == 401
    # and only the five the lock allows (and one racing the fifth) were counted as tries:
    # had the burst passed the lock, the twelve would have locked it twice, 2 tries over
    engine = make_engine(f"sqlite:///{hall_dir / 'central.sqlite3'}")
    try:
        with engine.connect() as conn:
            u = t.dashboard_users
            tries, until = conn.execute(sa.select(u.c.failed_sign_ins, u.c.locked_until)
                                        .where(u.c.name == "qian")).one()  # fmt: skip
    finally:
        engine.dispose()
    assert until is not None and tries <= 1, (tries, until)


def test_signing_out_ends_the_session_even_for_a_copy_of_its_cookie(hall, pages):
    url = hall
    tech = pages()
    sign_in(tech, url, "sun")
    signed_in(tech, "sun")
    copied = tech.context.cookies()
    # When the technician signs out (someone had copied the session cookie before)
    tech.get_by_role("button", name=re.compile("退出")).click()
    expect(tech.locator("h1")).to_contain_text("工作人员登录")
    # Then the copy no longer opens the dashboard
    other = pages()
    other.context.add_cookies(copied)
    other.goto(f"{url}/dashboard/terminals")
    expect(other.locator("h1")).to_contain_text("工作人员登录")


def test_a_user_changes_their_own_password_with_the_old_one_and_stays_signed_in(hall, pages):
    url = hall
    # Given the technician is signed in on two computers
    desk, van = pages(), pages()
    for p in (desk, van):
        sign_in(p, url, "tech")
        signed_in(p, "tech")
    desk.locator(".who a").click()
    expect(desk.locator("h1")).to_contain_text("我的账号")
    # When they give a wrong current password
    desk.fill("input[name=old]", "not-my-password")
    desk.fill("input[name=new]", "tech-新-2026!")
    desk.fill("input[name=repeat]", "tech-新-2026!")
    desk.get_by_role("button", name=re.compile("修改密码")).click()
    # Then nothing changes and they are told why
    expect(desk.locator(".error")).to_contain_text("原密码不正确")
    # When they give the right one
    desk.fill("input[name=old]", PASSWORD)
    desk.fill("input[name=new]", "tech-新-2026!")
    desk.fill("input[name=repeat]", "tech-新-2026!")
    desk.get_by_role("button", name=re.compile("修改密码")).click()
    # Then this browser stays signed in, the other is signed out
    expect(desk.locator(".done")).to_contain_text("密码已修改")
    shot(desk, "account")
    desk.goto(f"{url}/dashboard/terminals")
    signed_in(desk, "tech")
    van.goto(f"{url}/dashboard/terminals")
    expect(van.locator("h1")).to_contain_text("工作人员登录")
    sign_in(van, url, "tech", "tech-新-2026!")
    signed_in(van, "tech")


def test_a_password_form_without_the_csrf_token_is_refused_and_changes_nothing(hall, pages):
    url = hall
    page = pages()
    sign_in(page, url, "wang")
    signed_in(page, "wang")
    # When another site's page makes the browser post the form (no, or a wrong, token)
    form = {"old": PASSWORD, "new": "hijacked-password", "repeat": "hijacked-password"}
    for token in ("", "0" * 64):
        answer = page.request.post(f"{url}/dashboard/account/password",
                                   form={**form, "csrf": token}, max_redirects=0)  # fmt: skip
        assert answer.status == 403
    # Then the old password still signs in, the forged one does not
    fresh = pages()
    sign_in(fresh, url, "wang", "hijacked-password")
    expect(fresh.locator(".error")).to_be_visible()
    sign_in(fresh, url, "wang")
    signed_in(fresh, "wang")


def test_only_an_administrator_manages_accounts_and_never_disables_themself(hall, pages):
    url = hall
    manager = pages()
    sign_in(manager, url, "li")
    signed_in(manager, "li")
    expect(manager.locator('nav a[href="/dashboard/accounts"]')).to_have_count(0)
    assert manager.request.get(f"{url}/dashboard/accounts").status == 403
    csrf = manager.goto(f"{url}/dashboard/account") and manager.locator(
        "input[name=csrf]").first.get_attribute("value")  # fmt: skip
    refused = manager.request.post(f"{url}/dashboard/accounts/admin/disable",
                                   form={"csrf": csrf}, max_redirects=0)  # fmt: skip
    assert refused.status == 403
    admin = pages()
    sign_in(admin, url, "admin")
    admin.goto(f"{url}/dashboard/accounts")
    own = admin.locator('tr[data-user="admin"]')
    expect(own.locator("details.disable")).to_have_count(0)
    token = admin.locator("input[name=csrf]").first.get_attribute("value")
    answer = admin.request.post(f"{url}/dashboard/accounts/admin/disable",
                                form={"csrf": token, "confirm": "1"}, max_redirects=0)  # fmt: skip
    assert answer.status == 409
    expect(own).to_have_attribute("data-active", "yes")
    # and a disable not confirmed (a form posted without its box ticked) disables no one
    unticked = admin.request.post(f"{url}/dashboard/accounts/li/disable", form={"csrf": token},
                                  max_redirects=0)  # fmt: skip
    assert unticked.status == 303 and "problem=confirm" in unticked.headers["location"]
    admin.goto(f"{url}/dashboard/accounts")
    expect(admin.locator('tr[data-user="li"]')).to_have_attribute("data-active", "yes")


def test_a_session_in_use_is_renewed_and_its_forms_stay_good(hall, hall_dir):
    import http.client
    import time
    from urllib.parse import urlsplit

    from central.dashboard import security
    from central.dashboard.data import HallStore
    from central.db import make_engine

    # Given a hall's screen signed in as a manager nearly 8 hours ago, its page still open
    secret = security.load_secret(hall_dir)
    engine = make_engine(f"sqlite:///{hall_dir / 'central.sqlite3'}")
    try:
        epoch = HallStore(engine).user("afx-mgr")[0].epoch
    finally:
        engine.dispose()
    ttl = 8 * 3600
    old = security.make_cookie(secret, "afx-mgr", time.time() - ttl + 120, ttl, epoch)

    def get(cookie: str) -> http.client.HTTPResponse:
        where = urlsplit(hall)
        conn = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
        conn.request("GET", "/dashboard/alerts", headers={"Cookie": f"kiosk_dashboard={cookie}"})
        return conn.getresponse()

    # When the page reloads itself
    answer = get(old)
    renewed = answer.getheader("Set-Cookie") or ""
    # Then it is still signed in, and carries a cookie good for another 8 hours, same session
    assert answer.status == 200 and "kiosk_dashboard=" in renewed
    cookie = renewed.split("kiosk_dashboard=", 1)[1].split(";", 1)[0]
    new = security.read_cookie(secret, cookie, time.time() + ttl - 300)
    was = security.read_cookie(secret, old, time.time())
    assert new is not None and new.sid == was.sid  # its forms' CSRF tokens stay good
    # and a session not used goes on expiring: the old cookie is no good past its time
    assert security.read_cookie(secret, old, time.time() + 300) is None

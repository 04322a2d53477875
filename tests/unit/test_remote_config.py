"""Remote configuration, both ends in pure logic: the dashboard's form and merge, and the
kiosk applying what a heartbeat reply carries and acknowledging it in the next beat."""

from __future__ import annotations

import asyncio

from central.dashboard import remote
from kiosk.config import KioskConfig, TerminalConfig, TimeoutsConfig, load_remote, with_remote
from kiosk.terminal import Ports, Terminal


def test_an_empty_box_inherits_and_values_out_of_range_are_named():
    settings, problems = remote.parse_form({"inactivity": "120", "warning": "", "elderly_factor": "2.5",
                                            "elderly_default": "on", "notices": "第一条\n\n第二条 "})  # fmt: skip
    assert problems == {}
    assert settings == {"inactivity": 120, "elderly_factor": 2.5, "elderly_default": True,
                        "notices": ["第一条", "第二条"]}  # fmt: skip
    _, problems = remote.parse_form({"inactivity": "5", "warning": "10", "elderly_factor": "x",
                                     "notices": "\n".join(["很长" * 50])})  # fmt: skip
    assert set(problems) == {"inactivity", "warning", "elderly_factor", "notices"}


def test_a_terminals_own_settings_lie_over_its_points_and_the_newer_version_wins():
    rows = {("point", "zhouhu"): {"version": 3, "settings": {"inactivity": 120, "notices": ["a"]}},
            ("terminal", "T1"): {"version": 7, "settings": {"inactivity": 60}}}  # fmt: skip
    assert remote.effective(rows, "zhouhu", "T1") == (7, {"inactivity": 60, "notices": ["a"]})
    assert remote.effective(rows, "zhouhu", "T2") == (3, {"inactivity": 120, "notices": ["a"]})
    assert remote.effective(rows, "afx", "T9") == (0, {})


def test_the_kiosk_keeps_its_own_value_for_anything_missing_or_out_of_range():
    base = KioskConfig(terminal=TerminalConfig(notices=("本地公告",)),
                       timeouts=TimeoutsConfig(inactivity=90.0, warning=30.0))  # fmt: skip
    cfg = with_remote(base, {"inactivity": 150, "warning": 5, "elderly_default": True,
                             "notices": ["新公告"], "rm -rf": 1})  # fmt: skip
    assert (cfg.timeouts.inactivity, cfg.timeouts.warning) == (150.0, 30.0)
    assert cfg.terminal.notices == ("新公告",) and cfg.terminal.elderly_default is True
    assert with_remote(base, "garbage") == base


def test_the_kiosk_takes_its_place_in_the_hall_on_one_line_and_no_control_characters():
    assert with_remote(KioskConfig(), {"place": "东侧入口  1 号机"}).terminal.place == "东侧入口 1 号机"
    assert with_remote(KioskConfig(), {"place": "长" * 40}).terminal.place == "长" * 32
    assert with_remote(KioskConfig(), {"place": "入口\x1b[2J"}).terminal.place == ""
    assert with_remote(KioskConfig(), {"place": 7}).terminal.place == ""


class Beats:
    """The platform port's heartbeat, answering with the dashboard's settings."""

    def __init__(self, version: int, settings: dict):
        self.version, self.settings = version, settings
        self.reported: list[dict] = []

    async def heartbeat(self, devices, *, software_version, screen, paper, **reported):
        self.reported.append(reported)
        reply = {"ok": True, "config_version": self.version}
        if reported.get("config_version") != self.version:
            reply["config"] = self.settings
        return reply


async def test_a_pushed_setting_is_applied_kept_and_acknowledged_in_the_next_beat(tmp_path):
    # Given a kiosk whose attract screen shows the local notice
    cfg = KioskConfig(terminal=TerminalConfig(notices=("本地公告",)), data_dir=str(tmp_path))
    platform = Beats(
        4, {"inactivity": 45, "notices": ["今日窗口 17:00 下班"], "elderly_default": True}
    )
    t = Terminal(Ports(platform=platform), cfg)
    shown = t.notices  # the list the attract screen holds
    changes: list[str] = []
    t.subscribe(changes.append)
    # When two heartbeats go
    stop = asyncio.Event()
    task = asyncio.ensure_future(t.heartbeats(stop, lambda: "attract", "1.0", interval=0.05))
    while len(platform.reported) < 2:
        await asyncio.sleep(0.01)
    stop.set()
    await task
    # Then the first reported nothing applied, the second acknowledges version 4
    assert platform.reported[0]["config_version"] == 0
    assert platform.reported[1]["config_version"] == 4
    assert isinstance(platform.reported[0]["uptime"], int)
    # And the settings are in force: the next visit's timeout, the notices on screen, elderly mode
    assert shown == ["今日窗口 17:00 下班"] and "config" in changes
    assert t.limits().idle == 45.0 and t.elderly is True
    # And kept on disk for a restart
    assert load_remote(tmp_path) == (4, platform.settings)


async def test_a_visit_under_way_keeps_its_timeouts_and_elderly_choice():
    t = Terminal(Ports(), KioskConfig())
    session = t.begin(None)
    before = session.limits
    t.apply_remote_config(9, {"inactivity": 300, "elderly_default": True})
    assert session.limits == before and t.elderly is False
    t.end()
    assert t.begin(None).limits.idle == 300.0


def test_the_catalog_fingerprint_is_the_platforms_catalog_etag():
    import hashlib
    import json

    from kiosk.catalog import default_catalog_dir, load_catalog

    catalog = load_catalog(default_catalog_dir())
    t = Terminal(Ports(), KioskConfig(), catalog=catalog)
    data = json.dumps(catalog.to_dict(), ensure_ascii=False, sort_keys=True).encode()
    # central/app.py: etag = '"' + sha256(data)[:32] + '"'
    assert asyncio.run(t.catalog_version()) == hashlib.sha256(data).hexdigest()[:32]


def test_a_notice_may_carry_its_english_after_a_bar_each_language_within_its_length():
    from kiosk.i18n import notice_in

    english = "At night, use the self-service area by the east door " * 2  # 106: over 80, under 160
    settings, problems = remote.parse_form({"notices": f"夜间请走东门 | {english}\n只有中文"})
    assert problems == {}
    notice, chinese_only = settings["notices"]
    assert notice_in(notice, "zh") == "夜间请走东门" and notice_in(notice, "en") == english.strip()
    assert notice_in(chinese_only, "en") == "只有中文"  # no English written: the Chinese shows
    assert notice_in("夜间请走东门｜Use the east door", "en") == "Use the east door"  # a full-width bar
    _, problems = remote.parse_form({"notices": "夜间请走东门 | " + "x" * 161})
    assert set(problems) == {"notices"}
    # the kiosk cuts each language to its own length, and keeps both
    cfg = with_remote(KioskConfig(), {"notices": ["长" * 90 + " | " + "y" * 170]})
    [kept] = cfg.terminal.notices
    assert notice_in(kept, "zh") == "长" * 80 and notice_in(kept, "en") == "y" * 160

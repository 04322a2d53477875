"""How the dashboard judges a terminal and plans alerts: pure data in, decisions out."""

from __future__ import annotations

import datetime as dt

from central.dashboard.status import (
    Severity,
    assess,
    by_severity,
    next_follow_up,
    plan_alerts,
)

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


def beat(paper="ok", **states):
    return {"paper": paper, "software_version": "1.0", "screen": "home",
            "devices": [{"device": d, "state": s, "reason": ""} for d, s in states.items()]}  # fmt: skip


def test_recent_healthy_beat_is_green_and_a_late_one_is_red_offline():
    fresh = assess("T1", "zhouhu", NOW - dt.timedelta(seconds=30), beat(printer="ok"), NOW, 90)
    late = assess("T1", "zhouhu", NOW - dt.timedelta(seconds=91), beat(printer="ok"), NOW, 90)
    assert fresh.severity is Severity.GREEN and fresh.online
    assert late.severity is Severity.RED and [c.kind for c in late.conditions] == ["offline"]


def test_paper_and_devices_set_the_colour_whatever_words_the_printer_used():
    seen = NOW - dt.timedelta(seconds=5)
    assert assess("T", "p", seen, beat("paper_near_end"), NOW, 90).severity is Severity.AMBER
    assert assess("T", "p", seen, beat("near_end"), NOW, 90).severity is Severity.AMBER
    assert assess("T", "p", seen, beat("out"), NOW, 90).severity is Severity.RED
    assert assess("T", "p", seen, beat(idcard="degraded"), NOW, 90).severity is Severity.AMBER
    faulty = assess("T", "p", seen, beat("paper_near_end", idcard="fault"), NOW, 90)
    assert faulty.severity is Severity.RED
    assert {(c.kind, c.detail) for c in faulty.conditions} == {("paper_near_end", ""),
                                                               ("device_fault", "idcard")}  # fmt: skip


def test_a_terminal_that_never_beat_is_offline_and_sorting_puts_red_first():
    never = assess("T9", "a", None, None, NOW, 90)
    ok = assess("T1", "a", NOW, beat(), NOW, 90)
    amber = assess("T2", "a", NOW, beat("near_end"), NOW, 90)
    assert never.paper == "unknown" and never.severity is Severity.RED
    assert [v.terminal_id for v in by_severity([ok, amber, never])] == ["T9", "T2", "T1"]
    # and says why to look at its setup rather than its power: it has never been heard from
    from central.dashboard.reasons import in_chinese

    [offline] = never.conditions
    assert in_chinese(offline.reason).startswith("登记后从未发来心跳：请检查终端程序是否在运行")
    # (one that went quiet after beating is offline with no such word)
    gone = assess("T8", "a", NOW - dt.timedelta(seconds=300), beat(), NOW, 90)
    assert [(c.kind, c.reason) for c in gone.conditions] == [("offline", "")]


def test_a_healthy_terminal_where_a_citizen_waits_for_staff_is_red_and_listed_first():
    calling = assess("T5", "b", NOW, beat(printer="ok"), NOW, 90, calls=["form"])
    amber = assess("T2", "a", NOW, beat("near_end"), NOW, 90)
    assert calling.severity is Severity.RED
    assert [(c.kind, c.detail) for c in calling.conditions] == [("help", "form")]
    assert [v.terminal_id for v in by_severity([amber, calling])] == ["T5", "T2"]
    # the alert sweep leaves calls to people: it neither opens nor clears an alert for one
    assert plan_alerts([calling], {}).open == ()


def test_alert_plan_opens_new_conditions_clears_ended_ones_and_notes_returns():
    v = assess("T1", "zhouhu", NOW, beat("out", idcard="fault"), NOW, 90)
    existing = {
        "T1|paper_out|": (1, False),
        "T1|offline|": (2, False),
        "T1|device_fault|idcard": (3, True),
    }
    plan = plan_alerts([v], existing)
    assert plan.open == () and plan.clear == (2,) and plan.recur == (3,)
    fresh = plan_alerts([v], {})
    assert {c.kind for _, _, c in fresh.open} == {"paper_out", "device_fault"}


def test_an_empty_roll_is_one_alarm_not_a_printer_fault_as_well():
    # the printer driver reports paper out (and near end) as its own fault (degraded) too
    for paper, state, kind in (("out", "fault", "paper_out"), ("near_end", "degraded", "paper_near_end")):
        v = assess("T1", "zhouhu", NOW, beat(paper, printer=state), NOW, 90)
        assert [c.kind for c in v.conditions] == [kind]
    # a printer at fault with paper in it (cover open, offline) is still a device fault,
    # and so is one at fault while its paper runs low: it cannot print, which is more
    v = assess("T1", "zhouhu", NOW, beat("ok", printer="fault"), NOW, 90)
    assert [(c.kind, c.detail) for c in v.conditions] == [("device_fault", "printer")]
    v = assess("T1", "zhouhu", NOW, beat("near_end", printer="fault"), NOW, 90)
    assert {(c.kind, c.detail) for c in v.conditions} == {("paper_near_end", ""),
                                                          ("device_fault", "printer")}  # fmt: skip


def test_follow_up_goes_new_assigned_contacted_resolved_and_stops():
    assert [next_follow_up(s) for s in ("new", "assigned", "contacted", "resolved", "none")] == [
        "assigned", "contacted", "resolved", None, None]  # fmt: skip


def test_a_reader_failing_card_after_card_opens_an_alert_but_a_few_failures_do_not():
    seen = NOW - dt.timedelta(seconds=5)
    failing = beat(idcard="degraded")
    failing["devices"][0]["failed_reads"] = "3"
    few = beat(idcard="ok")
    few["devices"][0]["failed_reads"] = "2"
    garbled = beat(idcard="ok")
    garbled["devices"][0]["failed_reads"] = "many"
    v = assess("T1", "zhouhu", seen, failing, NOW, 90)
    assert [(c.kind, c.detail) for c in v.conditions] == [("failed_reads", "idcard")]
    assert v.severity is Severity.AMBER
    assert [c.kind for _, _, c in plan_alerts([v], {}).open] == ["failed_reads"]
    assert assess("T1", "zhouhu", seen, few, NOW, 90).severity is Severity.GREEN
    assert assess("T1", "zhouhu", seen, garbled, NOW, 90).severity is Severity.GREEN


def test_an_empty_ratings_page_does_not_read_as_all_good_nor_an_empty_fleet_as_nothing_to_do():
    import datetime as dt

    from central.dashboard import views
    from central.dashboard.data import User

    manager = User("zhouhu-mgr", "manager", ("zhouhu",))
    # no rating at all in 30 days: said so, not "no bad ratings" (which reads as all good)
    page = views.ratings_page(county="安福县", user=manager, csrf="x", distribution={}, bad=[],
                              points={"zhouhu": "洲湖镇"}, visible=["zhouhu"], chosen="",
                              reasons={}, open_alerts=0)  # fmt: skip
    assert "近 30 天还没有评价" in page and "没有差评" not in page
    # some good ratings and no bad one: "no bad ratings"
    page = views.ratings_page(county="安福县", user=manager, csrf="x", distribution={5: 3}, bad=[],
                              points={"zhouhu": "洲湖镇"}, visible=["zhouhu"], chosen="",
                              reasons={}, open_alerts=0)  # fmt: skip
    assert "没有差评" in page
    # no terminal yet: how one is enrolled
    body = views.terminals_body(views=[], points={"zhouhu": "洲湖镇"}, visible=["zhouhu"], chosen="",
                                now=dt.datetime.now(dt.UTC), offline_after=90)  # fmt: skip
    assert "central terminals add-code" in body


def test_a_terminal_online_that_nobody_has_used_for_a_day_is_amber_and_says_what_to_look_at():
    from central.dashboard.reasons import in_chinese

    unused = assess("T3", "a", NOW, beat(), NOW, 90, unused_for=24)
    assert unused.severity is Severity.AMBER
    [c] = unused.conditions
    assert c.kind == "unused"
    assert in_chinese(c.reason) == ("已超过 24 小时没有群众使用：屏幕是否亮着、触摸是否灵敏、"
                                    "群众能否看到并走近？")
    # (offline, it says so, red, and no more: unused goes without saying)
    gone = assess("T3", "a", NOW - dt.timedelta(seconds=300), beat(), NOW, 90, unused_for=24)
    assert [c.kind for c in gone.conditions] == ["offline"]
    # and it opens no alert: the terminal page says it, nobody is called out for it
    assert plan_alerts([unused], {}).open == ()


def test_only_working_days_count_towards_a_terminal_going_unused():
    from central.dashboard.status import working_hours

    china = dt.timezone(dt.timedelta(hours=8))
    weekday = lambda d: d.weekday() < 5  # noqa: E731 - (a holiday calendar in the platform)
    friday_evening = dt.datetime(2026, 12, 4, 18, 0, tzinfo=china)
    monday_morning = dt.datetime(2026, 12, 7, 8, 0, tzinfo=china)
    # a weekend in a closed building: Friday's last 6 hours and Monday's first 8
    assert working_hours(friday_evening, monday_morning, weekday, 100) == 14
    # counted from the end, and only as far as asked
    assert working_hours(friday_evening - dt.timedelta(days=30), monday_morning, weekday, 24) == 24
    # in UTC all the same (the day is China's)
    assert working_hours(friday_evening.astimezone(dt.UTC), monday_morning.astimezone(dt.UTC),
                         weekday, 100) == 14  # fmt: skip

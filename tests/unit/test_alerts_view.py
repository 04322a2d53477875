"""The alerts page's HTML, from alerts as HallStore.alerts gives them."""

from __future__ import annotations

import datetime as dt

from central.dashboard import status
from central.dashboard.data import User
from central.dashboard.views import alerts_page

NOW = dt.datetime(2026, 12, 7, 22, 0, tzinfo=dt.UTC)
MANAGER = User("zhouhu-mgr", "manager", ("zhouhu",))


def an_alert(n: int, kind: str = status.PAPER_OUT, reason: str = "") -> dict:
    return {"id": n, "kind": kind, "detail": "", "reason": reason, "terminal_id": f"T{n}",
            "service_point": "zhouhu", "opened_at": NOW - dt.timedelta(minutes=n),
            "cleared_at": None, "acknowledged_at": None, "acknowledged_by": "",
            "closed_at": None, "closed_by": "", "history": []}  # fmt: skip


def page(alerts, closed=False, more=False) -> str:
    return alerts_page(county="安福县", user=MANAGER, csrf="x", alerts=alerts,
                       points={"zhouhu": "洲湖镇便民服务中心"}, visible=["zhouhu"], chosen="",
                       closed=closed, open_alerts=len(alerts), now=NOW, more=more)  # fmt: skip


def test_alerts_left_out_of_a_full_page_are_said_to_be_there():
    shown = [an_alert(n) for n in range(1, 4)]
    assert "more-alerts" not in page(shown)
    assert "只显示最先要处理的 3 条，其余未列出：请按服务点筛选" in page(shown, more=True)
    assert "只显示最近关闭的 3 条" in page(shown, closed=True, more=True)


def test_a_terminal_never_heard_from_says_to_look_at_its_setup_not_its_power():
    never = an_alert(1, status.OFFLINE, status.NEVER_HEARD)
    quiet = an_alert(2, status.OFFLINE)
    html = page([never, quiet])
    row_never, row_quiet = html.split('data-alert="1"')[1], html.split('data-alert="2"')[1]
    assert "登记后从未发来心跳" in row_never.split("</tr>")[0]
    assert "可能断电、断网或程序停止" in row_quiet.split("</tr>")[0]

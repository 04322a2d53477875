"""The lookups audit as CSV: what a spreadsheet opens is text and numbers, never a formula."""

from __future__ import annotations

import csv
import datetime as dt
import io

from central.dashboard.lookup_views import lookups_csv

UNTIL = dt.datetime(2026, 12, 7, 4, 0, tzinfo=dt.UTC)


def test_the_export_has_a_row_a_terminal_and_nothing_a_spreadsheet_would_run():
    rows = [{"terminal_id": "T1", "service_point": "zhouhu", "applications": 3, "record": None,
             "face": 1, "total": 4, "citizens": 2, "last": UNTIL},
            {"terminal_id": "=HYPERLINK(\"http://x\")", "service_point": "@evil", "applications": 1,
             "record": 0, "face": 0, "total": 1, "citizens": 1, "last": None}]  # fmt: skip
    table = list(csv.reader(io.StringIO(lookups_csv(rows, {"zhouhu": "洲湖镇便民服务中心"}, 30, UNTIL))))
    assert "2026-12-07 12:00:00" in table[0][0]  # China's time
    assert table[2] == ["T1", "洲湖镇便民服务中心", "3", "0", "1", "4", "2", "2026-12-07 12:00:00"]
    assert table[3][0].startswith("'=") and table[3][1] == "'@evil" and table[3][7] == ""

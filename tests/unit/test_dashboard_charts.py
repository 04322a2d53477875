"""The dashboard's SVG charts, from numbers alone."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from central.dashboard import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


@given(st.floats(min_value=0.5, max_value=1e7))
def test_the_axis_top_covers_the_peak_with_a_round_step(peak):
    top, step = charts.nice_max(peak)
    assert top >= peak and step >= 1
    assert step == int(step) and re.fullmatch(r"[125]0*", str(int(step)))
    assert top / step <= 5


def test_an_empty_chart_has_an_integer_grid_and_says_no_data():
    top, step = charts.nice_max(0)
    assert (top, step) == (4, 1)
    svg = charts.column_chart([("2026-11-23", "11/23", 0)], color="#123456", label="x")
    assert "暂无数据" in svg
    ticks = [t.text for t in parse(svg).iter(f"{SVG}text") if t.get("class") == "tick"]
    assert ticks[:5] == ["0", "1", "2", "3", "4"]


def test_each_bucket_is_one_bar_carrying_its_value_and_labels_are_thinned():
    bars = [(f"2026-11-23 {h:02d}", f"{h}时", h * 2) for h in range(24)]
    root = parse(charts.column_chart(bars, color="#1565c0", label="服务人次"))
    rects = [r for r in root.iter(f"{SVG}rect") if r.get("data-bucket")]
    assert [r.get("data-value") for r in rects] == [str(h * 2) for h in range(24)]
    heights = [float(r.get("height")) for r in rects]
    assert heights == sorted(heights) and heights[0] == 0
    axis = [t.text for t in root.iter(f"{SVG}text") if t.text and t.text.endswith("时")]
    assert 4 <= len(axis) < 24 and axis[0] == "0时"


def test_labels_from_the_database_are_escaped():
    svg = charts.bar_list([("x", '<script>alert("x")</script>', 3)], color="#000", label="l")
    assert "<script>" not in svg
    parse(svg)  # still well-formed


def test_horizontal_bars_keep_the_given_order_and_scale_to_the_largest():
    root = parse(charts.bar_list([("a", "甲", 10), ("b", "乙", 5)], color="#000", label="l"))
    groups = [g for g in root.iter(f"{SVG}g") if g.get("data-key")]
    assert [g.get("data-key") for g in groups] == ["a", "b"]
    widths = [float(list(g.iter(f"{SVG}rect"))[1].get("width")) for g in groups]
    assert widths[0] == 2 * widths[1]


def test_grouped_bars_scale_each_series_on_its_own():
    series = [("服务人次", "#1"), ("取号张数", "#2")]
    root = parse(
        charts.grouped_bars([("p", "洲湖", [100, 2]), ("q", "浒坑", [50, 1])], series, label="l")
    )
    rects = {(r.get("data-series"), r.get("data-value")): float(r.get("width"))
             for r in root.iter(f"{SVG}rect")}  # fmt: skip
    assert (
        rects[("服务人次", "100")] == rects[("取号张数", "2")]
    )  # both the largest of their series


def test_each_midnight_of_an_hourly_range_is_labelled():
    bars = [(f"d{i}", f"{11 + i // 24}/2{i // 24}" if i % 24 == 0 else "", 1) for i in range(72)]
    root = parse(charts.column_chart(bars, color="#000", label="x"))
    axis = [t.text for t in root.iter(f"{SVG}text") if t.text and "/" in t.text]
    assert axis == ["11/20", "12/21", "13/22"]

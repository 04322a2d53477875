"""A matter's guide (办事指南) as data and words, from the county's catalog."""

from __future__ import annotations

import pytest

from kiosk.catalog import default_catalog_dir, load_catalog
from kiosk.errors import ValidationError
from kiosk.guide import build_guide, guide_lines, guide_url, material_note, time_limit, where

CATALOG = load_catalog(default_catalog_dir())


def test_the_birth_registration_guide_says_who_how_long_what_it_costs_and_where():
    # Given the birth registration, an any-point matter of the public security bureau
    guide = build_guide(CATALOG, "hukou_birth", "zh", "http://platform.example:8080/")
    lines = dict(guide_lines(guide, "zh"))
    # Then its guide names the bureau, the limits, the fee and where it is accepted
    assert lines["办理部门"] == "安福县公安局"
    assert lines["办理时限"] == "承诺3个工作日办结（法定20个工作日）"
    assert lines["收费标准"] == "不收费"
    assert lines["办理地点"].startswith("全县通办：安福县政务服务中心及")
    assert lines["设定依据"] == "《中华人民共和国户口登记条例》第七条"
    # and lists every material, the QR's page and the bundle it is applied for in
    assert [m.code for m in guide.materials] == list(CATALOG.matters["hukou_birth"].materials)
    assert guide.url == "http://platform.example:8080/guide/hukou_birth"
    assert guide.life_events == (("birth", "新生儿出生一件事"),)


def test_where_counts_only_the_points_that_take_any_point_matters():
    guide = build_guide(CATALOG, "hukou_birth")
    townships = [p for p in CATALOG.service_points.values() if p.kind == "township"]
    taking = [p for p in townships if p.any_point]
    assert len(taking) < len(townships)  # the county has points that do not
    assert len(guide.points) == 1 + len(taking)
    assert where(guide) == f"全县通办：安福县政务服务中心及{len(taking)}个乡镇便民服务中心均可受理"


def test_a_matter_handled_only_at_the_county_centre_says_at_which_desk():
    code = next(c for c, m in CATALOG.matters.items() if not m.any_point)
    guide = build_guide(CATALOG, code, "en")
    assert guide.points == ("Anfu County Government Service Centre",)
    assert where(guide, "en") == f"Anfu County Government Service Centre ({guide.department} desk)"


def test_a_matter_done_on_the_spot_says_so():
    code = next(c for c, m in CATALOG.matters.items() if m.promised_days == 0)
    guide = build_guide(CATALOG, code, "en")
    assert (
        time_limit(guide, "en") == f"Done on the spot (legal limit {guide.legal_days} working days)"
    )


def test_materials_say_when_an_e_certificate_or_a_later_delivery_will_do():
    guide = build_guide(CATALOG, "maternity_benefit", "zh")
    notes = {m.code: material_note(m, "zh") for m in guide.materials}
    assert notes["discharge_summary"] == "可容缺受理，以后补交"
    ecert = next(m for m in guide.materials if m.ecert)
    # only when the library holds the citizen's: the materials list may still ask for it
    assert material_note(ecert, "zh").startswith("电子证照库中有的，可免交纸质")
    assert "以办理时查询为准" in material_note(ecert, "zh")
    assert "if the e-certificate library holds it" in material_note(ecert, "en")
    assert notes["bank_card"] == ""


def test_the_guide_reads_in_english_too():
    guide = build_guide(CATALOG, "hukou_birth", "en")
    assert guide.name == "Household registration of a newborn"
    assert dict(guide_lines(guide, "en"))["Fees"] == "Free"


def test_an_unknown_matter_has_no_guide():
    with pytest.raises(ValidationError) as err:
        build_guide(CATALOG, "no_such_matter")
    assert err.value.message_key == "guide.unknown"


def test_the_guide_url_escapes_the_code():
    assert (
        guide_url("https://zwfw.example.gov.cn", "a b") == "https://zwfw.example.gov.cn/guide/a%20b"
    )

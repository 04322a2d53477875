"""The catalog loads, reads like a real county's list, and bad data gets a
clear error naming file, line and field."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from kiosk.catalog import Catalog, default_catalog_dir, load_catalog
from kiosk.errors import CatalogError


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(default_catalog_dir())


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(default_catalog_dir(), target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    return next(i for i, ln in enumerate(path.read_text("utf-8").splitlines(), 1) if needle in ln)


def test_the_shipped_catalog_has_the_required_breadth(catalog):
    # Given the shipped catalog / Then it covers the life events and matters the issue asks for
    assert len(catalog.matters) >= 40
    assert len(catalog.life_events) >= 12
    assert {"birth", "school_entry", "employment", "settle", "medical_aid", "retirement",
            "after_death", "vehicle", "housing", "business", "construction", "mortgage"} <= set(catalog.life_events)  # fmt: skip
    points = catalog.service_points.values()
    assert len(points) == 19
    assert [p.kind for p in points].count("county") == 1
    assert any(p.name.zh.startswith("洲湖镇") for p in points)


def test_every_text_is_bilingual_and_every_event_has_an_icon(catalog):
    for ev in catalog.life_events.values():
        assert ev.icon and ev.title.zh and ev.title.en and ev.description.en
        for q in ev.questions:
            assert q.text.zh and q.text.en
            assert all(o.label.zh and o.label.en for o in q.options)
    for m in catalog.matters.values():
        assert m.name.zh and m.name.en and m.fee.zh and m.fee.en
        assert m.promised_days <= m.legal_days
    assert all(f.label.zh and f.label.en for f in catalog.fields.values())


def test_catalog_round_trips_through_json(catalog):
    # When served as JSON and read back / Then it is the same catalog
    again = Catalog.from_dict(json.loads(json.dumps(catalog.to_dict(), ensure_ascii=False)))
    assert again == catalog


def test_malformed_toml_names_file_and_line(copy):
    path = copy / "10_birth.toml"
    edit(path, "legal_days = 20\npromised_days = 3", "legal_days = = 20\npromised_days = 3")
    with pytest.raises(CatalogError) as err:
        load_catalog(copy)
    assert err.value.file == "10_birth.toml"
    assert err.value.line == line_of(path, "legal_days = = 20")


def test_wrong_type_names_file_line_and_field(copy):
    path = copy / "13_settle.toml"
    edit(path, "legal_days = 43", 'legal_days = "sixty"')
    with pytest.raises(CatalogError) as err:
        load_catalog(copy)
    assert (err.value.file, err.value.line) == (
        "13_settle.toml",
        line_of(path, 'legal_days = "sixty"'),
    )
    assert err.value.field == "matter[id_card_change].legal_days"
    assert "13_settle.toml:" in str(err.value)


def test_unknown_matter_in_a_life_event_is_named(copy):
    path = copy / "17_vehicle.toml"
    edit(path, 'matters = ["vehicle_mortgage"]', 'matters = ["vehicle_mortgag"]')
    with pytest.raises(CatalogError) as err:
        load_catalog(copy)
    assert "vehicle_mortgag" in err.value.detail
    assert err.value.line == line_of(path, '"vehicle_mortgag"')


def test_a_cycle_in_the_ordering_graph_is_refused(copy):
    path = copy / "19_business.toml"
    edit(
        path,
        '  ["company_registration", "seal_engraving"],',
        '  ["company_registration", "seal_engraving"],\n  ["seal_engraving", "company_registration"],',
    )
    with pytest.raises(CatalogError) as err:
        load_catalog(copy)
    assert "cycle" in err.value.detail and "company_registration" in err.value.detail
    assert err.value.file == "19_business.toml"


def test_a_typo_in_a_key_is_refused(copy):
    path = copy / "03_materials.toml"
    edit(path, '{ code = "bank_card", zh', '{ code = "bank_card", ecrt = "x", zh')
    with pytest.raises(CatalogError) as err:
        load_catalog(copy)
    assert err.value.field == "material[bank_card].ecrt"
    assert err.value.line == line_of(path, 'code = "bank_card"')


def test_a_material_names_two_pages_or_none(copy):
    # a page of its own needs no name: one named page is a mistake (a second one left out)
    path = copy / "03_materials.toml"
    edit(path, '{ code = "bank_card", zh', '{ code = "bank_card", pages = [{ zh = "正面", en = "front" }], zh')
    with pytest.raises(CatalogError) as err:
        load_catalog(copy)
    assert err.value.field == "material[bank_card].pages"
    # a page without both its names is refused too
    edit(path, 'pages = [{ zh = "正面", en = "front" }]', 'pages = [{ zh = "正面" }, { zh = "反面", en = "back" }]')
    with pytest.raises(CatalogError) as err:
        load_catalog(copy)
    assert "pages[0]" in err.value.field


def test_a_field_defined_twice_is_refused(copy):
    path = copy / "02_fields.toml"
    edit(
        path,
        "field = [\n",
        'field = [\n  { id = "bank_name", zh = "银行", en = "Bank", type = "text", group = "bank" },\n',
    )
    with pytest.raises(CatalogError, match="defined twice"):
        load_catalog(copy)


def test_an_unknown_field_type_lists_the_known_ones(copy):
    edit(
        copy / "02_fields.toml",
        'type = "phone", group = "applicant"',
        'type = "mobile", group = "applicant"',
    )
    with pytest.raises(CatalogError, match="'mobile' is not one of text, date"):
        load_catalog(copy)


def test_an_empty_directory_is_a_clear_error(tmp_path):
    with pytest.raises(CatalogError, match="no \\*.toml"):
        load_catalog(tmp_path)


def test_ethnic_groups_are_a_standard_list_every_nation_field_offers(catalog):
    from kiosk.form import card_values
    from kiosk.validation import check_field
    from tests.fakes import an_id_card

    # Given the three fields that ask for an ethnic group (the card's own, a spouse's, a
    # newborn's): each offers the same 58 choices (GB/T 3304), in both languages
    fields = [catalog.fields[f] for f in ("applicant_nation", "spouse_nation", "newborn_nation")]
    assert all(f.choices == fields[0].choices and len(f.choices) == 58 for f in fields)
    labels = {c.value: c.label for c in fields[0].choices}
    assert labels["汉族"].en == "Han" and labels["藏族"].en == "Tibetan" and labels["基诺族"].en == "Jino"
    # the card's value is one of them (a card's code reads as the list's value)
    assert card_values(an_id_card())["nation"] in labels
    # and a value not on the list (typed "汉", the old free text) is refused
    assert check_field(fields[2], "汉") and check_field(fields[2], "汉族") is None


def test_an_unknown_standard_list_is_named(copy):
    path = copy / "02_fields.toml"
    edit(path, 'type = "choice", group = "newborn", choices = "nations"', 'type = "choice", group = "newborn", choices = "tribes"')
    with pytest.raises(CatalogError) as err:
        load_catalog(copy)
    assert "tribes" in err.value.detail and "nations" in err.value.detail


def test_a_card_s_ethnic_group_code_no_list_has_is_left_for_the_citizen_to_choose(catalog):
    import dataclasses

    from kiosk.form import Form
    from tests.fakes import an_id_card

    form = Form((catalog.fields["applicant_name"], catalog.fields["applicant_nation"]), {})
    assert form.prefill(an_id_card())["applicant_nation"] == "汉族"  # code 01
    odd = dataclasses.replace(an_id_card(), nation="99")  # a code no list has
    filled = form.prefill(odd)
    assert "applicant_nation" not in filled and filled["applicant_name"] == "王芳"
    # so the field can be chosen, and the form finished, rather than stuck on a value
    # neither put right nor passed
    assert form.validate({**filled, "applicant_nation": "汉族"}, dt.date(2026, 12, 7)) == {}


def test_a_catalog_from_a_newer_platform_with_keys_this_terminal_does_not_know_is_taken(catalog, copy):
    # Given the platform's catalog (JSON) with what a newer platform adds: a key on an entry,
    # and a kind of entry this terminal has never heard of
    raw = json.loads(json.dumps(catalog.to_dict(), ensure_ascii=False))
    raw["service_point"][0]["wheelchair_access"] = True
    raw["county"]["motto"] = "一次办好"
    raw["kiosk_skin"] = [{"code": "winter"}]
    # Then the terminal takes it, what it knows unchanged (it would otherwise refuse every
    # later catalog until upgraded)
    assert Catalog.from_dict(raw) == catalog
    # But the catalog's own files are still checked for typos
    edit(copy / "00_county.toml", 'kind = "county",', 'kind = "county", wheelchair_acess = true,')
    with pytest.raises(CatalogError) as err:
        load_catalog(copy)
    assert "wheelchair_acess" in err.value.field

"""The savings report: fields typed and materials handed over, bundle against separate."""

from __future__ import annotations

import pytest

from kiosk.catalog import default_catalog_dir, load_catalog
from kiosk.savings import main, report


@pytest.fixture(scope="module")
def rows():
    return report(load_catalog(default_catalog_dir()))


def test_there_is_a_row_for_every_path_of_every_life_event(rows):
    assert len({r.life_event for r in rows}) == 12
    birth = [r for r in rows if r.life_event == "birth"]
    assert len(birth) == 16
    assert all(
        "relation=" in r.path and r.path.count("*") == 1 for r in birth
    )  # inferred, not asked


def test_the_bundle_never_hands_over_more_materials_than_the_separate_matters(rows):
    assert all(r.materials_handed <= r.materials_separate for r in rows)
    assert all(r.fields_prefilled >= 1 for r in rows)


def test_a_big_bundle_saves_most(rows):
    row = next(r for r in rows if r.life_event == "after_death" and r.matters == 8)
    assert row.fields_typed < row.fields_separate * 0.4
    assert row.materials_handed < row.materials_separate * 0.4


def test_main_prints_the_table_with_the_total_last(capsys):
    assert main([]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("total (") and "fields typed" in last and "materials handed over" in last
    assert last.count("% saved") == 2


def test_main_reports_a_broken_catalog_without_a_traceback(tmp_path, capsys):
    (tmp_path / "x.toml").write_text("[county\n", encoding="utf-8")
    assert main(["--catalog", str(tmp_path)]) == 1
    assert "x.toml:1" in capsys.readouterr().err

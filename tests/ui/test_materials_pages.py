"""Large type shows the materials a page at a time: every row of a page whole, none cut at
the page's foot (in landscape the list has room for fewer rows than in portrait), and every
material on some page. A real window under Xvfb, each orientation in its own process."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.vision import shows_text
from tests.support.window_child import run_child

pytestmark = pytest.mark.ui
CHILD = Path(__file__).with_name("materials_pages_app.py")


@pytest.mark.parametrize("size", [(1080, 1920), (1920, 1080)], ids=["portrait", "landscape"])
def test_each_page_of_materials_in_large_type_shows_its_rows_whole(tmp_path, size):
    got = run_child(CHILD, tmp_path, size)
    pages = got["pages"]
    assert all(p["rows"] >= 1 and p["whole"] == p["rows"] for p in pages), pages
    assert sum(p["rows"] for p in pages) >= got["materials"]  # none left off a page
    assert shows_text(got["screenshot"], "需要提交的材料（一次告知）", [57], bold=True)

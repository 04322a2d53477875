"""A new catalog from the platform is searched at once: the search screen builds its index
again (it kept the first catalog's before, so a matter added later was never found, and a
matter removed raised as the citizen typed). A real window under Xvfb, a real platform."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.vision import shows_text
from tests.support.window_child import run_child

pytestmark = pytest.mark.ui
CHILD = Path(__file__).with_name("search_catalog_app.py")


def test_a_matter_the_platform_adds_is_found_by_the_next_search(tmp_path):
    got = run_child(CHILD, tmp_path, (1080, 1920))
    assert got["taken"] is True
    assert "farm_machinery_subsidy" not in got["before"]
    assert "farm_machinery_subsidy" in got["after"]
    assert shows_text(got["screenshot"], "农机购置补贴申请", range(26, 40))

"""How the volumes page puts a part of a whole in words."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from central.dashboard.volume_views import share


def test_a_few_of_many_are_not_shown_as_none_nor_nearly_all_as_all():
    assert share(2, 763) == "<1%"
    assert share(761, 763) == ">99%"
    assert (share(0, 763), share(763, 763), share(2, 10)) == ("0%", "100%", "20%")


@given(st.integers(1, 10**6).flatmap(lambda whole: st.tuples(st.integers(0, whole), st.just(whole))))
def test_none_and_all_are_said_only_when_so(pair):
    part, whole = pair
    said = share(part, whole)
    assert (said == "0%") == (part == 0)
    assert (said == "100%") == (part == whole)

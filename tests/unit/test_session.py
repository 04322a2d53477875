"""A visit as a state machine: legal moves only, a warning before timeout,
and no personal data left after the end."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.errors import SessionError
from kiosk.session import Session, State, Timeouts, TimeoutStatus, timeout_status
from tests.unit.cards import id_card, social_card

T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


def s(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def filled_session(elderly: bool = False) -> Session:
    session = Session(id_card(), T0, elderly=elderly)
    session.go(State.CHOOSING, T0)
    session.life_event = "birth"
    session.go(State.ANSWERING, T0)
    session.answers["certificate"] = "issued"
    session.go(State.FORM, T0)
    session.values |= {"applicant_name": "李秀英", "applicant_phone": "13912345678"}
    session.scans["hukou_book"] = "scan-1"
    return session


def test_a_visit_walks_from_identified_to_ended():
    session = filled_session()
    for target in (State.MATERIALS, State.REVIEW, State.SUBMITTED):
        session.go(target, T0)
    session.rate(5, T0)
    session.go(State.ENDED, T0)
    assert session.state is State.ENDED and not session.holds_personal_data()


def test_an_illegal_move_is_refused():
    session = Session(id_card(), T0)
    with pytest.raises(SessionError):
        session.go(State.SUBMITTED, T0)
    with pytest.raises(SessionError):
        session.rate(5, T0)  # nothing submitted yet
    assert session.state is State.IDENTIFIED


def test_there_is_no_going_back_after_submission():
    session = filled_session()
    for target in (State.MATERIALS, State.REVIEW, State.SUBMITTED):
        session.go(target, T0)
    with pytest.raises(SessionError):
        session.go(State.FORM, T0)


def test_timeout_is_a_pure_function_of_time_pause_and_mode():
    limits = Timeouts(idle=120, warning=30, elderly_idle=240, elderly_warning=60)
    assert timeout_status(s(119), T0, False, False, limits).status is TimeoutStatus.ACTIVE
    assert timeout_status(s(121), T0, False, False, limits).status is TimeoutStatus.WARNING
    assert timeout_status(s(150), T0, False, False, limits).status is TimeoutStatus.EXPIRED
    assert timeout_status(s(150), T0, False, True, limits).status is TimeoutStatus.ACTIVE
    assert timeout_status(s(10_000), T0, True, False, limits).status is TimeoutStatus.ACTIVE
    assert timeout_status(s(130), T0, False, False, limits).seconds_left == 20


def test_a_warning_comes_first_and_a_touch_returns_to_the_form():
    session = filled_session()
    session.tick(s(125))
    assert session.state is State.WARNING and session.holds_personal_data()
    session.touch(s(126))
    assert session.state is State.FORM


def test_acting_during_the_warning_continues_the_visit():
    session = filled_session()
    session.tick(s(125))
    session.go(State.MATERIALS, s(126))
    assert session.state is State.MATERIALS


def test_timeout_ends_the_visit_and_wipes_personal_data():
    session = filled_session()
    session.tick(s(125))
    session.tick(s(151))
    assert session.state is State.ENDED and session.end_reason == "timeout"
    assert not session.holds_personal_data()
    with pytest.raises(SessionError):
        session.touch(s(152))


def test_a_clock_set_back_hours_does_not_keep_a_citizen_s_data_on_screen_for_those_hours():
    session = filled_session()
    back = T0 - dt.timedelta(hours=8)  # NTP corrects an RTC that was kept in China time
    session.tick(back)
    assert session.state is State.FORM  # no timeout out of nowhere
    session.tick(back + dt.timedelta(seconds=151))
    assert session.state is State.ENDED and not session.holds_personal_data()


def test_the_elderly_get_longer():
    session = filled_session(elderly=True)
    session.tick(s(200))
    assert session.state is State.FORM


def test_a_paused_session_waits_for_the_printer():
    session = filled_session()
    session.pause(True, s(10))
    session.tick(s(1000))
    assert session.state is State.FORM
    session.pause(False, s(1000))
    assert session.tick(s(1100)).status is TimeoutStatus.ACTIVE


ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["go", "touch", "tick", "pause", "unpause", "fill"]),
        st.sampled_from(list(State)),
        st.integers(0, 400),
    ),
    max_size=25,
)


@settings(max_examples=200, deadline=None)
@given(ACTIONS, st.booleans(), st.sampled_from(["end", "timeout"]))
def test_no_personal_data_is_left_after_end_or_timeout(actions, elderly, finish):
    card = id_card()
    session = Session(card, T0, elderly=elderly)
    now = T0
    for action, target, step in actions:
        now += dt.timedelta(seconds=step)
        try:
            if action == "go":
                session.go(target, now)
            elif action == "touch":
                session.touch(now)
            elif action == "tick":
                session.tick(now)
            elif action in ("pause", "unpause"):
                session.pause(action == "pause", now)
            elif session.state is not State.ENDED:
                session.values["applicant_name"] = card.name
                session.answers["q"] = "yes"
                session.scans["id_card"] = "scan"
        except SessionError:
            pass
    if finish == "end":
        session.end()
    else:
        session.pause(False, now)
        session.tick(now + dt.timedelta(hours=1))
        session.tick(now + dt.timedelta(hours=2))
    assert session.state is State.ENDED
    assert not session.holds_personal_data()
    assert card.name not in str(vars(session)) and card.id_number not in str(vars(session))


def test_the_end_of_a_visit_names_each_card_read_and_the_paper_printed():
    now = dt.datetime(2026, 12, 7, 9, 0)
    visit = Session(id_card(), now)
    assert visit.to_take() == ["id_card"]
    visit.social_card, visit.printed = social_card(), 1  # a record printed meanwhile
    assert visit.to_take() == ["id_card", "social_card", "printout"]
    visit.receipt_number = "AF2026120700001"  # an outcome whose receipt did not print
    assert visit.to_take() == ["id_card", "social_card", "printout"]
    visit.receipt_printed = True  # the acceptance receipt is called what it is, once printed
    assert visit.to_take() == ["id_card", "social_card", "receipt"]
    # a visit begun with the social-security card has only that card in a reader
    assert Session(social_card(), now).to_take() == ["social_card"]
    visit.end()
    assert visit.to_take() == []

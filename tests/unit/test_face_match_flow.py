"""The face match (人证比对) in the core: which visits need it, when the live picture is
taken, and what follows the platform's answers (three refusals, then staff)."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk.catalog import default_catalog_dir, load_catalog
from kiosk.config import KioskConfig
from kiosk.errors import DeviceError, PlatformError, ValidationError
from kiosk.face import FaceVerdict, SteadyFace, face_matters, verdict
from kiosk.identity import ElectronicId
from kiosk.ports import Frame
from kiosk.terminal import Ports, Terminal
from tests.fakes import FakeIdentityPlatform

NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)
PERSON = ElectronicId("刘建国", "362425196504120015")
CITIZEN, STRANGER = (
    Frame(b"the citizen", 1, 1, "image/jpeg"),
    Frame(b"someone else", 1, 1, "image/jpeg"),
)


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(default_catalog_dir())


# -- auto-capture -------------------------------------------------------------------------


def test_a_usable_face_is_taken_once_it_has_held_still_for_the_hold_time():
    steady = SteadyFace(hold=1.0)
    box = (100, 100, 200, 200)
    assert steady.feed(True, box, 0.0) == 0.0
    drifted = (104, 98, 202, 202)  # a little drift is fine
    assert steady.feed(True, drifted, 0.5) == pytest.approx(0.5)
    assert steady.feed(True, box, 1.0) == 1.0


def test_moving_or_an_unusable_frame_starts_the_hold_again():
    steady = SteadyFace(hold=1.0)
    steady.feed(True, (100, 100, 200, 200), 0.0)
    assert steady.feed(True, (160, 100, 200, 200), 0.8) == 0.0  # stepped sideways
    assert steady.feed(True, (160, 100, 200, 200), 1.3) == pytest.approx(0.5)
    assert steady.feed(False, (160, 100, 200, 200), 1.5) == 0.0  # e.g. "move closer"
    assert steady.feed(True, (160, 100, 200, 200), 1.6) == 0.0
    assert steady.feed(True, (160, 100, 260, 260), 2.0) == 0.0  # came much nearer


def test_three_refusals_and_a_member_of_staff_is_offered():
    assert verdict(True, 2) is FaceVerdict.MATCHED
    assert [verdict(False, n) for n in range(3)] == [FaceVerdict.RETRY, FaceVerdict.RETRY,
                                                      FaceVerdict.STAFF]  # fmt: skip


# -- which visits need it ------------------------------------------------------------------


def test_claiming_a_pension_or_withdrawing_the_provident_fund_needs_the_face_match(catalog):
    assert set(face_matters(catalog, catalog.matters)) >= {"pension_claim", "hpf_withdraw_retire"}
    assert face_matters(catalog, catalog.life_events["birth"].matters) == ()


def visit(catalog, platform=None) -> Terminal:
    t = Terminal(Ports(platform=platform), KioskConfig(), catalog=catalog, now=lambda: NOW)
    t.begin(PERSON)
    t.journey.choose("retirement", NOW)
    for question, answer in (("kind", "normal"), ("hpf", "yes")):
        t.journey.answer(question, answer, NOW)
    return t


def test_a_retirement_visit_needs_the_face_match_until_it_has_passed(catalog):
    t = visit(catalog)
    assert t.needs_face_match()
    with pytest.raises(ValidationError) as refused:
        t.journey.submission("T-1", "zhouhu", NOW)
    assert refused.value.message_key == "face.needed"
    t.session.face_verified = True
    assert not t.needs_face_match()


def test_a_visit_without_such_a_matter_never_asks_for_a_face(catalog):
    t = Terminal(Ports(), KioskConfig(), catalog=catalog, now=lambda: NOW)
    t.begin(PERSON)
    t.journey.choose("birth", NOW)
    assert not t.needs_face_match()


# -- the terminal -----------------------------------------------------------------------


async def test_the_right_face_passes_and_is_compared_against_the_identified_citizen(catalog):
    platform = FakeIdentityPlatform()
    t = visit(catalog, platform)
    assert await t.match_face(CITIZEN) is FaceVerdict.MATCHED
    assert platform.compared == [PERSON.id_number]
    assert t.session.face_verified and not t.needs_face_match()


async def test_another_face_is_refused_three_times_then_staff_are_needed(catalog):
    t = visit(catalog, FakeIdentityPlatform())
    answers = [await t.match_face(STRANGER) for _ in range(3)]
    assert answers == [FaceVerdict.RETRY, FaceVerdict.RETRY, FaceVerdict.STAFF]
    assert t.needs_face_match()
    # The end of the visit forgets it all
    session = t.session
    t.end("finished")
    assert (session.face_verified, session.face_attempts, session.card) == (False, 0, None)


async def test_a_platform_that_cannot_compare_now_is_explained_and_costs_no_attempt(catalog):
    platform = FakeIdentityPlatform()
    platform.down = True
    t = visit(catalog, platform)
    with pytest.raises(PlatformError) as down:
        await t.match_face(CITIZEN)
    assert down.value.message_key == "face.offline"
    assert t.session.face_attempts == 0 and not t.session.paused


async def test_a_kiosk_without_a_face_camera_says_so_calmly(catalog):
    t = visit(catalog, FakeIdentityPlatform())
    with pytest.raises(DeviceError) as missing:
        await t.look_face()
    assert missing.value.message_key == "error.camera"

"""The citizen's journey through one life event, over a Session and the catalog.

Pure: screens call these intents; each returns what the next screen shows.
Questions one at a time with back always possible; one merged form pre-filled
from the card; one list of materials; one Submission at the end.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field, replace

from kiosk.catalog.model import Bilingual, Catalog, FieldDef, LifeEvent, Question
from kiosk.config import china_time
from kiosk.errors import ValidationError
from kiosk.face import face_matters
from kiosk.form import Form, build_form
from kiosk.guidance import Plan, identity_facts, inferred, next_question, relevant, resolve
from kiosk.materials import MaterialItem, build_materials, deferred
from kiosk.outcomes import Delivery, Submission
from kiosk.session import Session, State
from kiosk.timelimits import bundle_limit
from kiosk.workdays import DueDate, WorkdayCalendar


@dataclass(frozen=True)
class Progress:
    """'Question 2 of 4': the number of this question and of all relevant ones so far."""

    number: int
    total: int


@dataclass
class Journey:
    catalog: Catalog
    session: Session
    calendar: WorkdayCalendar = field(default_factory=WorkdayCalendar)
    asked: list[str] = field(default_factory=list)  # question ids in the order answered
    deferred_codes: set[str] = field(default_factory=set)
    scan_pages: dict[str, list[bytes]] = field(default_factory=dict)  # material → page images
    signature: bytes = b""  # the signed promise to bring deferred materials (PNG)
    delivery: Delivery = Delivery.PICKUP
    delivery_address: str = ""

    # -- choosing ------------------------------------------------------------
    @property
    def event(self) -> LifeEvent:
        return self.catalog.life_events[self.session.life_event]

    def facts(self) -> dict[str, str]:
        return identity_facts(self.session.card, self.catalog)

    def choose(self, code: str, now: dt.datetime) -> Question | None:
        """Start a life event; returns the first question (None: straight to the form).

        :raises ValidationError: unknown life event.
        """
        if code not in self.catalog.life_events:
            raise ValidationError(f"unknown life event {code!r}", field="life_event")
        if self.session.state is State.IDENTIFIED:
            self.session.go(State.CHOOSING, now)
        self.session.life_event = code
        self.session.answers.clear()
        self.asked.clear()
        question = self.current_question()
        self.session.go(State.ANSWERING if question else State.FORM, now)
        return question

    # -- guided questions ----------------------------------------------------
    def current_question(self) -> Question | None:
        return next_question(self.event, self.session.answers, self.facts())

    def progress(self) -> Progress:
        # as next_question walks them: a question the card answers is not asked, but its
        # answer decides whether the ones after it are (a mother's questions, from the card)
        known, facts, total = dict(self.session.answers), self.facts(), 0
        for q in self.event.questions:
            if not relevant(q, known):
                continue
            if q.id in known:
                total += 1
            elif (value := inferred(q, facts)) is not None:
                known[q.id] = value
            else:
                total += 1
        return Progress(number=len(self.asked) + 1, total=max(total, len(self.asked) + 1))

    def answer(self, question_id: str, value: str, now: dt.datetime) -> Question | None:
        """Record an answer; returns the next question, or None when the form is next.

        :raises ValidationError: not the current question, or not one of its options.
        """
        q = self.current_question()
        if q is None or q.id != question_id or q.option(value) is None:
            raise ValidationError(f"{value!r} does not answer {question_id!r}", field=question_id)
        self.session.answers[question_id] = value
        self.asked.append(question_id)
        self.session.touch(now)
        following = self.current_question()
        if following is None and self.plan().stop is None:
            self.session.go(State.FORM, now)
        return following

    def back(self, now: dt.datetime) -> Question | None:
        """Undo the last answer (it is kept as the suggested one); None: back to choosing."""
        if self.session.state is State.FORM:
            self.session.go(State.ANSWERING if self.asked else State.CHOOSING, now)
            return self.current_question() if self.asked else None
        if not self.asked:
            self.session.go(State.CHOOSING, now)
            return None
        last = self.asked.pop()
        self.session.answers.pop(last, None)
        self.session.touch(now)
        return self.current_question()

    # -- the plan, the form, the materials -----------------------------------
    def plan(self) -> Plan:
        return resolve(self.catalog, self.event, self.session.answers, self.facts())

    def form(self) -> Form:
        return build_form(self.catalog, self.plan())

    def start_form(self) -> dict[str, str]:
        """Pre-fill the form from the card (values the citizen typed are kept)."""
        prefilled = self.form().prefill(self.session.card)
        for key, value in prefilled.items():
            self.session.values.setdefault(key, value)
        return prefilled

    def set_value(self, field_id: str, value: str, now: dt.datetime) -> None:
        self.session.values[field_id] = value
        self.session.touch(now)

    def problems(self, today: dt.date) -> dict[str, str]:
        return self.form().validate(self.session.values, today)

    def form_done(self, now: dt.datetime) -> dict[str, str]:
        """Go on to the materials if the form is valid; else the problems by field."""
        problems = self.problems(china_time(now).date())  # the county's day, not UTC's
        if not problems:
            self.session.go(State.MATERIALS, now)
        return problems

    def materials(self) -> tuple[MaterialItem, ...]:
        return build_materials(self.catalog, self.plan(), {"id_card", *self.session.certificates})

    def attach_scan(self, code: str, pages: list[bytes], now: dt.datetime) -> None:
        """Keep a material's scanned pages (in memory only, wiped with the session)."""
        import hashlib

        self.scan_pages[code] = list(pages)
        digest = hashlib.sha256(b"".join(pages)).hexdigest()[:16]
        self.session.scans[code] = f"scan:{len(pages)}:{digest}"
        self.deferred_codes.discard(code)
        self.session.touch(now)

    def forget_scan(self, code: str, now: dt.datetime) -> None:
        """The material's pages dropped: it is outstanding again."""
        self.scan_pages.pop(code, None)
        self.session.scans.pop(code, None)
        self.session.touch(now)

    def defer(self, code: str, now: dt.datetime) -> None:
        """:raises ValidationError: the material may not be missing at acceptance."""
        item = next((m for m in self.materials() if m.code == code), None)
        if item is None or item.waived or not item.deferrable:
            raise ValidationError(f"{code} cannot be deferred", field=code,
                                  message_key="materials.not_deferrable")
        self.deferred_codes.add(code)
        # brought later, whole: pages scanned of it so far are not sent as if it were here
        self.scan_pages.pop(code, None)
        self.session.scans.pop(code, None)
        self.session.touch(now)

    def defer_due(self, today: dt.date) -> dt.date:
        return self.calendar.promise(today, self.catalog.defer_working_days).date

    def promise(self, today: dt.date) -> tuple[int, DueDate, bool]:
        """What the platform will promise for this visit as it stands, submitted ``today``
        (central.decide.accept's rule): the bundle's limit in working days, the date it
        falls due, and whether materials brought later push that date out to their own."""
        limit = bundle_limit(self.catalog.matters, self.plan().matters, self.event.order)
        due = self.calendar.promise(today, limit.days)
        # what the submission carries: a material deferred, then no longer asked for (an
        # answer changed) is not waited for
        if deferred(self.materials(), self.deferred_codes, today):
            later = self.defer_due(today)
            if later > due.date:
                return limit.days, DueDate(later, due.provisional
                                           or self.calendar.is_provisional(later)), True  # fmt: skip
        return limit.days, due, False

    def outstanding(self) -> list[MaterialItem]:
        """Materials still to scan or defer before review: a material whose pages are named
        (户主页, 本人页) until each is scanned."""
        return [
            m
            for m in self.materials()
            if not m.waived and m.code not in self.deferred_codes
            and (m.code not in self.session.scans or self.page_wanted(m) is not None)
        ]

    def page_wanted(self, item: MaterialItem) -> Bilingual | None:
        """The named page of ``item`` to scan next; None when none is still wanted."""
        return item.page_wanted(len(self.scan_pages.get(item.code, ())))

    def wipe(self) -> None:
        """Scans and the signature go with the session."""
        self.scan_pages.clear()
        self.signature = b""
        self.deferred_codes.clear()

    def materials_done(self, now: dt.datetime) -> list[MaterialItem]:
        left = self.outstanding()
        if not left:
            self.session.go(State.REVIEW, now)
        return left

    # -- face match ------------------------------------------------------------
    def needs_face_match(self) -> bool:
        """True while a matter of this bundle needs the face match (人证比对) and it
        has not passed in this visit."""
        if self.session.face_verified or not self.session.life_event:
            return False
        try:
            matters = self.plan().matters
        except ValidationError:  # questions still open: the matters always in the bundle
            matters = self.event.matters
        return bool(face_matters(self.catalog, matters))

    # -- review and submission -----------------------------------------------
    def review_groups(self, language: str = "zh") -> list[tuple[str, list[tuple[FieldDef, str]]]]:
        """The form's values grouped by topic, in form order."""
        groups: dict[str, list[tuple[FieldDef, str]]] = {}
        for f in self.form().fields:
            groups.setdefault(f.group, []).append((f, self.session.values.get(f.id, "")))
        return list(groups.items())

    def submission(self, terminal_id: str, accepting_point: str, now: dt.datetime) -> Submission:
        """:raises ValidationError: ``face.needed``: a matter needs the face match, not yet passed."""
        if self.needs_face_match():
            raise ValidationError("face match not passed", field="face", message_key="face.needed")
        plan, form = self.plan(), self.form()
        today = china_time(now).date()  # 00:00–08:00 in the county is still yesterday in UTC
        sub = Submission(
            key="",
            terminal_id=terminal_id,
            accepting_point=accepting_point,
            life_event=self.session.life_event,
            matters=plan.matters,
            fields=form.values_for_submission(self.session.values),
            consumers=dict(form.consumers),
            materials=dict(self.session.scans),
            deferred=deferred(self.materials(), self.deferred_codes, self.defer_due(today)),
            delivery=self.delivery,
            delivery_address=self.delivery_address,
            created_at=now,
            commitment_signature=signature_ref(self.signature) if self.deferred_codes else "",
        )
        return replace(sub, key=submission_key(self.session.visit_secret, sub))


def submission_key(visit_secret: str, sub: Submission) -> str:
    """The key a submission goes under: the same for the same application of one visit
    (Submit tapped again after a refusal that kept it queued, a terminal not trusted for the
    moment: stored once, not once a tap), another once anything in it changed."""
    content = {k: v for k, v in sub.to_dict().items() if k not in ("key", "created_at", "local_number")}
    digest = hashlib.sha256(visit_secret.encode())
    digest.update(json.dumps(content, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()[:32]


def signature_ref(png: bytes) -> str:
    """The reference a submission carries for a signature image (like a scan's)."""
    import hashlib

    return f"signature:{len(png)}:{hashlib.sha256(png).hexdigest()[:16]}" if png else ""

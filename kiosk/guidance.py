"""Guided questions (情形引导): answers decide a life event's matters, and the
fields and materials each matter needs.

Pure functions over the catalog. A question whose answer the card already
tells (``infer_from``) is never asked; a question is asked only while its
``when`` conditions hold for the earlier answers.

Where an option adds fields or materials, they are needed by the matters that
option adds, or, when it adds none, by the life event's always-present
matters (e.g. "married" adds the spouse's ID to the transfer registration).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

from kiosk.catalog.model import Bilingual, Catalog, LifeEvent, Question
from kiosk.errors import ValidationError
from kiosk.identity import Gender, IdCard, Identity


@dataclass(frozen=True)
class Plan:
    """What a life event needs for one set of answers."""

    life_event: str
    answers: tuple[tuple[str, str], ...]  # every relevant question → value, in order
    asked: tuple[str, ...]  # question ids the citizen answered (not inferred)
    matters: tuple[str, ...]
    field_needs: dict[str, tuple[str, ...]]  # matter → field ids
    material_needs: dict[str, tuple[str, ...]]  # matter → material codes
    bundle_fields: tuple[str, ...] = ()  # life-event level fields
    stop: Bilingual | None = None  # the citizen cannot apply this way: why


def identity_facts(card: Identity | None, catalog: Catalog) -> dict[str, str]:
    """What the card can answer: ``gender`` ("1"/"2") and ``hukou_local``."""
    facts: dict[str, str] = {}
    if card is None:
        return facts
    if card.gender in (Gender.MALE, Gender.FEMALE):
        facts["gender"] = card.gender.value
    if isinstance(card, IdCard) and catalog.hukou_marker and card.address:
        facts["hukou_local"] = "local" if catalog.hukou_marker in card.address else "nonlocal"
    return facts


def relevant(q: Question, answers: Mapping[str, str]) -> bool:
    return all(answers.get(ref) in values for ref, values in q.when)


def inferred(q: Question, facts: Mapping[str, str]) -> str | None:
    if not q.infer_from or q.infer_from not in facts:
        return None
    return dict(q.infer_map).get(facts[q.infer_from])


def next_question(
    event: LifeEvent, answers: Mapping[str, str], facts: Mapping[str, str]
) -> Question | None:
    """The next question to ask, or None when every relevant one is answered."""
    known = dict(answers)
    for q in event.questions:
        if not relevant(q, known):
            continue
        value = known.get(q.id) or inferred(q, facts)
        if value is None:
            return q
        known[q.id] = value
    return None


def resolve(
    catalog: Catalog, event: LifeEvent, answers: Mapping[str, str], facts: Mapping[str, str]
) -> Plan:
    """The plan for complete answers.

    :raises ValidationError: a relevant question is unanswered, or an answer is
        not one of its options (``field`` names the question).
    """
    known: dict[str, str] = {}
    asked: list[str] = []
    matters: list[str] = list(event.matters)
    extras: list[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = []
    stop = None
    for q in event.questions:
        if not relevant(q, known):
            continue
        guess = inferred(q, facts)
        value = guess if guess is not None else answers.get(q.id)
        if value is None:
            raise ValidationError(f"{q.id} unanswered", field=q.id, message_key="error.unanswered")
        option = q.option(value)
        if option is None:
            raise ValidationError(f"{q.id}={value!r}", field=q.id, message_key="error.choice")
        known[q.id] = value
        if guess is None:
            asked.append(q.id)
        matters += [m for m in option.matters if m not in matters]
        extras.append((option.matters, option.fields, option.materials))
        stop = stop or option.stop
    field_needs = {m: list(catalog.matters[m].fields) for m in matters}
    material_needs = {m: list(catalog.matters[m].materials) for m in matters}
    for own, fields, materials in extras:
        targets = own or event.matters or tuple(matters)
        for m in targets:
            field_needs[m] += [f for f in fields if f not in field_needs[m]]
            material_needs[m] += [x for x in materials if x not in material_needs[m]]
    return Plan(
        life_event=event.code,
        answers=tuple(known.items()),
        asked=tuple(asked),
        matters=tuple(matters),
        field_needs={m: tuple(v) for m, v in field_needs.items()},
        material_needs={m: tuple(v) for m, v in material_needs.items()},
        bundle_fields=event.fields,
        stop=stop,
    )


def single_matter_plan(catalog: Catalog, code: str) -> Plan:
    """A plan for one matter applied for on its own (no life event)."""
    m = catalog.matters[code]
    return Plan("", (), (), (code,), {code: m.fields}, {code: m.materials})


def answer_paths(event: LifeEvent) -> list[tuple[dict[str, str], dict[str, str]]]:
    """Every complete path through the questions, as (answers, facts) pairs.

    Card-inferred questions are walked for every card that could answer them
    (e.g. a man's and a woman's card), so each path is what some citizen meets.
    """
    fact_keys = sorted({q.infer_from for q in event.questions if q.infer_from})
    fact_values = [
        sorted({k for q in event.questions if q.infer_from == key for k, _ in q.infer_map})
        for key in fact_keys
    ]
    out: list[tuple[dict[str, str], dict[str, str]]] = []
    for combo in itertools.product(*fact_values):
        facts = dict(zip(fact_keys, combo, strict=True))
        out += [(answers, facts) for answers in _walk(event, 0, {}, facts)]
    return out


def _walk(event: LifeEvent, i: int, known: dict[str, str], facts: dict[str, str]):
    while i < len(event.questions) and not relevant(event.questions[i], known):
        i += 1
    if i == len(event.questions):
        yield dict(known)
        return
    q = event.questions[i]
    guess = inferred(q, facts)
    values = [guess] if guess is not None else [o.value for o in q.options]
    for v in values:
        yield from _walk(event, i + 1, {**known, q.id: v}, facts)

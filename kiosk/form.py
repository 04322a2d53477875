"""One form for a bundle: the union of the selected matters' fields, each
asked once (fields are defined once by meaning in the catalog), ordered by
group and catalog order, pre-filled from the ID or social-security card."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from kiosk.catalog.model import Catalog, FieldDef
from kiosk.guidance import Plan
from kiosk.identity import ElectronicId, IdCard, Identity
from kiosk.nations import nation_name
from kiosk.validation import check_field

BUNDLE = "_bundle"  # consumer key for life-event level fields


@dataclass(frozen=True)
class Form:
    fields: tuple[FieldDef, ...]
    consumers: dict[str, tuple[str, ...]]  # matter code → field ids it uses

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(f.id for f in self.fields)

    def typed(self) -> tuple[FieldDef, ...]:
        """Fields the citizen types (not pre-filled from the card)."""
        return tuple(f for f in self.fields if not f.prefill)

    def prefill(self, card: Identity | None) -> dict[str, str]:
        """Values the card gives, by field id (only for fields on this form). A choice the
        card gives that is not one of the field's (an ethnic-group code no list has) is
        left for the citizen to choose: filled in, it could be neither put right nor passed."""
        facts = card_values(card)
        return {f.id: facts[f.prefill] for f in self.fields if f.prefill and f.prefill in facts
                and (not f.choices or any(c.value == facts[f.prefill] for c in f.choices))}  # fmt: skip

    def validate(self, values: Mapping[str, str], today: dt.date) -> dict[str, str]:
        """Problems by field id (translation keys); empty when the form is good."""
        problems = {}
        for f in self.fields:
            problem = check_field(f, str(values.get(f.id, "")), today)
            if problem:
                problems[f.id] = problem
        return problems

    def values_for_submission(self, values: Mapping[str, str]) -> dict[str, str]:
        """The values of this form's fields only, stripped (what is submitted)."""
        return {
            f.id: str(values[f.id]).strip()
            for f in self.fields
            if str(values.get(f.id, "")).strip()
        }


def card_values(card: Identity | None) -> dict[str, str]:
    """Identity attributes the card (or the verified electronic ID) tells, as form text."""
    if card is None:
        return {}
    out = {"name": card.name, "gender": card.gender.value}
    if isinstance(card, ElectronicId):
        out["id_number"] = card.id_number
        if card.birth_date:
            out["birth_date"] = card.birth_date.isoformat()
    elif isinstance(card, IdCard):
        out |= {"id_number": card.id_number, "address": card.address}
        out["birth_date"] = card.birth_date.isoformat()
        if card.nation:
            out["nation"] = nation_name(card.nation)
    else:
        out["id_number"] = card.ss_number
        if card.birth_date:
            out["birth_date"] = card.birth_date.isoformat()
        if card.nation:
            out["nation"] = nation_name(card.nation)
    return {k: v for k, v in out.items() if v}


def build_form(catalog: Catalog, plan: Plan) -> Form:
    """The merged form for a plan; each field once, in group then catalog order."""
    wanted = {f for fs in plan.field_needs.values() for f in fs} | set(plan.bundle_fields)
    groups = {g: i for i, g in enumerate(catalog.group_order)}
    position = {fid: i for i, fid in enumerate(catalog.fields)}
    ordered = sorted(
        wanted, key=lambda fid: (groups.get(catalog.fields[fid].group, len(groups)), position[fid])
    )
    consumers = {m: tuple(fs) for m, fs in plan.field_needs.items()}
    if plan.bundle_fields:
        consumers[BUNDLE] = plan.bundle_fields
    return Form(tuple(catalog.fields[fid] for fid in ordered), consumers)

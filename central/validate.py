"""Checking a submission's body against its schema and the catalog (pure).

Every check raises ``ApiError`` with a precise status and key: 400 for a body
that is not a submission at all, 422 for one the catalog does not allow.
Nothing is written before all checks pass, so no bad input leaves a trace.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterator
from dataclasses import fields as dc_fields
from typing import Any, TypeVar

from central.errors import ApiError
from kiosk.catalog import Catalog, FieldType
from kiosk.guidance import Plan
from kiosk.materials import build_materials
from kiosk.outcomes import Delivery, Submission
from kiosk.validation import id_number_valid  # noqa: F401 - the platform's, re-exported

KNOWN = {f.name for f in dc_fields(Submission)}
REQUIRED = ("key", "terminal_id", "accepting_point", "matters", "fields")
KEY_RE = re.compile(r"^[A-Za-z0-9_.:-]{8,128}$")
MAX_ITEMS = 200
DELIVERIES = frozenset(d.value for d in Delivery)
T = TypeVar("T")


class PerCatalog:
    """Answers that depend on nothing but the catalog and a key (a set of matters, say),
    worked out once: every kiosk of a hall submits the same few bundles all day.

    The catalog in use is never changed in place (a new one is a new object); taking
    another catalog forgets every answer about the previous one. ``size`` bounds the
    answers kept, since keys come from requests.
    """

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        # (catalog, its answers) as one value: threads that use two catalogs at once
        # (tests with several apps) never file one catalog's answer under the other
        self._held: tuple[Catalog | None, dict[Hashable, Any]] = (None, {})

    def get(self, catalog: Catalog, key: Hashable, make: Callable[[], T]) -> T:
        held, answers = self._held
        if held is not catalog:
            answers = {}
            self._held = (catalog, answers)
        try:
            return answers[key]
        except KeyError:
            value = make()
            if len(answers) >= self.size:
                answers.clear()
            answers[key] = value
            return value


_BUNDLES = PerCatalog()


def _str(d: dict, name: str, max_len: int = 200, optional: bool = False) -> None:
    v = d.get(name)
    if v is None and optional:
        return
    if not isinstance(v, str) or len(v) > max_len:
        raise ApiError(400, "request.wrong_type", name)


def _str_map(d: dict, name: str, list_values: bool = False) -> None:
    v = d.get(name, {})
    if not isinstance(v, dict) or len(v) > MAX_ITEMS:
        raise ApiError(400, "request.wrong_type", name)
    for k, item in v.items():
        ok = isinstance(k, str) and (
            isinstance(item, list) and all(isinstance(x, str) for x in item)
            if list_values
            else isinstance(item, str) and len(item) <= 2000
        )
        if not ok:
            raise ApiError(400, "request.wrong_type", f"{name}.{k}")


def parse_submission(body: Any) -> Submission:
    """The body as a Submission, or a 400 saying which part is wrong.

    :raises ApiError: not an object, an unknown or missing field, a wrong type.
    """
    if not isinstance(body, dict):
        raise ApiError(400, "request.wrong_type", "submission")
    for name in body:
        if name not in KNOWN:
            raise ApiError(400, "request.unknown_field", str(name)[:64])
    for name in REQUIRED:
        if name not in body:
            raise ApiError(400, "request.missing_field", name)
    _str(body, "key")
    if not KEY_RE.match(body["key"]):
        raise ApiError(400, "request.wrong_type", "key")
    _str(body, "terminal_id", 64)
    _str(body, "accepting_point", 32)
    _str(body, "life_event", 64, optional=True)
    _str(body, "delivery_address", 500, optional=True)
    _str(body, "local_number", 64, optional=True)
    _str(body, "created_at", 64, optional=True)
    _str(body, "commitment_signature", 128, optional=True)
    matters = body["matters"]
    if not isinstance(matters, list) or not matters or len(matters) > MAX_ITEMS:
        raise ApiError(400, "request.wrong_type", "matters")
    if not all(isinstance(m, str) for m in matters):
        raise ApiError(400, "request.wrong_type", "matters")
    _str_map(body, "fields")
    _str_map(body, "materials")
    _str_map(body, "consumers", list_values=True)
    deferred = body.get("deferred", [])
    if not isinstance(deferred, list) or not all(
        isinstance(m, dict) and {"code", "name", "due"} <= set(m) and all(isinstance(m[k], str) for k in ("code", "name", "due"))
        for m in deferred
    ):  # fmt: skip
        raise ApiError(400, "request.wrong_type", "deferred")
    if body.get("delivery", "pickup") not in DELIVERIES:
        raise ApiError(400, "request.wrong_type", "delivery")
    try:
        return Submission.from_dict(body)
    except (KeyError, ValueError, TypeError) as err:  # dates that do not parse
        raise ApiError(400, "request.wrong_type", "created_at/deferred") from err


def check_against_catalog(sub: Submission, catalog: Catalog) -> None:
    """What the catalog requires of this submission.

    :raises ApiError: 422 with the key naming the first rule broken; lists of
        missing fields or materials are all told at once in ``details``.
    """
    for problem in catalog_problems(sub, catalog):
        raise problem


def catalog_problems(sub: Submission, catalog: Catalog) -> Iterator[ApiError]:
    """Every rule of the catalog ``sub`` breaks, each a 422 ApiError, in the order
    ``check_against_catalog`` looks (it refuses with the first). A matter, life event
    or form field the catalog does not know ends the list: the rest depend on them."""
    if sub.accepting_point not in catalog.service_points:
        yield ApiError(422, "submission.unknown_point", sub.accepting_point[:32])
    unknown = False
    if sub.life_event is not None and sub.life_event not in catalog.life_events:
        yield ApiError(422, "submission.unknown_life_event", sub.life_event[:64])
        unknown = True
    for code in sub.matters:
        if code not in catalog.matters:
            yield ApiError(422, "submission.unknown_matter", code[:64])
            unknown = True
    for fid in sub.fields:
        if fid not in catalog.fields:
            yield ApiError(422, "submission.unknown_form_field", fid[:64])
            unknown = True
    if unknown:
        return
    matters = [catalog.matters[c] for c in sub.matters]
    needed = [f for m in matters for f in m.fields]
    missing = sorted(
        {f for f in needed if catalog.fields[f].required and not sub.fields.get(f, "").strip()}
    )
    if missing:
        yield ApiError(422, "submission.fields_missing", details=missing)
    for fid, value in sub.fields.items():
        if catalog.fields[fid].type is FieldType.ID_NUMBER and value and not id_number_valid(value):
            yield ApiError(422, "submission.id_number_invalid", fid)
    items = _BUNDLES.get(
        catalog,
        (sub.life_event, tuple(sub.matters)),
        lambda: {i.code: i for i in bundle_materials(sub, catalog)},
    )
    for d in sub.deferred:
        item = items.get(d.code)
        if item is None or item.waived or not item.deferrable:
            yield ApiError(422, "submission.not_deferrable", d.code[:64])
    deferred = {d.code for d in sub.deferred}
    if deferred and not sub.commitment_signature.startswith("signature:"):
        yield ApiError(422, "submission.commitment_unsigned", "commitment_signature")
    lacking = sorted(
        code
        for code, item in items.items()
        if not item.waived and code not in deferred
        and (code not in sub.materials or scanned_pages(sub.materials[code]) < len(item.pages))
    )
    if lacking:
        yield ApiError(422, "submission.materials_missing", details=lacking)
    if sub.delivery is Delivery.MAIL and not sub.delivery_address.strip():
        yield ApiError(422, "submission.address_missing", "delivery_address")


# What the platform itself holds for every submission from a kiosk: the citizen
# identified with their ID card at the terminal, so its copy is not asked for.
AVAILABLE_AT_KIOSK = frozenset({"id_card"})


def scanned_pages(ref: str) -> int:
    """The pages a kiosk's scan reference says it holds ("scan:2:9f86d081…"); a reference
    of another form (a scan stored elsewhere) is taken as whole."""
    kind, count, digest = (ref.split(":", 2) + ["", ""])[:3]
    if kind == "scan" and digest and count.isascii() and count.isdigit():
        return int(count)
    return 1_000_000


def bundle_materials(sub: Submission, catalog: Catalog):
    """The submission's materials by the core's rules (``kiosk.materials.build_materials``).

    A material is waived only when its e-certificate is available (the ID card
    read at the kiosk) or an earlier matter of the same bundle issues it (in
    the life event's ordering graph); having an e-certificate type alone waives nothing.
    """
    matters = tuple(dict.fromkeys(sub.matters))
    plan = Plan(
        life_event=sub.life_event or "",
        answers=(),
        asked=(),
        matters=matters,
        field_needs={m: catalog.matters[m].fields for m in matters},
        material_needs={m: catalog.matters[m].materials for m in matters},
    )
    return build_materials(catalog, plan, AVAILABLE_AT_KIOSK)

"""Submissions the county's own catalog (config/catalog) accepts, for tests that run the
platform with it: every required field of the chosen matters filled, every material scanned."""

from __future__ import annotations

import uuid

from stdnum.cn import ric

from kiosk.catalog import Catalog, FieldType, default_catalog_dir, load_catalog
from kiosk.outcomes import Submission


def county_catalog() -> Catalog:
    return load_catalog(default_catalog_dir())


def matters_of(catalog: Catalog, life_event: str) -> tuple[str, ...]:
    """The matters always in the bundle, or the first option's when there are none."""
    event = catalog.life_events[life_event]
    if event.matters:
        return event.matters
    return next(o.matters for q in event.questions for o in q.options if o.matters)


def _value(field, n: int) -> str:
    if field.type is FieldType.ID_NUMBER:
        first17 = f"3624291985{n % 12 + 1:02d}{n % 28 + 1:02d}{n % 900 + 100:03d}"
        return first17 + ric.calc_check_digit(first17 + "0")
    if field.type is FieldType.PHONE:
        return f"139{n:08d}"
    if field.type is FieldType.DATE:
        return "20261120"
    if field.type is FieldType.CHOICE and field.choices:
        return field.choices[0].value
    if field.type is FieldType.AMOUNT:
        return "1000"
    return "测试"


def county_submission(catalog: Catalog, terminal_id: str, point: str, life_event: str,
                      n: int = 1) -> Submission:  # fmt: skip
    matters = matters_of(catalog, life_event)
    fields = {f for m in matters for f in catalog.matters[m].fields}
    materials = {code for m in matters for code in catalog.matters[m].materials}
    return Submission(
        key=f"sub-{uuid.uuid4().hex}", terminal_id=terminal_id, accepting_point=point,
        life_event=life_event, matters=matters,
        fields={f: _value(catalog.fields[f], n) for f in sorted(fields)},
        consumers={}, materials={code: f"scan:{i}" for i, code in enumerate(sorted(materials))},
    )  # fmt: skip

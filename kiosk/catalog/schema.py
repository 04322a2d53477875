"""The catalog's schema: raw dicts (the TOML shape) ⇄ model objects, validated.

The same raw shape is what the TOML files hold and what ``Catalog.to_dict``
serves as JSON, so a cached or served catalog is checked exactly like the
files are. ``where(path, key)`` tells the error which file and line to name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from kiosk.catalog.model import (
    IDENTITY_ATTRIBUTES,
    Bilingual,
    Catalog,
    Certificate,
    Choice,
    Department,
    FieldDef,
    FieldType,
    LifeEvent,
    Material,
    Matter,
    Option,
    Question,
    ServicePoint,
)
from kiosk.errors import CatalogError
from kiosk.hours import parse_hours
from kiosk.nations import nation_choices

Where = Callable[[tuple[Any, ...], str], tuple[str, int]]
# what the card can answer: sex, and whether the hukou address is in this county
INFERABLE = ("gender", "hukou_local")
KINDS = ("department", "service_point", "certificate", "field", "material", "matter", "life_event")
_CODE = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")


def _nowhere(path: tuple[Any, ...], key: str) -> tuple[str, int]:
    return ("catalog", 0)


class _Entry:
    """Reads one table, checking types and rejecting unknown keys (typos)."""

    def __init__(self, data: Any, path: tuple[Any, ...], label: str, where: Where):
        self.path, self.label, self.where = path, label, where
        if not isinstance(data, dict):
            self.fail("", "must be a table")
        self.data: dict[str, Any] = data
        self.seen: set[str] = set()

    def fail(self, key: str, detail: str) -> None:
        file, line = self.where(self.path, key)
        name = f"{self.label}.{key}" if key else self.label
        raise CatalogError(detail, file=file, line=line, field=name)

    def _get(self, key: str, kind: type | tuple[type, ...], required: bool, default: Any) -> Any:
        self.seen.add(key)
        if key not in self.data:
            if required:
                self.fail(key, "is missing")
            return default
        value = self.data[key]
        if isinstance(value, bool) and kind is int or not isinstance(value, kind):
            self.fail(key, f"must be {getattr(kind, '__name__', kind)}, not {type(value).__name__}")
        return value

    def str(self, key: str, required: bool = True, default: str = "") -> str:
        value = self._get(key, str, required, default)
        if required and not value.strip():
            self.fail(key, "must not be empty")
        return value

    def code(self, key: str = "code") -> str:
        value = self.str(key)
        if not _CODE.match(value):
            self.fail(key, f"{value!r} must be lower-case ascii letters, digits, _ or -")
        return value

    def int(self, key: str, required: bool = True, default: int = 0) -> int:
        value = self._get(key, int, required, default)
        if value < 0:
            self.fail(key, f"must not be negative, got {value}")
        return value

    def bool(self, key: str, default: bool = False) -> bool:
        return self._get(key, bool, False, default)

    def strs(self, key: str) -> tuple[str, ...]:
        value = self._get(key, list, False, [])
        if not all(isinstance(v, str) for v in value):
            self.fail(key, "must be a list of strings")
        if len(set(value)) != len(value):
            self.fail(key, "lists an item twice")
        return tuple(value)

    def table(self, key: str) -> dict[str, Any]:
        return self._get(key, dict, False, {})

    def tables(self, key: str) -> list[Any]:
        return self._get(key, list, False, [])

    def bilingual(self, prefix: str = "", required: bool = True) -> Bilingual:
        return Bilingual(self.str(f"{prefix}zh", required), self.str(f"{prefix}en", required))

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.seen)
        # A catalog's files are checked for typos. One the platform sends (JSON, no files)
        # may carry keys a newer platform knows and this terminal does not yet (a hall's
        # office hours): they are passed over, or the terminal would refuse every later
        # catalog until it is upgraded.
        if unknown and self.where is not _nowhere:
            self.fail(unknown[0], "is not a known key (a typo?)")


def _unique(items: list[Any], entries: list[_Entry], key: str = "code") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item, entry in zip(items, entries, strict=True):
        code = getattr(item, key)
        if code in out:
            entry.fail(key, f"{code!r} is defined twice")
        out[code] = item
    return out


def _refs(
    entry: _Entry, key: str, values: tuple[str, ...], known: dict[str, Any], what: str
) -> None:
    for v in values:
        if v not in known:
            entry.fail(key, f"unknown {what} {v!r}")


def build(raw: dict[str, Any], where: Where = _nowhere) -> Catalog:
    """Validate a raw catalog and build the model.

    :raises CatalogError: naming the file, line and field of the first problem.
    """
    head = _Entry(raw.get("county"), ("county",), "county", where)
    county = head.bilingual()
    county_code = head.str("code")
    defer_days = head.int("defer_working_days", required=False, default=5)
    group_order = head.strs("group_order")
    hukou_marker = head.str("hukou_marker", required=False)
    head.done()
    unknown = sorted(set(raw) - {"county", *KINDS})
    if unknown and where is not _nowhere:  # (a newer platform's kind of entry: passed over)
        head.fail("", f"unknown top-level table {unknown[0]!r}")

    def entries(kind: str) -> list[_Entry]:
        items = raw.get(kind, [])
        if not isinstance(items, list):
            _Entry({}, (kind, 0), kind, where).fail("", "must be an array of tables ([[...]])")
        return [_Entry(d, (kind, i), f"{kind}[{i}]", where) for i, d in enumerate(items)]

    def labelled(e: _Entry, key: str = "code") -> _Entry:
        code = e.data.get(key) if isinstance(e.data, dict) else None
        if isinstance(code, str):
            e.label = f"{e.path[0]}[{code}]"
        return e

    dep_e = [labelled(e) for e in entries("department")]
    departments = []
    for e in dep_e:
        departments.append(Department(e.code(), e.bilingual()))
        e.done()
    deps = _unique(departments, dep_e)

    sp_e = [labelled(e) for e in entries("service_point")]
    points = []
    for e in sp_e:
        sp = ServicePoint(e.code(), e.bilingual(), e.str("kind"), e.str("address"),
                          e.bool("any_point"), e.str("phone", required=False),
                          e.str("hours", required=False),
                          address_en=e.str("address_en", required=False))  # fmt: skip
        if sp.kind not in ("county", "township"):
            e.fail("kind", f"must be 'county' or 'township', not {sp.kind!r}")
        if sp.hours:
            try:
                parse_hours(sp.hours)
            except ValueError as err:
                e.fail("hours", f"is not like \"08:30-12:00,14:00-17:30\": {err}")
        points.append(sp)
        e.done()

    cert_e = [labelled(e) for e in entries("certificate")]
    certs = []
    for e in cert_e:
        certs.append(Certificate(e.code(), e.bilingual(), e.str("issuer")))
        _refs(e, "issuer", (certs[-1].issuer,), deps, "department")
        e.done()
    certificates = _unique(certs, cert_e)

    fld_e = [labelled(e, "id") for e in entries("field")]
    fields = [_field(e) for e in fld_e]
    field_map = _unique(fields, fld_e, "id")
    for f, e in zip(fields, fld_e, strict=True):
        if group_order and f.group not in group_order:
            e.fail("group", f"{f.group!r} is not in county.group_order")

    mat_e = [labelled(e) for e in entries("material")]
    materials = []
    for e in mat_e:
        pages = []
        for i, p in enumerate(e.tables("pages")):
            pe = _Entry(p, e.path, f"{e.label}.pages[{i}]", e.where)
            pages.append(pe.bilingual())
            pe.done()
        if len(pages) == 1:
            e.fail("pages", "names two pages or more (one page needs no name)")
        m = Material(e.code(), e.bilingual(), e.str("ecert", required=False), tuple(pages))
        if m.ecert:
            _refs(e, "ecert", (m.ecert,), certificates, "certificate")
        materials.append(m)
        e.done()
    material_map = _unique(materials, mat_e)

    mt_e = [labelled(e) for e in entries("matter")]
    matters = [_matter(e, deps, field_map, material_map, certificates) for e in mt_e]
    matter_map = _unique(matters, mt_e)

    ev_e = [labelled(e) for e in entries("life_event")]
    events = [_life_event(e, matter_map, field_map, material_map) for e in ev_e]

    return Catalog(
        county=county,
        county_code=county_code,
        defer_working_days=defer_days,
        departments=deps,
        service_points=_unique(points, sp_e),
        certificates=certificates,
        fields=field_map,
        materials=material_map,
        matters=matter_map,
        life_events=_unique(events, ev_e),
        group_order=group_order,
        hukou_marker=hukou_marker,
    )


# lists too long to write out in each field that offers them
STANDARD_CHOICES: dict[str, Callable[[], tuple[tuple[str, str, str], ...]]] = {
    "nations": nation_choices,  # the 56 ethnic groups, 其他, 外国血统中国籍人士
}


def _field(e: _Entry) -> FieldDef:
    fid = e.code("id")
    label = e.bilingual()
    type_name = e.str("type")
    try:
        ftype = FieldType(type_name)
    except ValueError:
        e.fail("type", f"{type_name!r} is not one of {', '.join(t.value for t in FieldType)}")
    choices = []
    if isinstance(e.data.get("choices"), str):  # a standard list by name: choices = "nations"
        e.seen.add("choices")
        standard = STANDARD_CHOICES.get(e.data["choices"])
        if standard is None:
            e.fail("choices", f"{e.data['choices']!r} is not one of {', '.join(STANDARD_CHOICES)}")
        choices = [Choice(value, Bilingual(zh, en)) for value, zh, en in standard()]
    for i, c in enumerate(e.tables("choices") if not choices else ()):
        ce = _Entry(c, e.path, f"{e.label}.choices[{i}]", e.where)
        choices.append(Choice(ce.str("value"), ce.bilingual()))
        ce.done()
    if (ftype is FieldType.CHOICE) != bool(choices):
        e.fail("choices", "a choice field needs choices, and only a choice field has them")
    prefill = e.str("prefill", required=False)
    if prefill and prefill not in IDENTITY_ATTRIBUTES:
        e.fail("prefill", f"{prefill!r} is not one of {', '.join(IDENTITY_ATTRIBUTES)}")
    pattern = e.str("pattern", required=False)
    try:
        re.compile(pattern)
    except re.error as err:
        e.fail("pattern", f"is not a regular expression: {err}")
    date_rule = e.str("date_rule", required=False)
    if date_rule not in ("", "past", "future"):
        e.fail("date_rule", "must be 'past' or 'future'")
    f = FieldDef(
        fid, label, ftype, e.str("group"), e.bool("required", True), prefill,
        tuple(choices), pattern, date_rule,
    )  # fmt: skip
    e.done()
    return f


def _matter(e: _Entry, deps: dict, fields: dict, materials: dict, certs: dict) -> Matter:
    m = Matter(
        code=e.code(),
        name=e.bilingual(),
        department=e.str("department"),
        legal_days=e.int("legal_days"),
        promised_days=e.int("promised_days"),
        fee=e.bilingual("fee_"),
        fields=e.strs("fields"),
        materials=e.strs("materials"),
        deferrable=e.strs("deferrable"),
        produces=e.strs("produces"),
        any_point=e.bool("any_point"),
        face_match=e.bool("face_match"),
        basis=e.str("basis", required=False),
    )
    e.done()
    _refs(e, "department", (m.department,), deps, "department")
    _refs(e, "fields", m.fields, fields, "field")
    _refs(e, "materials", m.materials, materials, "material")
    _refs(e, "produces", m.produces, certs, "certificate")
    if m.promised_days > m.legal_days:
        e.fail("promised_days", f"{m.promised_days} exceeds the legal limit {m.legal_days}")
    if not m.fields:
        e.fail("fields", "a matter needs at least one field")
    for d in m.deferrable:
        if d not in m.materials:
            e.fail("deferrable", f"{d!r} is not among this matter's materials")
    return m


def _life_event(e: _Entry, matters: dict, fields: dict, materials: dict) -> LifeEvent:
    code = e.code()
    title, desc = e.bilingual(), e.bilingual("desc_")
    icon = e.code("icon")
    base = e.strs("matters")
    _refs(e, "matters", base, matters, "matter")
    extra_fields = e.strs("fields")
    _refs(e, "fields", extra_fields, fields, "field")
    order_raw = e.tables("order")
    questions: list[Question] = []
    for j, q in enumerate(e.tables("question")):
        qe = _Entry(q, (*e.path, "question", j), f"{e.label}.question[{j}]", e.where)
        questions.append(_question(qe, questions, matters, fields, materials))
    e.done()
    if not base and not questions:
        e.fail("matters", "a life event needs matters")
    reachable = set(base) | {m for q in questions for o in q.options for m in o.matters}
    order = []
    for pair in order_raw:
        if not (
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
        ):
            e.fail("order", f"each item must be [before, after], got {pair!r}")
        for p in pair:
            if p not in reachable:
                e.fail("order", f"{p!r} is not a matter of this life event")
        order.append((pair[0], pair[1]))
    cycle = find_cycle(order)
    if cycle:
        e.fail("order", "ordering has a cycle: " + " → ".join(cycle))
    return LifeEvent(code, icon, title, desc, base, tuple(questions), tuple(order), extra_fields)


def _question(e: _Entry, earlier: list[Question], matters: dict, fields: dict, materials: dict):
    qid = e.code("id")
    text = e.bilingual()
    options = []
    for k, o in enumerate(e.tables("options")):
        oe = _Entry(o, e.path, f"{e.label}.options[{k}]", e.where)
        stop = oe.bilingual("stop_", required=False)
        opt = Option(
            oe.str("value"), oe.bilingual(), oe.strs("matters"), oe.strs("fields"),
            oe.strs("materials"), stop if stop.zh else None,
        )  # fmt: skip
        oe.done()
        _refs(oe, "matters", opt.matters, matters, "matter")
        _refs(oe, "fields", opt.fields, fields, "field")
        _refs(oe, "materials", opt.materials, materials, "material")
        options.append(opt)
    if len(options) < 2:
        e.fail("options", "a question needs at least two options")
    if len({o.value for o in options}) != len(options):
        e.fail("options", "two options share a value")
    when = []
    known = {q.id: q for q in earlier}
    for ref, values in e.table("when").items():
        if ref not in known:
            e.fail("when", f"{ref!r} is not an earlier question of this life event")
        vals = (values,) if isinstance(values, str) else tuple(values)
        for v in vals:
            if known[ref].option(v) is None:
                e.fail("when", f"{ref!r} has no option {v!r}")
        when.append((ref, vals))
    infer_from = e.str("infer_from", required=False)
    infer_map = tuple((str(k), str(v)) for k, v in e.table("infer_map").items())
    if infer_from and infer_from not in INFERABLE:
        e.fail("infer_from", f"{infer_from!r} is not one of {', '.join(INFERABLE)}")
    for _, v in infer_map:
        if v not in {o.value for o in options}:
            e.fail("infer_map", f"{v!r} is not an option of this question")
    if qid in known:
        e.fail("id", f"{qid!r} is asked twice")
    e.done()
    return Question(qid, text, tuple(options), tuple(when), infer_from, infer_map)


def find_cycle(edges: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> list[str]:
    """A cycle in the ordering graph as a list of nodes (first repeated last), or []."""
    graph: dict[str, list[str]] = {}
    for a, b in edges:
        graph.setdefault(a, []).append(b)
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for start in list(graph):
        if start not in state and (found := visit(start)):
            return found
    return []


def to_raw(c: Catalog) -> dict[str, Any]:
    """The catalog in the TOML shape (JSON-safe), the inverse of ``build``."""

    def bi(b: Bilingual, prefix: str = "") -> dict[str, str]:
        return {f"{prefix}zh": b.zh, f"{prefix}en": b.en}

    def field_raw(f: FieldDef) -> dict[str, Any]:
        d: dict[str, Any] = {"id": f.id, **bi(f.label), "type": f.type.value, "group": f.group}
        d |= {"required": f.required, "prefill": f.prefill, "pattern": f.pattern}
        d["date_rule"] = f.date_rule
        if f.choices:
            d["choices"] = [{"value": ch.value, **bi(ch.label)} for ch in f.choices]
        return d

    def question_raw(q: Question) -> dict[str, Any]:
        opts = []
        for o in q.options:
            od: dict[str, Any] = {"value": o.value, **bi(o.label), "matters": list(o.matters)}
            od |= {"fields": list(o.fields), "materials": list(o.materials)}
            if o.stop:
                od |= bi(o.stop, "stop_")
            opts.append(od)
        d: dict[str, Any] = {"id": q.id, **bi(q.text), "options": opts}
        d["when"] = {ref: list(vals) for ref, vals in q.when}
        if q.infer_from:
            d |= {"infer_from": q.infer_from, "infer_map": dict(q.infer_map)}
        return d

    return {
        "county": {
            "code": c.county_code, **bi(c.county),
            "defer_working_days": c.defer_working_days, "group_order": list(c.group_order),
            "hukou_marker": c.hukou_marker,
        },
        "department": [{"code": d.code, **bi(d.name)} for d in c.departments.values()],
        "service_point": [
            {"code": p.code, **bi(p.name), "kind": p.kind, "address": p.address, "any_point": p.any_point,
             **({"phone": p.phone} if p.phone else {}), **({"hours": p.hours} if p.hours else {}),
             **({"address_en": p.address_en} if p.address_en else {})}
            for p in c.service_points.values()
        ],
        "certificate": [
            {"code": x.code, **bi(x.name), "issuer": x.issuer} for x in c.certificates.values()
        ],
        "field": [field_raw(f) for f in c.fields.values()],
        "material": [{"code": m.code, **bi(m.name), "ecert": m.ecert,
                      **({"pages": [bi(p) for p in m.pages]} if m.pages else {})}
                     for m in c.materials.values()],
        "matter": [
            {
                "code": m.code, **bi(m.name), "department": m.department,
                "legal_days": m.legal_days, "promised_days": m.promised_days, **bi(m.fee, "fee_"),
                "fields": list(m.fields), "materials": list(m.materials),
                "deferrable": list(m.deferrable), "produces": list(m.produces),
                "any_point": m.any_point, "face_match": m.face_match, "basis": m.basis,
            }
            for m in c.matters.values()
        ],
        "life_event": [
            {
                "code": ev.code, "icon": ev.icon, **bi(ev.title), **bi(ev.description, "desc_"),
                "matters": list(ev.matters), "fields": list(ev.fields),
                "order": [list(p) for p in ev.order],
                "question": [question_raw(q) for q in ev.questions],
            }
            for ev in c.life_events.values()
        ],
    }  # fmt: skip


def catalog_to_dict(c: Catalog) -> dict[str, Any]:
    return to_raw(c)


def catalog_from_dict(d: dict[str, Any]) -> Catalog:
    return build(d)

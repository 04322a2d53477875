"""Hypothesis strategies for random but valid catalogs (raw TOML shape)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from kiosk.catalog.model import Catalog
from kiosk.catalog.schema import build


def _bi(text: str) -> dict[str, str]:
    return {"zh": f"{text}（中）", "en": text}


@st.composite
def raw_catalogs(draw: st.DrawFn) -> dict[str, Any]:
    n_fields = draw(st.integers(3, 12))
    n_materials = draw(st.integers(2, 10))
    n_matters = draw(st.integers(1, 7))
    certs = [f"c{i}" for i in range(draw(st.integers(1, 5)))]
    fields = []
    for i in range(n_fields):
        prefill = draw(st.sampled_from(["", "", "name", "id_number", "address"]))
        fields.append(
            {"id": f"f{i}", **_bi(f"field {i}"), "type": "text", "group": "g", "prefill": prefill}
        )
    materials = []
    for i in range(n_materials):
        m = {"code": f"m{i}", **_bi(f"material {i}")}
        if draw(st.booleans()):
            m["ecert"] = draw(st.sampled_from(certs))
        materials.append(m)
    matters = []
    for i in range(n_matters):
        mats = draw(
            st.lists(st.sampled_from([m["code"] for m in materials]), unique=True, max_size=5)
        )
        legal = draw(st.integers(0, 40))
        matters.append(
            {
                "code": f"x{i}", **_bi(f"matter {i}"), "department": "d",
                "legal_days": legal, "promised_days": draw(st.integers(0, legal)),
                "fee_zh": "不收费", "fee_en": "Free",
                "fields": draw(st.lists(st.sampled_from([f["id"] for f in fields]), unique=True, min_size=1, max_size=6)),
                "materials": mats,
                "deferrable": draw(st.lists(st.sampled_from(mats), unique=True)) if mats else [],
                "produces": draw(st.lists(st.sampled_from(certs), unique=True, max_size=2)),
            }
        )  # fmt: skip
    codes = [m["code"] for m in matters]
    base = draw(st.lists(st.sampled_from(codes), unique=True, min_size=1, max_size=3))
    questions = []
    for q in range(draw(st.integers(0, 3))):
        options = []
        for v in range(draw(st.integers(2, 3))):
            options.append(
                {
                    "value": f"v{v}", **_bi(f"option {v}"),
                    "matters": draw(st.lists(st.sampled_from(codes), unique=True, max_size=2)),
                    "fields": draw(st.lists(st.sampled_from([f["id"] for f in fields]), unique=True, max_size=2)),
                    "materials": draw(st.lists(st.sampled_from([m["code"] for m in materials]), unique=True, max_size=2)),
                }
            )  # fmt: skip
        questions.append({"id": f"q{q}", **_bi(f"question {q}"), "options": options})
    reachable = set(base) | {m for q in questions for o in q["options"] for m in o["matters"]}
    codes = [c for c in codes if c in reachable]
    # edges only from a lower to a higher index: always acyclic
    pairs = [(a, b) for i, a in enumerate(codes) for b in codes[i + 1 :]]
    order = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=8)) if pairs else []
    return {
        "county": {"code": "000000", **_bi("county"), "group_order": ["g"]},
        "department": [{"code": "d", **_bi("department")}],
        "service_point": [{"code": "p", **_bi("point"), "kind": "county", "address": "某县", "any_point": True}],
        "certificate": [{"code": c, **_bi(c), "issuer": "d"} for c in certs],
        "field": fields,
        "material": materials,
        "matter": matters,
        "life_event": [
            {
                "code": "ev", "icon": "ev", **_bi("event"), "desc_zh": "说明", "desc_en": "about",
                "matters": base, "order": [list(p) for p in order], "question": questions,
            }
        ],
    }  # fmt: skip


def catalogs() -> st.SearchStrategy[Catalog]:
    return raw_catalogs().map(build)


@st.composite
def catalog_and_answers(draw: st.DrawFn) -> tuple[Catalog, dict[str, str]]:
    catalog = draw(catalogs())
    event = catalog.life_events["ev"]
    answers = {q.id: draw(st.sampled_from([o.value for o in q.options])) for q in event.questions}
    return catalog, answers

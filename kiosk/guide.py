"""A matter's guide (办事指南) as data: what to bring, how long, what it costs, where.

Pure. The kiosk's guide screen and the platform's public guide page
(``GET /guide/{matter_code}`` on the central server) both read it, so the
screen and the page the citizen takes away with the QR code say the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from kiosk.catalog.model import Catalog
from kiosk.errors import ValidationError
from kiosk.i18n import translate, translate_days
from kiosk.search import life_events_with

GUIDE_PATH = "/guide/"


@dataclass(frozen=True)
class GuideMaterial:
    code: str
    name: str
    ecert: bool  # an e-certificate can stand in for the paper
    deferrable: bool  # may be brought later (容缺受理)


@dataclass(frozen=True)
class Guide:
    code: str
    name: str
    department: str
    legal_days: int
    promised_days: int  # 0: done on the spot
    fee: str
    materials: tuple[GuideMaterial, ...]
    any_point: bool  # 全县通办: any service centre of the county accepts it
    centre: str  # the county's government service centre
    points: tuple[str, ...]  # service centres that accept it
    face_match: bool
    basis: str
    life_events: tuple[tuple[str, str], ...]  # (code, title) of the bundles that include it
    url: str  # the platform's public page of this guide ('' when no platform URL is known)


def guide_url(platform_url: str, code: str) -> str:
    """The public guide page's address on the platform (what the QR code holds)."""
    return f"{platform_url.rstrip('/')}{GUIDE_PATH}{quote(code, safe='')}"


def build_guide(catalog: Catalog, code: str, language: str = "zh", platform_url: str = "") -> Guide:
    """The guide of matter ``code`` in ``language``.

    :raises ValidationError: no such matter in the catalog.
    """
    m = catalog.matters.get(code)
    if m is None:
        raise ValidationError(
            f"unknown matter {code!r}", field="matter", message_key="guide.unknown"
        )
    dept = catalog.departments.get(m.department)
    materials = tuple(
        GuideMaterial(
            code=c,
            name=catalog.materials[c].name.get(language) if c in catalog.materials else c,
            ecert=bool(catalog.materials[c].ecert) if c in catalog.materials else False,
            deferrable=c in m.deferrable,
        )
        for c in m.materials
    )
    points = [p for p in catalog.service_points.values() if p.kind == "county"]
    if m.any_point:
        points += [p for p in catalog.service_points.values() if p.kind != "county" and p.any_point]
    events = tuple(
        (e, catalog.life_events[e].title.get(language)) for e in life_events_with(catalog, code)
    )
    return Guide(
        code=code,
        name=m.name.get(language),
        department=dept.name.get(language) if dept else m.department,
        legal_days=m.legal_days,
        promised_days=m.promised_days,
        fee=m.fee.get(language),
        materials=materials,
        any_point=m.any_point,
        centre=points[0].name.get(language) if points and points[0].kind == "county" else "",
        points=tuple(p.name.get(language) for p in points),
        face_match=m.face_match,
        basis=m.basis,
        life_events=events,
        url=guide_url(platform_url, code) if platform_url else "",
    )


def time_limit(guide: Guide, language: str = "zh") -> str:
    """承诺时限 in words, with the legal limit beside it."""
    legal = translate_days("guide.legal_days", guide.legal_days, language)
    if guide.promised_days == 0:
        return translate("guide.on_the_spot", language, legal=legal)
    return translate_days("guide.promised_days", guide.promised_days, language, legal=legal)


def where(guide: Guide, language: str = "zh") -> str:
    """Where it is handled, in words."""
    if guide.any_point:
        return translate("guide.where_any", language, centre=guide.centre,
                         count=max(len(guide.points) - 1, 0))  # fmt: skip
    return translate("guide.where_centre", language, centre=guide.centre or "—",
                     department=guide.department)  # fmt: skip


def material_note(item: GuideMaterial, language: str = "zh") -> str:
    """Why a material may not be needed on paper, or may come later ('' for neither)."""
    notes = []
    if item.ecert:
        notes.append(translate("guide.material_ecert", language))
    if item.deferrable:
        notes.append(translate("guide.material_deferrable", language))
    return translate("guide.note_sep", language).join(notes)


def guide_lines(guide: Guide, language: str = "zh") -> list[tuple[str, str]]:
    """The guide's facts as (label, value) lines, in the order a guide lists them."""
    lines = [
        (translate("guide.department", language), guide.department),
        (translate("guide.time_limit", language), time_limit(guide, language)),
        (translate("guide.fee", language), guide.fee),
        (translate("guide.where", language), where(guide, language)),
    ]
    if guide.face_match:
        lines.append(
            (translate("guide.identity", language), translate("guide.face_match", language))
        )
    if guide.basis:
        lines.append((translate("guide.basis", language), guide.basis))
    return lines

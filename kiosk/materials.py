"""One set of materials for a bundle: each material once, waived where an
e-certificate is available for the citizen or an earlier matter of the same
bundle issues it, and marked where it may be deferred (容缺受理) and by when."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from kiosk.catalog.model import Bilingual, Catalog
from kiosk.guidance import Plan
from kiosk.outcomes import DeferredMaterial
from kiosk.timelimits import reach


class MaterialStatus(StrEnum):
    REQUIRED = "required"  # the citizen hands it over (scan)
    ECERT = "ecert"  # waived: the certificate library holds it
    PRODUCED = "produced"  # waived: an earlier matter of this bundle issues it


@dataclass(frozen=True)
class MaterialItem:
    code: str
    name: Bilingual
    needed_by: tuple[str, ...]  # matter codes
    status: MaterialStatus
    ecert: str = ""  # the certificate that waives it
    produced_by: str = ""  # the matter that issues that certificate
    deferrable: bool = False  # may be missing at acceptance (容缺)
    pages: tuple[Bilingual, ...] = ()  # its pages by name, each to be scanned (Material.pages)

    def page_wanted(self, scanned: int) -> Bilingual | None:
        """The named page to scan next, with ``scanned`` pages taken; None when none is
        still wanted (every named page taken, or none named)."""
        return self.pages[scanned] if scanned < len(self.pages) else None

    @property
    def waived(self) -> bool:
        return self.status is not MaterialStatus.REQUIRED


def build_materials(
    catalog: Catalog,
    plan: Plan,
    available_certs: Collection[str] = (),
    order: Collection[tuple[str, str]] | None = None,
) -> tuple[MaterialItem, ...]:
    """The bundle's materials, in the order the matters first need them.

    ``available_certs`` are certificate codes the library holds for this
    application (the ID card read at the kiosk counts as ``id_card``).
    ``order`` defaults to the life event's ordering graph.
    """
    if order is None:
        event = catalog.life_events.get(plan.life_event)
        order = event.order if event else ()
    later = reach(order)
    needed: dict[str, list[str]] = {}
    for m in plan.matters:
        for code in plan.material_needs.get(m, ()):
            needed.setdefault(code, []).append(m)
    items = []
    for code, users in needed.items():
        material = catalog.materials[code]
        status, producer = MaterialStatus.REQUIRED, ""
        if material.ecert and material.ecert in available_certs:
            status = MaterialStatus.ECERT
        elif material.ecert:
            producer = next(
                (
                    p
                    for p in plan.matters
                    if material.ecert in catalog.matters[p].produces
                    and all(u in later.get(p, set()) for u in users)
                ),
                "",
            )
            if producer:
                status = MaterialStatus.PRODUCED
        deferrable = all(code in catalog.matters[u].deferrable for u in users)
        items.append(
            MaterialItem(
                code, material.name, tuple(users), status, material.ecert, producer, deferrable,
                material.pages,
            )
        )
    return tuple(items)


def to_hand_over(items: Collection[MaterialItem]) -> tuple[MaterialItem, ...]:
    return tuple(i for i in items if not i.waived)


def deferred(
    items: Collection[MaterialItem], missing: Collection[str], due: dt.date, language: str = "zh"
) -> tuple[DeferredMaterial, ...]:
    """The deferred-material list for the receipt: missing items that may be deferred."""
    return tuple(
        DeferredMaterial(i.code, i.name.get(language), due)
        for i in items
        if i.code in missing and i.deferrable and not i.waived
    )


def missing_core(
    items: Collection[MaterialItem], provided: Collection[str]
) -> tuple[MaterialItem, ...]:
    """Required items not provided and not deferrable: the application cannot be accepted without them."""
    return tuple(i for i in items if not i.waived and i.code not in provided and not i.deferrable)


@dataclass
class SteadyPage:
    """Auto-capture of a document page: a page that holds still for ``hold`` seconds is taken.

    Fed each look's verdict (a page in view, the picture steady since the last
    look) with its monotonic time; answers how far the hold has got, 0..1, where 1
    means "take it now". After a page is taken (``taken()``) nothing more is taken
    until the picture changes (the page turned, lifted or swapped), so a page left
    lying is captured once, not again every second.
    """

    hold: float = 1.0
    armed: bool = True
    _since: float | None = None

    def feed(self, page: bool, steady: bool, t: float) -> float:
        if not (page and steady):
            self._since = None
            self.armed = True  # something moved: the next steady page is a new one
            return 0.0
        if not self.armed:
            return 0.0
        if self._since is None:
            self._since = t
        return 1.0 if self.hold <= 0 else min(1.0, (t - self._since) / self.hold)

    def taken(self) -> None:
        self.armed, self._since = False, None

    def rearm(self) -> None:
        """Forget what was taken: the page lying there now may be taken (a new visit to the
        capture screen, or the last page dropped to be taken again)."""
        self.armed, self._since = True, None

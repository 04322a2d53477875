"""The catalog as plain data: departments, service points, e-certificates,
fields, materials, matters and life events with their guided questions.

Everything is frozen and hashable-free of I/O; ``to_dict`` / ``from_dict``
round-trip through JSON so the central server can serve the catalog and the
kiosk can cache the last good copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class Bilingual:
    """A text in Chinese (first) and English (complete)."""

    zh: str
    en: str

    def get(self, language: str) -> str:
        return self.en if language.startswith("en") else self.zh


class FieldType(StrEnum):
    TEXT = "text"
    DATE = "date"
    CHOICE = "choice"
    ID_NUMBER = "id_number"
    PHONE = "phone"
    ADDRESS = "address"
    AMOUNT = "amount"


# Attributes the ID card (or social-security card) can pre-fill.
IDENTITY_ATTRIBUTES = ("name", "id_number", "gender", "birth_date", "address", "nation")


@dataclass(frozen=True)
class Department:
    code: str
    name: Bilingual


@dataclass(frozen=True)
class ServicePoint:
    code: str
    name: Bilingual
    kind: str  # "county" | "township"
    address: str
    any_point: bool  # accepts any-point (全县通办) matters of other points
    phone: str = ""  # the hall's front desk, for a citizen whose call for staff failed
    # when its windows call queue tickets, on working days (kiosk.hours): "08:30-12:00,14:00-17:30";
    # "" for a point that hands them out at any time
    hours: str = ""
    # the address as an English reader says it ("Zhouhu Town, Anfu County"); "" for none
    address_en: str = ""


@dataclass(frozen=True)
class Certificate:
    """A kind of e-certificate (电子证照) held in the platform's certificate library."""

    code: str
    name: Bilingual
    issuer: str  # department code


@dataclass(frozen=True)
class Choice:
    value: str
    label: Bilingual


@dataclass(frozen=True)
class FieldDef:
    """One form field, defined once by meaning and shared by every matter that needs it."""

    id: str
    label: Bilingual
    type: FieldType
    group: str  # applicant, newborn, deceased, ... (sets the order on the form)
    required: bool = True
    prefill: str = ""  # an IDENTITY_ATTRIBUTES name, or "" when the citizen types it
    choices: tuple[Choice, ...] = ()
    pattern: str = ""  # extra regex check for text fields
    date_rule: str = ""  # "past" | "future" | ""


@dataclass(frozen=True)
class Material:
    code: str
    name: Bilingual
    ecert: str = ""  # certificate code that replaces the paper, if any
    # the pages every copy has, by name (户主页, 本人页; 正面, 反面): scanned one by one, the
    # material taken only when each is; none named: one page or more, as the citizen has it
    pages: tuple[Bilingual, ...] = ()


@dataclass(frozen=True)
class Matter:
    code: str
    name: Bilingual
    department: str
    legal_days: int  # 法定时限, working days
    promised_days: int  # 承诺时限, working days (0 = on the spot)
    fee: Bilingual
    fields: tuple[str, ...]
    materials: tuple[str, ...]
    deferrable: tuple[str, ...] = ()  # materials that may be missing under 容缺受理
    produces: tuple[str, ...] = ()  # certificate codes this matter issues
    any_point: bool = False
    face_match: bool = False
    basis: str = ""  # legal basis, as the guide cites it


@dataclass(frozen=True)
class Option:
    """One answer to a guided question and what it adds to the bundle."""

    value: str
    label: Bilingual
    matters: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    materials: tuple[str, ...] = ()
    stop: Bilingual | None = None  # the citizen cannot apply here: why


@dataclass(frozen=True)
class Question:
    id: str
    text: Bilingual
    options: tuple[Option, ...]
    # asked only when every listed earlier question has one of the given answers
    when: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # answered from the card instead of asked: identity attribute and value → option
    infer_from: str = ""
    infer_map: tuple[tuple[str, str], ...] = ()

    def option(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)


@dataclass(frozen=True)
class LifeEvent:
    code: str
    icon: str
    title: Bilingual
    description: Bilingual
    matters: tuple[str, ...]  # always in the bundle
    questions: tuple[Question, ...] = ()
    order: tuple[tuple[str, str], ...] = ()  # (before, after): after needs before's result
    fields: tuple[str, ...] = ()  # bundle-level fields (e.g. delivery address)


@dataclass(frozen=True)
class Catalog:
    county: Bilingual
    county_code: str
    defer_working_days: int
    departments: dict[str, Department]
    service_points: dict[str, ServicePoint]
    certificates: dict[str, Certificate]
    fields: dict[str, FieldDef]  # in form order of declaration
    materials: dict[str, Material]
    matters: dict[str, Matter]
    life_events: dict[str, LifeEvent]
    group_order: tuple[str, ...] = field(default=())
    hukou_marker: str = ""  # text in an ID-card address that means "hukou in this county"

    def to_dict(self) -> dict[str, Any]:
        from kiosk.catalog.schema import catalog_to_dict

        return catalog_to_dict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Catalog:
        """:raises CatalogError: the dict is not a valid catalog."""
        from kiosk.catalog.schema import catalog_from_dict

        return catalog_from_dict(d)

"""The catalog: matters, life events and their guided questions, as validated data."""

from __future__ import annotations

from pathlib import Path

from kiosk.catalog.load import load_catalog
from kiosk.catalog.model import (
    Bilingual,
    Catalog,
    Certificate,
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


def default_catalog_dir() -> Path:
    """The repository's config/catalog directory."""
    return Path(__file__).resolve().parents[2] / "config" / "catalog"


__all__ = [
    "Bilingual", "Catalog", "Certificate", "Department", "FieldDef", "FieldType", "LifeEvent",
    "Material", "Matter", "Option", "Question", "ServicePoint", "default_catalog_dir",
    "load_catalog",
]  # fmt: skip

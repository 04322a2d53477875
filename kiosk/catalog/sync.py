"""The catalog a terminal serves, kept in step with the platform's.

The platform publishes its catalog with an ETag (``GET /catalog``); a terminal
asks with ``If-None-Match`` and downloads only when it changed. What it got is
checked (``Catalog.from_dict`` validates every reference) before it is kept, on
disk atomically, so a restart or a night offline starts from the last good
catalog, and the bundled one (config/catalog) is the fallback of last resort.
A download that does not parse or validate is refused and the catalog in use stays.
"""

from __future__ import annotations

from pathlib import Path

from kiosk.catalog.model import Catalog
from kiosk.downloads import EtagCache
from kiosk.errors import CatalogError

CACHE_FILE = "catalog.json"


class CatalogCache(EtagCache[Catalog]):
    """``<data_dir>/catalog.json``: the last catalog the platform sent, with its ETag."""

    def __init__(self, data_dir: Path | str) -> None:
        super().__init__(Path(data_dir) / CACHE_FILE, "catalog", Catalog.from_dict)


def accept(data: object) -> Catalog:
    """A downloaded catalog, checked.

    :raises CatalogError: it is not a valid catalog.
    """
    if not isinstance(data, dict):
        raise CatalogError("the platform's catalog is not an object")
    try:
        catalog = Catalog.from_dict(data)
    except (KeyError, TypeError, ValueError) as err:
        raise CatalogError(f"the platform's catalog does not parse: {err}") from err
    return catalog

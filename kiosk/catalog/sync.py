"""The catalog a terminal serves, kept in step with the platform's.

The platform publishes its catalog with an ETag (``GET /catalog``); a terminal
asks with ``If-None-Match`` and downloads only when it changed. What it got is
checked (``Catalog.from_dict`` validates every reference) before it is kept, on
disk atomically, so a restart or a night offline starts from the last good
catalog, and the bundled one (config/catalog) is the fallback of last resort.
A download that does not parse or validate is refused and the catalog in use stays.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from kiosk.catalog.model import Catalog
from kiosk.errors import CatalogError

log = logging.getLogger(__name__)
CACHE_FILE = "catalog.json"


@dataclass(frozen=True)
class Cached:
    catalog: Catalog
    etag: str


class CatalogCache:
    """``<data_dir>/catalog.json``: the last catalog the platform sent, with its ETag."""

    def __init__(self, data_dir: Path | str) -> None:
        self.path = Path(data_dir) / CACHE_FILE

    def load(self) -> Cached | None:
        """The cached catalog, or None (none yet, or unreadable: then it is ignored, and said)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return Cached(Catalog.from_dict(data["catalog"]), str(data["etag"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, CatalogError) as err:
            log.warning("cached catalog ignored: %s", str(err)[:200])
            return None

    def save(self, data: dict, etag: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            json.dump({"etag": etag, "catalog": data}, f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


def accept(data: object, etag: str, cache: CatalogCache) -> Catalog:
    """Check a downloaded catalog and keep it.

    :raises CatalogError: it is not a valid catalog (nothing is kept).
    """
    if not isinstance(data, dict):
        raise CatalogError("the platform's catalog is not an object")
    try:
        catalog = Catalog.from_dict(data)
    except (KeyError, TypeError, ValueError) as err:
        raise CatalogError(f"the platform's catalog does not parse: {err}") from err
    cache.save(data, etag)
    return catalog

"""What a terminal downloads from the platform with an ETag and keeps: the catalog
(kiosk/catalog/sync.py) and the holiday calendar (kiosk/calendar_sync.py).

A download is checked (``parse``) before it is kept, on disk atomically (written beside,
fsynced, renamed), with its ETag: a restart or a night offline starts from the last good
one, and the next request asks with ``If-None-Match``. A kept file that no longer parses is
ignored, and said.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from kiosk.errors import KioskError

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Kept(Generic[T]):
    value: T
    etag: str


class EtagCache(Generic[T]):
    """``path``: the last ``what`` the platform sent (JSON) and its ETag; ``parse`` checks
    it (raising a KioskError, or KeyError/TypeError/ValueError, when it is not one)."""

    def __init__(self, path: Path, what: str, parse: Callable[[Any], T]) -> None:
        self.path, self.what, self.parse = path, what, parse

    def load(self) -> Kept[T] | None:
        """The kept one, or None (none yet, or unreadable: then it is ignored, and said)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return Kept(self.parse(data[self.what]), str(data["etag"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, KioskError) as err:
            log.warning("cached %s ignored: %s", self.what, str(err)[:200])
            return None

    def save(self, data: Any, etag: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            json.dump({"etag": etag, self.what: data}, f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

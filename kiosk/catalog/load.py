"""Load the catalog from config/catalog/*.toml, naming file and line on errors.

tomllib reports lines only for syntax errors; for a well-formed file with a
wrong field we find the line in the file text: the n-th ``[[kind]]`` header
of that file, then the first ``key =`` after it (before the next header).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.catalog.model import Catalog
from kiosk.catalog.schema import KINDS, build
from kiosk.errors import CatalogError

_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.]+)\s*\]\]?\s*(#.*)?$")
_ENTRY = re.compile(r"^\s*\{\s*(code|id)\s*=")  # the next inline entry


@dataclass(frozen=True)
class _Origin:
    file: Path
    text: str
    header: str  # e.g. "matter" or "life_event.question"
    occurrence: int  # 0-based index of that entry in the file
    anchor: str = ""  # the entry's code/id, for entries written as inline tables


def _line_of(origin: _Origin, key: str) -> int:
    """1-based line of ``key`` in the entry, else of the entry, else 1."""
    lines = origin.text.splitlines()
    starts = [
        i for i, ln in enumerate(lines) if (m := _HEADER.match(ln)) and m.group(1) == origin.header
    ]
    start = starts[origin.occurrence] if origin.occurrence < len(starts) else None
    if start is None and origin.anchor:
        anchor = re.compile(rf"\b(code|id)\s*=\s*\"{re.escape(origin.anchor)}\"")
        start = next((i for i, ln in enumerate(lines) if anchor.search(ln)), None)
    if start is None:
        return 1
    if not key:
        return start + 1
    pattern = re.compile(rf"(^|[{{,]|\s){re.escape(key)}\s*=")
    for i in range(start, len(lines)):
        if i > start and (_HEADER.match(lines[i]) or _ENTRY.search(lines[i])):
            break
        if pattern.search(lines[i]):
            return i + 1
    return start + 1


def load_catalog(directory: Path) -> Catalog:
    """Read every ``*.toml`` in ``directory`` (sorted by name) and validate.

    :raises CatalogError: unreadable file, bad TOML syntax, wrong schema,
        an unknown reference (e.g. a life event naming an unknown matter),
        a cycle in an ordering graph; the error names file, line and field.
    """
    files = sorted(Path(directory).glob("*.toml"))
    if not files:
        raise CatalogError(f"no *.toml files in {directory}", file=str(directory))
    raw: dict[str, Any] = {k: [] for k in KINDS}
    origins: dict[str, list[_Origin]] = {k: [] for k in KINDS}
    question_origins: dict[int, list[_Origin]] = {}
    county_origin: _Origin | None = None
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            line = int(m.group(1)) if (m := re.search(r"line (\d+)", str(err))) else 0
            raise CatalogError(f"not valid TOML: {err}", file=path.name, line=line) from err
        except (OSError, UnicodeDecodeError) as err:
            raise CatalogError(f"cannot read: {err}", file=path.name) from err
        q_seen = 0
        for key, value in data.items():
            if key == "county":
                if county_origin is not None:
                    raise CatalogError(
                        f"[county] is also in {county_origin.file.name}",
                        file=path.name, line=_line_of(_Origin(path, text, "county", 0), ""),
                    )  # fmt: skip
                county_origin = _Origin(path, text, "county", 0)
                raw["county"] = value
            elif key in KINDS and isinstance(value, list):
                for i, item in enumerate(value):
                    index = len(raw[key])
                    raw[key].append(item)
                    code = item.get("code", item.get("id", "")) if isinstance(item, dict) else ""
                    origins[key].append(_Origin(path, text, key, i, str(code)))
                    if key == "life_event" and isinstance(item, dict):
                        qs = item.get("question", [])
                        n = len(qs) if isinstance(qs, list) else 0
                        question_origins[index] = [
                            _Origin(path, text, "life_event.question", q_seen + j) for j in range(n)
                        ]
                        q_seen += n
            else:
                line = next((i + 1 for i, ln in enumerate(text.splitlines()) if key in ln), 1)
                raise CatalogError(
                    f"unknown table {key!r} (expected one of county, {', '.join(KINDS)})",
                    file=path.name, line=line, field=key,
                )  # fmt: skip
    if county_origin is None:
        raise CatalogError("no [county] table in any file", file=str(directory), field="county")

    def where(path: tuple[Any, ...], key: str) -> tuple[str, int]:
        if path[0] == "county":
            origin = county_origin
        elif len(path) >= 4 and path[2] == "question":
            origin = question_origins[path[1]][path[3]]
        else:
            origin = origins[path[0]][path[1]] if path[1] < len(origins[path[0]]) else None
        if origin is None:
            return (str(directory), 0)
        return (origin.file.name, _line_of(origin, key))

    return build(raw, where)

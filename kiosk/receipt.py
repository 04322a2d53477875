"""Receipts as data: what to print, not how. The printer driver lays it out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class Align(StrEnum):
    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


@dataclass(frozen=True)
class Text:
    """A paragraph; the driver wraps it to the paper width (CJK counts double)."""

    text: str
    bold: bool = False
    size: int = 1  # 1..4: width and height multiplier
    align: Align = Align.LEFT


@dataclass(frozen=True)
class Pair:
    """A label and a value on one line (value right-aligned), wrapped if too long."""

    label: str
    value: str


@dataclass(frozen=True)
class Qr:
    data: str
    module_size: int = 6
    caption: str = ""


@dataclass(frozen=True)
class Rule:
    char: str = "-"


@dataclass(frozen=True)
class Feed:
    lines: int = 1


Block = Text | Pair | Qr | Rule | Feed


@dataclass(frozen=True)
class Receipt:
    """One slip. ``job_id`` is unique per receipt (reprints reuse it);
    ``created_at`` lets the printer refuse to reprint a stale job."""

    job_id: str
    blocks: tuple[Block, ...]
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    kind: str = "receipt"

    def plain_text(self) -> str:
        """Every text on the slip, one block a line (for tests and the screen)."""
        out: list[str] = []
        for b in self.blocks:
            if isinstance(b, Text):
                out.append(b.text)
            elif isinstance(b, Pair):
                out.append(f"{b.label}：{b.value}")
            elif isinstance(b, Qr):
                out.append(b.caption or b.data)
        return "\n".join(out)

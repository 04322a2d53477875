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
class Row:
    """One line of a table: the first cell left-aligned, the others right-aligned, in
    columns of ``widths`` (columns of 80 mm paper, 48 in all; the driver scales them to
    the paper it has). A row whose cells do not fit their columns is wrapped as text."""

    cells: tuple[str, ...]
    widths: tuple[int, ...]
    bold: bool = False


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


Block = Text | Pair | Row | Qr | Rule | Feed


@dataclass(frozen=True, repr=False)
class Receipt:
    """One slip. ``job_id`` is unique per receipt (reprints reuse it);
    ``created_at`` lets the printer refuse to reprint a stale job. Its ``repr`` shows the
    kind and size, not the text (a name, a masked ID, an address are printed on it)."""

    job_id: str
    blocks: tuple[Block, ...]
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    kind: str = "receipt"

    def __repr__(self) -> str:
        return f"Receipt(job_id={self.job_id!r}, kind={self.kind!r}, blocks={len(self.blocks)})"

    def plain_text(self) -> str:
        """Every text on the slip, one block a line (for tests and the screen)."""
        out: list[str] = []
        for b in self.blocks:
            if isinstance(b, Text):
                out.append(b.text)
            elif isinstance(b, Pair):
                out.append(f"{b.label}：{b.value}")
            elif isinstance(b, Row):
                out.append("  ".join(c for c in b.cells if c))
            elif isinstance(b, Qr):
                out.append(b.caption or b.data)
        return "\n".join(out)


def test_receipt(
    *,
    job_id: str,
    terminal_id: str,
    point_name: str,
    citizen_name: str,
    track_url: str,
    now: dt.datetime,
    health: tuple[tuple[str, str], ...] = (),
) -> Receipt:
    """The walking skeleton's slip: Chinese text, sizes, a QR to scan.

    Only a masked name is printed: a test slip left in the tray shows nobody's data.
    """
    from kiosk.identity import mask

    return Receipt(
        job_id=job_id,
        kind="test",
        created_at=now,
        blocks=(
            Text(point_name, bold=True, align=Align.CENTER),
            Text("自助终端测试回执", bold=True, size=2, align=Align.CENTER),
            Rule(),
            Pair("终端编号", terminal_id),
            Pair("办事人", mask(citizen_name) if citizen_name else "—"),
            Pair("打印时间", now.strftime("%Y-%m-%d %H:%M")),
            Rule(),
            *(Pair(device, state) for device, state in health),
            Feed(),
            Qr(track_url, caption="扫码查询办理进度"),
            Text("一件事一次办 · 全县通办", align=Align.CENTER),
        ),
    )

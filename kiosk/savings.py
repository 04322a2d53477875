"""What bundling saves: for each life event and each path through its
questions, the inputs the citizen gives and the materials handed over, against
the sum of the separate matters.

Counting rules (kept conservative):

- separate: every matter's own form, all fields typed (paper forms at each
  counter), and every matter's own material list, the ID card included;
- bundle: the merged form's fields not pre-filled from the ID card, plus one
  input per guided question actually asked (a tap is still an input); the
  materials still to hand over after waivers. By default only the ID card read
  at the kiosk counts as an available e-certificate; other certificates in the
  library (hukou, marriage, property …) are not assumed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from kiosk.catalog import Catalog, default_catalog_dir, load_catalog
from kiosk.errors import CatalogError
from kiosk.form import build_form
from kiosk.guidance import answer_paths, resolve
from kiosk.materials import build_materials, to_hand_over


@dataclass(frozen=True)
class SavingsRow:
    life_event: str
    path: str  # "question=answer …" (card-inferred answers marked with *)
    matters: int
    fields_separate: int
    fields_typed: int  # merged form, not pre-filled, plus questions asked
    fields_prefilled: int
    materials_separate: int
    materials_handed: int


def _pct(before: int, after: int) -> str:
    return f"{(1 - after / before) * 100:.0f}%" if before else "-"


def report(catalog: Catalog, certificates: Collection[str] = ("id_card",)) -> list[SavingsRow]:
    """One row per life event and answer path."""
    rows = []
    for event in catalog.life_events.values():
        for answers, facts in answer_paths(event):
            plan = resolve(catalog, event, answers, facts)
            if plan.stop:
                continue
            form = build_form(catalog, plan)
            items = build_materials(catalog, plan, certificates)
            label = " ".join(
                f"{q}={v}" if q in plan.asked else f"{q}={v}*" for q, v in plan.answers
            )
            rows.append(
                SavingsRow(
                    life_event=event.code,
                    path=label,
                    matters=len(plan.matters),
                    fields_separate=sum(len(v) for v in plan.field_needs.values()),
                    fields_typed=len(form.typed()) + len(plan.asked),
                    fields_prefilled=len(form.fields) - len(form.typed()),
                    materials_separate=sum(len(v) for v in plan.material_needs.values()),
                    materials_handed=len(to_hand_over(items)),
                )
            )
    return rows


def format_table(rows: Sequence[SavingsRow]) -> str:
    head = f"{'life event':<14}{'matters':>8}{'fields':>16}{'materials':>16}  path"
    lines = [head, "-" * len(head)]
    for r in rows:
        fields = f"{r.fields_separate}→{r.fields_typed}"
        mats = f"{r.materials_separate}→{r.materials_handed}"
        lines.append(f"{r.life_event:<14}{r.matters:>8}{fields:>16}{mats:>16}  {r.path}")
    fs, ft = sum(r.fields_separate for r in rows), sum(r.fields_typed for r in rows)
    ms, mh = sum(r.materials_separate for r in rows), sum(r.materials_handed for r in rows)
    lines.append("-" * len(head))
    lines.append(
        f"total ({len(rows)} paths): fields typed {fs} → {ft} ({_pct(fs, ft)} saved), "
        f"materials handed over {ms} → {mh} ({_pct(ms, mh)} saved)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``kiosk savings``: print the table; the last line is the total."""
    parser = argparse.ArgumentParser(prog="kiosk savings", description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, default=default_catalog_dir())
    parser.add_argument(
        "--ecert", action="append", default=[], metavar="CODE",
        help="also treat this e-certificate as available (repeatable)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        catalog = load_catalog(args.catalog)
    except CatalogError as err:
        print(f"catalog error: {err}", file=sys.stderr)
        return 1
    print(format_table(report(catalog, {"id_card", *args.ecert})))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

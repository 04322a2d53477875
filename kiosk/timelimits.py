"""Time limit of a bundle, in working days.

Rules (DESIGN.md "Time limit of a bundle"):

- one matter on its own takes its promised limit;
- matters that can run in parallel take the longest single promised limit;
- a chain that must run in order (a → b → …) takes its legal limits summed
  and compressed by 70 %, rounded up: ``ceil(0.3 × Σ legal)``. We read
  "compressed by 70 %" as "at least 70 % shorter than the sum of the legal
  limits". Two guards keep the promise honest: the chain never promises more
  than doing its matters one after another at their own promised limits
  (``Σ promised``), and never less than its slowest matter's promised limit;
- a mixed ordering graph (a DAG): every maximal chain through the selected
  matters is costed as above and the bundle takes the longest. Ordering is
  transitive through matters not selected (a → b → c with b unselected still
  puts a before c).

So the bundle is never promised earlier than its longest single matter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kiosk.catalog.model import Matter
from kiosk.catalog.schema import find_cycle
from kiosk.errors import ValidationError


@dataclass(frozen=True)
class BundleLimit:
    days: int
    critical_path: tuple[str, ...]  # the chain that sets ``days``


def chain_days(chain: list[Matter] | tuple[Matter, ...]) -> int:
    """Working days for matters that must run one after another."""
    if not chain:
        return 0
    slowest = max(m.promised_days for m in chain)
    if len(chain) == 1:
        return slowest
    compressed = -(-3 * sum(m.legal_days for m in chain) // 10)  # ceil(0.3 × Σ legal)
    return max(slowest, min(sum(m.promised_days for m in chain), compressed))


def reach(order: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """Transitive closure: node → every node that must come after it.

    :raises ValidationError: the ordering has a cycle.
    """
    edges = list(order)
    cycle = find_cycle(edges)
    if cycle:
        raise ValidationError("ordering cycle: " + " → ".join(cycle), field="order")
    after: dict[str, set[str]] = {}
    for a, b in edges:
        after.setdefault(a, set()).add(b)
    closed: dict[str, set[str]] = {}

    def visit(n: str) -> set[str]:
        if n not in closed:
            closed[n] = set()
            for nxt in after.get(n, ()):
                closed[n] |= {nxt} | visit(nxt)
        return closed[n]

    for n in list(after):
        visit(n)
    return closed


def maximal_chains(
    selected: Iterable[str], order: Iterable[tuple[str, str]]
) -> list[tuple[str, ...]]:
    """Every maximal chain of the selected matters under the (transitive) order."""
    nodes = list(dict.fromkeys(selected))
    later = reach(order)
    succ = {a: [b for b in nodes if b in later.get(a, set())] for a in nodes}
    # keep covering edges only: a → b with no selected c between them
    cover = {
        a: [b for b in bs if not any(b in later.get(c, set()) for c in bs if c != b)]
        for a, bs in succ.items()
    }
    has_pred = {b for bs in cover.values() for b in bs}
    chains: list[tuple[str, ...]] = []

    def walk(path: tuple[str, ...]) -> None:
        nxt = cover[path[-1]]
        if not nxt:
            chains.append(path)
        for b in nxt:
            walk((*path, b))

    for start in nodes:
        if start not in has_pred:
            walk((start,))
    return chains


def bundle_limit(
    matters: Mapping[str, Matter], selected: Iterable[str], order: Iterable[tuple[str, str]]
) -> BundleLimit:
    """The bundle's limit in working days and the chain that sets it.

    :raises ValidationError: the ordering has a cycle.
    """
    order = list(order)
    best = BundleLimit(0, ())
    for chain in maximal_chains(selected, order):
        days = chain_days([matters[c] for c in chain])
        if days > best.days or not best.critical_path:
            best = BundleLimit(days, chain)
    return best

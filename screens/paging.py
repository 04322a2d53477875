"""Cutting a list into pages (large type shows long lists a page at a time): pure, no
Kivy, so that its rules are tested on their own."""

from __future__ import annotations


def pages_of(items: list, per_page: int, keeps_with_next=lambda item: False) -> list[list]:
    """``items`` cut into pages of at most ``per_page`` (0: one page of all). An item
    that ``keeps_with_next`` (a heading) never ends a page: it moves on with what it heads."""
    if per_page <= 0:
        return [list(items)]
    return pages_by_height(items, [1] * len(items), per_page, 0, keeps_with_next)


def pages_by_height(items: list, heights: list[float], room: float, gap: float = 0.0,
                    keeps_with_next=lambda item: False) -> list[list]:  # fmt: skip
    """``items`` (``heights`` tall, ``gap`` between two) cut into pages that each fit
    ``room`` whole; an item taller than the room has a page to itself (scrolled). An item
    that ``keeps_with_next`` (a heading) never ends a page: it moves on with what it heads,
    and stays with it on a page too full for both (scrolled), never alone."""
    pages: list[list] = []
    page: list[tuple] = []
    used = 0.0
    for item, height in zip(items, heights, strict=True):
        if page and used + gap + height > room and not all(keeps_with_next(i) for i, _ in page):
            carry: list[tuple] = []
            while len(page) > 1 and keeps_with_next(page[-1][0]):
                carry.insert(0, page.pop())
            pages.append([i for i, _ in page])
            page = carry
            used = sum(h for _, h in page) + gap * max(0, len(page) - 1)
        used += (gap if page else 0.0) + height
        page.append((item, height))
    if page or not pages:
        pages.append([i for i, _ in page])
    return pages

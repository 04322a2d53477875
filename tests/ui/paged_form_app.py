"""The one form in large type, a page at a time, in a real window. Run by
tests/ui/test_paged_lists.py in its own process (Kivy makes one window per process):
``python tests/ui/paged_form_app.py OUT_DIR WIDTH HEIGHT``.

Prints one JSON line: each page as the citizen turns to it with the pager (the rows on it,
how many lie wholly in the list, whether a heading ends it), the pages counted with the
keyboard shut and open, what the form shows after "完成" in the last field of a page, what
turning the page does to the keyboard, and the pages in normal type.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.support.window_child import kiosk_window  # noqa: E402


async def script(app, out: Path) -> dict:
    from kiosk.cli import AFTER_DEATH_ANSWERS, DEMO_ANSWERS
    from screens.walkthrough import WalkthroughError, in_view_beside_keyboard, until
    from tests.support.window_child import applying, attract

    event = sys.argv[4] if len(sys.argv) > 4 else "birth"
    answers = {"birth": DEMO_ANSWERS, "after_death": AFTER_DEATH_ANSWERS}[event]
    w = await attract(app, out, elderly=True)  # large type, the citizen's own button touched
    form = await applying(app, event, answers, "form")
    # the cursor waits in the first field to fill, keyboard up, as in normal type, on the
    # page shown and in view beside the keyboard
    await until(lambda: form.keyboard is not None, 5, "the keyboard")
    await w.drawn()
    first = form._focused()
    try:
        await until(lambda: in_view_beside_keyboard(form, first), 3, "the first field in view")
        first_in_view = True
    except WalkthroughError:
        first_in_view = False
    if event != "birth":
        return {"first_focused": first, "to_fill": form.to_fill[0], "first_in_view": first_in_view,
                "screenshot": str(await w.screenshot("form-opened"))}  # fmt: skip
    pages_open = form.ids.pager.pages
    first_focused = form._focused()
    form.close_keyboard()
    await w.drawn()
    pages_shut = form.ids.pager.pages
    shot = str(await w.screenshot("form-large-type"))

    def page_of(field_id: str) -> int:
        return next(i for i, p in enumerate(form._pages) if form.rows[field_id] in p)

    async def typing_in(field_id: str) -> None:  # its page shown, the field tapped
        form.page = page_of(field_id)
        form.show_page()
        form.inputs[field_id].focus = True
        await until(lambda: form.keyboard is not None, 5, "the keyboard")
        await w.drawn()

    seen = []
    form.page = 0  # from the first page (the form opened on the first field to fill)
    form.show_page()
    while True:
        await w.drawn()
        scroll = form.ids.scroll
        bottom, top = scroll.to_window(*scroll.pos)[1], scroll.to_window(scroll.right, scroll.top)[1]
        rows = list(reversed(form.ids.rows.children))  # top to bottom
        whole = [r for r in rows if r.to_window(*r.pos)[1] >= bottom - 1
                 and r.to_window(r.right, r.top)[1] <= top + 1]  # fmt: skip
        seen.append({"rows": len(rows), "whole": len(whole), "ends_with_heading": form.heads(rows[-1]),
                     "taller_than_the_list": any(r.height > scroll.height for r in rows),
                     "fields": [r.field_id for r in rows if hasattr(r, "field_id")]})  # fmt: skip
        if form.ids.pager.page + 1 >= form.ids.pager.pages:
            break
        await w.tap("page:next")

    # "完成" in a typed field whose next field to fill is on a later page: that page, that
    # field focused, whole in view beside the keyboard
    order = form.to_fill
    here, after = next((a, b) for a, b in zip(order, order[1:], strict=False)
                       if a in form.inputs and b in form.inputs and page_of(b) > page_of(a))  # fmt: skip
    await typing_in(here)
    await w.tap("key:done")
    await until(lambda: form.inputs[after].focus and form.keyboard is not None, 5, "the next field")
    await until(lambda: in_view_beside_keyboard(form, after), 3, "the next field in view")
    brought = {"page": form.page, "page_of_next": page_of(after), "focused": form._focused() == after,
               "in_view": in_view_beside_keyboard(form, after)}  # fmt: skip
    await w.screenshot("form-large-type-next-page")

    # turning the page with the pager: the keyboard goes with the field typed in
    await w.tap("page:prev")
    await w.drawn()
    turned = {"keyboard": form.keyboard is not None, "focused": form._focused()}

    # "下一步" while typing, with fields still to fill: the first problem's page, and the
    # keyboard put away (left up, it typed into the field left behind, out of sight)
    await typing_in(after)
    await w.tap("form_done")
    await until(lambda: bool(form.error), 5, "the problems")
    await w.drawn()
    done_with_problems = {"keyboard": form.keyboard is not None, "focused": form._focused()}

    app.toggle_elderly()  # normal type: the whole form, scrolled, no pager
    await w.drawn()
    pager = form.ids.pager  # under the form in portrait, beside it in landscape
    normal = {"pages": len(form._pages), "pager_room": min(pager.width, pager.height)}
    return {"pages": seen, "pages_open": pages_open, "pages_shut": pages_shut,
            "first_focused": first_focused, "to_fill": order[0], "first_in_view": first_in_view,
            "brought": brought,
            "turned": turned, "done_with_problems": done_with_problems, "normal": normal,
            "screenshot": shot}  # fmt: skip


if __name__ == "__main__":
    kiosk_window(script)

"""The scripted walkthrough of the query services: progress by the receipt's QR
code (through the code scanner), a typed ID number, a queue ticket, matter
search by pinyin initials and the matter's guide, in both type sizes and both
languages. Like screens.walkthrough it knows the screens, not the devices.
"""

from __future__ import annotations

from screens.touch import find_action
from screens.walkthrough import Props, Walkthrough, until


async def type_keys(w: Walkthrough, text: str) -> None:
    for ch in text:
        await w.tap(f"key:{ch.lower()}")


async def progress_steps(w: Walkthrough, props: Props, receipt_code: str) -> dict:
    """The receipt's QR shown to the scanner at the attract screen → its stages; the
    same QR on the progress screen's own scan tab."""
    await w.screenshot("q01-attract")
    await w.settle(1.0)  # the citizen walks up: the kiosk is listening by then
    props.scan_code(receipt_code)  # where one identifies: taken for a receipt, not an e-ID
    await until(lambda: w.on("progress") and w.screen().showing, 20,
                "the progress of the receipt shown at the attract screen")
    await w.screenshot("q03-progress-result")
    seen = {"shown_number": w.screen().number_text, "headline": w.screen().headline}
    await w.tap("by:scan")
    await until(lambda: not w.screen().showing, 5, "the progress screen's scan tab")
    await w.screenshot("q02-progress-scan")
    props.scan_code(receipt_code)
    await until(lambda: w.screen().showing, 20, "the progress of the receipt scanned there")
    seen["scanned_on_progress"] = w.screen().number_text
    await w.tap("back")
    await until(lambda: w.on("home"), 5, "the home screen")
    await w.screenshot("q06-home")
    seen |= await elderly_home_steps(w)
    return seen


def tiles_shown(w: Walkthrough) -> list[str]:
    return [t.action.removeprefix("event:") for t in reversed(w.screen().ids.tiles.children)
            if getattr(t, "action", "").startswith("event:")]


async def elderly_home_steps(w: Walkthrough) -> dict:
    """Elderly mode on the home screen: four larger tiles a page and big page buttons
    instead of a long scroll; the last page has the last life events; then back."""
    was = await elderly(w, True)
    await until(lambda: len(tiles_shown(w)) == 4, 5, "four tiles a page")
    await w.screenshot("q06b-home-elderly")
    seen = {"elderly_pages": [tiles_shown(w)], "elderly_button": [elderly_button(w)]}
    pager = w.screen().ids.pager
    while pager.page < pager.pages - 1:
        turned_to = pager.page + 1
        await w.tap("page:next")
        await until(lambda n=turned_to: pager.page == n, 5, "the next page")
        seen["elderly_pages"].append(tiles_shown(w))
    await w.screenshot("q06c-home-elderly-last-page")
    if not was:
        await elderly(w, False)
        await until(lambda: len(tiles_shown(w)) > 4, 5, "every tile again")
        seen["elderly_button"].append(elderly_button(w))
    return seen


def elderly_button(w: Walkthrough) -> str:
    """What the large-type button says now."""
    return find_action(w.app.root_window, "elderly").text


async def elderly(w: Walkthrough, on: bool) -> bool:
    """Large type on or off (the demo may have started in it); whether it was on."""
    was = w.app.terminal.elderly
    if was != on:
        await w.tap("elderly")
    return was


async def ticket_steps(w: Walkthrough, props: Props) -> dict:
    await w.tap("ticket")
    await until(lambda: w.on("ticket"), 5, "the ticket screen")
    await w.screenshot("q07-ticket-choose")
    await w.tap("queue:general")
    await until(lambda: w.screen().taken and not w.screen().busy, 20, "the ticket, printed")
    await w.screenshot("q08-ticket")
    w.shots.append(props.render_receipt(w.out / f"{w.prefix}q-ticket-slip.png"))
    seen = {"ticket": w.screen().number, "ticket_printing": w.screen().printing,
            "ticket_error": w.screen().error}  # fmt: skip
    await w.tap("back")
    await until(lambda: w.on("home"), 5, "the home screen")
    return seen


async def search_steps(w: Walkthrough, props: Props) -> dict:
    """Search by pinyin initials, open the guide, try to apply without a card; then the
    same screens in large type and in English."""
    await w.tap("search")
    await until(lambda: w.on("search") and w.screen().index is not None, 10, "the search, ready")
    await w.screenshot("q09-search-empty")
    await type_keys(w, "csdj")
    await until(lambda: "hukou_birth" in w.screen().codes, 5, "the matters found for csdj")
    await w.screenshot("q10-search")
    seen = {"found": list(w.screen().codes)}
    await w.tap("matter:hukou_birth")
    await until(lambda: w.on("guide") and bool(w.screen().qr_text), 5, "the guide")
    await w.screenshot("q11-guide")
    seen["guide_qr"] = w.screen().qr_text
    await w.tap("apply:birth")
    await until(lambda: bool(w.screen().error), 5, "the lay-your-card message")
    seen["apply_without_card"] = w.screen().error
    was = await elderly(w, True)
    await w.screenshot("q12-guide-elderly")
    await w.tap("back")
    await until(lambda: w.on("search"), 5, "the search again")
    await w.screenshot("q13-search-elderly")
    await elderly(w, was)
    await w.tap("language")
    name = w.app.terminal.catalog.matters["hukou_birth"].name.get(w.app.language)
    await w.tap("matter:hukou_birth")
    await until(lambda: w.on("guide") and w.shows(name), 5, "the guide in the other language")
    await w.screenshot(f"q14-guide-{w.app.language}")
    await w.tap("language")
    return seen


async def mine_steps(w: Walkthrough, props: Props) -> dict:
    """With the ID card read: 查询进度 → 我的办件 lists the citizen's own applications
    (the platform answers by ID number only for a card just read); one opens its stages.
    Then the visit ends and the card is taken."""
    # 查询办理进度 from the attract screen, no card yet: "my applications" asks for it
    await w.tap("progress")
    await until(lambda: w.on("progress"), 5, "the progress screen")
    await w.tap("by:id")
    await until(lambda: w.screen().message == w.app.t("progress.mine_needs_card"), 5,
                "what my applications needs")  # fmt: skip
    await w.screenshot("q00-progress-mine-needs-card")
    seen_first = {"needs_card": w.screen().message,
                  "needs_card_panel": w.screen().ids.body.children[0] is w.screen().ids.mine_panel.__self__}  # fmt: skip
    props.insert_id_card()  # laid on the reader there: the list comes, on this very screen
    await until(lambda: w.on("progress") and (bool(w.screen().mine) or bool(w.screen().error)), 20,
                "the citizen's list")  # fmt: skip
    await w.screenshot("q00a-progress-mine")
    seen = {**seen_first,
            "mine_tab": w.screen().ids.body.children[0] is w.screen().ids.mine_panel.__self__,
            "mine": [p.outcome.acceptance_number for p in w.screen().mine],
            "mine_error": w.screen().error}  # fmt: skip
    if seen["mine"]:
        await w.tap(f"mine:{seen['mine'][0]}")
        await until(lambda: w.screen().showing, 5, "the stages of the application chosen")
        await w.screenshot("q00b-progress-mine-result")
        seen["mine_opened"] = w.screen().number_text
        await w.tap("again")  # back to the list, not asked again
        await until(lambda: not w.screen().showing, 5, "the list again")
    seen |= await record_steps(w, props)
    await w.tap("finish")
    await until(lambda: w.on("end"), 10, "the take-your-card page")
    await w.screenshot("q00c-end-take-card")
    seen["end_says"] = w.shows(w.screen().take_text(["id_card", "printout"], w.app.language))
    # They touch 完成 and walk away, the card still on the reader: the goodbye asks for it
    await w.tap("done")
    await until(lambda: w.on("end") and w.screen().left == ["id_card"], 5, "the card asked for")
    await w.screenshot("q00k-end-card-still-there")
    # Not taken within the kiosk's card_left time (5 s in this demo): staff are called and
    # the next citizen is told a card lies there
    await until(lambda: w.on("attract") and w.screen().card_left, 15, "the card-left notice")
    await w.screenshot("q00l-attract-card-left")
    props.remove_id_card()  # they come back for it (or staff collect it)
    await until(lambda: not w.app.screens.get_screen("attract").card_left, 10, "the notice gone")
    await w.screenshot("q00m-attract-card-taken")
    seen["mine_after_visit"] = [p.outcome.acceptance_number for p in w.app.screens.get_screen("progress").mine]
    record = w.app.screens.get_screen("record")
    seen["record_after_visit"] = [record.who, record.record is not None, len(record.ids.rows.children)]  # fmt: skip
    return seen


async def record_steps(w: Walkthrough, props: Props) -> dict:
    """With the card read: 打印缴费记录 on the home screen shows the citizen's social-insurance
    contribution record month by month and prints it; then a page at a time in large
    type, and in English."""
    await w.tap("back")
    await until(lambda: w.on("home"), 5, "the home screen")
    await w.tap("record")
    await until(lambda: w.on("record") and (w.screen().ready or bool(w.screen().error)), 20,
                "the contribution record")  # fmt: skip
    await w.screenshot("q00d-record")
    screen = w.screen()
    seen = {"record_error": screen.error, "record_who": screen.who, "record_notice": screen.notice,
            "record_months": len(screen.record.months) if screen.record else 0,
            "record_total": list(screen.total)}  # fmt: skip
    await w.tap("print")
    await until(lambda: w.screen().message == w.app.t("record.printed") or bool(w.screen().error), 30,
                "the record, printed")  # fmt: skip
    await w.screenshot("q00e-record-printed")
    seen |= {"record_printed": w.screen().message, "record_print_error": w.screen().error,
             "record_slip": props.printed_text()}  # fmt: skip
    w.shots.append(props.render_receipt(w.out / f"{w.prefix}q-record-slip.png"))
    was = await elderly(w, True)
    await until(lambda: w.screen().ids.pager.pages > 1, 5, "the record a page at a time")
    await w.screenshot("q00f-record-elderly")
    seen["record_elderly_pages"] = w.screen().ids.pager.pages
    await w.tap("page:next")
    await until(lambda: w.screen().ids.pager.page == 1, 5, "the record's next page")
    await w.screenshot("q00g-record-elderly-page-2")
    await elderly(w, was)
    head = list(w.screen().head)
    await w.tap("language")
    await until(lambda: list(w.screen().head) != head, 5, "the record in the other language")
    await w.screenshot(f"q00h-record-{w.app.language}")
    seen[f"record_{w.app.language}_head"] = list(w.screen().head)
    await w.tap("language")
    return seen


async def query_steps(w: Walkthrough, props: Props) -> None:
    """The query side: first with a card (the citizen's own applications), then as one
    visit without a card."""
    facts = await mine_steps(w, props)
    facts |= await progress_steps(w, props, props.receipt_code)
    facts |= await ticket_steps(w, props)
    facts |= await search_steps(w, props)
    props.report(facts)

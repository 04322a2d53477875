"""The query side of the kiosk in the real window, against the real emulators and
the central server (`kiosk demo --scenario query`): progress of a real application
by showing its printed receipt to the code scanner, the citizen's own applications
with the ID card read, a typed ID number, a queue
ticket, and matter search by pinyin initials with the guide's QR code.

One walkthrough (portrait) serves every test here; the screenshots and the
walkthrough's report are checked as a person would look at them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from kiosk.i18n import translate
from kiosk.identity import mask
from kiosk.query import number_from_code
from peripherals.idcard.cards import sample_cards
from tests.printer_samples import best_match
from tests.support.demo import demo
from tests.support.vision import decode_qr, shows_text

pytestmark = pytest.mark.ui
ROOT = Path(__file__).resolve().parents[2]
PREFIX = "query-portrait-"


@pytest.fixture(scope="module")
def seen(tmp_path_factory) -> tuple[dict[str, Path], dict]:
    out = tmp_path_factory.mktemp("query")
    run = demo("portrait", out, "query")
    shots = {p.stem.removeprefix(PREFIX): p for p in out.glob(f"{PREFIX}*.png")}
    report = json.loads((out / f"{PREFIX}report.json").read_text())
    report["demo_output"] = run.stdout + run.stderr  # the kiosk's own console, a log too
    return shots, report


def test_searching_csdj_finds_birth_registration_and_its_guide_qr_scans(seen):
    shots, report = seen
    # Given the citizen typed c-s-d-j on the pinyin keyboard
    assert report["found"][0] == "hukou_birth"
    assert shows_text(shots["q10-search"], "出生登记（新生儿户口登记）", [32], bold=True)
    # When they open it, the guide is on screen with its QR code
    assert shows_text(shots["q11-guide"], "出生登记（新生儿户口登记）", [44], bold=True)
    assert shows_text(shots["q11-guide"], "承诺3个工作日办结（法定20个工作日）", [26])
    # Then the QR a phone reads is the platform's public page of this guide
    url = decode_qr(shots["q11-guide"])
    assert url.startswith("http://127.0.0.1:") and url.endswith("/guide/hukou_birth")
    assert url == report["guide_qr"]
    # Applying needs the card: the screen says so, in plain words
    assert report["apply_without_card"] == translate("home.lay_card_to_apply")
    # Large type and English show the same guide
    assert shows_text(shots["q12-guide-elderly"], "出生登记（新生儿户口登记）", [57], bold=True)
    assert shows_text(shots["q14-guide-en"], "Household registration of a newborn", [44], bold=True)
    assert decode_qr(shots["q14-guide-en"]) == url


def test_showing_a_printed_receipt_to_the_scanner_shows_its_stages(seen):
    shots, report = seen
    # Given an application accepted earlier and moved on by the office to 审核,
    # whose receipt was printed and is read back off the paper
    number = number_from_code(decode_qr(shots["earlier-receipt"]))
    assert number.startswith("AF")
    # When its QR is shown to the scanner at the attract screen, where one identifies,
    # it is taken for a receipt (not an electronic ID): the progress screen opens on it
    assert report["shown_number"] == translate("progress.number", number=number)
    assert report["headline"] == translate("progress.status.accepted")
    # and the progress screen's own scan tab reads it too
    assert report["scanned_on_progress"] == report["shown_number"]
    # Then every stage is listed, those reached with their time, the current one large
    result = shots["q03-progress-result"]
    assert shows_text(result, "已受理，正在办理", [52], bold=True)
    assert shows_text(result, "审核", [32], bold=True)
    assert shows_text(result, "归档", [28])
    assert shows_text(result, translate("progress.not_yet"), [22])
    # the stage it is at reads as under way, not done
    assert shows_text(result, "办理中", [22])


def test_with_the_card_read_my_applications_lists_the_citizens_own_and_opens_one(seen):
    shots, report = seen
    # Given the application made earlier with this citizen's card (its receipt read back)
    number = number_from_code(decode_qr(shots["earlier-receipt"]))
    # When they open 查询进度 and its third tab, 我的办件, and lay their ID card there
    assert report["mine_tab"] and not report["mine_error"]
    # Then their application is listed (found by the card, nothing typed), with where it is
    assert report["mine"] == [number]
    listed = shots["q00a-progress-mine"]
    assert shows_text(listed, translate("progress.mine"), [28], bold=True)
    assert shows_text(listed, translate("progress.mine_title"), [40], bold=True)
    assert shows_text(listed, translate("progress.status.accepted"), [28], bold=True)
    # And tapping it shows its stages; after the visit nothing of it is left on the screen
    assert report["mine_opened"] == translate("progress.number", number=number)
    assert shows_text(shots["q00b-progress-mine-result"], "审核", [32], bold=True)
    assert report["mine_after_visit"] == []
    # Finishing with the card on the reader asks for it, and for the record printed meanwhile
    assert report["end_says"]
    assert shows_text(shots["q00c-end-take-card"], "请取走您的身份证和打印的凭条", [60], bold=True)


def test_a_card_forgotten_on_the_reader_is_asked_for_then_left_to_staff(seen):
    shots, report = seen
    # Given the citizen touched 完成 and walked off, their ID card still on the reader
    # Then the goodbye does not go: it names the card and says it goes once it is taken
    still = shots["q00k-end-card-still-there"]
    assert shows_text(still, "别忘了取走读卡器上的身份证", [60], bold=True)
    assert shows_text(still, translate("end.card_where"), [30])
    # And left there past the kiosk's time, the hall is told a card waits to be collected,
    # and then (the citizen came back for it) that it was taken
    assert report["help_requests"] == [["end.card_left", True]]
    # and the next citizen reads that a card lies there (until it is taken)
    assert shows_text(shots["q00l-attract-card-left"], "读卡器上留有一张卡片", [30], bold=True)
    assert not shows_text(shots["q00m-attract-card-taken"], "读卡器上留有一张卡片", [30], bold=True)
    assert shows_text(shots["q00m-attract-card-taken"], "请将身份证放在读卡区", [60], bold=True)


def test_the_contribution_record_is_shown_and_printed_with_the_id_number_masked(seen):
    shots, report = seen
    # Given the citizen whose ID card was read at the start of this visit
    card = sample_cards()[0]
    masked = mask(card.id_number, 6, 4)
    # When they tap 打印缴费记录 on the home screen
    assert not report["record_error"] and report["record_months"] == 12
    # Then their record is on screen: who, the number masked, sample data said plainly,
    # a line a month with whether it was paid, and the total
    record = shots["q00d-record"]
    assert shows_text(record, translate("record.title"), [44], bold=True)
    assert shows_text(record, card.name, [30], bold=True)
    assert shows_text(record, f"身份证号码 {masked}", [30], bold=True)
    assert shows_text(record, "不能作为证明使用", [26], bold=True)
    assert shows_text(record, translate("record.col.base"), [28], bold=True)
    assert shows_text(record, translate("record.paid"), [28])
    assert report["record_total"][0] == translate("record.total")
    assert shows_text(record, report["record_total"][2], [28], bold=True)
    # And printing puts it on paper: titled, the number masked, sample data marked above
    # and below, a line a month under its year, and that it was self-printed here
    assert report["record_printed"] == translate("record.printed")
    assert not report["record_print_error"]
    assert shows_text(shots["q00e-record-printed"], translate("record.printed"), [30])
    paper = report["record_slip"]  # the text the emulated printer put on paper
    assert paper[1] == "社会保险参保缴费记录" and paper.count("【示例数据  不能作为证明使用】") == 2
    assert any(line.startswith("身份证号码") and line.endswith(masked) for line in paper)
    assert any(line.startswith("姓名") and line.endswith(card.name) for line in paper)
    assert sum(line[:2].isdigit() and line[2:3] == "月" for line in paper) == 12
    assert "本记录由参保人本人在政务服务自助终端自助打印" in paper
    slip = Image.open(shots["q-record-slip"])  # and what the slip looks like (its Chinese)
    for line in ("身份证号码", "已缴", "本记录由参保人本人在政务服务自助终端自助打印"):
        assert best_match(slip, line) > 0.9, line
    for line in ("缴费基数", "不能作为证明使用"):  # the table's head, the sample mark: in bold
        assert best_match(slip, line, bold=True) > 0.9, line
    # The full number is on neither the paper nor in any log (the parts', the kiosk's)
    assert card.id_number not in "\n".join(paper)
    logs = [Path(p) for p in report["logs"]]
    assert {"central.log", "kiosk.log"} <= {p.name for p in logs}
    for text in [p.read_text(errors="replace") for p in logs] + [report["demo_output"]]:
        assert card.id_number not in text
    # In large type the record is shown a page at a time; English is complete too
    assert report["record_elderly_pages"] == 2
    page_one = translate("common.page_of", page=1, pages=2)
    assert shows_text(shots["q00f-record-elderly"], page_one, [39], bold=True)
    # page two begins in the middle of 2026: its month column is named by the year (its
    # months stood under no year at all)
    assert shows_text(shots["q00g-record-elderly-page-2"], "2026年", [36, 37], bold=True)
    assert report["record_en_head"] == [translate(f"record.col.{c}", "en")
                                        for c in ("month", "base", "employer", "personal", "state")]  # fmt: skip
    english = shots["q00h-record-en"]
    assert shows_text(english, "Social insurance contribution record", [44], bold=True)
    # After the visit nothing of it is left on the screen
    assert report["record_after_visit"] == ["", False, 0]


def test_elderly_mode_shows_four_large_life_events_a_page_with_big_page_buttons(seen):
    shots, report = seen
    pages = report["elderly_pages"]
    # Four tiles a page, and turning the pages shows every life event once
    assert [len(p) for p in pages[:-1]] == [4] * (len(pages) - 1) and 1 <= len(pages[-1]) <= 4
    every = [code for page in pages for code in page]
    assert len(every) == len(set(every)) == len(pages) * 4 - (4 - len(pages[-1]))
    assert "birth" in pages[0] and len(pages) >= 3
    # What an older citizen sees: large captions and the page buttons, in words
    first = shots["q06b-home-elderly"]
    assert shows_text(first, "新生儿出生一件事", [39], bold=True)
    # the instruction to lay the card, in large type too (two lines' room: it was shrunk
    # to fit one, back to the size of normal type)
    assert shows_text(first, "请先将身份证放在读卡区", [38, 39])
    # and the button that set large type says it is on, and no longer once it is off
    assert report["elderly_button"] == ["✓ 长者模式", "长者模式"]
    assert shows_text(first, "✓ 长者模式", range(34, 40), bold=True)
    assert shows_text(first, translate("common.next_page"), [39], bold=True)
    assert shows_text(first, translate("common.page_of", page=1, pages=len(pages)), [39], bold=True)
    last = shots["q06c-home-elderly-last-page"]
    last_of = translate("common.page_of", page=len(pages), pages=len(pages))
    assert shows_text(last, last_of, [39], bold=True)


def test_my_applications_without_a_card_asks_for_the_card_and_takes_nothing_typed(seen):
    shots, report = seen
    # Given a citizen with no card read on 查询办理进度, choosing 我的办件
    # Then they are told at once to lay the card, and offered no keypad for an ID number
    assert report["needs_card"] == translate("progress.mine_needs_card")
    assert report["needs_card_panel"]
    asks = shots["q00-progress-mine-needs-card"]
    assert shows_text(asks, "请把身份证放到读卡区，即可查看您名下的办件", [30])
    assert not shows_text(asks, translate("progress.number_hint"), [30])
    # And laying the card there showed their applications on that screen (the test above)


def test_a_queue_ticket_is_shown_and_printed(seen):
    shots, report = seen
    # The hall's first ticket of the day in the general queue, on screen and on paper
    assert report["ticket"] == "A001" and not report["ticket_error"]
    assert shows_text(shots["q08-ticket"], "A001", [160], bold=True)
    # the hall's office hours said where the queue is chosen (a kiosk open day and night)
    assert shows_text(shots["q07-ticket-choose"], "取号时间：工作日 8:30–12:00,", [26])
    assert shows_text(shots["q07-ticket-choose"], "14:00–17:30", [26])
    slip = Image.open(shots["q-ticket-slip"])
    for line in ("业务类型", "综合受理", "前面还有", "请留意叫号屏幕和语音"):
        assert best_match(slip, line) > 0.9, line


def test_the_services_in_large_english_type_on_a_landscape_screen_draw_nothing_over_each_other(
    tmp_path,
):
    # progress (its status was pushed under the header), the contribution record, the
    # queue ticket (its title and instruction were drawn on top of each other), search and
    # the guide, as the citizen sees them in the largest type on the shortest screen:
    # `demo` holds every screen it shoots to nothing drawn outside its box
    run = demo("landscape", tmp_path, "query", timeout=400, options=("--elderly", "--language", "en"))
    assert "query-landscape-q07-ticket-choose.png" in run.stdout
    # where the application stands is in view, and reads as under way: the list of stages
    # is scrolled to it (the "more" cue lay over it, the fourth of eight)
    result = tmp_path / "query-landscape-q03-progress-result.png"
    assert shows_text(result, translate("stage.reviewed", "en"), [41, 42], bold=True)
    assert shows_text(result, "under way", [28, 29])

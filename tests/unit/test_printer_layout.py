"""Receipt → ESC/POS bytes: wrapping by display width, Chinese path, commands."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.receipt import Align, Feed, Pair, Qr, Receipt, Row, Rule, Text
from peripherals.printer.emulator import printed_text
from peripherals.printer.layout import (
    column_widths,
    columns,
    encode,
    layout,
    pair_lines,
    paragraph_lines,
    row_lines,
    wrap,
)

ESC_AT, CUT_PARTIAL = b"\x1b@", b"\x1dV\x01"


def job(*blocks, paper_mm: int = 80, native_qr: bool = True) -> bytes:
    return layout(Receipt(job_id="t", blocks=tuple(blocks)), paper_mm, native_qr=native_qr)


printed_lines = printed_text  # what a person reads off the paper, line by line


def test_chinese_counts_two_columns_when_wrapping():
    # Given 20 Chinese characters and a 32-column line
    text = "一二三四五六七八九十" * 2
    # When wrapped
    lines = wrap(text, 32)
    # Then 16 fit on the first line (32 columns) and 4 go to the next
    assert [len(x) for x in lines] == [16, 4]


def test_english_words_are_not_split_across_lines():
    lines = wrap("Please bring your ID card to window 3 before noon", 20)
    assert all(columns(x) <= 20 for x in lines)
    assert " ".join(lines) == "Please bring your ID card to window 3 before noon"


def test_closing_punctuation_never_starts_a_line():
    # Given a sentence whose comma would fall exactly at a line start
    lines = wrap("一二三四五六七八，九十", 16)
    # Then the comma carries the character before it to the next line
    assert lines == ["一二三四五六七", "八，九十"]


def test_size_multiplier_halves_the_columns():
    # Given size-2 text of 20 Chinese characters on 80 mm (48 columns → 24 at 2x)
    data = job(Text("测" * 20, size=2))
    # Then it takes two lines of 12 and 8 characters, sent with GS ! 0x11
    assert printed_lines(data)[:2] == ["测" * 12, "测" * 8]
    assert b"\x1d!\x11" in data


def test_chinese_runs_go_in_fs_and_with_gb18030_punctuation():
    # Given a line mixing ASCII and Chinese with Chinese punctuation only
    raw = encode("No.12，费用：￥5。")
    # Then ASCII is single-byte and every Chinese run is wrapped in FS & … FS .
    assert (
        raw
        == b"No.12"
        + b"\x1c&"
        + "，费用：￥".encode("gb18030")
        + b"\x1c.5"
        + b"\x1c&"
        + "。".encode("gb18030")
        + b"\x1c."
    )
    assert b"?" not in raw


def test_control_characters_in_data_never_reach_the_printer():
    # Given a citizen-supplied value carrying an ESC @ and a cut
    raw = encode("王\x1b@\x1dV\x00五")
    # Then no ESC or GS byte is sent
    assert b"\x1b" not in raw and b"\x1d" not in raw


def test_pair_puts_label_left_and_value_right_on_one_line():
    (line,) = pair_lines("受理编号", "SL001", 32)
    assert columns(line) == 32 and line.startswith("受理编号") and line.endswith("SL001")


def test_long_pair_value_wraps_right_aligned_within_the_width():
    lines = pair_lines("办理事项", "出生医学证明、户口登记、医保参保登记、社会保障卡申领", 32)
    assert len(lines) > 1
    assert all(columns(x) == 32 for x in lines)
    assert (
        "".join(lines).replace("办理事项", "").replace(" ", "")
        == "出生医学证明、户口登记、医保参保登记、社会保障卡申领"
    )


def test_every_printed_line_fits_the_paper():
    long = "容缺材料：结婚证复印件，请于2025年5月8日前补交，逾期将影响办理进度。" * 3
    for mm, cols in ((58, 32), (80, 48)):
        data = job(Text(long), Pair("地址", long), Rule(), Text(long, size=2), paper_mm=mm)
        for line in printed_lines(data):
            assert columns(line) <= cols, (mm, line)


def test_rule_spans_the_paper_width():
    assert printed_lines(job(Rule(), paper_mm=58))[0] == "-" * 32
    assert printed_lines(job(Rule("="), paper_mm=80))[0] == "=" * 48


def test_job_starts_with_init_and_ends_with_feed_and_partial_cut():
    data = job(Text("x"))
    assert data.startswith(ESC_AT)
    assert data.endswith(b"\x1bd\x06" + CUT_PARTIAL)


def test_bold_and_alignment_are_set_per_block():
    data = job(Text("标题", bold=True, align=Align.CENTER), Text("正文", align=Align.RIGHT))
    assert b"\x1bE\x01\x1ba\x01" in data and b"\x1bE\x00\x1ba\x02" in data


def test_native_qr_is_model_2_level_m_with_the_module_size_and_data():
    data = job(Qr("https://example.cn/t/1", module_size=5))
    assert b"\x1d(k\x04\x001A2\x00" in data  # model 2
    assert b"\x1d(k\x03\x001C\x05" in data  # module size 5
    assert b"\x1d(k\x03\x001E1" in data  # error level M
    assert b"\x1d(k\x19\x001P0https://example.cn/t/1" in data  # store
    assert b"\x1d(k\x03\x001Q0" in data  # print
    assert b"\x1dv0" not in data


def test_raster_qr_is_an_image_for_printers_without_native_qr():
    data = job(Qr("https://example.cn/t/1"), native_qr=False)
    assert b"\x1dv0" in data and b"\x1d(k" not in data


def test_qr_module_size_shrinks_to_fit_58mm():
    # A 40-module symbol at size 16 would need 672 dots; 58 mm has 384
    data = job(Qr("x" * 200, module_size=16), paper_mm=58)
    size = data[data.index(b"\x1d(k\x03\x001C") + 7]
    assert 1 <= size < 16


def test_feed_uses_esc_d():
    assert b"\x1bd\x03" in job(Feed(3))


WRAP_ALPHABET = st.sampled_from(list("abcXYZ019 .,-") + list("受理回执，。：￥（）一二三"))


@settings(max_examples=200, deadline=None)
@given(st.text(WRAP_ALPHABET, max_size=120), st.integers(min_value=2, max_value=48))
def test_wrap_keeps_every_character_in_order_within_the_width(text, width):
    lines = wrap(text, width)
    assert all(columns(x) <= width for x in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_a_list_item_wraps_under_its_words_not_under_its_marker():
    lines = printed_lines(job(Text("· Funeral grant and closing of resident pension insurance")))
    assert lines[:2] == ["· Funeral grant and closing of resident pension", "   insurance"]
    lines = printed_lines(job(Text("2. " + "结婚证" * 10), paper_mm=58))
    assert lines[0].startswith("2. 结婚证") and lines[1].startswith("   ")


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["· ", "- ", "3. ", "12、", ""]), st.text(WRAP_ALPHABET, max_size=120),
       st.integers(min_value=8, max_value=48))  # fmt: skip
def test_a_list_item_keeps_every_character_in_order_within_the_width(marker, text, width):
    lines = paragraph_lines(marker + text, width)
    assert all(columns(x) <= width for x in lines)
    assert "".join(lines).replace(" ", "") == (marker + text).replace(" ", "")


def test_a_table_row_puts_each_cell_in_its_column_the_first_left_the_others_right():
    # Given a month of a contribution record in columns of 7, 12, 11, 11 and 7 (80 mm)
    cells = ("03月", "4000.00", "996.00", "420.00", "已缴")
    # When laid out on 48 columns
    (line,) = row_lines(cells, (7, 12, 11, 11, 7), 48)
    # Then the month starts the line and each amount ends where its column ends
    assert line == "03月   " + "     4000.00" + "     996.00" + "     420.00" + "   已缴"
    assert columns(line) == 48
    # and the bytes the printer gets read back the same, bold where asked
    data = job(Row(cells, (7, 12, 11, 11, 7), bold=True))
    assert printed_text(data) == [line] and b"\x1bE\x01" in data


def test_column_widths_scale_to_the_paper_and_add_up_to_its_width():
    assert column_widths((7, 12, 11, 11, 7), 48) == [7, 12, 11, 11, 7]
    narrow = column_widths((7, 12, 11, 11, 7), 32)
    assert sum(narrow) == 32 and narrow[1] >= narrow[0]
    assert column_widths((1, 1, 1), 10) in ([4, 3, 3], [3, 4, 3], [3, 3, 4])


def test_a_row_that_does_not_fit_its_columns_wraps_as_text_and_loses_nothing():
    cells = ("12月", "30000.00", "7470.00", "3150.00", "已缴")
    lines = row_lines(cells, (7, 12, 11, 11, 7), 24)
    assert all(columns(x) <= 24 for x in lines) and len(lines) > 1
    assert " ".join(lines).split() == list(cells)


def test_a_paragraph_never_ends_in_one_chinese_character_alone():
    from peripherals.printer.layout import wrap

    # "…服务中心领" / "取": the lone character reads as cut off; it takes one along
    lines = wrap("办结后，请凭本回执和身份证到洲湖镇便民服务中心领取", 48)
    assert lines == ["办结后，请凭本回执和身份证到洲湖镇便民服务中心", "领取"]
    # a paragraph of one character after another paragraph is left as it is
    assert wrap("一二三四\n五", 8) == ["一二三四", "五"]
    assert wrap("Paper out", 6) == ["Paper", "out"]

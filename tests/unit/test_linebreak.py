"""Chinese line breaking (避头尾): what a reader of Chinese checks on every screen."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kiosk.linebreak import NO_END, NO_START, clip, units, wrap


def width_of(text: str) -> float:
    """A monospace measure: a Chinese character or mark is 2, anything else 1."""
    return float(sum(2 if ord(c) > 0x2E7F else 1 for c in text))


def test_a_comma_that_would_begin_a_line_takes_the_character_before_it_along():
    text = "身份证号码校验正确，为保护您的隐私"
    # 9 characters fit (18); the 10th would be the comma
    lines = wrap(text, 18, width_of)
    assert lines == ["身份证号码校验正", "确，为保护您的隐私"]
    assert not any(line[0] in NO_START for line in lines)


def test_an_opening_quote_never_ends_a_line():
    lines = wrap("请点击“结束办理”按钮", 8, width_of)  # four characters a line
    assert lines == ["请点击", "“结束办", "理”按钮"]


def test_latin_words_and_numbers_stay_whole_and_spaces_at_a_break_go():
    assert wrap("Tap Finish, then lay your card", 12, width_of) == [
        "Tap Finish,",
        "then lay",
        "your card",
    ]
    assert wrap("编号 AF2026112400001 已受理", 20, width_of) == ["编号 AF2026112400001", "已受理"]
    assert wrap("编号 AF2026112400001 已受理", 16, width_of) == [
        "编号",
        "AF2026112400001",
        "已受理",
    ]
    assert units("编号AF20 ok") == ["编", "号", "AF20 ", "ok"]
    # a masked ID number stays whole (it broke at a star, "362425*******" and "*1234")
    assert wrap("number 362425********1234", 20, width_of) == ["number", "362425********1234"]


def test_a_word_longer_than_a_line_is_cut_and_the_texts_own_breaks_are_kept():
    assert wrap("https://kiosk/track/AF1", 10, width_of) == ["https://ki", "osk/track/", "AF1"]
    assert wrap("第一行\n\n第三行", 100, width_of) == ["第一行", "", "第三行"]


TEXT = st.text(alphabet="我们的身份证号码，。、“”（）《》abc 12", max_size=60)


@given(TEXT, st.integers(min_value=6, max_value=40))
def test_wrapping_keeps_every_character_and_obeys_the_rules(text, width):
    lines = wrap(text, width, width_of)
    # nothing lost but the spaces at breaks
    assert "".join(lines).replace(" ", "") == text.replace("\n", "").replace(" ", "")
    for i, line in enumerate(lines):
        # no line begins with a closing mark unless the one before could give nothing up
        if i and line and line[0] in NO_START:
            assert len([u for u in units(lines[i - 1]) if u.strip()]) <= 1 or all(
                c in NO_START for c in line
            )
        if i < len(lines) - 1 and line and line[-1] in NO_END:
            assert len([u for u in units(line) if u.strip()]) == 1


def test_a_character_left_alone_on_the_last_line_takes_one_more_from_the_line_before():
    # four characters a line would leave 办 alone (a widow): 次 comes down to keep it company
    assert wrap("出生医学证明一次办", 8, width_of) == ["出生医学", "证明一", "次办"]
    assert wrap("出生医学证明一次办。", 8, width_of) == ["出生医学", "证明一", "次办。"]
    # a closing mark does not begin the last line: the character before it comes along
    assert wrap("证明一次，办", 10, width_of) == ["证明一", "次，办"]
    # two characters are no widow; nor is a line that would leave one alone above it
    assert wrap("出生医学证明一次办理", 8, width_of) == ["出生医学", "证明一次", "办理"]
    assert wrap("一二三", 4, width_of) == ["一二", "三"]
    assert wrap("Tap card 办", 8, width_of) == ["Tap card", "办"]


def test_an_english_word_left_alone_on_the_last_line_takes_one_more_from_the_line_before():
    # 40 a line would leave "screen" alone: "on" comes down, with the space between them
    text = "Staff have been told; scan the QR on screen"
    assert wrap(text, 40, width_of) == ["Staff have been told; scan the QR", "on screen"]
    # two words are no widow; nor is a line that would keep one word alone above it
    assert wrap("Tap Finish, then lay your card", 12, width_of) == [
        "Tap Finish,",
        "then lay",
        "your card",
    ]
    assert wrap("Paper refilled: print", 16, width_of) == ["Paper refilled:", "print"]
    # a word after Chinese is left where it is (no space may have parted them)
    assert wrap("请扫描二维码 Scan", 12, width_of) == ["请扫描二维码", "Scan"]


@given(
    st.text(alphabet="我们的身份证号码办理", min_size=1, max_size=60),
    st.integers(min_value=6, max_value=40),
)
def test_no_chinese_paragraph_ends_on_a_character_alone(text, width):
    lines = wrap(text, width, width_of)
    assert "".join(lines) == text
    assert all(width_of(line) <= width for line in lines)
    assert len(lines) == 1 or all(len(line) >= 2 for line in lines)


def test_text_cut_to_fewer_lines_ends_in_an_ellipsis_that_fits():
    lines = wrap("出生医学证明、预防接种证、户口登记、医保参保、社保卡申领一次办", 12, width_of)
    assert lines[:2] == ["出生医学证", "明、预防接种"]  # (the comma took 明 along)
    assert clip(lines, 2, 12, width_of) == ["出生医学证", "明、预防接…"]
    assert clip(lines, 0, 12, width_of) == lines and clip(lines, 10, 12, width_of) == lines


def test_the_kiosks_own_words_are_not_split_over_two_lines():
    # 8 characters a line: "新生儿出生一件事" was "新生儿出生一" / "件事" at 6
    assert wrap("新生儿出生一件事", 12, width_of) == ["新生儿出生", "一件事"]
    assert wrap("请将身份证放在读卡区", 8, width_of) == ["请将", "身份证放", "在读卡区"]
    # a word longer than the line is still cut where it must
    assert wrap("一件事", 4, width_of) == ["一件", "事"]
    # and neither line is left one character alone for it (hypothesis found these)
    assert wrap("身份证们们", 8, width_of) == ["身份证", "们们"]
    assert all(len(line) >= 2 for line in wrap("们身份证", 6, width_of))


def test_a_tick_stays_with_what_it_ticks():
    # "张伟 ✓" / "已从证件读取": the tick stranded at the end of the line
    lines = wrap("张伟 ✓ 已从证件读取", 8, width_of)
    assert lines[0] == "张伟" and lines[1].startswith("✓")


def test_an_english_line_cut_short_ends_at_a_word_not_inside_one():
    lines = ["Employment registration, certificate", "and more"]
    # 20 columns: "Employment registra…" before
    assert clip(lines, 1, 20, width_of) == ["Employment…"]
    assert clip(lines, 1, 26, width_of) == ["Employment registration…"]  # a whole word fits
    # Chinese is cut where it must, as before
    assert clip(["出生医学证明、预防接种", "证"], 1, 12, width_of) == ["出生医学证…"]

"""The ESC/POS renderer and framing: what the bytes put on paper, and garbage safety."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peripherals.printer.emulator import PrinterCore
from peripherals.printer.layout import layout
from peripherals.printer.render import MAX_HEIGHT, render
from peripherals.printer.tokens import tokenize
from tests.printer_samples import LAST_LINE, TRACK_URL, acceptance_receipt, best_match

INIT, LF = b"\x1b@", b"\n"
CHINESE = "受理回执".encode("gb18030")


def ink(img) -> np.ndarray:
    return np.asarray(img.convert("L")) < 128


def ink_columns(img) -> tuple[int, int]:
    xs = np.nonzero(ink(img).any(axis=0))[0]
    return int(xs.min()), int(xs.max())


def ink_rows(img) -> int:
    return int(ink(img).any(axis=1).sum())


@pytest.mark.parametrize(("mm", "dots"), [(58, 384), (80, 576)])
def test_slip_is_as_wide_as_the_paper(mm, dots):
    assert render(INIT + b"hello" + LF, mm).width == dots


def test_chinese_in_fs_and_mode_prints_the_characters():
    img = render(INIT + b"\x1c&" + CHINESE + b"\x1c." + LF)
    assert best_match(img, "受理回执") > 0.95


def test_chinese_without_fs_and_is_garbage_on_a_non_chinese_printer():
    # The python-escpos text() path: raw GB18030 with no FS &
    img = render(INIT + CHINESE + LF)
    assert best_match(img, "受理回执") < 0.9
    # …and fine on a printer that starts in Chinese mode
    assert best_match(render(INIT + CHINESE + LF, chinese_default=True), "受理回执") > 0.95


def test_bold_puts_more_ink_on_paper():
    plain = ink(render(INIT + b"\x1c&" + CHINESE + b"\x1c." + LF)).sum()
    bold = ink(render(INIT + b"\x1bE\x01\x1c&" + CHINESE + b"\x1c." + LF)).sum()
    assert bold > plain * 1.15


def test_gs_size_doubles_width_and_height():
    normal = render(INIT + b"\x1c&" + CHINESE + b"\x1c." + LF)
    double = render(INIT + b"\x1d!\x11\x1c&" + CHINESE + b"\x1c." + LF)
    w1 = np.subtract(*ink_columns(normal)[::-1])
    w2 = np.subtract(*ink_columns(double)[::-1])
    assert 1.8 < w2 / w1 < 2.2
    assert 1.7 < ink_rows(double) / ink_rows(normal) < 2.3


def test_alignment_centres_and_right_aligns_lines():
    left, right = ink_columns(render(INIT + b"\x1ba\x01ABCD" + LF))
    assert abs((left + right) / 2 - 288) < 12
    _, right = ink_columns(render(INIT + b"\x1ba\x02ABCD" + LF))
    assert right > 576 - 8


def test_native_qr_is_rendered_scannable():
    img = render(layout(acceptance_receipt(), 80))
    text, *_ = cv2.QRCodeDetector().detectAndDecode(np.asarray(img.convert("RGB")))
    assert text == TRACK_URL


def test_raster_image_lands_bit_for_bit():
    # Given a 16x2 dot raster: first row all black, second row black left half
    data = INIT + b"\x1dv0\x00\x02\x00\x02\x00" + b"\xff\xff" + b"\xff\x00"
    page = ink(render(data))
    rows = np.nonzero(page.any(axis=1))[0]
    first, second = page[rows[0]], page[rows[1]]
    assert first[:16].all() and not first[16:].any()
    assert second[:8].all() and not second[8:].any()


def test_cut_draws_a_dashed_line_across_the_paper():
    page = ink(render(INIT + b"x" + LF + b"\x1dV\x01"))
    row = page[page.sum(axis=1).argmax()]
    assert row.sum() > 576 * 0.4  # dashes, not a solid line
    assert not row.all()


def test_full_acceptance_receipt_ends_with_its_last_line(tmp_path):
    img = render(layout(acceptance_receipt(), 58), 58)
    img.save(tmp_path / "acceptance58.png")  # look at it when this fails
    assert best_match(img, LAST_LINE, bold=True) > 0.95


def test_unknown_commands_are_skipped_and_printing_goes_on():
    data = (
        INIT + b"\x1b\x99" + b"\x1d(Z\x02\x00ab" + b"\x1c\x7f" + b"\x1c&" + CHINESE + b"\x1c." + LF
    )
    assert best_match(render(data), "受理回执") > 0.95


def test_status_query_hidden_in_qr_data_is_data_not_a_query():
    # Given QR data that contains the bytes of DLE EOT 1
    store = b"\x1d(k\x06\x001P0\x10\x04\x01"
    core = PrinterCore()
    # When the printer reads it
    replies = core.feed(INIT + store)
    # Then it sends nothing back
    assert replies == b""
    assert core.feed(b"\x10\x04\x04") == b"\x12"


# -- garbage -------------------------------------------------------------------


def _mutate(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    b = bytearray(data)
    for kind, pos, val in edits:
        if not b:
            break
        i = pos % len(b)
        if kind == 0:
            b[i] = val
        elif kind == 1:
            del b[i]
        else:
            b.insert(i, val)
    return bytes(b)


RECEIPT_BYTES = layout(acceptance_receipt(), 80)
RASTER_BYTES = layout(acceptance_receipt(), 58, native_qr=False)
FUZZ = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=2000), st.sampled_from([58, 80]))
def test_random_bytes_never_crash_the_renderer(data, mm):
    img = render(data, mm)
    assert img.width in (384, 576) and img.height <= MAX_HEIGHT + 200


@FUZZ
@given(
    st.sampled_from([RECEIPT_BYTES, RASTER_BYTES]),
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 10**6), st.integers(0, 255)), max_size=12),
)
def test_mutated_receipts_never_crash_the_renderer(data, edits):
    img = render(_mutate(data, edits), 80)
    assert img.width == 576


@FUZZ
@given(
    st.lists(
        st.sampled_from(
            [
                b"\x1b",
                b"\x1d",
                b"\x1c",
                b"\x10",
                b"\x04",
                b"\x00",
                b"\xff",
                b"v0",
                b"(k",
                b"!",
                b"V",
                b"d\xff",
                b"\x1c&",
                b"\xb0\xa1",
                LF,
            ]
        ),
        max_size=300,
    )
)
def test_command_soup_never_crashes_or_hangs(parts):
    start = time.monotonic()
    render(b"".join(parts), 80)
    assert time.monotonic() - start < 2


def test_huge_feeds_are_capped_not_rendered_forever():
    img = render(b"\x1bd\xff" * 10_000)
    assert img.height <= MAX_HEIGHT + 200


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 300), min_size=1, max_size=40))
def test_framing_is_the_same_however_the_bytes_are_split(cuts):
    # Given the receipt arriving in arbitrary TCP-sized pieces
    core, pos = PrinterCore(), 0
    for n in cuts:
        core.feed(RECEIPT_BYTES[pos : pos + n])
        pos += n
    core.feed(RECEIPT_BYTES[pos:])
    # Then the printer sees exactly one job, byte for byte
    assert [bytes(j.printed) for j in core.jobs] == [RECEIPT_BYTES]


def test_tokenizer_consumes_every_byte():
    data = RECEIPT_BYTES + b"\x1b\x1d\x1c\x10"
    assert b"".join(t.raw for t in tokenize(data)) == data


def test_a_power_cut_loses_the_job_arriving_and_the_next_job_is_whole_and_alone():
    core = PrinterCore()
    core.feed(b"\x1b@HALF-OF-OLD\n\x1b")  # a job arriving, a command cut mid-way
    core.power_lost()
    core.feed(b"\x1b@NEW-RECEIPT\n\x1dV\x00")
    assert [bytes(j.raw) for j in core.jobs] == [b"\x1b@NEW-RECEIPT\n\x1dV\x00"]

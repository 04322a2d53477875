"""The queue slip (排队号): the number large, people ahead, the wait, nothing personal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kiosk.catalog import default_catalog_dir, load_catalog
from kiosk.receipt import Qr, Text
from kiosk.receipts import QUEUE_KINDS, build_ticket_receipt


@dataclass(frozen=True)
class Ticket:
    number: str = "A023"
    kind: str = "general"
    kind_name: str = "综合受理"
    service_point: str = "zhouhu"
    people_ahead: int = 4
    estimated_wait_minutes: int = 24
    issued_at: dt.datetime = dt.datetime(2026, 11, 23, 1, 5, tzinfo=dt.UTC)


def test_the_slip_shows_the_number_large_with_the_wait_and_the_point():
    receipt = build_ticket_receipt(Ticket(), load_catalog(default_catalog_dir()))
    text = receipt.plain_text()
    number = next(b for b in receipt.blocks if isinstance(b, Text) and b.text == "A023")
    assert number.size >= 3 and number.bold
    for expected in ("洲湖镇便民服务中心", "排队号", "业务类型：综合受理", "前面还有：4 人",
                     "预计等候：约 24 分钟", "取号时间：2026-11-23 09:05"):  # fmt: skip
        assert expected in text
    assert receipt.kind == "ticket"
    assert receipt.job_id == "ticket-zhouhu-20261123-A023"
    assert not any(isinstance(b, Qr) for b in receipt.blocks)


def test_the_first_in_the_queue_is_told_they_are_next_in_english():
    receipt = build_ticket_receipt(Ticket(people_ahead=0, estimated_wait_minutes=0), language="en",
                                   kind_name="General services")  # fmt: skip
    text = receipt.plain_text()
    assert "Estimated wait：You are next" in text
    assert "Service：General services" in text
    assert "zhouhu" in text  # no catalog: the point's code


def test_the_kiosk_offers_the_platforms_queues():
    from central.citizen_api import KINDS

    assert set(QUEUE_KINDS) == set(KINDS)

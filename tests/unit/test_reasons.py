"""A device's reason, as its driver writes it, in Chinese for the hall's dashboard."""

from __future__ import annotations

from central.dashboard.reasons import in_chinese
from kiosk.health import FailedReads, Health
from peripherals.printer.status import decode


def test_the_printer_s_own_words_read_in_chinese():
    cover_open = decode(0x16, 0x04, 0x12).reason  # what the printer said, status bytes and all
    assert in_chinese(cover_open) == "打印机盖未合上：请合上机盖"
    assert in_chinese(decode(0x16, 0x12, 0x72).reason).startswith("缺纸")


def test_findings_joined_are_each_said_and_unknown_words_left_to_the_english():
    reads = FailedReads()
    for i in range(3):
        reads.failed("idcard", 100.0 + i)
        reads.cleared("idcard")
    said = reads.judge(Health.degraded("idcard", "2 garbled or partial frames in the last 40 exchanges"), 103.0)
    assert in_chinese(said.reason) == ("最近 40 次通信中 2 次数据错误或不完整：请检查串口线；"
                                       "60 分钟内 3 张卡未能读取：请清洁读卡器，检查连线")
    assert in_chinese("the flux capacitor hums") == ""


def test_the_readers_and_cameras_standard_words_read_in_chinese():
    assert in_chinese("reader on /dev/ttyUSB0 does not answer at 115200 baud: check power, "
                      "cable and baud rate") == "身份证阅读器无应答（115200 波特）：请检查电源、连线和波特率"
    assert in_chinese("garbled frames from reader (crc; 3 of last 40): check the cable and the "
                      "baud rate") == "身份证阅读器数据错误：请检查连线和波特率"
    assert in_chinese("card reader 'ACS ACR38U' unavailable (unplugged?)").startswith("社保卡读卡器不可用")
    assert in_chinese("camera /dev/video2 gave no frame (unplugged?)").startswith("摄像头没有画面")
    assert in_chinese("cannot open scanner port /dev/ttyS1: busy").startswith("扫码器串口打不开")
    assert in_chinese("cannot open /dev/video0: busy").startswith("设备打不开")


def test_the_submission_queue_s_fault_reads_in_chinese(tmp_path):
    from client.outbox import Outbox
    from tests.support.central import a_submission

    # Given a submission the platform refused for good, set aside on the kiosk
    outbox = Outbox(tmp_path / "outbox.sqlite3", tmp_path / "outbox.key", "T1")
    outbox.give_up(outbox.entry_id(outbox.put(a_submission("T1")).key), "rejected")
    # Then the hall reads what it means and who can put it right, not the kiosk's English
    said = in_chinese(outbox.health().reason)
    assert said.startswith("1 份申请已搁置、未能发出，办事群众手持待受理收件凭证")
    assert "kiosk outbox" in said

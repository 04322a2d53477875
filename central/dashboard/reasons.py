"""What a device says is wrong, in Chinese for the hall.

The drivers write their reasons for a technician, in English, as "what: what to do"
(peripherals/printer/status.py: "cover open: close the printer cover (DLE EOT 1/2/4 = …)").
A hall manager reads Chinese: the dashboard shows the Chinese first and keeps the driver's
words under it (the status bytes are a technician's). A reason not known here is shown as
the driver wrote it.
"""

from __future__ import annotations

import re

# (the driver's words, matched from their start; the Chinese, with the groups matched)
KNOWN: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), zh)
    for pattern, zh in (
        # the receipt printer (peripherals/printer/status.py)
        (r"cover open\b", "打印机盖未合上：请合上机盖"),
        (r"paper out\b", "缺纸：请装入新纸卷"),
        (r"paper near end\b", "纸将用完：请尽快更换纸卷"),
        (r"printer error\b", "打印机故障（切刀或机芯）：请检查并重新开关打印机"),
        (r"printer reports offline\b", "打印机脱机：请查看打印机面板"),
        (r"unreachable: cannot open\b", "打印机连不上：请检查连线和电源"),
        (r"no reply to (DLE EOT|a status query)\b", "打印机无应答：请检查连线和电源"),
        (r"link failed while sending a job\b", "发送打印任务时连接中断：请检查连线"),
        # the ID card reader (peripherals/idcard/driver.py)
        (r"(\d+) garbled or partial frames in the last (\d+) exchanges",
         "最近 {1} 次通信中 {0} 次数据错误或不完整：请检查串口线"),
        (r"driver closed\b", "驱动已关闭：请重启终端程序"),
        (r"garbled frames from reader\b", "身份证阅读器数据错误：请检查连线和波特率"),
        (r"reader on \S+ disconnected\b", "身份证阅读器连接断开：请检查 USB 线"),
        (r"reader on \S+ does not answer at (\d+) baud\b",
         "身份证阅读器无应答（{0} 波特）：请检查电源、连线和波特率"),
        (r"partial frame from ID card reader\b", "身份证阅读器数据不完整：请检查连线"),
        (r"SAM reports\b", "身份证阅读器安全模块报错：请联系厂家检修"),
        # the social-security card reader (peripherals/sscard/driver.py)
        (r"card does not answer\b", "卡片无应答：请取出后重新插入"),
        (r"card gives no ATR\b", "卡片无复位应答：插反或卡片损坏"),
        (r"card did not answer\b", "卡片无应答：请取出后重新插入"),
        (r"card reader .* unavailable\b", "社保卡读卡器不可用：是否被拔出？"),
        (r"card reader .* not found\b", "找不到社保卡读卡器：请检查 USB 连线"),
        (r"no card reader attached\b", "未连接社保卡读卡器：请检查 USB 连线"),
        (r"pcscd did not answer\b", "读卡服务（pcscd）无应答：请重启终端"),
        (r"pcscd not running\b", "读卡服务（pcscd）未运行：请重启终端"),
        # the cameras (peripherals/camera/source.py)
        (r"camera \S+ gave no frame\b", "摄像头没有画面：是否被拔出？"),
        # the code scanner, the voice (peripherals/scanner, peripherals/speech.py)
        (r"port not opened yet\b", "串口尚未打开"),
        (r"cannot open scanner port\b", "扫码器串口打不开：请检查连线"),
        (r"scanner port \S+ failed\b", "扫码器串口故障：是否被拔出？"),
        (r"unreadable data from scanner\b", "扫码器数据无法识别：请检查其串口设置"),
        (r"scanned code too long\b", "扫描的码过长，已丢弃"),
        (r"cannot open\b", "设备打不开：请检查连线（是否被拔出或被占用）"),  # after the specific ones
        (r"espeak-ng is not installed\b", "未安装语音合成程序 espeak-ng"),
        (r"no audio player\b", "没有音频播放程序：语音提示已关闭"),
        # the platform's own word on a terminal (central/dashboard/status.py NEVER_HEARD)
        (r"enrolled but never heard from\b",
         "登记后从未发来心跳：请检查终端程序是否在运行、平台地址和网络（技术员界面“设备自检”）"),
        (r"no visit in the last (\d+(?:\.\d+)?) h\b",
         "已超过 {0} 小时没有群众使用：屏幕是否亮着、触摸是否灵敏、群众能否看到并走近？"),
        # the submission queue (client/outbox.py Outbox.health)
        (r"(\d+) submission\(s\) set aside unsent\b",
         "{0} 份申请已搁置、未能发出，办事群众手持待受理收件凭证：请技术人员用 kiosk outbox 查看，"
         "排除原因后重发"),
        (r"(\d+) submission\(s\) waiting: the platform refuses this terminal\b",
         "{0} 份申请等待发出：平台拒绝本终端（终端时钟不准，或登记已失效）"),
        (r"(\d+) submission\(s\) not yet delivered, the oldest for over (\d+) h\b",
         "{0} 份申请尚未送达平台，最早的一份已超过 {1} 小时：请检查网络"),
        # repeated failed card reads (kiosk/health.py FailedReads)
        (r"(\d+) cards not read in the last (\d+) min\b",
         "{1} 分钟内 {0} 张卡未能读取：请清洁读卡器，检查连线"),
    )
)


def in_chinese(reason: str) -> str:
    """The Chinese for a driver's ``reason`` (findings joined by "; " each in turn), or ""
    when none of it is known here."""
    said = [zh for part in reason.split("; ") if (zh := _one(part.strip()))]
    return "；".join(said)


def _one(text: str) -> str:
    for pattern, zh in KNOWN:
        found = pattern.match(text)
        if found:
            return zh.format(*found.groups())
    return ""

"""Voice prompts are really spoken: espeak-ng produces audible Mandarin from pinyin."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from peripherals.speech import EspeakSpeech, to_pinyin

pytestmark = pytest.mark.integration


def loudness(wav: bytes) -> tuple[float, float]:
    """(seconds, RMS amplitude) of a 16-bit mono WAV."""
    with wave.open(io.BytesIO(wav)) as w:
        frames = w.readframes(w.getnframes())  # espeak streams: the header's count is a maximum
        seconds = len(frames) / (w.getsampwidth() * w.getnchannels() * w.getframerate())
    samples = np.frombuffer(frames, dtype=np.int16).astype(np.float64)
    return seconds, float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0


def test_chinese_text_becomes_tone_numbered_pinyin():
    assert to_pinyin("请取走您的身份证。") == "qing3 qu3 zou3 nin2 de5 shen1 fen4 zheng4."


def test_a_chinese_prompt_is_spoken_aloud_not_silence():
    wav = EspeakSpeech().synthesize("请将身份证放在读卡区", "zh")
    seconds, rms = loudness(wav)
    assert 1.0 < seconds < 10.0
    assert rms > 500, "the prompt is silent"


def test_a_longer_prompt_takes_longer_to_say():
    speech = EspeakSpeech()
    short, _ = loudness(speech.synthesize("您好", "zh"))
    long, _ = loudness(speech.synthesize("您好，请将身份证放在读卡区，然后按照屏幕提示操作", "zh"))
    assert long > 2 * short


def test_english_prompts_use_an_english_voice():
    seconds, rms = loudness(EspeakSpeech().synthesize("Please place your ID card on the reader", "en"))
    assert seconds > 1.0 and rms > 500


def test_a_long_prompt_is_played_without_holding_the_kiosk_and_the_next_cuts_it_off(tmp_path):
    import sys
    import time

    # Given a player that reads its sound as it plays it (as aplay does: 4 KiB each 50 ms),
    # writing down what it got
    player = tmp_path / "player"
    player.write_text(
        f"#!{sys.executable}\n"
        "import os, sys, time\n"
        f"out = open({str(tmp_path)!r} + '/heard-%d' % os.getpid(), 'wb')\n"
        "while chunk := sys.stdin.buffer.read(4096):\n"
        "    out.write(chunk); out.flush(); time.sleep(0.05)\n"
    )
    player.chmod(0o755)
    speech = EspeakSpeech(player=str(player))
    long_text = "您好，请将身份证放在读卡区，然后按照屏幕提示操作。" * 3
    wav = speech.synthesize(long_text, "zh")
    assert len(wav) > 20 * 4096  # seconds to play at the player's pace
    # When a long prompt is said, the call returns at once (it held the kiosk for as long as
    # it played: ~9 s for a 10 s prompt)
    began = time.monotonic()
    speech.say(long_text, "zh")
    first = speech._current
    said_in = time.monotonic() - began
    # and the next prompt, a moment later, cuts it off rather than wait for it
    time.sleep(0.3)
    began = time.monotonic()
    speech.say("请取走您的身份证", "zh")
    second_in = time.monotonic() - began
    assert said_in < 3 and second_in < 3, (said_in, second_in)  # (synthesis alone takes ~1 s)
    assert first.wait(5) is not None and first.returncode != 0  # terminated
    second = speech._current
    assert second.wait(10) == 0
    heard = (tmp_path / f"heard-{second.pid}").read_bytes()
    assert heard == speech.synthesize("请取走您的身份证", "zh")  # all of it, in order
    assert len((tmp_path / f"heard-{first.pid}").read_bytes()) < len(wav)
    # and closing the kiosk stops a prompt still playing, its player reaped (no zombie)
    speech.say(long_text, "zh")
    playing = speech._current
    speech.close()
    assert playing.returncode is not None

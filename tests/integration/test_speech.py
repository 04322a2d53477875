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

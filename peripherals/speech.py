"""Voice prompts for elderly mode: espeak-ng speaking Mandarin from tone-numbered pinyin.

espeak-ng's ``cmn`` voice reads many Chinese characters as English spelling;
its ``cmn-latn-pinyin`` voice speaks proper Mandarin from pinyin with tone
numbers, so Chinese text is converted with pypinyin first.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading

from pypinyin import Style, lazy_pinyin

from kiosk.errors import DeviceError
from kiosk.health import Health

log = logging.getLogger(__name__)
PAUSES = {"，": ", ", "。": ". ", "、": ", ", "；": "; ", "：": ": ", "？": "? ", "！": "! "}
VOICES = {"zh": "cmn-latn-pinyin", "en": "en-us"}


def to_pinyin(text: str) -> str:
    """Chinese text as tone-numbered pinyin (neutral tone 5), punctuation as pauses."""
    syllables = lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True,
                            errors=lambda chars: list(chars))
    out = []
    for s in syllables:
        out.append(PAUSES.get(s, s))
    return " ".join(out).replace(" ,", ",").replace(" .", ".").strip()


class EspeakSpeech:
    """Implements kiosk.ports.Speech. ``player`` plays a WAV from stdin (aplay, paplay)."""

    name = "speech"

    def __init__(self, player: str | None = None, rate: int = 140):
        self.rate = rate  # words a minute: slower than espeak's 175, for the elderly
        self.player = player or next((p for p in ("paplay", "aplay") if shutil.which(p)), None)
        self._current: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def synthesize(self, text: str, language: str = "zh") -> bytes:
        """The prompt as WAV bytes.

        :raises DeviceError: espeak-ng is missing or failed.
        """
        spoken = to_pinyin(text) if language == "zh" else text
        try:
            # the text on its standard input, not its command line, which any local user
            # reads in /proc while it runs (a greeting says the citizen's name)
            proc = subprocess.run(
                ["espeak-ng", "-v", VOICES.get(language, "en-us"), "-s", str(self.rate), "--stdout",
                 "--stdin"],
                input=spoken.encode(), capture_output=True, timeout=20, check=True,
            )
        except FileNotFoundError as err:
            raise DeviceError("espeak-ng is not installed (apt-get install espeak-ng)") from err
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
            raise DeviceError(f"espeak-ng failed: {err}") from err
        return proc.stdout

    def say(self, text: str, language: str = "zh") -> None:
        """Speak without waiting; a new prompt cuts off the one still playing.

        The player is fed from a thread of its own: it reads at the pace it plays, so a
        prompt longer than a pipe holds (a second and a half) kept this call (and the
        worker thread it runs in) for as long as it played, and the next prompt waited
        for it instead of cutting it off."""
        if self.player is None:
            return  # a terminal without a speaker: prompts stay on screen only
        wav = self.synthesize(text, language)
        with self._lock:
            if self._current and self._current.poll() is None:
                self._current.terminate()
            player = self._current = subprocess.Popen(
                [self.player], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)  # fmt: skip
        threading.Thread(target=_feed, args=(player, wav), name="speech-feed", daemon=True).start()

    def health(self) -> Health:
        if not shutil.which("espeak-ng"):
            return Health.fault(self.name, "espeak-ng is not installed")
        if self.player is None:
            return Health.degraded(self.name, "no audio player (aplay/paplay): voice prompts are off")
        return Health.good(self.name, player=self.player)

    def close(self) -> None:
        with self._lock:
            player, self._current = self._current, None
        if player is not None and player.poll() is None:
            player.terminate()
            try:
                player.wait(2)  # reaped, not left a zombie until the kiosk exits
            except subprocess.TimeoutExpired:
                player.kill()
                player.wait()


def _feed(player: subprocess.Popen, wav: bytes) -> None:
    """Hand ``wav`` to ``player`` as it plays; cut off (a newer prompt), it just stops."""
    try:
        player.stdin.write(wav)
        player.stdin.close()
    except (BrokenPipeError, ValueError):  # terminated meanwhile: the next prompt's turn
        pass
    except OSError as err:
        log.warning("audio player failed: %s", err)

"""The photo port: the card's 1024-byte WLT photo -> an image.

WLT is a proprietary compression; only vendor libraries decode it (for
example libwlt2bmp / ``WltRS``, shipped with certified readers, giving a
102x126 24-bit BMP). No open decoder is known, so the driver keeps the WLT
bytes in ``IdCard.photo`` and a decoder is plugged in here by configuration:
write a class with ``decode`` that loads the vendor's shared library (ctypes)
and hand it to ``SerialIdCardReader(photo_decoder=...)``.
"""

from __future__ import annotations

from typing import Protocol


class PhotoDecoder(Protocol):
    def decode(self, wlt: bytes) -> bytes | None:
        """An encoded image (BMP/PNG bytes) for ``wlt``, or None if it cannot be decoded.

        Must not raise for bad input: a photo that cannot be shown is not a
        reason to refuse a citizen.
        """


class NoPhotoDecoder:
    """The default: no vendor library installed, so no photo is shown."""

    def decode(self, wlt: bytes) -> bytes | None:
        return None

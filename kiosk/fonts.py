"""The Simplified Chinese faces of Noto Sans CJK, as files Kivy and Pillow can load.

Debian ships Noto Sans CJK as a .ttc whose face 0 is the Japanese one; Kivy's
text provider cannot choose a face, and JP glyph shapes differ from mainland
ones. We extract the SC faces to their own .otf files once, at set-up.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

TTC_DIR = Path("/usr/share/fonts/opentype/noto")
STYLES = {"Regular": "NotoSansCJK-Regular.ttc", "Bold": "NotoSansCJK-Bold.ttc"}
SC_FAMILY = "Noto Sans CJK SC"


def font_dir() -> Path:
    """Where the extracted faces live (inside the venv, or $KIOSK_FONT_DIR)."""
    env = os.environ.get("KIOSK_FONT_DIR")
    if env:
        return Path(env)
    return Path(sys.prefix) / "share" / "kiosk-fonts"


def sc_font(style: str = "Regular") -> Path:
    """Path of the extracted SC face.

    :raises FileNotFoundError: set-up has not extracted it (run scripts/setup.sh).
    """
    path = font_dir() / f"NotoSansCJKsc-{style}.otf"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run scripts/setup.sh to extract the SC font")
    return path


def ensure() -> list[Path]:
    """Extract the SC faces if they are not there yet; return their paths."""
    from fontTools.ttLib import TTCollection  # set-up only

    out = []
    font_dir().mkdir(parents=True, exist_ok=True)
    for style, ttc_name in STYLES.items():
        target = font_dir() / f"NotoSansCJKsc-{style}.otf"
        out.append(target)
        if target.exists():
            continue
        ttc = TTC_DIR / ttc_name
        if not ttc.exists():
            raise FileNotFoundError(f"{ttc} is missing: apt-get install fonts-noto-cjk")
        collection = TTCollection(str(ttc), lazy=True)
        face = next(
            f for f in collection.fonts if f["name"].getDebugName(1) == SC_FAMILY
        )
        tmp = target.with_suffix(".tmp")
        face.save(str(tmp))
        tmp.replace(target)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ensure", action="store_true", help="extract the faces if missing")
    args = parser.parse_args()
    paths = ensure() if args.ensure else [sc_font(s) for s in STYLES]
    for p in paths:
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

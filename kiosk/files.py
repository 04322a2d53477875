"""Small files the kiosk keeps in its data dir, written so a power cut leaves the old
version or the new one, never half of one."""

from __future__ import annotations

import os
from pathlib import Path


def replace_file(path: Path, text: str, mode: int = 0o600) -> None:
    """Write ``text`` to ``path`` atomically: a temporary file beside it (``mode``: the
    kiosk's user only, by default), flushed to disk, then renamed over it. The folder is
    made (0700) when missing.

    :raises OSError: the folder cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)

"""The terminal's identity on disk: its id and secret from enrolment (mode 0600)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from client.platform import Enrolment, PlatformClient
from kiosk.errors import PlatformAuthError
from kiosk.technician import enrolment_code

FILE = "terminal.json"


def save(data_dir: Path, enrolment: Enrolment) -> Path:
    """Write the credentials atomically, readable by the kiosk's user only."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = data_dir / FILE
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"terminal_id": enrolment.terminal_id, "secret": enrolment.secret,
                   "service_point": enrolment.service_point}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    return path


def load(data_dir: Path) -> Enrolment | None:
    """The saved credentials, or None when this terminal was never enrolled.

    :raises PlatformAuthError: the file is unreadable or open to other users.
    """
    path = Path(data_dir) / FILE
    if not path.exists():
        return None
    if path.stat().st_mode & 0o077:
        raise PlatformAuthError(f"{path} is readable by others: re-enrol the terminal")
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        return Enrolment(str(d["terminal_id"]), str(d["secret"]), str(d.get("service_point", "")))
    except PermissionError as err:  # written by root (sudo kiosk enrol …), read by the kiosk
        raise PlatformAuthError(f"{path} cannot be read by this user ({err.strerror}): give it "
                                "to the kiosk's user (chown), or enrol again as that user") from err  # fmt: skip
    except (OSError, ValueError, KeyError) as err:
        raise PlatformAuthError(f"{path} is unreadable: {err}") from err


async def enrol(client: PlatformClient, data_dir: Path, code: str) -> Enrolment:
    """Trade a one-time enrolment code for this terminal's identity and keep it in
    ``data_dir``; ``client`` speaks as that terminal from then on. The code may be
    typed without its dashes or in lower case (the on-screen keyboard has no '-').
    What ``kiosk enrol CODE`` and the technician screen both do.

    :raises PlatformRejected: the code is unknown, used or expired (``enrol.bad_code``).
    :raises PlatformError: the platform is unreachable.
    """
    enrolment = await client.enrol(enrolment_code(code))
    save(Path(data_dir), enrolment)
    return enrolment

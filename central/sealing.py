"""Terminal secrets, submissions and photos of record sealed at rest: AES-GCM under one
platform key, never in plain text.

The database holds ``gcm1:`` + base64(nonce ‖ ciphertext ‖ tag) in ``terminals.secret``,
with the terminal id as associated data (a sealed secret copied to another
terminal's row does not open). The key is 32 bytes written as 64 hex digits:

- ``CENTRAL_SECRET_KEY`` in the environment (every machine of a fleet sets the same
  value: ``python -c "import secrets; print(secrets.token_hex(32))"``), or else
- ``<data dir>/terminal-secrets.key``, created on first use with mode 0600 (several
  worker processes of one machine share it; copy its content into
  ``CENTRAL_SECRET_KEY`` to add a machine).

Opened secrets live only in process memory (the auth cache). A submission's body is sealed
the same way (``seal_text``, its key as associated data) and found by its applicant through a
keyed hash of their ID number (``blind``); a photo of record is sealed (``seal_bytes``) in a
file named by that hash: neither the database nor the photos' folder shows anyone's number.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ENV = "CENTRAL_SECRET_KEY"
SEALED = b"gcm1"  # the first bytes of a sealed file
KEY_FILE = "terminal-secrets.key"
PREFIX = "gcm1:"


class SealError(Exception):
    """The key is missing, malformed or exposed, or a sealed value does not open with it."""


def _parse_key(text: str, where: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) != 32:
        raise SealError(f"{where} must be 64 hex digits (a 256-bit key)")
    return key


def load_key(data_dir: Path, env: Mapping[str, str] = os.environ) -> bytes:
    """The platform key: ``CENTRAL_SECRET_KEY``, else the key file in ``data_dir`` (made once).

    :raises SealError: malformed, unreadable, or the file is open to group or others.
    """
    if env.get(ENV, "").strip():
        return _parse_key(env[ENV], ENV)
    path = Path(data_dir) / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # written whole under a private name, then linked into place: a process starting
        # at the same moment sees no file or the complete key, never a half-written one
        tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process was first: use its key
        finally:
            os.unlink(tmp)
    try:
        mode = path.stat().st_mode
        text = path.read_text()
    except OSError as err:
        raise SealError(f"{path} unreadable: {err}") from err
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SealError(f"{path} is open to others (mode {oct(mode & 0o777)}); chmod 600 it")
    return _parse_key(text, str(path))


class SecretBox:
    """Seal and open terminal secrets with one 256-bit key."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        # stand-ins for ID numbers (``blind``): a key of their own, derived from this one
        self._names = hmac.new(key, b"govkiosk blind names", hashlib.sha256).digest()

    @classmethod
    def for_data_dir(cls, data_dir: Path, env: Mapping[str, str] = os.environ) -> SecretBox:
        return cls(load_key(data_dir, env))

    def seal(self, secret: str, terminal_id: str) -> str:
        return self.seal_text(secret, terminal_id)

    def open(self, stored: str, terminal_id: str) -> str:
        """:raises SealError: not sealed, or sealed with another key or for another terminal."""
        try:
            return self.open_text(stored, terminal_id)
        except SealError as err:
            raise SealError(f"the secret of terminal {terminal_id} {err}") from err.__cause__

    def seal_text(self, text: str, about: str) -> str:
        """``text`` sealed for ``about`` (a terminal id, a submission key): ``gcm1:…``."""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, text.encode(), about.encode())
        return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def open_text(self, stored: str, about: str) -> str:
        """:raises SealError: not sealed, or sealed with another key or for another ``about``."""
        if not is_sealed(stored):
            raise SealError("is not sealed")
        try:
            raw = base64.b64decode(stored[len(PREFIX) :], validate=True)
            return self._aead.decrypt(raw[:12], raw[12:], about.encode()).decode()
        except (binascii.Error, ValueError, InvalidTag) as err:
            raise SealError(f"does not open with this key (is {ENV} the same on every server?)") from err


    def seal_bytes(self, data: bytes, about: str) -> bytes:
        """``data`` sealed for ``about`` (e.g. an ID number: it opens for that one only)."""
        nonce = os.urandom(12)
        return SEALED + nonce + self._aead.encrypt(nonce, data, about.encode())

    def open_bytes(self, sealed: bytes, about: str) -> bytes:
        """:raises SealError: not sealed, or sealed with another key or for another ``about``."""
        if not sealed.startswith(SEALED):
            raise SealError("not a sealed file")
        raw = sealed[len(SEALED) :]
        try:
            return self._aead.decrypt(raw[:12], raw[12:], about.encode())
        except (ValueError, InvalidTag) as err:
            raise SealError(f"a sealed file does not open with this key (is {ENV} the same "
                            "on every server?)") from err  # fmt: skip

    def blind(self, about: str) -> str:
        """A stand-in for ``about`` (an ID number) that does not show it: a keyed hash, the
        same for the same ``about`` under this key (a file name, a column to look up by)."""
        return hmac.new(self._names, about.encode(), hashlib.sha256).hexdigest()[:40]


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)

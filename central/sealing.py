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

Rotation (central/keys.py, ``central key``): the variable or the file may hold several keys,
the first one sealing, every one opening (``CENTRAL_SECRET_KEY="NEW,OLD"``, or one key a line
in the file). ``central key new`` puts a new key first; once every server has restarted on
it, ``central key reseal`` seals everything again under it (and names it by the new key's
hash), and ``central key retire`` drops the older keys once nothing needs them.
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


def parse_keys(text: str, where: str) -> list[bytes]:
    """The keys in ``text``: 64 hex digits each, separated by commas, spaces or lines; the
    first one seals. A line starting with ``#`` is a comment.

    :raises SealError: none, or one that is not 64 hex digits (which one is told by its
        place, never by its value), or the same key twice.
    """
    words = [w for line in text.splitlines() if not line.lstrip().startswith("#")
             for w in line.replace(",", " ").split()]  # fmt: skip
    keys = []
    for place, word in enumerate(words, start=1):
        try:
            key = bytes.fromhex(word)
        except ValueError:
            key = b""
        if len(key) != 32:
            raise SealError(f"{where}: key {place} must be 64 hex digits (a 256-bit key)")
        if key in keys:
            raise SealError(f"{where}: key {place} is there twice")
        keys.append(key)
    if not keys:
        raise SealError(f"{where} must hold a key: 64 hex digits (a 256-bit key)")
    return keys


def key_file(data_dir: Path) -> Path:
    return Path(data_dir) / KEY_FILE


def load_key(data_dir: Path, env: Mapping[str, str] = os.environ) -> bytes:
    """The platform key that seals (the first of :func:`load_keys`)."""
    return load_keys(data_dir, env)[0]


def load_keys(data_dir: Path, env: Mapping[str, str] = os.environ) -> list[bytes]:
    """The platform's keys, the sealing one first: ``CENTRAL_SECRET_KEY``, else the key file
    in ``data_dir`` (made with one new key the first time).

    :raises SealError: malformed, unreadable, or the file is open to group or others.
    """
    if env.get(ENV, "").strip():
        return parse_keys(env[ENV], ENV)
    path = key_file(data_dir)
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
    return parse_keys(text, str(path))


def keep_owner(fd: int, like: Path) -> None:
    """Give the file open at ``fd`` the owner of ``like`` (that file, or else its folder)
    when this process may, i.e. runs as root: a key or photo a technician rewrote with
    ``sudo central …`` stays readable by the platform's own user, whose files these are."""
    try:
        st = (like if like.exists() else like.parent).stat()
        if os.geteuid() == 0 and st.st_uid != 0:
            os.fchown(fd, st.st_uid, st.st_gid)
    except OSError:
        pass  # not ours to change: the file keeps this process's owner


def fingerprint(key: bytes) -> str:
    """A name for ``key`` that a technician can compare between machines and that tells
    nothing of it (8 hex digits of a keyed hash)."""
    return hmac.new(key, b"govkiosk key fingerprint", hashlib.sha256).hexdigest()[:8]


class SecretBox:
    """Seal with the first of the platform's 256-bit keys, open with any of them.

    Several keys exist while a key is rotated (central/keys.py): values sealed under an older
    key keep opening, and an applicant is looked up by the hashes of every key (``blinds``).
    """

    def __init__(self, key: bytes, *older: bytes) -> None:
        self.keys = (key, *older)
        self._aeads = [AESGCM(k) for k in self.keys]
        self._aead = self._aeads[0]
        # stand-ins for ID numbers (``blind``): a key of their own, derived from each key
        self._names = [hmac.new(k, b"govkiosk blind names", hashlib.sha256).digest()
                       for k in self.keys]  # fmt: skip

    @classmethod
    def for_data_dir(cls, data_dir: Path, env: Mapping[str, str] = os.environ) -> SecretBox:
        return cls(*load_keys(data_dir, env))

    def current(self) -> SecretBox:
        """This box with its sealing key only: what opens here needs no older key."""
        return self if len(self.keys) == 1 else SecretBox(self.keys[0])

    @property
    def fingerprint(self) -> str:
        """The sealing key's :func:`fingerprint`."""
        return fingerprint(self.keys[0])

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
            return self._decrypt(raw, about).decode()
        except (binascii.Error, ValueError, InvalidTag) as err:
            raise SealError(f"does not open with this key (is {ENV} the same on every server?)") from err

    def _decrypt(self, raw: bytes, about: str) -> bytes:
        """:raises InvalidTag: no key opens it. (The sealing key is tried first: an older key
        is tried only for what was sealed before a rotation.)"""
        for aead in self._aeads:
            try:
                return aead.decrypt(raw[:12], raw[12:], about.encode())
            except InvalidTag:
                continue
        raise InvalidTag

    def seal_bytes(self, data: bytes, about: str) -> bytes:
        """``data`` sealed for ``about`` (e.g. an ID number: it opens for that one only)."""
        nonce = os.urandom(12)
        return SEALED + nonce + self._aead.encrypt(nonce, data, about.encode())

    def open_bytes(self, sealed: bytes, about: str) -> bytes:
        """:raises SealError: not sealed, or sealed with another key or for another ``about``."""
        if not sealed.startswith(SEALED):
            raise SealError("not a sealed file")
        try:
            return self._decrypt(sealed[len(SEALED) :], about)
        except (ValueError, InvalidTag) as err:
            raise SealError(f"a sealed file does not open with this key (is {ENV} the same "
                            "on every server?)") from err  # fmt: skip

    def blind(self, about: str) -> str:
        """A stand-in for ``about`` (an ID number) that does not show it: a keyed hash, the
        same for the same ``about`` under this key (a file name, a column to look up by)."""
        return _blind(self._names[0], about)

    def blinds(self, about: str) -> list[str]:
        """``about``'s stand-in under each key, the sealing key's first (what a lookup
        matches while values sealed before a rotation are still being sealed again)."""
        return [_blind(names, about) for names in self._names]


def _blind(names: bytes, about: str) -> str:
    return hmac.new(names, about.encode(), hashlib.sha256).hexdigest()[:40]


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)

"""Passwords, session cookies and CSRF tokens for the dashboard (standard library only).

- Passwords: scrypt (hashlib), a memory-hard KDF, with a random salt per user;
  stored as ``scrypt$n$r$p$salt$hash`` so the cost can be raised later.
- Sessions: a cookie ``payload.signature`` where the signature is HMAC-SHA256
  with the server secret; the payload names the user, an expiry, a random session
  id and the user's session epoch. The user is re-read on every request: a disabled
  user is out at once, and a password reset (which raises the epoch) ends every
  session signed in before it.
- CSRF: every POST form carries HMAC(secret, "csrf:" + session id); the login
  form, before any session exists, is tied to a short-lived pre-login cookie.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SECRET_FILE = "dashboard.secret"


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r),
                             p=int(p), dklen=len(want))  # fmt: skip
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


@functools.cache
def dummy_hash() -> str:
    """Checked when the user does not exist, so a wrong name takes as long as a wrong password."""
    return hash_password(secrets.token_urlsafe(16))


def load_secret(data_dir: Path) -> bytes:
    """The server secret in ``data_dir``, created once (mode 0600) on first use.

    Several processes of one deployment share it through the file; ``O_EXCL``
    makes the first writer win.
    """
    path = Path(data_dir) / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_bytes().strip()
        if len(secret) >= 32:
            return secret
        raise RuntimeError(f"{path} is too short to be a secret") from None
    secret = secrets.token_hex(32).encode()
    with os.fdopen(fd, "wb") as f:
        f.write(secret)
        f.flush()
        os.fsync(f.fileno())
    return secret


@dataclass(frozen=True)
class Session:
    user: str
    sid: str
    expires: int
    epoch: int = 0  # the user's session epoch when signed in; a password reset raises it


def _mac(secret: bytes, message: str) -> str:
    return hmac.new(secret, message.encode(), "sha256").hexdigest()


def make_cookie(secret: bytes, user: str, now: float, ttl: int, epoch: int = 0,
                sid: str = "") -> str:  # fmt: skip
    """A session cookie for ``user`` until ``now + ttl``; ``sid``: a session's own id, kept
    when it is renewed (its forms' CSRF tokens stay good), else a new one."""
    # unpadded: "=" would make aiohttp quote the cookie value
    payload = base64.urlsafe_b64encode(json.dumps(
        {"u": user, "s": sid or secrets.token_urlsafe(16), "e": int(now) + ttl, "g": epoch}).encode()).decode().rstrip("=")  # fmt: skip
    return f"{payload}.{_mac(secret, 'session:' + payload)}"


def read_cookie(secret: bytes, cookie: str, now: float) -> Session | None:
    """The session a cookie carries, or None when forged, garbled or expired."""
    payload, _, mac = cookie.partition(".")
    # a cookie with a character that is not ASCII (or a raw byte aiohttp kept as a surrogate)
    # is a forged one, not a TypeError or UnicodeEncodeError (a 500)
    if not mac or not cookie.isascii() or not hmac.compare_digest(
            mac, _mac(secret, "session:" + payload)):  # fmt: skip
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        session = Session(str(data["u"]), str(data["s"]), int(data["e"]), int(data.get("g", 0)))
    except (ValueError, KeyError, TypeError):
        return None
    return session if session.expires > now else None


def csrf_token(secret: bytes, sid: str) -> str:
    return _mac(secret, "csrf:" + sid)


def csrf_ok(secret: bytes, sid: str, given: str) -> bool:
    given = given or ""
    return bool(sid) and sid.isascii() and given.isascii() and hmac.compare_digest(
        csrf_token(secret, sid), given)  # fmt: skip


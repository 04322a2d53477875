"""Electronic ID (电子身份证 / 网证) codes: the reference issuer and verifier.

A citizen shows a QR code from a phone to the kiosk's code scanner; the kiosk
sends the text to ``POST /api/v1/eid/verify`` and the platform answers who it
is. A real deployment does not issue codes: the provincial platform's adapter
verifies them against the national e-ID service (公安部 CTID 网络身份认证
平台), which alone can read them. This module stands in for that service, so
the kiosk, its tests and its demo exercise the same exchange.

The reference code is opaque, short-lived and used once::

    EID1.<base64url(nonce ‖ AES-256-GCM(payload, aad="EID1"))>

``payload`` is compact JSON: ``n`` name, ``i`` ID number, ``iat``/``exp``
Unix seconds, ``j`` a one-time id. Encrypted, so whoever photographs the QR
learns nothing from it; authenticated, so a changed or made-up code is
refused (``eid.invalid``); expired after at most :data:`MAX_VALID` seconds
(``eid.expired``); and its one-time id is kept in the nonce table, so a
second use is refused (``eid.used``). The key is ``data_dir/eid.key``,
readable by the platform's user only, made on first use by ``central serve``
or ``central eid issue`` (whichever comes first).

One-time use holds as long as a used id is remembered until its code has
expired: used ids share the nonce table with the signed requests' nonces,
which the platform forgets after ``central.store.NONCE_KEEP`` (600 s), so a
code lives at most that long. (A fleet of platform processes shares the
table, so a code is taken once across all of them.)
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import datetime as dt
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from aiohttp import web
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from central import app as central_app
from central import tables as t
from central.app import CONFIG, SIGNED, STORE, _body, _json, _object, _text, access
from central.errors import ApiError
from central.store import NONCE_KEEP
from central.validate import id_number_valid

PREFIX = "EID1."
AAD = b"EID1"
KEY_FILE = "eid.key"
DEFAULT_VALID = 300  # seconds: long enough to walk from the phone to the scanner
MAX_VALID = int(NONCE_KEEP.total_seconds())  # seconds; see the module note on one-time use
CLOCK_SLACK = 60  # seconds a code may claim to be issued in the future (clocks differ)
MAX_CODE = 1024  # characters; a real code is ~200
NAMESPACE = "e-id"  # the nonce table's "terminal" column for used code ids


class EidError(Exception):
    """A code that does not identify anyone; ``key`` is the message key, ``status`` the HTTP status."""

    key = "eid.invalid"
    status = 422


class EidInvalid(EidError):
    """Not a code of this issuer: malformed, changed, forged, or under another key."""


class EidExpired(EidError):
    key = "eid.expired"
    status = 410


class EidUsed(EidError):
    key = "eid.used"
    status = 409


@dataclass(frozen=True, repr=False)
class EidClaims:
    name: str
    id_number: str
    issued_at: dt.datetime
    expires: dt.datetime
    code_id: str

    def __repr__(self) -> str:  # personal data never reaches a log
        return f"EidClaims(code_id={self.code_id!r}, expires={self.expires.isoformat()})"


def load_key(data_dir: Path) -> bytes:
    """The issuer's 256-bit key, made (mode 0600) on first use; two processes racing share one.

    :raises OSError: the data dir cannot be written, or the key file is not 32 bytes.
    """
    path = Path(data_dir) / KEY_FILE
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(AESGCM.generate_key(bit_length=256))
            fh.flush()
            os.fsync(fh.fileno())
    key = path.read_bytes()
    if len(key) != 32:  # a racing creator has not written it yet, or it is damaged
        raise OSError(f"{path} is not a 32-byte key")
    return key


def issue(key: bytes, id_number: str, name: str, now: dt.datetime,
          valid: int = DEFAULT_VALID) -> str:  # fmt: skip
    """A code for ``name`` / ``id_number`` valid from ``now`` for ``valid`` seconds.

    :raises ValueError: the ID number fails its check, the name is empty, or
        ``valid`` is not 1..MAX_VALID.
    """
    number = id_number.strip().upper()
    if not id_number_valid(number):
        raise ValueError("the ID number fails its check digit")
    if not name.strip():
        raise ValueError("the name is empty")
    if not 1 <= valid <= MAX_VALID:
        raise ValueError(f"a code is valid for 1..{MAX_VALID} seconds")
    iat = int(now.timestamp())
    payload = {"n": name.strip(), "i": number, "iat": iat, "exp": iat + valid,
               "j": secrets.token_hex(8)}  # fmt: skip
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, json.dumps(payload, ensure_ascii=False,
                                                   separators=(",", ":")).encode(), AAD)  # fmt: skip
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def read(key: bytes, code: str, now: dt.datetime) -> EidClaims:
    """Open and check a code (not its one-time use: that needs the store).

    :raises EidInvalid: not a code of this issuer (or not yet valid).
    :raises EidExpired: past its expiry.
    """
    code = code.strip()
    if not code.startswith(PREFIX) or len(code) > MAX_CODE:
        raise EidInvalid("not an e-ID code")
    body = code.removeprefix(PREFIX)
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as err:
        raise EidInvalid("not base64") from err
    if len(raw) < 12 + 16 + 2:
        raise EidInvalid("too short")
    try:
        plain = AESGCM(key).decrypt(raw[:12], raw[12:], AAD)
        p = json.loads(plain)
        claims = EidClaims(
            name=str(p["n"]), id_number=str(p["i"]),
            issued_at=dt.datetime.fromtimestamp(int(p["iat"]), dt.UTC),
            expires=dt.datetime.fromtimestamp(int(p["exp"]), dt.UTC), code_id=str(p["j"]),
        )  # fmt: skip
    except InvalidTag as err:
        raise EidInvalid("not issued under this key") from err
    except (ValueError, KeyError, TypeError, OverflowError, OSError) as err:
        raise EidInvalid("payload malformed") from err
    if not id_number_valid(claims.id_number) or not claims.name or not claims.code_id:
        raise EidInvalid("payload incomplete")
    if claims.issued_at > now + dt.timedelta(seconds=CLOCK_SLACK):
        raise EidInvalid("issued in the future")
    if now >= claims.expires:
        raise EidExpired("expired")
    return claims


def use_once(engine: sa.Engine, code_id: str, now: dt.datetime) -> bool:
    """True the first time a code id is used; False when it was used before."""
    try:
        with engine.begin() as conn:
            conn.execute(
                t.nonces.insert().values(terminal_id=NAMESPACE, nonce=code_id, seen_at=now)
            )
    except sa.exc.IntegrityError:
        return False
    return True


# -- the route -------------------------------------------------------------------------

KEYS: web.AppKey[dict] = web.AppKey("eid_keys", dict)  # filled on first use: {"key": bytes}


def _key(app: web.Application) -> bytes:
    keys = app[KEYS]
    if "key" not in keys:
        keys["key"] = load_key(app[CONFIG].data_dir)
    return keys["key"]


@access(SIGNED)
async def verify(request: web.Request) -> web.Response:
    """``{"code": "EID1...."}`` → ``{"name", "id_number", "expires"}``, or 4xx with a message key."""
    body = _object(await _body(request), "code")
    code = _text(body, "code", MAX_CODE)
    now = dt.datetime.now(dt.UTC)
    try:
        key = await asyncio.to_thread(_key, request.app)
    except OSError as err:
        raise ApiError(503, "eid.unavailable") from err
    try:
        claims = read(key, code, now)
    except EidError as err:
        raise ApiError(err.status, err.key, "code") from err
    fresh = await asyncio.to_thread(use_once, request.app[STORE].engine, claims.code_id, now)
    if not fresh:
        raise ApiError(EidUsed.status, EidUsed.key, "code")
    return _json({"name": claims.name, "id_number": claims.id_number,
                  "expires": claims.expires.isoformat()})  # fmt: skip


def setup(app: web.Application) -> None:
    """Add ``POST /api/v1/eid/verify`` to the platform ``app``."""
    app[KEYS] = {}
    app.router.add_post(f"{central_app.API}/eid/verify", verify)

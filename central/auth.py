"""Who may call what: signed terminal requests, office credentials, public calls.

A terminal signs each request (kiosk.signing); the middleware recomputes the
signature over the exact body bytes and rejects stale timestamps. Secrets come
from a per-process cache (``SecretCache``), opened from their sealed form once.
The nonce is then stored once, in a group transaction (central/writes.py) that
also refuses a revoked terminal: a replay hits the unique key, and a revocation
holds from the very next request, in every worker process, with no cache to
expire. A handler that writes (heartbeat, submission) stores the nonce in its
own transaction; the middleware leaves it in ``request[NONCE]``.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import time
from dataclasses import dataclass

from aiohttp import web

from central.errors import ApiError
from central.store import Store
from central.writes import WRITES
from kiosk import signing

TERMINAL: web.RequestKey[str] = web.RequestKey("terminal_id", str)
NONCE: web.RequestKey[str] = web.RequestKey("nonce", str)
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class SecretCache:
    """Opened terminal secrets in this process's memory (never written anywhere).

    A terminal's secret never changes (enrolling again gives a new terminal id),
    so entries need no expiry; revocation is not read from here (see the module
    docstring). Unknown ids are not remembered: a terminal enrolled through
    another process is found on its first request.
    """

    def __init__(self, store: Store, size: int = 200_000) -> None:
        self.store = store
        self.size = size
        self._secrets: dict[str, str] = {}
        self._points: dict[str, str] = {}  # where each terminal was enrolled: never changes

    def cached(self, terminal_id: str) -> str | None:
        """The secret when this process has it already (no await: the hot path)."""
        return self._secrets.get(terminal_id)

    async def secret(self, terminal_id: str) -> str | None:
        secret = self._secrets.get(terminal_id)
        if secret is None:
            found = await asyncio.to_thread(self.store.terminal_identity, terminal_id)
            if found is None:
                return None
            if len(self._secrets) >= self.size:  # a bound, not a policy: drop the oldest
                oldest = next(iter(self._secrets))
                del self._secrets[oldest]
                self._points.pop(oldest, None)
            secret, self._points[terminal_id] = found
            self._secrets[terminal_id] = secret
        return secret

    async def point(self, terminal_id: str) -> str | None:
        """The service point the terminal was enrolled at; None when unknown."""
        if terminal_id not in self._points and await self.secret(terminal_id) is None:
            return None
        return self._points.get(terminal_id)


SECRETS: web.AppKey[SecretCache] = web.AppKey("terminal_secrets", SecretCache)


@dataclass(frozen=True)
class Signed:
    terminal_id: str
    nonce: str


async def verify_signature(request: web.Request, skew: int) -> Signed:
    """The terminal and nonce of a correctly signed, fresh request (the nonce not yet used).

    :raises ApiError: 401 unsigned, stale, forged or unknown terminal.
    """
    h = request.headers
    terminal_id = h.get(signing.HEADER_TERMINAL, "")
    timestamp = h.get(signing.HEADER_TIMESTAMP, "")
    nonce = h.get(signing.HEADER_NONCE, "")
    signature = h.get(signing.HEADER_SIGNATURE, "")
    if not (terminal_id and timestamp and nonce and signature):
        raise ApiError(401, "auth.unsigned")
    if not (terminal_id + timestamp + nonce + signature).isascii():  # raw bytes too: never a 500
        raise ApiError(401, "auth.bad_signature")
    # isascii: "²" is a digit to str.isdigit, and int() of it raises
    if not (timestamp.isascii() and timestamp.isdigit()) or not NONCE_RE.match(nonce) \
            or len(terminal_id) > 64:  # fmt: skip
        raise ApiError(401, "auth.bad_signature")
    if abs(time.time() - int(timestamp)) > skew:
        raise ApiError(401, "auth.stale")
    secrets = request.app[SECRETS]
    secret = secrets.cached(terminal_id) or await secrets.secret(terminal_id)
    if secret is None:
        raise ApiError(401, "auth.unknown_terminal")
    body = await request.read()
    if not signing.verify(secret, signature, request.method, request.raw_path,
                          timestamp, nonce, body):  # fmt: skip
        raise ApiError(401, "auth.bad_signature")
    return Signed(terminal_id, nonce)


async def terminal_of(request: web.Request, skew: int) -> str:
    """The verified terminal id of a signed request, its nonce used.

    :raises ApiError: 401 unsigned, stale, replayed, forged or unknown; 403 revoked.
    """
    signed = await verify_signature(request, skew)
    await request.app[WRITES].nonce(signed.terminal_id, signed.nonce)
    return signed.terminal_id


def check_office(request: web.Request, token: str) -> None:
    """:raises ApiError: 401 when an office token is configured and not presented."""
    if not token:
        return  # a reference server on loopback; a deployment sets office_token
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not given.isascii() or not hmac.compare_digest(given.encode(), token.encode()):
        raise ApiError(401, "auth.office")

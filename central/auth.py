"""Who may call what: signed terminal requests, office credentials, public calls.

A terminal signs each request (kiosk.signing); the middleware recomputes the
signature over the exact body bytes, rejects stale timestamps, stores the
nonce (a replay hits the unique key) and answers 401/403 with a message key.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import re

from aiohttp import web

from central.errors import ApiError
from central.store import Store
from kiosk import signing

TERMINAL: web.RequestKey[str] = web.RequestKey("terminal_id", str)
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


async def terminal_of(request: web.Request, store: Store, skew: int) -> str:
    """The verified terminal id of a signed request.

    :raises ApiError: 401 unsigned, stale, replayed, forged or unknown; 403 revoked.
    """
    h = request.headers
    terminal_id = h.get(signing.HEADER_TERMINAL, "")
    timestamp = h.get(signing.HEADER_TIMESTAMP, "")
    nonce = h.get(signing.HEADER_NONCE, "")
    signature = h.get(signing.HEADER_SIGNATURE, "")
    if not (terminal_id and timestamp and nonce and signature):
        raise ApiError(401, "auth.unsigned")
    if not timestamp.isdigit() or not NONCE_RE.match(nonce) or len(terminal_id) > 64:
        raise ApiError(401, "auth.bad_signature")
    now = dt.datetime.now(dt.UTC)
    if abs(now.timestamp() - int(timestamp)) > skew:
        raise ApiError(401, "auth.stale")
    terminal = await asyncio.to_thread(store.terminal, terminal_id)
    if terminal is None:
        raise ApiError(401, "auth.unknown_terminal")
    body = await request.read()
    if not signing.verify(terminal.secret, signature, request.method, request.raw_path,
                          timestamp, nonce, body):  # fmt: skip
        raise ApiError(401, "auth.bad_signature")
    if terminal.revoked_at is not None:
        raise ApiError(403, "auth.revoked")
    fresh = await asyncio.to_thread(
        store.use_nonce, terminal_id, nonce, now, dt.timedelta(seconds=2 * skew)
    )
    if not fresh:
        raise ApiError(401, "auth.replayed")
    return terminal_id


def check_office(request: web.Request, token: str) -> None:
    """:raises ApiError: 401 when an office token is configured and not presented."""
    if not token:
        return  # a reference server on loopback; a deployment sets office_token
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise ApiError(401, "auth.office")

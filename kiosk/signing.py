"""Request signing shared by the terminal (client/) and the platform (central/).

A terminal signs every request with its own secret: HMAC-SHA256 over the
method, the path with its query, a Unix timestamp, a one-time nonce and the
SHA-256 of the body. The platform recomputes it, rejects stale timestamps and
remembers nonces so a captured request cannot be replayed. Pure stdlib.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

HEADER_TERMINAL = "X-Terminal-Id"
HEADER_TIMESTAMP = "X-Timestamp"
HEADER_NONCE = "X-Nonce"
HEADER_SIGNATURE = "X-Signature"


def canonical(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """The exact bytes both sides sign; ``path`` includes the query string."""
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join((method.upper(), path, timestamp, nonce, digest)).encode()


def sign(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    return hmac.new(
        secret.encode(), canonical(method, path, timestamp, nonce, body), "sha256"
    ).hexdigest()


def verify(secret: str, signature: str, method: str, path: str, timestamp: str, nonce: str,
           body: bytes) -> bool:  # fmt: skip
    # a signature that is not ASCII (a raw byte kept as a surrogate too) is a wrong one,
    # not a TypeError
    return signature.isascii() and hmac.compare_digest(
        sign(secret, method, path, timestamp, nonce, body), signature)  # fmt: skip


def signed_headers(terminal_id: str, secret: str, method: str, path: str, body: bytes,
                   now: float) -> dict[str, str]:  # fmt: skip
    """The four headers for one request, with a fresh nonce."""
    timestamp = str(int(now))
    nonce = secrets.token_hex(16)
    return {
        HEADER_TERMINAL: terminal_id,
        HEADER_TIMESTAMP: timestamp,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: sign(secret, method, path, timestamp, nonce, body),
    }

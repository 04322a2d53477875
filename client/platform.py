"""The central platform's client: typed async calls over aiohttp (implements kiosk's Platform).

Every request carries the terminal's signature when a secret is set. Calls that
are safe to repeat (reads, and submissions, which are idempotent by their key)
are retried with exponential backoff and jitter on transport failures, garbled
or truncated answers and 5xx. Every failure reaches the caller as a
``kiosk.errors.PlatformError`` subclass, never an aiohttp exception.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import logging
import random
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp

from kiosk import signing
from kiosk.errors import (
    PlatformAuthError,
    PlatformGarbled,
    PlatformRejected,
    PlatformSchemaError,
    PlatformServerError,
    PlatformTruncated,
    PlatformUnreachable,
)
from kiosk.health import Health
from kiosk.identity import ElectronicId
from kiosk.outcomes import ON_SLIP, Outcome, Progress, Submission
from kiosk.records import ContributionRecord

log = logging.getLogger("client.platform")
API = "/api/v1"
# transient: worth another try for an idempotent call (a wrong schema will not fix itself)
RETRYABLE = (PlatformUnreachable, PlatformServerError, PlatformGarbled)
# json.dumps(…, ensure_ascii=False) without building an encoder per request
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


@dataclass(frozen=True)
class Enrolment:
    terminal_id: str
    secret: str
    service_point: str


@dataclass(frozen=True)
class Ticket:
    """A queue ticket (取号): ``number`` like "A023" is what the citizen is called by."""

    number: str
    kind: str
    kind_name: str
    service_point: str
    people_ahead: int
    estimated_wait_minutes: int
    issued_at: dt.datetime


@dataclass(frozen=True)
class FaceMatch:
    """The platform's face match (人证比对): ``distance`` ≤ ``threshold`` is a match."""

    match: bool
    distance: float
    similarity: float
    threshold: float
    model: str


def backoff_delay(attempt: int, base: float, cap: float, rand: float) -> float:
    """Seconds to wait before retry ``attempt`` (1-based): exponential, capped, jittered ×0.5–1.5."""
    return min(cap, base * 2 ** (attempt - 1)) * (0.5 + rand)


class PlatformClient:
    """One terminal's connection to the platform at ``base_url`` (e.g. http://127.0.0.1:8080).

    Create and use it inside the running event loop; ``await close()`` (or use
    ``async with``) when done.
    """

    def __init__(self, base_url: str, terminal_id: str = "", secret: str | None = None,
                 timeout: float = 10, *, attempts: int = 3, backoff: float = 0.2,
                 backoff_cap: float = 5.0) -> None:  # fmt: skip
        self.base_url = base_url.rstrip("/")
        self.terminal_id = terminal_id
        self.secret = secret
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self._prefix = urlsplit(self.base_url).path
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> PlatformClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- the Platform port ------------------------------------------------------

    async def health(self) -> Mapping[str, Any]:
        """Server status, version and time.

        :raises PlatformError: unreachable, garbled, or not a health answer.
        """
        data = await self._call("GET", "/health", signed=False)
        if not isinstance(data, dict) or data.get("status") != "ok" or "version" not in data:
            raise PlatformSchemaError("not a health answer")
        return data

    async def submit(self, submission: Submission, *, retry: bool = True,
                     on_slip: bool = False) -> Outcome:  # fmt: skip
        """Send one submission; a replay of its key returns the stored outcome.
        ``retry=False``: one try (a citizen waiting, the outbox there to try again).
        ``on_slip``: its citizen has left with a pending slip (the outbox delivering it):
        what the catalog no longer accepts comes back a correction notice (NEEDS_MORE,
        numbered, the slip linked), not a refusal.

        :raises PlatformRejected: the platform refused it (4xx with a message key).
        :raises PlatformAuthError: this terminal is not trusted.
        :raises PlatformError: unreachable, 5xx or garbled after every retry.
        """
        path = f"/submissions?{ON_SLIP}=1" if on_slip else "/submissions"
        data = await self._call("POST", path, submission.to_dict(), retry=retry)
        return _parse(Outcome.from_dict, data)

    async def progress(self, number: str) -> Progress:
        """An application's progress, by acceptance number or pending slip's local number.

        :raises PlatformRejected: no such application (status 404).
        :raises PlatformError: unreachable, 5xx or garbled after every retry.
        """
        data = await self._call("GET", f"/applications/{quote(number, safe='')}")
        return _parse(Progress.from_dict, data)

    async def applications_of(self, id_number: str, *, card_read_at: dt.datetime) -> list[Progress]:
        """The citizen's own applications, newest first, by the ID number on the card this
        terminal read at ``card_read_at`` (the platform answers within 10 minutes of it).

        :raises PlatformRejected: 403 ``record.card_not_present`` (stale card read),
            422 ``submission.id_number_invalid``.
        :raises PlatformError: unreachable, 5xx or garbled after every retry.
        """
        data = await self._call("POST", "/applications/lookup",
                                {"id_number": id_number, "card_read_at": int(card_read_at.timestamp())})  # fmt: skip
        return _parse(lambda d: [Progress.from_dict(p) for p in d["applications"]], data)

    async def heartbeat(self, devices: Iterable[Health], *, software_version: str,
                        screen: str, paper: str, uptime: int | None = None,
                        catalog_version: str = "", config_version: int | None = None,
                        ) -> dict[str, Any]:  # fmt: skip
        """Report this terminal's health once (not retried: the next beat follows), with
        how long the kiosk has run (s), which catalog it holds and which remote settings
        it applied. Returns the platform's reply, which may carry new remote settings
        (``"config_version"``, ``"config"``) or ask for a diagnostics bundle
        (``"diagnostics": [request ids]``).

        :raises PlatformError: not delivered.
        """
        body: dict[str, Any] = {
            "software_version": software_version,
            "screen": screen,
            "paper": paper,
            "devices": [_device(h) for h in devices],
        }
        if uptime is not None:
            body["uptime"] = int(uptime)
        if catalog_version:
            body["catalog_version"] = catalog_version
        if config_version is not None:
            body["config_version"] = int(config_version)
        reply = await self._call("POST", "/terminals/heartbeat", body, retry=False)
        return reply if isinstance(reply, dict) else {}

    async def catalog(self, etag: str = "") -> tuple[dict[str, Any] | None, str]:
        """The catalog and its ETag; (None, etag) when unchanged since ``etag``.

        :raises PlatformError: unreachable, 5xx or garbled.
        """
        headers = {"If-None-Match": etag} if etag else {}
        status, data, new_etag = await self._request("GET", "/catalog", None, False, headers)
        if status == 304:
            return None, etag
        if not isinstance(data, dict):
            raise PlatformSchemaError("catalog is not an object")
        return data, new_etag

    async def enrol(self, code: str) -> Enrolment:
        """Trade a one-time enrolment code for this terminal's id and secret (and keep them).

        :raises PlatformRejected: the code is unknown, used or expired (403).
        :raises PlatformError: unreachable or garbled.
        """
        data = await self._call(
            "POST", "/terminals/enrol", {"code": code}, signed=False, retry=False
        )
        enrolment = _parse(lambda d: Enrolment(str(d["terminal_id"]), str(d["secret"]),
                                               str(d["service_point"])), data)  # fmt: skip
        self.terminal_id, self.secret = enrolment.terminal_id, enrolment.secret
        return enrolment

    async def calendar(self, etag: str = "") -> tuple[dict[str, Any] | None, str]:
        """The published holiday calendar ``{"years": {"2026": {"holidays": [...],
        "workdays": [...]}}}`` and its ETag; (None, etag) when unchanged since ``etag``.

        :raises PlatformError: unreachable, 5xx or garbled.
        """
        headers = {"If-None-Match": etag} if etag else {}
        status, data, new_etag = await self._request("GET", "/calendar", None, False, headers)
        if status == 304:
            return None, etag
        if not isinstance(data, dict) or not isinstance(data.get("years"), dict):
            raise PlatformSchemaError("calendar has no years")
        return data, new_etag

    async def ticket(self, service_point: str, kind: str) -> Ticket:
        """Take a queue ticket at this terminal's service point (not retried: a retry
        could hand out a second ticket).

        :raises PlatformRejected: unknown queue kind or service point (422), or
            another hall's point (403).
        :raises PlatformError: unreachable, 5xx or garbled.
        """
        data = await self._call("POST", "/tickets", {"service_point": service_point, "kind": kind},
                                retry=False)  # fmt: skip
        return _parse(lambda d: Ticket(
            str(d["number"]), str(d["kind"]), str(d["kind_name"]), str(d["service_point"]),
            int(d["people_ahead"]), int(d["estimated_wait_minutes"]),
            dt.datetime.fromisoformat(d["issued_at"])), data)  # fmt: skip

    async def social_insurance_record(
        self, id_number: str, *, card_read_at: dt.datetime
    ) -> ContributionRecord:
        """The citizen's social-insurance contribution record for self-print.

        ``card_read_at`` is when this terminal read the citizen's card (the
        platform answers only within 10 minutes of it). The reference platform
        answers a sample record, marked so (``sample`` is true).

        The ID number travels in the body, never in the URL (a proxy's access log keeps
        URLs), so a retry's log line names nothing personal.

        :raises PlatformRejected: 403 ``record.card_not_present`` (stale card read),
            422 ``submission.id_number_invalid``.
        :raises PlatformError: unreachable, 5xx or garbled after every retry.
        """
        data = await self._call("POST", "/records/social-insurance",
                                {"id_number": id_number, "card_read_at": int(card_read_at.timestamp())})  # fmt: skip
        return _parse(ContributionRecord.from_dict, data)

    async def face_match(self, id_number: str, jpeg_bytes: bytes) -> FaceMatch:
        """Compare a live photo with the platform's photo of record for ``id_number``.

        :raises PlatformRejected: 422 with ``face.none`` / ``face.several`` /
            ``face.image_unreadable`` (``field`` says "live" or "record"), 404
            ``face.no_record``, 413 photo over 10 MB.
        :raises PlatformError: unreachable, 5xx (``face.model_unavailable``) or garbled.
        """
        body = {"id_number": id_number, "photo": base64.b64encode(jpeg_bytes).decode("ascii")}
        data = await self._call("POST", "/face-match", body)
        return _parse(lambda d: FaceMatch(bool(d["match"]), float(d["distance"]),
                                          float(d["similarity"]), float(d["threshold"]),
                                          str(d["model"])), data)  # fmt: skip

    async def verify_eid(self, code: str) -> ElectronicId:
        """Who an electronic ID code (电子身份证二维码) shown to the scanner names.

        Not retried: the platform takes each code once, so a retry of a call
        that did arrive would be refused as used.

        :raises PlatformRejected: 422 ``eid.invalid`` (forged, changed or unknown
            code), 410 ``eid.expired``, 409 ``eid.used``.
        :raises PlatformError: unreachable, 5xx (``eid.unavailable``) or garbled.
        """
        data = await self._call("POST", "/eid/verify", {"code": code}, retry=False)
        return _parse(lambda d: ElectronicId(
            name=str(d["name"]), id_number=str(d["id_number"]),
            expires=dt.datetime.fromisoformat(d["expires"])), data)  # fmt: skip

    async def rate(self, stars: int, reasons: list[str], reference: str = "") -> int:
        """Send a citizen's rating (好差评): 1–5 stars, reason codes for a bad one (slow,
        unclear, device, materials, staff, other), optionally the acceptance number or
        submission key it rates. No personal data. A retry carries the same key, so the
        platform stores it once. Returns its id.

        :raises PlatformRejected: 422 ``hall.unknown_reason``, 400 stars out of range.
        :raises PlatformError: unreachable, 5xx or garbled after every retry.
        """
        body = {"stars": stars, "reasons": list(reasons), "reference": reference,
                "key": uuid.uuid4().hex}  # fmt: skip
        data = await self._call("POST", "/ratings", body)
        return _parse(lambda d: int(d["id"]), data)

    async def call_staff(self, screen: str) -> int:
        """Ask for a member of staff at this terminal ("call staff"); ``screen`` says where the
        citizen is stuck. The same call from the same screen within two minutes is one
        request, so a retry (or a second press) calls one person. Returns the request's id.

        :raises PlatformError: unreachable, 5xx or garbled after every retry.
        """
        data = await self._call("POST", "/help-requests", {"screen": screen})
        return _parse(lambda d: int(d["id"]), data)

    async def help_over(self, screen: str) -> int:
        """What this terminal called staff for from ``screen`` is over by itself (a card
        left in a reader has been taken); how many open calls that clears.

        :raises PlatformError: unreachable, 5xx or garbled after every retry.
        """
        data = await self._call("POST", "/help-requests/over", {"screen": screen})
        return _parse(lambda d: int(d["cleared"]), data)

    async def send_events(self, events: list[Mapping[str, Any]]) -> int:
        """Report finished sessions and queries for the hall's volume counts (codes and
        counts only, never personal data; see ``Terminal.end``). Each event carries its
        own key, so a retried batch is stored once. Returns how many were new.

        :raises PlatformRejected: an event the platform does not accept (400).
        :raises PlatformError: unreachable, 5xx or garbled after every retry.
        """
        data = await self._call("POST", "/events", {"events": [dict(e) for e in events]})
        return _parse(lambda d: int(d["stored"]), data)

    async def upload_diagnostics(self, bundle: bytes, request_id: int | None = None) -> int:
        """Upload a diagnostics bundle (kiosk.diagnostics.build_bundle), answering the
        dashboard's request ``request_id`` or unasked (a technician at the terminal).
        The platform scans it and refuses one with personal data. Returns the bundle's id.

        :raises PlatformRejected: 404/409 no such open request, 413 too big, 422 personal data.
        :raises PlatformError: unreachable, 5xx or garbled.
        """
        path = "/diagnostics" + (f"?request={int(request_id)}" if request_id is not None else "")
        status, data, _ = await self._request("POST", path, bundle, True,
                                              {"Content-Type": "application/zip"})  # fmt: skip
        return _parse(lambda d: int(d["id"]), data)

    async def refuse_diagnostics(self, request_id: int, reason: str) -> int:
        """Tell the platform this terminal will not send the bundle the dashboard asked for
        as ``request_id``, and why: ``reason`` "personal" (its own scan found personal data
        in it) or "size" (too large). The request then says so on the dashboard rather than
        wait and expire. How many requests that refused (0: answered or expired already).

        :raises PlatformRejected: a reason the platform does not know (400).
        :raises PlatformError: unreachable, 5xx or garbled after every retry.
        """
        data = await self._call("POST", "/diagnostics/refused",
                                {"request": int(request_id), "reason": reason})  # fmt: skip
        return _parse(lambda d: int(d["refused"]), data)

    # -- plumbing -----------------------------------------------------------------

    async def _call(self, method: str, path: str, body: Any = None, *, signed: bool = True,
                    retry: bool = True) -> Any:  # fmt: skip
        attempts = self.attempts if retry else 1
        for attempt in range(1, attempts + 1):
            try:
                return (await self._request(method, path, body, signed, {}))[1]
            except RETRYABLE as err:
                if attempt == attempts or isinstance(err, PlatformSchemaError):
                    raise
                delay = backoff_delay(attempt, self.backoff, self.backoff_cap, random.random())
                log.info("%s %s failed (%s); retry %d in %.2fs", method, path, type(err).__name__,
                         attempt, delay)  # fmt: skip
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _request(self, method: str, path: str, body: Any, signed: bool,
                       headers: dict[str, str]) -> tuple[int, Any, str]:  # fmt: skip
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                headers={"User-Agent": "govkiosk-terminal"},
            )
        headers = dict(headers)
        if isinstance(body, bytes):  # a file as it is (a diagnostics zip)
            data = body
            headers.setdefault("Content-Type", "application/octet-stream")
        else:
            data = b"" if body is None else _ENCODE(body).encode()
        if body is not None:
            headers.setdefault("Content-Type", "application/json")
        if signed and self.secret:
            path_qs = self._prefix + API + path
            headers.update(signing.signed_headers(self.terminal_id, self.secret, method, path_qs,
                                                  data, time.time()))  # fmt: skip
        url = self.base_url + API + path
        try:
            async with self._session.request(
                method, url, data=data or None, headers=headers
            ) as resp:
                raw = await resp.read()
                status, etag = resp.status, resp.headers.get("ETag", "")
        except TimeoutError as err:
            raise PlatformUnreachable(f"no answer within {self.timeout}s") from err
        except aiohttp.ClientPayloadError as err:
            raise PlatformTruncated(f"the answer was cut short: {err}") from err
        except aiohttp.ClientResponseError as err:  # not HTTP at all
            raise PlatformGarbled(f"not an HTTP answer: {err.message}") from err
        except (aiohttp.ClientError, OSError) as err:
            raise PlatformUnreachable(f"{type(err).__name__}: {err}") from err
        if status == 304:
            return status, None, etag
        if status >= 500:
            raise PlatformServerError(f"HTTP {status}")
        try:
            parsed = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as err:
            raise PlatformGarbled(f"HTTP {status}, not JSON ({len(raw)} bytes)") from err
        if status >= 400:
            raise _rejection(status, parsed)
        return status, parsed, etag


def _rejection(status: int, parsed: Any) -> PlatformRejected:
    err = parsed.get("error") if isinstance(parsed, dict) else None
    if not isinstance(err, dict) or not isinstance(err.get("key"), str):
        return PlatformRejected(f"HTTP {status}", status=status)
    messages = err.get("message") if isinstance(err.get("message"), dict) else {}
    cls = (
        PlatformAuthError
        if status in (401, 403) and err["key"].startswith(("auth.", "enrol."))
        else PlatformRejected
    )
    details = err.get("details") if isinstance(err.get("details"), list) else []
    details = tuple(d for d in details if isinstance(d, str))
    return cls(f"HTTP {status} {err['key']} {', '.join(details)}".strip(), status=status,
               message_key=err["key"], messages={k: str(v) for k, v in messages.items()},
               field=str(err.get("field", "")), details=details)  # fmt: skip


def _parse(build, data: Any):
    try:
        return build(data)
    except (KeyError, ValueError, TypeError, AttributeError) as err:
        raise PlatformSchemaError(f"unexpected shape: {type(err).__name__}: {err}") from err


def _device(h: Health) -> dict[str, str]:
    """One device in a heartbeat: its state, and how many cards it failed to read lately."""
    out = {"device": h.device, "state": h.state.value, "reason": h.reason}
    if "failed_reads" in h.details:
        out["failed_reads"] = h.details["failed_reads"]
    return out

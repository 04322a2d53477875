"""The core's exception hierarchy.

Adapters convert library exceptions at their edge (``raise DeviceError(...) from err``);
screens and the core only ever see these. ``message_key`` is a key into the
translation catalogue, never an English sentence built in code.
"""

from __future__ import annotations


class KioskError(Exception):
    """Base of every error the kiosk core and its adapters raise."""

    message_key: str = "error.generic"

    def __init__(self, detail: str = "", *, message_key: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if message_key is not None:
            self.message_key = message_key


class DeviceError(KioskError):
    """A device could not do what was asked; ``detail`` is for the technician."""

    message_key = "error.device"


class CardError(DeviceError):
    """A card could not be read (removed, unreadable, unknown type)."""

    message_key = "error.card_unreadable"


class NoCard(CardError):
    """No card is present on the reader."""

    message_key = "error.no_card"


class CardExpired(CardError):
    """The card was read but is past its validity date."""

    message_key = "error.card_expired"


class CardNumberInvalid(CardError):
    """The card was read but the number on it fails GB 11643 (no visit may begin with it:
    its form would stop the citizen at a field nobody can edit)."""

    message_key = "error.card_number_invalid"


class CardOfAnotherPerson(CardError):
    """A social-security card read well whose holder is not the citizen the visit
    identified."""

    message_key = "error.social_card_other_person"


class PrinterError(DeviceError):
    """The printer refused or failed a job."""

    message_key = "error.printer"


class PaperOut(PrinterError):
    """The printer has no paper (before or during a job)."""

    message_key = "error.paper_out"


class PlatformError(KioskError):
    """The central platform could not be reached or answered badly."""

    message_key = "error.platform"


class PlatformUnreachable(PlatformError):
    """No answer: connection refused or reset, DNS failure, or a timeout."""

    message_key = "error.platform_unreachable"


class PlatformGarbled(PlatformError):
    """An answer that is not what was sent: not JSON, truncated, or the wrong shape."""

    message_key = "error.platform_garbled"


class PlatformTruncated(PlatformGarbled):
    """The answer stopped before its declared end (a connection cut mid-reply)."""

    message_key = "error.platform_garbled"


class PlatformSchemaError(PlatformGarbled):
    """Valid JSON that is not the shape the call expects (a server of another version?)."""

    message_key = "error.platform_garbled"


class PlatformServerError(PlatformError):
    """The platform answered 5xx (it failed; the request may be retried)."""

    message_key = "error.platform_server"


class PlatformRejected(PlatformError):
    """The platform refused the request (4xx); ``message_key`` and ``messages`` say why.

    ``messages`` holds the platform's own text by language ({"zh": ..., "en": ...})
    for keys the kiosk's catalogue does not know; ``status`` is the HTTP status.
    """

    message_key = "error.platform_rejected"

    def __init__(self, detail: str = "", *, status: int = 400, message_key: str | None = None,
                 messages: dict[str, str] | None = None, field: str = "",
                 details: tuple[str, ...] = ()):  # fmt: skip
        super().__init__(detail, message_key=message_key)
        self.status = status
        self.messages = dict(messages or {})
        self.field = field
        self.details = tuple(details)  # the platform's particulars (ticket.closed: when it opens)


class PlatformAuthError(PlatformRejected):
    """The platform does not trust this terminal (401/403: unsigned, unknown or revoked)."""

    message_key = "error.platform_auth"


class ValidationError(KioskError):
    """Citizen or catalog input is invalid; ``field`` names what."""

    message_key = "error.invalid"

    def __init__(self, detail: str = "", *, field: str = "", message_key: str | None = None):
        super().__init__(detail, message_key=message_key)
        self.field = field


class CatalogError(ValidationError):
    """The catalog data is invalid: ``file``, ``line`` and ``field`` say where."""

    message_key = "error.catalog"

    def __init__(self, detail: str, *, file: str = "", line: int = 0, field: str = ""):
        super().__init__(detail, field=field)
        self.file = file
        self.line = line

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file or "catalog"
        return f"{where}: {self.field}: {self.detail}" if self.field else f"{where}: {self.detail}"


class SessionError(KioskError):
    """A session was asked to do something its current state does not allow."""

    message_key = "error.session"


class CalendarError(KioskError):
    """Working-day data is malformed (a published calendar that does not parse)."""

    message_key = "error.calendar"


class CaptureRejected(KioskError):
    """The camera works, but this picture is unusable (no face, too dark, no page...).

    Not a device fault: ``message_key`` (``face.*``, ``document.*``) tells the
    citizen what to change, and the screen simply tries again.
    """

    message_key = "capture.rejected"


class OutboxError(KioskError):
    """The durable outbox cannot keep a submission (disk full, key file unreadable or too open)."""

    message_key = "error.outbox"


class UnreadableEntry(OutboxError):
    """An outbox entry decrypts but is not a submission this version reads (one kept by an
    older version): set aside for a technician, the rest of the queue goes on."""

"""The central platform's configuration: one plain dataclass, built by the CLI or a test."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from central import __version__


def default_catalog_dir() -> Path:
    """The repository's config/catalog directory."""
    return Path(__file__).resolve().parents[1] / "config" / "catalog"


@dataclass(frozen=True)
class CentralConfig:
    """Where the platform keeps its state and what it serves.

    ``database_url`` defaults to a SQLite file in ``data_dir``; a fleet uses
    ``postgresql+psycopg://user@host:port/db``. ``number_prefix`` starts every
    acceptance number (AF = 安福 county). ``failpoint`` is a fault-injection
    knob for drills and tests: ``"exit-after-commit"`` makes the process die
    after a submission is stored and before it is answered.
    """

    data_dir: Path
    database_url: str = ""
    catalog_dir: Path = field(default_factory=default_catalog_dir)
    version: str = __version__
    number_prefix: str = "AF"
    require_signatures: bool = True
    clock_skew: int = 300  # seconds a signed request's timestamp may be off
    max_body: int = 1024 * 1024  # bytes; a submission carries references to scans, not scans
    office_token: str = ""  # when set, office calls need "Authorization: Bearer <token>"
    failpoint: str = ""
    # queue tickets at any hour, whatever a hall's office hours (the catalog's ``hours``):
    # a demo or a test that takes a ticket at night; a hall whose windows never close
    tickets_any_time: bool = False

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{Path(self.data_dir) / 'central.sqlite3'}"

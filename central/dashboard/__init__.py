"""The hall managers' dashboard: server-rendered pages behind a login with roles.

``setup(app)`` adds the pages under ``/dashboard`` to an app built by
``central.app.make_app``, a background sweep that keeps alerts in step with
heartbeats, and the stylesheet (served by the app; nothing comes from the
internet). Settings come from the environment and may be replaced before the
app starts: ``app[SETTINGS] = Settings(offline_after=2)``.

- ``CENTRAL_OFFLINE_AFTER``: seconds without a heartbeat before a terminal is
  offline (default 90);
- ``CENTRAL_DASHBOARD_REFRESH``: seconds between reloads of the terminal page (15);
- ``CENTRAL_DASHBOARD_CACHE``: seconds one build of the terminal page serves every
  user with the same scope (5; at most half the refresh; 0: build for each request);
- ``CENTRAL_SWEEP_EVERY``: seconds between the background sweeps that open and clear
  alerts and forget old rows (10);
- ``CENTRAL_LOOKUPS_KEPT_DAYS``: days the audit of personal-data lookups is kept (180, and
  never less: six months at least, as network logs are kept);
- ``CENTRAL_HEARTBEATS_KEPT_DAYS``: days of the heartbeats' history (90; at least 1);
- ``CENTRAL_UNUSED_AFTER_HOURS``: hours of working days with no citizen's visit, query or
  ticket before an online terminal is said to be unused on the terminal page (24; 0: never).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from aiohttp import web


@dataclass(frozen=True)
class Settings:
    offline_after: float = 90.0
    refresh_seconds: int = 15
    session_hours: float = 8.0  # a session not used this long ends; one in use is renewed
    sweep_every: float = 10.0  # seconds; a page that shows alerts sweeps first anyway
    page_cache_seconds: float = 5.0  # central/dashboard/snapshots.py
    # the personal-data lookups audit trail (data.LookupAudit): at least the six months a
    # network operator keeps its logs (网络安全法 第二十一条)
    lookups_kept_days: int = 180
    # the heartbeats' history (a row a terminal when its health changes, and every 15 min):
    # 50 000 terminals add some 5 M rows a day
    heartbeats_kept_days: int = 90
    # hours an online terminal goes with no citizen's visit before the terminal page says so
    # (a dark screen, a dead touch panel, a kiosk out of sight: no device reports those)
    unused_after_hours: float = 24.0

    @property
    def snapshot_ttl(self) -> float:
        """How long one terminal page build is shown: a reload always shows newer data."""
        return max(0.0, min(self.page_cache_seconds, self.refresh_seconds / 2))

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            offline_after=float(os.environ.get("CENTRAL_OFFLINE_AFTER", "90")),
            refresh_seconds=int(os.environ.get("CENTRAL_DASHBOARD_REFRESH", "15")),
            page_cache_seconds=float(os.environ.get("CENTRAL_DASHBOARD_CACHE", "5")),
            sweep_every=max(0.2, float(os.environ.get("CENTRAL_SWEEP_EVERY", "10"))),
            lookups_kept_days=_days("CENTRAL_LOOKUPS_KEPT_DAYS", 180, LOOKUPS_KEPT_AT_LEAST),
            heartbeats_kept_days=_days("CENTRAL_HEARTBEATS_KEPT_DAYS", 90, 1),
            unused_after_hours=max(0.0, float(os.environ.get("CENTRAL_UNUSED_AFTER_HOURS", "24"))),
        )


LOOKUPS_KEPT_AT_LEAST = 180  # days: the lookups are also what holds a terminal to its rate


def _days(name: str, default: int, least: int) -> int:
    """A keeping time in days from the environment, never under ``least`` (said in the log
    when asked for less: the rows would go sooner than they may)."""
    days = int(os.environ.get(name, str(default)))
    if days < least:
        logging.getLogger("central").warning("%s=%d is under %d days: keeping %d", name, days,
                                             least, least)  # fmt: skip
    return max(days, least)


SETTINGS: web.AppKey[Settings] = web.AppKey("dashboard_settings", Settings)


def setup(app: web.Application) -> None:
    from central.dashboard import handlers  # it imports central.app, which calls this

    app[SETTINGS] = Settings.from_env()
    handlers.add_routes(app)

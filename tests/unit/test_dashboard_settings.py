"""The dashboard's settings from the environment: keeping times never under their least."""

from __future__ import annotations

from central.dashboard import LOOKUPS_KEPT_AT_LEAST, Settings


def test_keeping_times_come_from_the_environment_and_never_go_under_their_least(monkeypatch, caplog):
    monkeypatch.setenv("CENTRAL_LOOKUPS_KEPT_DAYS", "365")
    monkeypatch.setenv("CENTRAL_HEARTBEATS_KEPT_DAYS", "30")
    assert (Settings.from_env().lookups_kept_days, Settings.from_env().heartbeats_kept_days) == (365, 30)
    # a county asking for less than six months of the lookups audit (or no history at all)
    monkeypatch.setenv("CENTRAL_LOOKUPS_KEPT_DAYS", "7")
    monkeypatch.setenv("CENTRAL_HEARTBEATS_KEPT_DAYS", "0")
    with caplog.at_level("WARNING", logger="central"):
        settings = Settings.from_env()
    assert (settings.lookups_kept_days, settings.heartbeats_kept_days) == (LOOKUPS_KEPT_AT_LEAST, 1)
    assert any("CENTRAL_LOOKUPS_KEPT_DAYS=7" in r.getMessage() for r in caplog.records)

"""The environment every entry point sets up: offline, and patient with Prefect's server."""

from __future__ import annotations

import os

import pytest

from interplay.config.env import apply_offline_defaults

TIMEOUT = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"


def test_prefect_server_gets_more_than_its_twenty_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TIMEOUT, raising=False)
    apply_offline_defaults()
    from prefect.settings import Settings

    assert Settings().server.ephemeral.startup_timeout_seconds > 20


def test_a_users_own_settings_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TIMEOUT, "7")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    apply_offline_defaults()
    from prefect.settings import Settings

    assert Settings().server.ephemeral.startup_timeout_seconds == 7
    assert os.environ["HF_HUB_OFFLINE"] == "0"

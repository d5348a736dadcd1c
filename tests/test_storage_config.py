"""Storage settings: the same code runs on a connection string (Azurite) and on identity-based URIs (Azure)."""

from __future__ import annotations

import pytest

from shared.store import storage


@pytest.fixture
def identity_env(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("AzureWebJobsStorage", raising=False)
    monkeypatch.setenv("AzureWebJobsStorage__tableServiceUri", "https://acct.table.core.windows.net")
    monkeypatch.setenv("AzureWebJobsStorage__queueServiceUri", "https://acct.queue.core.windows.net")
    monkeypatch.setenv("AzureWebJobsStorage__clientId", "00000000-1111-2222-3333-444444444444")
    storage.reset_caches()
    storage._identity_credential.cache_clear()
    yield
    storage.reset_caches()
    storage._identity_credential.cache_clear()


def test_identity_based_settings_use_managed_identity(identity_env) -> None:
    from azure.identity import DefaultAzureCredential

    service = storage.table_service()
    assert service.url.startswith("https://acct.table.core.windows.net")
    assert isinstance(service.credential, DefaultAzureCredential)


def test_missing_storage_settings_say_which(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AzureWebJobsStorage", "AzureWebJobsStorage__tableServiceUri"):
        monkeypatch.delenv(name, raising=False)
    storage.reset_caches()
    with pytest.raises(storage.StorageConfigError, match="AzureWebJobsStorage__tableServiceUri"):
        storage.table_service()


def test_each_typed_setting_states_its_default_in_its_meaning() -> None:
    from shared.settings import SETTINGS

    def shown(value: float | bool) -> str:
        return str(value).lower() if isinstance(value, bool) else f"{value:g}"

    typed = {name: s for name, s in SETTINGS.items() if s.default is not None}
    assert len(typed) == 18  # CHECK_CACHE_MB the latest
    assert [n for n, s in typed.items() if f"(default {shown(s.default)})" not in s.meaning] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", True), (" Yes ", True), ("on", True), ("TRUE", True), ("0", False), ("off", False), ("No", False),
     ("false", False), ("", None), ("maybe", None)],
)  # fmt: skip
def test_one_truth_table_for_settings_and_check_flags(text: str, expected: bool | None) -> None:
    from shared.settings import parse_bool

    assert parse_bool(text) is expected


def test_typed_settings_fall_back_to_their_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared import settings

    monkeypatch.setenv("COLLECT_CONCURRENCY", "many")
    monkeypatch.setenv("RUNS_RETENTION_DAYS", "-3")
    monkeypatch.setenv("MATCH_LOCK_WAIT", "0")
    monkeypatch.setenv("SYNC_ONLY_ENABLED", "perhaps")
    monkeypatch.setenv("SYNC_INCLUDE_GUESTS", " yes ")
    assert settings.integer("COLLECT_CONCURRENCY") == 4
    assert settings.number("RUNS_RETENTION_DAYS") == 30.0
    assert settings.number("MATCH_LOCK_WAIT") == 0.0
    assert settings.flag("SYNC_ONLY_ENABLED") is True
    assert settings.flag("SYNC_INCLUDE_GUESTS") is True

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

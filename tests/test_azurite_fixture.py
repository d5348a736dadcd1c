"""devtools.azurite: start/stop without orphans, persistence, and a clear error when it is not installed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from azure.data.tables import TableServiceClient

from devtools.azurite import Azurite, AzuriteError


def test_missing_install_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(AzuriteError, match="make install"):
        Azurite(repo_root=tmp_path)


def test_persistent_dir_and_no_orphans(tmp_path: Path) -> None:
    data = tmp_path / "data"
    azurite = Azurite(persistent_dir=data)
    assert "--location" in azurite.command() and "--inMemoryPersistence" not in azurite.command()
    with azurite:
        pgid = azurite.pid
        assert f"TableEndpoint=http://127.0.0.1:{azurite.table_port}/devstoreaccount1" in azurite.connection_string
        service = TableServiceClient.from_connection_string(azurite.connection_string)
        service.create_table_if_not_exists("Persisted")
    assert not azurite.running
    with pytest.raises(ProcessLookupError):
        os.killpg(pgid, 0)  # the whole process group is gone
    assert any(data.iterdir())
    with Azurite(persistent_dir=data) as again:  # data survives a restart
        names = [t.name for t in TableServiceClient.from_connection_string(again.connection_string).list_tables()]
        assert "Persisted" in names

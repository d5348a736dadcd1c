"""Files that hold a secret are owner-only (0600) from the moment they exist, whatever the umask, and an
older world-readable copy is replaced, not reused."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from devtools.demo import write_local_settings
from devtools.simulator.cli import DEMO_CLIENT_SECRET, STATE_FILE, write_state_file


@pytest.fixture(autouse=True)
def permissive_umask():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_simulator_state_file_is_owner_only(tmp_path: Path) -> None:
    (tmp_path / STATE_FILE).write_text("{}")  # an older copy, world-readable
    sim = SimpleNamespace(
        login_endpoint="https://127.0.0.1:1", graph_endpoint="https://127.0.0.1:2", ca_path=tmp_path / "ca.pem",
        tenants=[], state_dir=tmp_path,
    )  # fmt: skip
    path = write_state_file(sim)
    assert _mode(path) == 0o600
    assert json.loads(path.read_text())["client_secret"] == DEMO_CLIENT_SECRET
    assert [p.name for p in tmp_path.iterdir()] == [STATE_FILE]


def test_demo_local_settings_are_owner_only(tmp_path: Path) -> None:
    path = write_local_settings(tmp_path / "local.settings.json", {"O365_CLIENT_SECRET": "s3cret"})
    assert _mode(path) == 0o600
    assert json.loads(path.read_text())["Values"] == {"O365_CLIENT_SECRET": "s3cret"}
